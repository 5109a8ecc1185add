package authz_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/keygate/keygate/authz"
	"github.com/keygate/keygate/internal/callgen"
	"github.com/keygate/keygate/keystore"
)

// fixtureSchema is the fields of the 10 models whose fields_get real
// Odoo 18.0 answered (shared/odoo/18.0/metadata), as authz.Schema.
type fixtureSchema map[string]map[string]authz.Field

var loadSchema = sync.OnceValue(func() fixtureSchema {
	s := fixtureSchema{}
	for model, fields := range callgen.Odoo18() {
		s[model] = map[string]authz.Field{}
		for name, f := range fields {
			s[model][name] = authz.Field{Type: f.Type, Relation: f.Relation}
		}
	}
	return s
})

func schema(testing.TB) fixtureSchema { return loadSchema() }

// errModelNotLoaded is a model outside the fixtures: the check must stop
// with the Schema's error, never allow.
var errModelNotLoaded = fmt.Errorf("model not in the fixtures")

func (s fixtureSchema) Field(model, name string) (authz.Field, error) {
	fields, ok := s[model]
	if !ok {
		return authz.Field{}, fmt.Errorf("%s: %w", model, errModelNotLoaded)
	}
	f, ok := fields[name]
	if !ok {
		return authz.Field{}, fmt.Errorf("%s.%s: %w", model, name, authz.ErrUnknownField)
	}
	return f, nil
}

// policy compiles a key with scopes.
func policy(tb testing.TB, scopes ...string) *authz.Policy {
	tb.Helper()
	p, err := authz.Compile(&keystore.Record{ID: "key-1", Owner: "partner-42", Scopes: scopes})
	if err != nil {
		tb.Fatal(err)
	}
	return p.(*authz.Policy)
}

// js decodes a JSON text as the gateway decodes a partner's arguments.
func js(tb testing.TB, s string) any {
	tb.Helper()
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		tb.Fatalf("%s: %v", s, err)
	}
	return v
}

// call is a Call of model.method with args and kwargs in JSON.
func call(tb testing.TB, model, method, args, kwargs string) *authz.Call {
	tb.Helper()
	c := &authz.Call{Model: model, Method: method}
	if args != "" {
		c.Args = js(tb, args).([]any)
	}
	if kwargs != "" {
		c.Kwargs = js(tb, kwargs).(map[string]any)
	}
	return c
}

// verdict is what CheckCall answered, as a test compares it: "" allowed,
// else the refusal's text; a Schema error fails the test.
func verdict(tb testing.TB, p *authz.Policy, c *authz.Call) string {
	tb.Helper()
	err := p.CheckCall(c, schema(tb))
	if err == nil {
		return ""
	}
	var r *authz.Refusal
	if !asRefusal(err, &r) {
		tb.Fatalf("CheckCall(%s.%s) = %v, want a *authz.Refusal or nil", c.Model, c.Method, err)
	}
	return r.Error()
}

func asRefusal(err error, r **authz.Refusal) bool {
	x, ok := err.(*authz.Refusal)
	*r = x
	return ok
}

// decodeLoose decodes s as JSON, nil when it is not.
func decodeLoose(s string) any {
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber()
	var v any
	if d.Decode(&v) != nil {
		return nil
	}
	return v
}
