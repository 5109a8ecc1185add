package authz

import (
	"errors"
	"fmt"
	"strings"
)

// Call is one call of an Odoo method as a partner sent it: the model, the
// method, and the positional and keyword arguments decoded from JSON
// (encoding/json, numbers as float64 or json.Number) or XML-RPC (int64,
// float64, string, bool, nil, []any, map[string]any, ...).
type Call struct {
	Model  string
	Method string
	Args   []any
	Kwargs map[string]any
}

// Field is what the check needs to know of a model's field, as Odoo's
// fields_get describes it.
type Field struct {
	// Type is Odoo's field type: "char", "many2one", "one2many",
	// "many2many", ...
	Type string
	// Relation is the comodel of a relational field ("res.users").
	Relation string
}

// Field types the check treats apart.
const (
	typeMany2one  = "many2one"
	typeOne2many  = "one2many"
	typeMany2many = "many2many"
)

func (f Field) relational() bool {
	return f.Type == typeMany2one || f.Type == typeOne2many || f.Type == typeMany2many
}

func (f Field) x2many() bool { return f.Type == typeOne2many || f.Type == typeMany2many }

// Schema tells the check which fields Odoo's models have. The gateway's
// is fields_get of the key's service account, cached (package odoo);
// authz itself never talks to Odoo.
type Schema interface {
	// Field returns field name of model. It returns an error wrapping
	// ErrUnknownField when the model has no such field; any other error
	// means the fields could not be learned (Odoo unreachable, ...).
	Field(model, name string) (Field, error)
}

// ErrUnknownField is what a Schema returns for a field that the model
// does not have. The check refuses such a field rather than guess what
// Odoo would do with it.
var ErrUnknownField = errors.New("unknown field")

// Refusal is why the check refused a call: the first scope it needs that
// the key lacks, or a value whose shape keygate does not read (Scope
// empty). It is a denial, not a failure: the gateway answers it with
// Odoo's AccessError.
type Refusal struct {
	// Scope is the missing scope ("odoo:res.users:create"), "" when the
	// call is refused for its shape or an unknown field.
	Scope string
	// Reason says where the call needs it ("field user_ids of
	// res.partner") or what keygate could not read.
	Reason string
}

// Error is the message a partner reads: "this key needs
// odoo:res.users:create (field user_ids of res.partner)".
func (r *Refusal) Error() string {
	if r.Scope == "" {
		return r.Reason
	}
	return "this key needs " + r.Scope + " (" + r.Reason + ")"
}

// CheckCall checks everything a call reaches beyond its own model and
// method, which Check has granted (NeedOdoo): the models that its values,
// x2many commands, domains, orders, groupbys, field lists and
// specifications follow relations into, and its context keys (see the
// package documentation, "Scopes hold across relations"). It returns nil
// when the key's scopes cover all of it, a *Refusal naming the first
// missing scope or the value it could not read, or the Schema's error
// when fields could not be learned. The decision must be an allowed one.
func (d *Decision) CheckCall(c *Call, s Schema) error {
	if d.policy == nil {
		return &Refusal{Reason: "keygate: no key policy to check the call against"}
	}
	return d.policy.CheckCall(c, s)
}

// CheckCall is Decision.CheckCall for the key of p, a pure function of
// the call and what s answers.
func (p *Policy) CheckCall(c *Call, s Schema) error {
	k := checker{sc: &p.scopes, schema: s, model: c.Model}
	return k.call(c)
}

// checker walks one call.
type checker struct {
	sc     *scopes
	schema Schema
	model  string // the call's model
	// defaults: the context holds default_* keys, which reach every
	// record the call creates, nested ones included.
	defaults bool
}

// need returns nil when some scope grants op on model, else the Refusal
// naming it, because of field of parent.
func (k *checker) need(model string, o op, field, parent string) error {
	n := Need{kind: needOdoo, model: model, op: o}
	if k.sc.allows(&n) {
		return nil
	}
	return &Refusal{Scope: n.String(), Reason: "field " + field + " of " + parent}
}

// needFor is need with the whole reason.
func (k *checker) needFor(model string, o op, reason string) error {
	n := Need{kind: needOdoo, model: model, op: o}
	if k.sc.allows(&n) {
		return nil
	}
	return &Refusal{Scope: n.String(), Reason: reason}
}

// field looks name up on model: unknown fields are refused.
func (k *checker) field(model, name string) (Field, error) {
	f, err := k.schema.Field(model, name)
	switch {
	case errors.Is(err, ErrUnknownField):
		return f, &Refusal{Reason: fmt.Sprintf("keygate does not know field %q of %s: calls naming it are refused", name, model)}
	case err != nil:
		return f, fmt.Errorf("authz: fields of %s: %w", model, err)
	case f.relational() && !validModel(f.Relation):
		return f, &Refusal{Reason: fmt.Sprintf("keygate does not know the model that field %s of %s points to", name, model)}
	}
	return f, nil
}

// maxReason bounds a refusal's text: it quotes the partner's values,
// which may be large.
const maxReason = 300

// shape refuses a value keygate does not read.
func shape(format string, args ...any) error {
	r := "keygate cannot check " + fmt.Sprintf(format, args...)
	if len(r) > maxReason {
		r = strings.ToValidUTF8(r[:maxReason], "") + "…"
	}
	return &Refusal{Reason: r}
}
