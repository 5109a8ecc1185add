package proxy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/keygate/keygate/authz"
	"github.com/keygate/keygate/odoo"
)

// Every call a partner makes is checked by authz beyond its own model and
// method (authz.Decision.CheckCall): the models its values, commands,
// domains and specifications reach, against the fields of each model as
// the key's service account sees them (fields_get, cached by the
// Client). A refused call never reaches Odoo.

// FieldSource gives a model's fields as an account sees them:
// *odoo.Client (fields_get, cached) or an *odoo.Metadata.
type FieldSource interface {
	Fields(ctx context.Context, a odoo.Account, model string) (odoo.Fields, error)
}

// CheckCall asks authz whether the key of d (an allowed decision) may
// make call, as account a, with the fields of each model from fields:
// nil, an *authz.Refusal, or the error of learning a model's fields.
func CheckCall(ctx context.Context, fields FieldSource, d *authz.Decision, a odoo.Account, call *authz.Call) error {
	return d.CheckCall(call, &schema{ctx: ctx, c: fields, acct: a})
}

// schema is authz.Schema over a FieldSource for one account and one
// call. It keeps the last model's fields: a call's lookups mostly follow
// one model at a time.
type schema struct {
	ctx    context.Context
	c      FieldSource
	acct   odoo.Account
	model  string
	fields odoo.Fields
}

func (s *schema) Field(model, name string) (authz.Field, error) {
	if s.fields == nil || model != s.model {
		fs, err := s.c.Fields(s.ctx, s.acct, model)
		if err != nil {
			return authz.Field{}, err
		}
		s.model, s.fields = model, fs
	}
	f, ok := s.fields[name]
	if !ok {
		return authz.Field{}, fmt.Errorf("%s.%s: %w", model, name, authz.ErrUnknownField)
	}
	return authz.Field{Type: f.Type, Relation: f.Relation}, nil
}

// checkRefusal answers a call that the check did not let through: the
// missing scope as Odoo's AccessError; a model whose fields Odoo would not
// give as an AccessError too (keygate cannot check the call); Odoo
// unreachable as for any call.
func checkRefusal(err error) *refusal {
	var r *authz.Refusal
	var oe *odoo.OdooError
	switch {
	case errors.As(err, &r):
		return accessError(r.Error())
	case errors.As(err, &oe), errors.Is(err, odoo.ErrBadFields):
		return accessError("keygate cannot check this call: Odoo did not describe the fields of a model it reaches.")
	}
	return upstreamRefusal(err)
}

// badArgs refuses arguments keygate cannot read as execute_kw's.
func badArgs(msg string) error {
	return &authz.Refusal{Reason: "keygate cannot check this call: " + msg}
}

// ObjectCall is a call the REST facade makes, as authz checks it: its
// arguments as Odoo will receive them (JSON, decoded as a partner's call
// to the gateway is).
func ObjectCall(model, method string, args []any, kwargs map[string]any) (*authz.Call, error) {
	c := &authz.Call{Model: model, Method: method}
	for _, p := range []struct{ in, out any }{{args, &c.Args}, {kwargs, &c.Kwargs}} {
		raw, err := json.Marshal(p.in)
		if err == nil {
			err = decodeNumbers(raw, p.out)
		}
		if err != nil {
			return nil, fmt.Errorf("proxy: encode %s.%s: %w", model, method, err)
		}
	}
	return c, nil
}
