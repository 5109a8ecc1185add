package odootest

import (
	"strings"
)

// leafNode is one (field, operator, value) condition, evaluated as the SQL
// Odoo generates for it would be: negative operators (!=, not in, not
// like, not ilike) also match NULL, positive ones never do.
type leafNode struct {
	m     *model
	f     *field
	op    string
	value any
	sub   node // a dotted path: the condition on the comodel
	// matching caches the comodel ids satisfying sub, computed once per
	// search as the SQL subquery would be.
	matching map[int64]bool
}

func (l *leafNode) match(e *env, r record) bool {
	switch {
	case l.sub != nil:
		return l.matchAny(e, r)
	case l.op == "child_of" || l.op == "parent_of":
		return l.matchHierarchy(e, r)
	case l.f.x2many():
		return l.matchX2many(e, r)
	case l.f.typ == tMany2one:
		return l.matchMany2one(e, r)
	}
	return matchScalar(l.f, l.m.rawValue(e, l.f, r), l.op, l.value)
}

// matchAny matches records whose related records satisfy the sub-domain
// (a dotted path, which Odoo turns into an "any" leaf).
func (l *leafNode) matchAny(e *env, r record) bool {
	if l.matching == nil {
		l.matching = map[int64]bool{}
		t := e.table(l.f.relation)
		for id, target := range t.rows {
			if l.sub.match(e, target) {
				l.matching[id] = true
			}
		}
	}
	for _, id := range l.relatedIDs(e, r) {
		if l.matching[id] {
			return true
		}
	}
	return false
}

// relatedIDs returns the ids a relational field of r points to.
func (l *leafNode) relatedIDs(e *env, r record) []int64 {
	v := l.m.rawValue(e, l.f, r)
	if l.f.typ == tMany2one {
		if id, ok := v.(int64); ok {
			return []int64{id}
		}
		return nil
	}
	return x2manyIDs(e, l.f, r, v)
}

func (l *leafNode) matchMany2one(e *env, r record) bool {
	v := l.m.rawValue(e, l.f, r)
	if names, ok := l.nameValues(); ok {
		return matchScalar(l.f, l.displayOf(e, v), l.op, names)
	}
	return matchScalar(l.f, v, l.op, l.value)
}

// nameValues reports whether the leaf compares a relational field with
// names rather than ids (('country_id', '=', 'Belgium')), as Odoo then
// searches the comodel by display name.
func (l *leafNode) nameValues() (any, bool) {
	switch v := l.value.(type) {
	case string:
		return v, true
	case []any:
		for _, it := range v {
			if _, ok := it.(string); ok {
				return v, true
			}
		}
	}
	return nil, false
}

func (l *leafNode) displayOf(e *env, v any) any {
	id, ok := v.(int64)
	if !ok {
		return nil
	}
	target := e.get(l.f.relation, id)
	if target == nil {
		return nil
	}
	return registry[l.f.relation].display(e, target)
}

func (l *leafNode) matchX2many(e *env, r record) bool {
	ids := l.relatedIDs(e, r)
	if !truthy(l.value) && (l.op == "=" || l.op == "!=") {
		return (len(ids) == 0) == (l.op == "=")
	}
	negative := strings.HasPrefix(l.op, "not ") || l.op == "!="
	positive := map[string]string{"!=": "=", "not in": "in", "not like": "like", "not ilike": "ilike"}
	op := l.op
	if negative {
		op = positive[l.op]
	}
	found := false
	for _, id := range ids {
		var v any = id
		if _, byName := l.nameValues(); byName {
			v = l.displayOf(e, id)
		}
		if matchScalar(l.f, v, op, l.value) {
			found = true
			break
		}
	}
	return found != negative
}

// matchHierarchy is child_of / parent_of: the field's value is among the
// given records and their descendants (ancestors).
func (l *leafNode) matchHierarchy(e *env, r record) bool {
	comodel := l.m
	v := r["id"]
	if l.f.name != "id" {
		comodel = registry[l.f.relation]
		v = l.m.rawValue(e, l.f, r)
	}
	id, ok := v.(int64)
	if !ok {
		return false
	}
	roots := hierarchyRoots(e, comodel, l.value)
	return inHierarchy(e, comodel, id, roots, l.op == "child_of")
}

func hierarchyRoots(e *env, m *model, value any) map[int64]bool {
	roots := map[int64]bool{}
	items, ok := asList(value)
	if !ok {
		items = []any{value}
	}
	for _, it := range items {
		if id, ok := asInt(it); ok {
			roots[id] = true
		} else if name, ok := it.(string); ok {
			for _, id := range e.table(m.name).ids() {
				if m.display(e, e.get(m.name, id)) == name {
					roots[id] = true
				}
			}
		}
	}
	return roots
}

// inHierarchy reports whether id is a descendant (or, for parent_of, an
// ancestor) of one of the roots, the roots included.
func inHierarchy(e *env, m *model, id int64, roots map[int64]bool, down bool) bool {
	if m.parent == "" {
		return roots[id]
	}
	if down {
		for seen := map[int64]bool{}; id != 0 && !seen[id]; id = parentOf(e, m, id) {
			if roots[id] {
				return true
			}
			seen[id] = true
		}
		return false
	}
	for root := range roots {
		if inHierarchy(e, m, root, map[int64]bool{id: true}, true) {
			return true
		}
	}
	return false
}

func parentOf(e *env, m *model, id int64) int64 {
	r := e.get(m.name, id)
	if r == nil {
		return 0
	}
	p, _ := r[m.parent].(int64)
	return p
}
