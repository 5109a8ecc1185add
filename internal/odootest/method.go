package odootest

import (
	"strconv"
	"strings"
)

// param is one parameter of a model method's Python signature.
type param struct {
	name     string
	def      any
	required bool
}

// method is a public model method the double serves: record methods
// take the ids as their first argument (Odoo's api.call_kw), the others
// are @api.model methods.
type method struct {
	record bool
	params []param
	varKw  bool // **kwargs
	run    func(c *call) (any, *exception)
}

// call is one bound model method call.
type call struct {
	e    *env
	m    *model
	name string
	ids  []int64
	args map[string]any
	kw   Object // extra keyword arguments, when the method takes **kwargs
}

func (c *call) str(name string) string {
	s, _ := c.args[name].(string)
	return s
}

func (c *call) int(name string) int64 {
	i, _ := asInt(c.args[name])
	return i
}

func req(name string) param          { return param{name: name, required: true} }
func opt(name string, def any) param { return param{name: name, def: def} }

// bind binds positional and keyword arguments to the method's parameters,
// raising the TypeErrors Python raises.
func bind(name string, meth *method, args []any, kwargs Object) (map[string]any, Object, *exception) {
	qual := "BaseModel." + name + "()"
	if len(args) > len(meth.params) {
		return nil, nil, typeError(qual + " takes " + positionalRange(meth.params) +
			" but " + strconv.Itoa(len(args)+1) + wasWere(len(args)+1) + " given")
	}
	bound := map[string]any{}
	for i, a := range args {
		bound[meth.params[i].name] = a
	}
	var extra Object
	for _, p := range kwargs {
		if !hasParam(meth.params, p.Key) {
			if !meth.varKw {
				return nil, nil, typeError(qual + " got an unexpected keyword argument " + pyRepr(p.Key))
			}
			extra = append(extra, p)
			continue
		}
		if _, dup := bound[p.Key]; dup {
			return nil, nil, typeError(qual + " got multiple values for argument " + pyRepr(p.Key))
		}
		bound[p.Key] = p.Value
	}
	return bound, extra, fillDefaults(qual, meth.params, bound)
}

func fillDefaults(qual string, params []param, bound map[string]any) *exception {
	var missing []string
	for _, p := range params {
		if _, ok := bound[p.name]; ok {
			continue
		}
		if p.required {
			missing = append(missing, pyRepr(p.name))
		}
		bound[p.name] = p.def
	}
	if len(missing) == 0 {
		return nil
	}
	noun := " required positional argument: "
	if len(missing) > 1 {
		noun = " required positional arguments: "
	}
	return typeError(qual + " missing " + strconv.Itoa(len(missing)) + noun + pyJoinNames(missing))
}

// pyJoinNames joins names as Python's missing-arguments message does:
// 'a' and 'b', or 'a', 'b', and 'c'.
func pyJoinNames(names []string) string {
	switch len(names) {
	case 1:
		return names[0]
	case 2:
		return names[0] + " and " + names[1]
	}
	return strings.Join(names[:len(names)-1], ", ") + ", and " + names[len(names)-1]
}

func hasParam(params []param, name string) bool {
	for _, p := range params {
		if p.name == name {
			return true
		}
	}
	return false
}

// positionalRange is "from 2 to 5 positional arguments" (self counted).
func positionalRange(params []param) string {
	lo := 1
	for _, p := range params {
		if p.required {
			lo++
		}
	}
	hi := len(params) + 1
	if lo == hi {
		return strconv.Itoa(hi) + " positional argument" + plural(hi)
	}
	return "from " + strconv.Itoa(lo) + " to " + strconv.Itoa(hi) + " positional arguments"
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func wasWere(n int) string {
	if n == 1 {
		return " was"
	}
	return " were"
}

// parseIDs is browse(ids): an id, a list of ids, or False for none.
func parseIDs(v any) ([]int64, *exception) {
	if !truthy(v) {
		return []int64{}, nil
	}
	items, ok := asList(v)
	if !ok {
		items = []any{v}
	}
	ids := make([]int64, 0, len(items))
	for _, it := range items {
		id, ok := it.(int64)
		if !ok {
			return nil, typeError("'" + pyTypeName(it) + "' object cannot be interpreted as an integer")
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// stringList reads a list of field names (fields, attributes).
func stringList(v any) ([]string, *exception) {
	if !truthy(v) {
		return nil, nil
	}
	items, ok := asList(v)
	if !ok {
		if s, isStr := v.(string); isStr {
			return []string{s}, nil
		}
		return nil, typeError("'" + pyTypeName(v) + "' object is not iterable")
	}
	out := make([]string, len(items))
	for i, it := range items {
		s, ok := it.(string)
		if !ok {
			return nil, typeError("field names must be strings, not " + pyTypeName(it))
		}
		out[i] = s
	}
	return out, nil
}
