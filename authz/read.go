package authz

import (
	"strings"
)

// path checks a field path of model, "a" or "a.b.c" (sep "." in domains,
// orders, groupbys and field lists; "/" in export_data): every field must
// be known, and each one followed into another model needs read on that
// model. It returns the last field and the model that holds it.
func (k *checker) path(model, p string, sep string) (Field, string, error) {
	if p == "" {
		return Field{}, model, shape("an empty field name on %s", model)
	}
	for {
		name, rest, more := strings.Cut(p, sep)
		f, err := k.field(model, name)
		if err != nil || !more {
			return f, model, err
		}
		if !f.relational() {
			return f, model, shape("path %s: field %s of %s is not relational", p, name, model)
		}
		if err := k.need(f.Relation, opRead, name, model); err != nil {
			return f, model, err
		}
		model, p = f.Relation, rest
	}
}

// fieldList checks a list of field names or paths (read's fields,
// search_read's, default_get's): false or a list of strings.
func (k *checker) fieldList(model string, v any) error {
	if isFalse(v) {
		return nil
	}
	names, ok := stringList(v)
	if !ok {
		return shape("field list %v on %s: want a list of field names", v, model)
	}
	for _, n := range names {
		if _, _, err := k.path(model, n, "."); err != nil {
			return err
		}
	}
	return nil
}

// Domain operators (Odoo 17 to 19).
var domainOps = map[string]bool{
	"=": true, "!=": true, "<>": true, "<": true, ">": true, "<=": true, ">=": true, "=?": true,
	"=like": true, "=ilike": true, "like": true, "not like": true, "ilike": true, "not ilike": true,
	"in": true, "not in": true, "child_of": true, "parent_of": true,
	"any": true, "not any": true, "any!": true, "not any!": true,
}

// domain checks a search domain on model: a list of "&", "|", "!" and
// [path, operator, value] leaves (false or null: no domain).
func (k *checker) domain(model string, v any, depth int) error {
	if isFalse(v) {
		return nil
	}
	l, ok := v.([]any)
	if !ok {
		return shape("domain %v on %s: want a list", v, model)
	}
	if depth > maxDepth {
		return shape("domains nested more than %d deep", maxDepth)
	}
	for _, e := range l {
		var err error
		switch e := e.(type) {
		case string:
			if e != "&" && e != "|" && e != "!" {
				err = shape("domain operator %q on %s", e, model)
			}
		case []any:
			err = k.leaf(model, e, depth)
		default:
			err = shape("domain element %v on %s", e, model)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// leaf checks one [path, operator, value] leaf.
func (k *checker) leaf(model string, l []any, depth int) error {
	if len(l) != 3 {
		return shape("domain leaf %v on %s: want [field, operator, value]", l, model)
	}
	op, ok := l[1].(string)
	if !ok || !domainOps[strings.ToLower(op)] {
		return shape("domain leaf %v on %s: unknown operator", l, model)
	}
	op = strings.ToLower(op)
	p, ok := l[0].(string)
	if !ok {
		if n, isInt := asInt(l[0]); isInt && (n == 0 || n == 1) && op == "=" && isID(l[2]) {
			return nil // Odoo's TRUE_LEAF (1, '=', 1) and FALSE_LEAF (0, '=', 1)
		}
		return shape("domain leaf %v on %s: the field must be a name", l, model)
	}
	f, at, err := k.path(model, p, ".")
	if err != nil {
		return err
	}
	last := p[strings.LastIndexByte(p, '.')+1:]
	switch op {
	case "any", "not any", "any!", "not any!":
		if !f.relational() {
			return shape("domain leaf %v on %s: %s needs a relational field", l, model, op)
		}
		if err := k.need(f.Relation, opRead, last, at); err != nil {
			return err
		}
		return k.domain(f.Relation, l[2], depth+1)
	case "child_of", "parent_of":
		if f.relational() {
			if err := k.need(f.Relation, opRead, last, at); err != nil {
				return err
			}
		}
	}
	return k.leafValue(l, f, last, at)
}

// leafValue checks a leaf's value: a scalar or a list of scalars. A name
// (a string) compared with an x2many field searches the comodel's
// display names, which reading the field does not show: read on it.
// (A many2one's display name is part of the record's own read.)
func (k *checker) leafValue(l []any, f Field, name, model string) error {
	v := l[2]
	if !isScalar(v) && !scalarList(v) {
		return shape("domain leaf %v on %s: want a value or a list of values", l, model)
	}
	if !f.x2many() || !holdsString(v) {
		return nil
	}
	return k.need(f.Relation, opRead, name, model)
}

func holdsString(v any) bool {
	if _, ok := v.(string); ok {
		return true
	}
	l, _ := v.([]any)
	for _, e := range l {
		if _, ok := e.(string); ok {
			return true
		}
	}
	return false
}

// order checks an order string, "name desc, country_id asc nulls last":
// each term's field path as a path, with aggregates ("amount:sum",
// "__count") where agg allows them (read_group's orderby). Ordering by a
// many2one sorts by the comodel's display order, part of reading it.
func (k *checker) order(model string, v any, agg bool) error {
	if isFalse(v) {
		return nil
	}
	s, ok := v.(string)
	if !ok {
		return shape("order %v on %s: want a string", v, model)
	}
	for term := range strings.SplitSeq(s, ",") {
		words := strings.Fields(term)
		if len(words) == 0 || !orderWords(words[1:]) {
			return shape("order %q on %s", s, model)
		}
		if err := k.aggPath(model, words[0], agg); err != nil {
			return err
		}
	}
	return nil
}

// orderWords: what may follow a field in an order term.
func orderWords(w []string) bool {
	if len(w) > 0 && (strings.EqualFold(w[0], "asc") || strings.EqualFold(w[0], "desc")) {
		w = w[1:]
	}
	if len(w) == 2 && strings.EqualFold(w[0], "nulls") && (strings.EqualFold(w[1], "first") || strings.EqualFold(w[1], "last")) {
		w = w[2:]
	}
	return len(w) == 0
}

// aggPath checks "path", and with agg also "__count", "path:agg" and
// "name:agg(path)" (read_group's fields and aggregates).
func (k *checker) aggPath(model, s string, agg bool) error {
	if agg {
		if s == "__count" {
			return nil
		}
		if i := strings.IndexByte(s, '('); i >= 0 && strings.HasSuffix(s, ")") {
			s = s[i+1 : len(s)-1]
		} else if name, fn, ok := strings.Cut(s, ":"); ok && validMethod(fn) {
			s = name
		}
	}
	_, _, err := k.path(model, s, ".")
	return err
}

// aggList checks read_group's fields or Odoo 19's aggregates: a list of
// aggregate specs, or false.
func (k *checker) aggList(model string, v any) error {
	if isFalse(v) {
		return nil
	}
	names, ok := stringList(v)
	if !ok {
		return shape("aggregates %v on %s: want a list of strings", v, model)
	}
	for _, n := range names {
		if err := k.aggPath(model, n, true); err != nil {
			return err
		}
	}
	return nil
}

// groupby checks a groupby (a string or a list): each "path" or
// "path:granularity". A many2one groups show [id, display name], part of
// reading the record; an x2many's show the comodel's display names: read
// on it.
func (k *checker) groupby(model string, v any) error {
	if isFalse(v) {
		return nil
	}
	names, ok := stringList(v)
	if s, isString := v.(string); isString {
		names, ok = []string{s}, true
	}
	if !ok {
		return shape("groupby %v on %s: want a string or a list of strings", v, model)
	}
	for _, g := range names {
		p, _, _ := strings.Cut(g, ":")
		f, at, err := k.path(model, p, ".")
		if err != nil {
			return err
		}
		if f.x2many() {
			if err := k.need(f.Relation, opRead, p[strings.LastIndexByte(p, '.')+1:], at); err != nil {
				return err
			}
		}
	}
	return nil
}

// groupAgg checks a list that is aggregates on one Odoo version and a
// groupby on another (web_read_group's second and third arguments): as
// aggregates, and each entry that is not "__count" or "name:agg(path)"
// also as a groupby, so that an x2many groupby needs read on its comodel
// whichever place it comes in.
func (k *checker) groupAgg(model string, v any) error {
	if err := k.aggList(model, v); err != nil {
		return err
	}
	names, _ := stringList(v)
	for _, n := range names {
		if n == "__count" || strings.IndexByte(n, '(') >= 0 {
			continue
		}
		if err := k.groupby(model, n); err != nil {
			return err
		}
	}
	return nil
}

// spec checks a web_read / web_search_read specification on model:
// {field: {} or {"fields": spec, "context": {...}, "order": "...",
// "limit": n, "offset": n}}. Following a relation with "fields" needs
// read on the comodel, but a many2one's {"display_name"} (and "id") is
// its [id, display name].
func (k *checker) spec(model string, v any, depth int) error {
	m, ok := v.(map[string]any)
	if !ok {
		return shape("specification %v on %s: want an object", v, model)
	}
	if depth > maxDepth {
		return shape("specifications nested more than %d deep", maxDepth)
	}
	return eachKey(m, func(name string) error {
		f, err := k.field(model, name)
		if err != nil {
			return err
		}
		return k.subSpec(model, name, f, m[name], depth)
	})
}

func (k *checker) subSpec(model, name string, f Field, v any, depth int) error {
	sub, ok := v.(map[string]any)
	if !ok {
		return shape("specification of field %s of %s: want an object", name, model)
	}
	if len(sub) == 0 {
		return nil
	}
	if !f.relational() {
		return shape("specification of field %s of %s: a %s field takes {}", name, model, f.Type)
	}
	return eachKey(sub, func(key string) error {
		var err error
		switch val := sub[key]; key {
		case "fields":
			if f.Type == typeMany2one && displayOnly(val) {
				return nil
			}
			if err = k.need(f.Relation, opRead, name, model); err == nil {
				err = k.spec(f.Relation, val, depth+1)
			}
		case "context":
			err = k.context(f.Relation, val)
		case "order":
			if err = k.need(f.Relation, opRead, name, model); err == nil {
				err = k.order(f.Relation, val, false)
			}
		case "limit", "offset":
			if _, ok := asInt(val); !ok && !isFalse(val) {
				err = shape("%s %v of field %s of %s", key, val, name, model)
			}
		default:
			err = shape("specification key %q of field %s of %s", key, name, model)
		}
		return err
	})
}

// displayOnly: a sub-specification of only display_name and id, each {}.
func displayOnly(v any) bool {
	m, ok := v.(map[string]any)
	if !ok {
		return false
	}
	for key, sub := range m {
		s, ok := sub.(map[string]any)
		if key != "display_name" && key != "id" || !ok || len(s) != 0 {
			return false
		}
	}
	return true
}

// exportPaths checks export_data's fields_to_export: "/"-separated
// paths, whose "id" and ".id" ends name a record's external or database
// id. A path ending on an x2many field exports the comodel's display
// names (Odoo's _export_rows): read on it, as for a groupby.
func (k *checker) exportPaths(model string, v any) error {
	names, ok := stringList(v)
	if !ok {
		return shape("fields to export %v on %s: want a list of strings", v, model)
	}
	for _, n := range names {
		p := trimIDEnd(n)
		f, at, err := k.path(model, p, "/")
		if err == nil && p == n && f.x2many() {
			err = k.need(f.Relation, opRead, p[strings.LastIndexByte(p, '/')+1:], at)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// importPaths checks load's fields: each relation an import path follows
// may create or update records of the comodel: create and write on it,
// and the context scope on it when the context holds default_* keys.
func (k *checker) importPaths(model string, v any) error {
	names, ok := stringList(v)
	if !ok {
		return shape("fields to import %v on %s: want a list of strings", v, model)
	}
	for _, n := range names {
		if err := k.importPath(model, n); err != nil {
			return err
		}
	}
	return nil
}

func (k *checker) importPath(model, path string) error {
	p := trimIDEnd(path)
	for {
		name, rest, more := strings.Cut(p, "/")
		f, err := k.field(model, name)
		if err != nil {
			return err
		}
		if !more {
			if f.Type == typeOne2many {
				return k.links(model, name, f)
			}
			return nil
		}
		if !f.relational() {
			return shape("import path %s: field %s of %s is not relational", path, name, model)
		}
		for _, o := range []op{opCreate, opWrite} {
			if err := k.need(f.Relation, o, name, model); err != nil {
				return err
			}
		}
		if err := k.creates(f.Relation); err != nil {
			return err
		}
		model, p = f.Relation, rest
	}
}

// trimIDEnd drops an "/id" or "/.id" end, and reads a lone "id" or ".id"
// as the id field.
func trimIDEnd(p string) string {
	switch {
	case p == ".id":
		return "id"
	case strings.HasSuffix(p, "/.id"):
		return p[:len(p)-len("/.id")]
	case strings.HasSuffix(p, "/id"):
		return p[:len(p)-len("/id")]
	}
	return p
}
