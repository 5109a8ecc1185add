package odootest

// runWebSearchRead is web_search_read: search and web_read in one call,
// answering {"length", "records"} as the web client expects.
func runWebSearchRead(c *call) (any, *exception) {
	spec, ok := c.args["specification"].(Object)
	if !ok {
		return nil, typeError("specification must be a dict, not " + pyTypeName(c.args["specification"]))
	}
	if err := checkSpec(c.e, c.m, spec); err != nil {
		return nil, err
	}
	offset, limit := c.int("offset"), c.int("limit")
	ids, err := search(c.e, c.m, c.args["domain"], offset, limit, c.str("order"))
	if err != nil {
		return nil, err
	}
	records := webRead(c.e, c.m, ids, spec)
	return Object{{"length", webLength(c, len(ids))}, {"records", records}}, nil
}

// webLength is _format_web_search_read_results: count again only when
// the page is full.
func webLength(c *call, n int) int64 {
	offset, limit, countLimit := c.int("offset"), c.int("limit"), c.int("count_limit")
	current := int64(n) + offset
	if n == 0 {
		return 0
	}
	if limit > 0 && int64(n) == limit && (countLimit == 0 || countLimit > current) {
		ids, _ := filterDomain(c.e, c.m, c.args["domain"])
		total := int64(len(ids))
		if countLimit > 0 {
			total = min(total, countLimit)
		}
		return total
	}
	return current
}

// checkSpec checks the fields of a specification, and of the
// sub-specifications of its relational fields on their comodels.
func checkSpec(e *env, m *model, spec Object) *exception {
	names := make([]string, 0, len(spec))
	for _, p := range spec {
		names = append(names, p.Key)
	}
	if err := checkFields(e, m, names); err != nil {
		return err
	}
	for _, p := range spec {
		sub, _ := p.Value.(Object)
		fieldsSpec, nested := sub.Get("fields")
		f := m.byName[p.Key]
		if !nested || !f.relational() {
			continue
		}
		nestedSpec, _ := fieldsSpec.(Object)
		comodel := registry[f.relation]
		if comodel == nil || comodel.describedOnly {
			return notModelled("reading " + f.relation + " records through " + m.name + "." + f.name)
		}
		if err := checkSpec(e, comodel, nestedSpec); err != nil {
			return err
		}
	}
	return nil
}

// webRead formats records as web_read does: id first, then the fields of
// the specification in its order; relational fields follow their
// sub-specification ({"fields": {...}}).
func webRead(e *env, m *model, ids []int64, spec Object) []any {
	out := []any{}
	for _, id := range ids {
		r := e.get(m.name, id)
		o := Object{{"id", id}}
		for _, p := range spec {
			if p.Key != "id" {
				o = append(o, Pair{p.Key, webValue(e, m, m.byName[p.Key], r, p.Value)})
			}
		}
		out = append(out, o)
	}
	return out
}

func webValue(e *env, m *model, f *field, r record, sub any) any {
	subSpec, _ := sub.(Object)
	fieldsSpec, nested := subSpec.Get("fields")
	nestedSpec, _ := fieldsSpec.(Object)
	comodel := registry[f.relation]
	switch f.typ {
	case tMany2one:
		id, _ := readValue(e, m, f, r, false).(int64)
		if id == 0 {
			return false
		}
		if !nested {
			return id
		}
		return webRead(e, comodel, []int64{id}, nestedSpec)[0]
	case tOne2many, tMany2many:
		ids := x2manyIDs(e, f, r, m.rawValue(e, f, r))
		if !nested {
			return idsToList(ids)
		}
		return webRead(e, comodel, ids, nestedSpec)
	}
	return readValue(e, m, f, r, true)
}
