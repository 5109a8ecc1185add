package odootest

import (
	"cmp"
	"regexp"
	"slices"
	"strings"
)

// orderTerm is one "field [asc|desc] [nulls first|last]" of an order.
type orderTerm struct {
	field      *field
	desc       bool
	nullsFirst bool
}

// regexOrder is Odoo's regex_order: what an order specification may be.
var regexOrder = regexp.MustCompile(`(?i)^(\s*([a-z0-9:_]+|"[a-z0-9:_]+")(\.[a-z0-9:_]+)?(\s+(desc|asc))?(\s+(nulls first|nulls last))?\s*(,|$))+$`)

// parseOrder parses an order specification as search does, "" meaning
// the model's default order.
func parseOrder(e *env, m *model, spec string) ([]orderTerm, *exception) {
	if strings.TrimSpace(spec) == "" {
		spec = m.order
	}
	if !regexOrder.MatchString(spec) || strings.HasSuffix(strings.TrimSpace(spec), ",") {
		return nil, valueError(`Invalid "order" specified (` + spec + `). A valid "order" specification ` +
			`is a comma-separated list of valid field names (optionally followed by asc/desc for the direction)`)
	}
	var terms []orderTerm
	for _, part := range strings.Split(spec, ",") {
		t, err := parseOrderTerm(e, m, strings.Fields(part))
		if err != nil {
			return nil, err
		}
		terms = append(terms, t)
	}
	return terms, nil
}

func parseOrderTerm(e *env, m *model, words []string) (orderTerm, *exception) {
	name := strings.TrimSuffix(strings.Trim(words[0], `"`), ".id")
	if first, prop, dotted := strings.Cut(name, "."); dotted {
		if e.version == "19.0" { // 19.0 reads a.b as a property of a
			return orderTerm{}, valueError("Invalid field property " + pyRepr(prop) + " on " + m.name + "." + first)
		}
		return orderTerm{}, valueError("Invalid field "+pyRepr(name)+" on model "+pyRepr(m.name),
			frModelsSearch5740, frModelsOrderToSQL5549, frModelsOrderFieldToSQL5584, frModelsFieldToSQL2935)
	}
	f, err := lookupField(e, m, name)
	if err != nil {
		return orderTerm{}, err
	}
	if f == nil || f.x2many() {
		return orderTerm{}, valueError("Invalid field " + pyRepr(name) + " on model " + pyRepr(m.name))
	}
	for i := 1; i < len(words); i++ {
		words[i] = strings.ToLower(words[i])
	}
	t := orderTerm{field: f}
	t.desc = len(words) > 1 && words[1] == "desc"
	t.nullsFirst = t.desc
	if n := len(words); n > 2 && words[n-2] == "nulls" {
		t.nullsFirst = words[n-1] == "first"
	}
	return t, nil
}

func mustParseOrder(m *model, spec string) []orderTerm {
	terms, err := parseOrder(&env{}, m, spec)
	if err != nil {
		panic(err)
	}
	return terms
}

// sortRecords sorts ids by the order terms, as Postgres would with the
// database's C collation (Odoo creates its databases with LC_COLLATE 'C'):
// strings compare byte by byte, NULLs come last in ascending order and
// first in descending order. Ties keep ascending ids, so that results are
// deterministic where Postgres leaves them unspecified.
func sortRecords(e *env, m *model, ids []int64, terms []orderTerm) {
	keys := make(map[int64][]any, len(ids))
	t := e.table(m.name)
	for _, id := range ids {
		k := make([]any, len(terms))
		for i, term := range terms {
			k[i] = sortKey(e, m, term.field, t.rows[id])
		}
		keys[id] = k
	}
	slices.SortStableFunc(ids, func(a, b int64) int {
		for i, term := range terms {
			if c := compareTerm(keys[a][i], keys[b][i], term); c != 0 {
				return c
			}
		}
		return cmp.Compare(a, b)
	})
}

// sortKey is the value a field sorts by: a many2one sorts by the display
// name of the record it points to.
func sortKey(e *env, m *model, f *field, r record) any {
	v := m.rawValue(e, f, r)
	if f.typ != tMany2one || v == nil {
		return v
	}
	target := e.get(f.relation, v.(int64))
	if target == nil {
		return nil
	}
	return registry[f.relation].display(e, target)
}

func compareTerm(a, b any, t orderTerm) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return nullsSide(t)
	case b == nil:
		return -nullsSide(t)
	}
	c := compareValues(a, b)
	if t.desc {
		return -c
	}
	return c
}

func nullsSide(t orderTerm) int {
	if t.nullsFirst {
		return -1
	}
	return 1
}

// compareValues compares two stored values of the same field.
func compareValues(a, b any) int {
	switch x := a.(type) {
	case string:
		y, _ := b.(string)
		return strings.Compare(x, y)
	case bool:
		y, _ := b.(bool)
		return cmp.Compare(boolInt(x), boolInt(y))
	}
	fa, _ := asFloat(a)
	fb, _ := asFloat(b)
	return cmp.Compare(fa, fb)
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
