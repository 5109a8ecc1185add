package odootest

import (
	"time"
)

// readValue is Odoo's convert_to_read: the value of field f of record r as
// read returns it. Empty values are false, a many2one is [id, "name"] (or
// the bare id when classic is false), an x2many the list of ids.
func readValue(e *env, m *model, f *field, r record, classic bool) any {
	v := m.rawValue(e, f, r)
	if s, ok := scalarValue(f, v); ok {
		return s
	}
	switch f.typ {
	case tMany2one:
		return readMany2one(e, f, v, classic)
	case tMany2many, tOne2many:
		return idsToList(x2manyIDs(e, f, r, v))
	}
	if v == nil {
		return false
	}
	return v
}

// scalarValue is what read and export both answer for a boolean (false
// when empty) or a number (0 when empty); ok is false for other types.
func scalarValue(f *field, v any) (any, bool) {
	switch f.typ {
	case tBoolean:
		b, _ := v.(bool)
		return b, true
	case tInteger:
		if v == nil {
			return int64(0), true
		}
		return v, true
	case tFloat:
		if v == nil {
			return 0.0, true
		}
		return v, true
	}
	return nil, false
}

func readMany2one(e *env, f *field, v any, classic bool) any {
	id, _ := v.(int64)
	target := e.get(f.relation, id)
	if target == nil {
		return false
	}
	if !classic {
		return id
	}
	return []any{id, registry[f.relation].display(e, target)}
}

// x2manyIDs returns the ids an x2many field holds, in the comodel's order,
// leaving out archived records as Odoo does under active_test.
func x2manyIDs(e *env, f *field, r record, v any) []int64 {
	comodel := registry[f.relation]
	t := e.table(f.relation)
	var ids []int64
	if f.onComodel() {
		ids = linkedIDs(e, r, f)
	} else {
		stored, _ := v.([]int64)
		for _, id := range stored {
			if t.rows[id] != nil {
				ids = append(ids, id)
			}
		}
	}
	ids = filterActive(e, comodel, ids)
	sortRecords(e, comodel, ids, mustParseOrder(comodel, comodel.order))
	return ids
}

func filterActive(e *env, m *model, ids []int64) []int64 {
	if !e.activeTest || !m.hasActive() {
		return ids
	}
	t := e.table(m.name)
	var out []int64
	for _, id := range ids {
		if active, _ := t.rows[id]["active"].(bool); active {
			out = append(out, id)
		}
	}
	return out
}

func idsToList(ids []int64) []any {
	out := make([]any, len(ids))
	for i, id := range ids {
		out[i] = id
	}
	return out
}

// storedValue is Odoo's convert_to_cache for a value written to field f:
// the stored form, or the ValueError Odoo raises for a value it cannot
// convert. old is the current value, for x2many commands.
func storedValue(f *field, v any, old any) (any, *exception) {
	switch f.typ {
	case tChar, tText, tHTML:
		return storedString(v), nil
	case tBoolean:
		return truthy(v), nil
	case tInteger:
		return storedInteger(v)
	case tFloat:
		return storedFloat(v)
	case tSelection:
		return storedSelection(f, v)
	case tDate:
		return storedTime(v, "2006-01-02", "%Y-%m-%d")
	case tMany2one:
		return storedMany2one(f, v)
	case tMany2many:
		return applyCommands(f, v, old)
	}
	return nil, notModelled("writing " + f.typ + " field " + f.name)
}

func storedString(v any) any {
	switch x := v.(type) {
	case nil:
		return nil
	case bool:
		if !x {
			return nil
		}
		return "True"
	case string:
		return x
	}
	return pyRepr(v)
}

func storedInteger(v any) (any, *exception) {
	if !truthy(v) {
		return int64(0), nil
	}
	if f, ok := v.(float64); ok {
		return int64(f), nil
	}
	if i, ok := asInt(v); ok {
		return i, nil
	}
	return nil, valueError("invalid literal for int() with base 10: " + pyRepr(v))
}

func storedFloat(v any) (any, *exception) {
	if !truthy(v) {
		return 0.0, nil
	}
	if f, ok := asFloat(v); ok {
		return f, nil
	}
	return nil, valueError("could not convert string to float: " + pyRepr(v))
}

func storedSelection(f *field, v any) (any, *exception) {
	if !truthy(v) {
		return nil, nil
	}
	for _, opt := range f.selection {
		if v == any(opt[0]) {
			return opt[0], nil
		}
	}
	return nil, wrongValue(f, v)
}

func wrongValue(f *field, v any) *exception {
	return valueError("Wrong value for " + f.model + "." + f.name + ": " + pyRepr(v))
}

func storedTime(v any, layout, pyLayout string) (any, *exception) {
	if !truthy(v) {
		return nil, nil
	}
	s, ok := v.(string)
	if !ok {
		return nil, typeError("strptime() argument 1 must be str, not " + pyTypeName(v))
	}
	if len(s) > len(layout) {
		s = s[:len(layout)]
	}
	if _, err := time.Parse(layout, s); err != nil {
		return nil, valueError("time data " + pyRepr(s) + " does not match format '" + pyLayout + "'")
	}
	return s, nil
}

func storedMany2one(f *field, v any) (any, *exception) {
	if !truthy(v) {
		return nil, nil
	}
	if id, ok := asInt(v); ok {
		if _, isBool := v.(bool); !isBool {
			return id, nil
		}
	}
	return nil, wrongValue(f, v)
}

// pyTypeName is the Python type name of a decoded value.
func pyTypeName(v any) string {
	switch v.(type) {
	case nil:
		return "NoneType"
	case bool:
		return "bool"
	case int64, int:
		return "int"
	case float64:
		return "float"
	case string:
		return "str"
	case []any:
		return "list"
	case Object:
		return "dict"
	}
	return "object"
}
