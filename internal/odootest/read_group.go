package odootest

import "strings"

// runReadGroup is read_group(domain, fields, groupby, ...), as far as the
// double models it: one groupby (lazy), on a many2one or a plain stored
// field, counting records (fields empty or "__count"). Each group is
// {field: value, field_count: n, __domain: [...]}, groups in the order of
// their values (a many2one in its comodel's order), the empty group last.
// A dotted groupby is refused as Odoo refuses it: it reads "a.b" as a
// properties path. Anything else raises NotImplementedError.
func runReadGroup(c *call) (any, *exception) {
	groupby, err := stringList(c.args["groupby"])
	if err != nil {
		return nil, err
	}
	if len(groupby) != 1 {
		return nil, notModelled("read_group with " + itoa(int64(len(groupby))) + " groupbys")
	}
	gb := groupby[0]
	if name, prop, dotted := strings.Cut(gb, "."); dotted {
		if f, err := lookupField(c.e, c.m, name); err != nil || f == nil {
			return nil, invalidGroupby(c, gb, err)
		}
		return nil, valueError("Property name "+pyRepr(prop)+" has to be used on a property field.",
			frModelsReadGroup2800, frModelsReadGroupGetAnnotatedGroupby2744)
	}
	f, ferr := lookupField(c.e, c.m, gb)
	if ferr != nil || f == nil {
		return nil, invalidGroupby(c, gb, ferr)
	}
	aggregates, err := stringList(c.args["fields"])
	if err != nil {
		return nil, err
	}
	for _, a := range aggregates {
		if a != "__count" {
			return nil, notModelled("read_group aggregate " + pyRepr(a))
		}
	}
	switch {
	case f.x2many(), f.typ == tDate, f.typ == tDatetime, f.computed && f.typ != tMany2one:
		return nil, notModelled("read_group by " + f.typ + " field " + f.name)
	case truthy(c.args["orderby"]), c.args["lazy"] == false, truthy(c.args["offset"]), truthy(c.args["limit"]):
		return nil, notModelled("read_group with orderby, offset, limit or lazy=False")
	}
	ids, serr := search(c.e, c.m, c.args["domain"], 0, 0, "id")
	if serr != nil {
		return nil, serr
	}
	return readGroups(c, f, ids), nil
}

func invalidGroupby(c *call, gb string, err *exception) *exception {
	if err != nil {
		return err
	}
	return valueError("Invalid field " + pyRepr(gb) + " on model " + pyRepr(c.m.name))
}

// readGroups groups ids by the value of f.
func readGroups(c *call, f *field, ids []int64) []any {
	counts := map[any]int64{}
	var keys []any
	for _, id := range ids {
		k := c.m.rawValue(c.e, f, c.e.get(c.m.name, id))
		if f.typ == tMany2one && c.e.get(f.relation, idOf(k)) == nil {
			k = nil
		}
		if _, seen := counts[k]; !seen {
			keys = append(keys, k)
		}
		counts[k]++
	}
	sortGroupKeys(c.e, f, keys)
	out := []any{}
	for _, k := range keys {
		var value, domainValue any = k, k
		switch {
		case k == nil:
			value, domainValue = false, false
		case f.typ == tMany2one:
			value = []any{k, registry[f.relation].display(c.e, c.e.get(f.relation, k.(int64)))}
		}
		out = append(out, Object{
			{f.name, value},
			{f.name + "_count", counts[k]},
			{"__domain", groupDomain(c.args["domain"], []any{f.name, "=", domainValue})},
		})
	}
	return out
}

// sortGroupKeys orders the groups: a many2one by its comodel's order,
// other values ascending; the empty group last.
func sortGroupKeys(e *env, f *field, keys []any) {
	var comodelOrder map[int64]int
	if f.typ == tMany2one {
		comodel := registry[f.relation]
		ids := e.table(f.relation).ids()
		sortRecords(e, comodel, ids, mustParseOrder(comodel, comodel.order))
		comodelOrder = map[int64]int{}
		for i, id := range ids {
			comodelOrder[id] = i
		}
	}
	less := func(a, b any) bool {
		switch {
		case a == nil:
			return false
		case b == nil:
			return true
		case comodelOrder != nil:
			return comodelOrder[a.(int64)] < comodelOrder[b.(int64)]
		}
		return compareValues(a, b) < 0
	}
	for i := 1; i < len(keys); i++ {
		for j := i; j > 0 && less(keys[j], keys[j-1]); j-- {
			keys[j], keys[j-1] = keys[j-1], keys[j]
		}
	}
}

// groupDomain is expression.AND([domain, [leaf]]).
func groupDomain(domain any, leaf []any) []any {
	items, _ := asList(domain)
	if len(items) == 0 {
		return []any{leaf}
	}
	norm := normalizeDomain(items)
	return append(append([]any{"&"}, norm...), leaf)
}

// normalizeDomain is normalize_domain: the implicit '&' between top-level
// expressions made explicit.
func normalizeDomain(items []any) []any {
	var out []any
	expected := 1
	for _, tok := range items {
		if expected == 0 {
			out = append([]any{"&"}, out...)
			expected = 1
		}
		switch tok {
		case "!":
		case "&", "|":
			expected++
		default:
			expected--
		}
		out = append(out, tok)
	}
	return out
}
