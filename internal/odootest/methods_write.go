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

// runSetActive is action_archive / action_unarchive: they return None.
func runSetActive(active bool) func(c *call) (any, *exception) {
	return func(c *call) (any, *exception) {
		if !c.m.hasActive() {
			return nil, notModelled("archiving " + c.m.name)
		}
		return nil, write(c.e, c.m, c.ids, Object{{"active", active}})
	}
}
