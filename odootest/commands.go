package odootest

// Command codes of x2many writes (odoo.fields.Command).
const (
	cmdCreate = 0
	cmdUpdate = 1
	cmdDelete = 2
	cmdUnlink = 3
	cmdLink   = 4
	cmdClear  = 5
	cmdSet    = 6
)

// applyCommands applies an x2many write value to the ids a many2many
// holds: a list of commands ([4, id], [6, 0, ids], ...) or, as Odoo 17+
// accepts, a plain list of ids meaning "set". Commands that create, update
// or delete comodel records are not modelled.
func applyCommands(f *field, v any, old any) (any, *exception) {
	ids, _ := old.([]int64)
	ids = append([]int64(nil), ids...)
	if !truthy(v) {
		return []int64{}, nil
	}
	items, ok := asList(v)
	if !ok {
		return nil, wrongValue(f, v)
	}
	if plain, ok := plainIDs(items); ok {
		return plain, nil
	}
	for _, it := range items {
		cmd, ok := asList(it)
		if !ok || len(cmd) == 0 {
			return nil, wrongValue(f, v)
		}
		var err *exception
		if ids, err = applyCommand(f, cmd, ids); err != nil {
			return nil, err
		}
	}
	return ids, nil
}

func plainIDs(items []any) ([]int64, bool) {
	ids := make([]int64, 0, len(items))
	for _, it := range items {
		id, ok := it.(int64)
		if !ok {
			return nil, false
		}
		ids = appendUnique(ids, id)
	}
	return ids, true
}

func applyCommand(f *field, cmd []any, ids []int64) ([]int64, *exception) {
	code, _ := asInt(cmd[0])
	arg := func(i int) any {
		if i < len(cmd) {
			return cmd[i]
		}
		return nil
	}
	switch code {
	case cmdLink:
		id, _ := asInt(arg(1))
		return appendUnique(ids, id), nil
	case cmdUnlink:
		id, _ := asInt(arg(1))
		return removeID(ids, id), nil
	case cmdClear:
		return []int64{}, nil
	case cmdSet:
		list, _ := asList(arg(2))
		set, ok := plainIDs(list)
		if !ok {
			return nil, wrongValue(f, cmd)
		}
		return set, nil
	case cmdCreate, cmdUpdate, cmdDelete:
		return nil, notModelled("x2many command " + itoa(code) + " on " + f.model + "." + f.name)
	}
	return nil, wrongValue(f, cmd)
}

func appendUnique(ids []int64, id int64) []int64 {
	for _, x := range ids {
		if x == id {
			return ids
		}
	}
	return append(ids, id)
}

func removeID(ids []int64, id int64) []int64 {
	out := ids[:0]
	for _, x := range ids {
		if x != id {
			out = append(out, x)
		}
	}
	return out
}
