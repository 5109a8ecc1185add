package odootest

// runCreate is create: one dict gives an id, a list of dicts a list of ids.
func runCreate(c *call) (any, *exception) {
	v := c.args["vals_list"]
	if vals, ok := v.(Object); ok {
		ids, err := create(c.e, c.m, []Object{vals}, false)
		if err != nil {
			return nil, err
		}
		return ids[0], nil
	}
	items, ok := asList(v)
	if !ok {
		return nil, typeError("'" + pyTypeName(v) + "' object is not iterable")
	}
	list := make([]Object, len(items))
	for i, it := range items {
		if list[i], ok = it.(Object); !ok {
			return nil, valueError("dictionary update sequence element #0 has length 1; 2 is required")
		}
	}
	ids, err := create(c.e, c.m, list, true)
	if err != nil {
		return nil, err
	}
	return idsToList(ids), nil
}

func runWrite(c *call) (any, *exception) {
	vals, ok := c.args["vals"].(Object)
	if !ok {
		return nil, typeError("'" + pyTypeName(c.args["vals"]) + "' object is not a mapping")
	}
	if err := write(c.e, c.m, c.ids, vals); err != nil {
		return nil, err
	}
	return true, nil
}

func runUnlink(c *call) (any, *exception) {
	if err := unlink(c.e, c.m, c.ids); err != nil {
		return nil, err
	}
	return true, nil
}

// runCopy duplicates one record: its stored fields but the log fields and
// one2manys, a partner's name suffixed " (copy)", then default's values.
func runCopy(c *call) (any, *exception) {
	if len(c.ids) != 1 {
		return nil, valueError("Expected singleton: " + recordsetRepr(c.m.name, c.ids))
	}
	src := c.e.get(c.m.name, c.ids[0])
	if src == nil {
		return nil, missingRecord(c.m.name, c.ids, c.e.uid)
	}
	vals := copyValues(c.m, src)
	if def, ok := c.args["default"].(Object); ok {
		for _, p := range def {
			vals = vals.set(p.Key, p.Value)
		}
	}
	ids, err := create(c.e, c.m, []Object{vals}, false)
	if err != nil {
		return nil, err
	}
	return ids[0], nil
}

func copyValues(m *model, src record) Object {
	vals := Object{}
	for _, f := range m.fields {
		if magicFields[f.name] || f.computed || f.typ == tOne2many {
			continue
		}
		v := src[f.name]
		if ids, ok := v.([]int64); ok {
			v = []any{[]any{int64(cmdSet), int64(0), idsToList(ids)}}
		}
		if f.name == "name" && m.name == "res.partner" && v != nil {
			v = v.(string) + " (copy)"
		}
		if v != nil {
			vals = append(vals, Pair{f.name, v})
		}
	}
	return vals
}

// runNameCreate creates a record from its name: [id, display_name].
func runNameCreate(c *call) (any, *exception) {
	if c.m.byName["name"] == nil {
		return nil, notModelled("name_create on " + c.m.name)
	}
	ids, err := create(c.e, c.m, []Object{{{"name", c.args["name"]}}}, false)
	if err != nil {
		return nil, err
	}
	return []any{ids[0], c.m.display(c.e, c.e.get(c.m.name, ids[0]))}, nil
}

// runSetActive is action_archive / action_unarchive: they return None.
func runSetActive(active bool) func(c *call) (any, *exception) {
	return func(c *call) (any, *exception) {
		if !c.m.hasActive() {
			return nil, notModelled("archiving " + c.m.name)
		}
		return nil, write(c.e, c.m, c.ids, Object{{"active", active}})
	}
}

func runToggleActive(c *call) (any, *exception) {
	if !c.m.hasActive() {
		return nil, notModelled("archiving " + c.m.name)
	}
	for _, id := range c.ids {
		r := c.e.get(c.m.name, id)
		if r == nil {
			return nil, missingRecord(c.m.name, []int64{id}, c.e.uid)
		}
		if err := write(c.e, c.m, []int64{id}, Object{{"active", r["active"] != true}}); err != nil {
			return nil, err
		}
	}
	return nil, nil
}
