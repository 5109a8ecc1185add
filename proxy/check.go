package proxy

import (
	"bytes"
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

// decodeJSON decodes one argument as the check reads it: numbers kept as
// json.Number, so that 1 and 1.0 stay apart as Python keeps them.
func decodeJSON(raw json.RawMessage) (any, error) {
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var v any
	err := d.Decode(&v)
	return v, err
}

// bindArgs sets c's arguments from what follows the method name:
// execute_kw's (args, kwargs), or execute's positional arguments.
func bindArgs(c *authz.Call, rpcMethod string, rest []any) error {
	if rpcMethod != "execute_kw" {
		c.Args = rest
		return nil
	}
	if len(rest) > 2 {
		return badArgs("execute_kw takes args and kwargs only")
	}
	if len(rest) > 0 && rest[0] != nil {
		args, ok := rest[0].([]any)
		if !ok {
			return badArgs("execute_kw's args must be a list")
		}
		c.Args = args
	}
	if len(rest) > 1 && rest[1] != nil {
		kw, ok := rest[1].(map[string]any)
		if !ok {
			return badArgs("execute_kw's kwargs must be an object")
		}
		c.Kwargs = kw
	}
	return nil
}

// ObjectCall is a call the REST facade makes, as authz checks it: its
// arguments as Odoo will receive them (JSON, decoded as a partner's call
// to the gateway is).
func ObjectCall(model, method string, args []any, kwargs map[string]any) (*authz.Call, error) {
	raw, err := json.Marshal([]any{args, kwargs})
	if err != nil {
		return nil, fmt.Errorf("proxy: encode %s.%s: %w", model, method, err)
	}
	v, err := decodeJSON(raw)
	if err != nil {
		return nil, err
	}
	c := &authz.Call{Model: model, Method: method}
	return c, bindArgs(c, "execute_kw", v.([]any))
}
