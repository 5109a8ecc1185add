package authz

import (
	"maps"
	"slices"
)

// x2many command codes (odoo.fields.Command).
const (
	cmdCreate = 0 // (0, _, vals): create a record of the comodel
	cmdUpdate = 1 // (1, id, vals): write a record of the comodel
	cmdDelete = 2 // (2, id): delete a record of the comodel
	cmdUnlink = 3 // (3, id): cut the link
	cmdLink   = 4 // (4, id): add a link
	cmdClear  = 5 // (5,): cut every link
	cmdSet    = 6 // (6, _, ids): replace the links
)

// maxDepth bounds how deeply values and domains may nest: deeper is
// refused rather than walked.
const maxDepth = 32

// vals checks the values of a create (create) or write of a record of
// model: every field must be known, many2one values are ids (or [id,
// name]), and x2many values are commands, checked by commands.
func (k *checker) vals(model string, v any, create bool, depth int) error {
	m, ok := v.(map[string]any)
	if !ok {
		return shape("values for %s that are not an object", model)
	}
	if depth > maxDepth {
		return shape("values nested more than %d deep", maxDepth)
	}
	if create {
		if err := k.creates(model); err != nil {
			return err
		}
	}
	return eachKey(m, func(name string) error {
		f, err := k.field(model, name)
		switch {
		case err != nil:
			return err
		case f.Type == typeMany2one:
			return many2oneValue(model, name, m[name])
		case f.x2many():
			return k.commands(model, name, f, m[name], depth)
		}
		return nil
	})
}

// creates checks a record of model that the call creates: the context's
// default_* keys reach it, which then needs the context scope on model.
func (k *checker) creates(model string) error {
	if !k.defaults {
		return nil
	}
	return k.needFor(model, opContext, "context default_* keys, which reach new records of "+model)
}

// eachKey calls fn for each key of m until one fails. The first failure
// in key order is returned, so that a call is refused the same way every
// time; the keys are sorted only then, the allowed path does not pay.
func eachKey(m map[string]any, fn func(key string) error) error {
	for key := range m {
		if err := fn(key); err != nil {
			if len(m) == 1 {
				return err
			}
			return eachSorted(m, fn)
		}
	}
	return nil
}

func eachSorted(m map[string]any, fn func(key string) error) error {
	for _, key := range slices.Sorted(maps.Keys(m)) {
		if err := fn(key); err != nil {
			return err
		}
	}
	return nil
}

// many2oneValue accepts what sets a many2one to an existing record: an id,
// false, or [id, name] as Odoo reads it back. A dict (which Odoo would
// create as a new record) and anything else are refused.
func many2oneValue(model, name string, v any) error {
	if _, ok := asInt(v); ok || isFalse(v) {
		return nil
	}
	if l, ok := v.([]any); ok && len(l) == 2 {
		if _, ok := asInt(l[0]); ok {
			if _, ok := l[1].(string); ok {
				return nil
			}
		}
	}
	return shape("the value of many2one field %s of %s: want an id, false or [id, name]", name, model)
}

// commands checks an x2many value: a list of commands, a list of ids
// (Odoo reads it as (6, 0, ids)), or false (as (5,)).
func (k *checker) commands(model, name string, f Field, v any, depth int) error {
	switch {
	case isFalse(v):
		return k.links(model, name, f)
	case idList(v):
		return k.links(model, name, f)
	}
	l, ok := v.([]any)
	if !ok {
		return shape("the value of %s field %s of %s: want a list of commands or of ids", f.Type, name, model)
	}
	for _, c := range l {
		if err := k.command(model, name, f, c, depth); err != nil {
			return err
		}
	}
	return nil
}

// command checks one x2many command.
func (k *checker) command(model, name string, f Field, v any, depth int) error {
	c, ok := v.([]any)
	if !ok || len(c) == 0 || len(c) > 3 {
		return shape("command %v of field %s of %s: want a list of 1 to 3 items", v, name, model)
	}
	code, ok := asInt(c[0])
	if !ok {
		return shape("command %v of field %s of %s: unknown command", v, name, model)
	}
	switch code {
	case cmdCreate, cmdUpdate:
		return k.writeCommand(model, name, f, c, code, depth)
	case cmdDelete:
		if len(c) < 2 || !isID(c[1]) {
			return shape("command %v of field %s of %s: want (2, id)", v, name, model)
		}
		return k.need(f.Relation, opUnlink, name, model)
	case cmdUnlink, cmdLink:
		if len(c) < 2 || !isID(c[1]) {
			return shape("command %v of field %s of %s: want (%d, id)", v, name, model, code)
		}
		if code == cmdLink {
			return k.link(model, name, f)
		}
		return k.links(model, name, f)
	case cmdClear:
		return k.links(model, name, f)
	case cmdSet:
		if len(c) != 3 || !idList(c[2]) {
			return shape("command %v of field %s of %s: want (6, 0, ids)", v, name, model)
		}
		return k.links(model, name, f)
	}
	return shape("command %v of field %s of %s: unknown command", v, name, model)
}

func isID(v any) bool {
	_, ok := asInt(v)
	return ok
}

// writeCommand checks (0, _, vals) and (1, id, vals): create or write on
// the comodel, and the nested values by the same rules.
func (k *checker) writeCommand(model, name string, f Field, c []any, code int64, depth int) error {
	if len(c) != 3 || code == cmdUpdate && !isID(c[1]) {
		return shape("command %v of field %s of %s: want (%d, id, values)", c, name, model, code)
	}
	o := opCreate
	if code == cmdUpdate {
		o = opWrite
	}
	if err := k.need(f.Relation, o, name, model); err != nil {
		return err
	}
	return k.vals(f.Relation, c[2], code == cmdCreate, depth+1)
}

// link checks (4, id): on a one2many it rewrites the comodel's many2one,
// a write on the comodel; on a many2many it is the parent's own data.
func (k *checker) link(model, name string, f Field) error {
	if f.Type != typeOne2many {
		return nil
	}
	return k.need(f.Relation, opWrite, name, model)
}

// links checks (3, id), (5,) and (6, _, ids), and the value forms that
// mean them: on a many2many they only change links; on a one2many they
// rewrite the comodel's many2one, or delete the records it cuts when the
// inverse many2one is ondelete="cascade" (which fields_get does not
// tell), so they need write and unlink on the comodel.
func (k *checker) links(model, name string, f Field) error {
	if f.Type != typeOne2many {
		return nil
	}
	if err := k.need(f.Relation, opWrite, name, model); err != nil {
		return err
	}
	return k.need(f.Relation, opUnlink, name, model)
}
