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

// x2many writes. A many2many whose commands only link (3 to 6, or a plain
// list of ids) is converted with the other values of the record
// (applyCommands), as before the INSERT or UPDATE. Every other x2many
// value (one2manys, the side of a many2many stored on the comodel, and
// commands 0, 1 and 2, which create, write and delete comodel records) is
// applied after the record is written (applyX2many), command by command,
// through the ORM: the comodel's access rights, defaults, constraints and
// its own nested commands apply, as in Odoo.

// applyCommands applies an x2many write value to the ids a many2many
// holds: a list of link commands ([4, id], [6, 0, ids], ...) or, as Odoo
// 17+ accepts, a plain list of ids meaning "set".
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
		if ids, err = linkCommand(f, cmd, ids); err != nil {
			return nil, err
		}
	}
	return ids, nil
}

// linksOnly reports whether an x2many value only links records: what
// applyCommands handles without touching the comodel.
func linksOnly(v any) bool {
	items, ok := asList(v)
	if !ok || !truthy(v) {
		return true
	}
	if _, plain := plainIDs(items); plain {
		return true
	}
	for _, it := range items {
		cmd, ok := asList(it)
		if !ok || len(cmd) == 0 {
			return true // applyCommands reports the bad value
		}
		if code, _ := asInt(cmd[0]); code == cmdCreate || code == cmdUpdate || code == cmdDelete {
			return false
		}
	}
	return true
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

func cmdArg(cmd []any, i int) any {
	if i < len(cmd) {
		return cmd[i]
	}
	return nil
}

// linkCommand applies one of the commands 3 to 6 to a set of ids.
func linkCommand(f *field, cmd []any, ids []int64) ([]int64, *exception) {
	code, _ := asInt(cmd[0])
	switch code {
	case cmdLink:
		id, _ := asInt(cmdArg(cmd, 1))
		return appendUnique(ids, id), nil
	case cmdUnlink:
		id, _ := asInt(cmdArg(cmd, 1))
		return removeID(ids, id), nil
	case cmdClear:
		return []int64{}, nil
	case cmdSet:
		list, _ := asList(cmdArg(cmd, 2))
		set, ok := plainIDs(list)
		if !ok {
			return nil, wrongValue(f, cmd)
		}
		return set, nil
	}
	return nil, wrongValue(f, cmd)
}

// applyX2many writes an x2many value of record r after r is written: the
// commands in order. Commands 0, 1 and 2 create, write and unlink comodel
// records; on a one2many, 3 to 6 rewrite the comodel's many2one (the
// field's inverse) as Odoo does; on a many2many they change the links.
func applyX2many(e *env, m *model, r record, f *field, v any) *exception {
	items, ok := asList(v)
	if !ok && truthy(v) {
		return wrongValue(f, v)
	}
	if plain, ok := plainIDs(items); ok && truthy(v) {
		items = []any{[]any{int64(cmdSet), int64(0), idsToList(plain)}}
	}
	if !truthy(v) {
		items = []any{[]any{int64(cmdClear)}}
	}
	comodel := registry[f.relation]
	if comodel == nil || comodel.describedOnly {
		return notModelled("writing " + m.name + "." + f.name + " (records of " + f.relation + ")")
	}
	for _, it := range items {
		cmd, ok := asList(it)
		if !ok || len(cmd) == 0 {
			return wrongValue(f, v)
		}
		if err := applyX2manyCommand(e, r, f, comodel, cmd); err != nil {
			return err
		}
	}
	return nil
}

func applyX2manyCommand(e *env, r record, f *field, comodel *model, cmd []any) *exception {
	code, _ := asInt(cmd[0])
	id, _ := asInt(cmdArg(cmd, 1))
	switch code {
	case cmdCreate:
		vals, ok := cmdArg(cmd, 2).(Object)
		if !ok && cmdArg(cmd, 2) != nil {
			return wrongValue(f, cmd)
		}
		if f.typ == tOne2many {
			vals = append(Object{}, vals...).set(f.inverse, r.id())
		}
		ids, err := create(e, comodel, []Object{vals}, false)
		if err != nil {
			return err
		}
		if f.typ == tMany2many {
			return setLinks(e, r, f, appendUnique(linkedIDs(e, r, f), ids[0]))
		}
		return nil
	case cmdUpdate:
		vals, ok := cmdArg(cmd, 2).(Object)
		if !ok {
			return wrongValue(f, cmd)
		}
		return write(e, comodel, []int64{id}, vals)
	case cmdDelete:
		return unlink(e, comodel, []int64{id})
	}
	if f.typ == tMany2many {
		ids, err := linkCommand(f, cmd, linkedIDs(e, r, f))
		if err != nil {
			return err
		}
		return setLinks(e, r, f, ids)
	}
	return one2manyLinks(e, r, f, comodel, cmd)
}

// one2manyLinks applies the commands 3 to 6 to a one2many: the records
// linked get the inverse many2one set to r, the records unlinked get it
// cleared, or are deleted when the inverse cascades (as Odoo does).
func one2manyLinks(e *env, r record, f *field, comodel *model, cmd []any) *exception {
	old := linkedIDs(e, r, f)
	kept, err := linkCommand(f, cmd, old)
	if err != nil {
		return err
	}
	keep := map[int64]bool{}
	for _, id := range kept {
		keep[id] = true
	}
	var dropped []int64
	for _, id := range old {
		if !keep[id] {
			dropped = append(dropped, id)
		}
	}
	if len(dropped) > 0 {
		var err *exception
		if comodel.byName[f.inverse].cascade {
			err = unlink(e, comodel, dropped)
		} else {
			err = write(e, comodel, dropped, Object{{f.inverse, false}})
		}
		if err != nil {
			return err
		}
	}
	var added []int64
	for _, id := range kept {
		if idOf(e.get(comodel.name, id)[f.inverse]) != r.id() {
			added = append(added, id)
		}
	}
	if len(added) == 0 {
		return nil
	}
	return write(e, comodel, added, Object{{f.inverse, r.id()}})
}

// linkedIDs are the ids an x2many of r holds, archived records included.
func linkedIDs(e *env, r record, f *field) []int64 {
	if f.typ == tMany2many && f.inverse == "" {
		ids, _ := r[f.name].([]int64)
		return append([]int64(nil), ids...)
	}
	t := e.table(f.relation)
	var ids []int64
	for _, id := range t.ids() {
		if f.typ == tOne2many && idOf(t.rows[id][f.inverse]) == r.id() ||
			f.typ == tMany2many && containsID(t.rows[id][f.inverse], r.id()) {
			ids = append(ids, id)
		}
	}
	return ids
}

func containsID(v any, id int64) bool {
	ids, _ := v.([]int64)
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

// setLinks sets the links of a many2many, on whichever side the relation
// is stored (the relation table of Odoo), after checking that the linked
// records exist as its foreign keys would.
func setLinks(e *env, r record, f *field, ids []int64) *exception {
	for _, id := range ids {
		if e.get(f.relation, id) == nil {
			m := registry[f.model]
			return &exception{integrity: fkViolation(m, f, id), frames: []frame{frSqlDbExecute354}}
		}
	}
	if f.inverse == "" {
		r[f.name] = ids
		return nil
	}
	want := map[int64]bool{}
	for _, id := range ids {
		want[id] = true
	}
	t := e.table(f.relation)
	for _, id := range t.ids() {
		other := t.rows[id]
		has := containsID(other[f.inverse], r.id())
		stored, _ := other[f.inverse].([]int64)
		switch {
		case want[id] && !has:
			other[f.inverse] = append(append([]int64(nil), stored...), r.id())
		case !want[id] && has:
			other[f.inverse] = removeID(append([]int64(nil), stored...), r.id())
		}
	}
	return nil
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
