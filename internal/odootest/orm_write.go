package odootest

import "strings"

// create inserts one record per vals and returns their ids. As in
// Postgres, an id is consumed by every row that reaches the INSERT, the
// failing one included, and is not given back on rollback.
func create(e *env, m *model, valsList []Object, many bool) ([]int64, *exception) {
	if m.readOnly {
		return nil, notModelled("create on " + m.name)
	}
	above := m.traces.create(many)
	if err := checkModelAccess(e, m, opCreate); err != nil {
		return nil, err.under(append(above, frModelsCreate4903)...)
	}
	rows := make([]record, len(valsList))
	later := make([]Object, len(valsList))
	for i, vals := range valsList {
		vals, err := withContextDefaults(e, m, vals)
		if err != nil {
			return nil, err.under(above...)
		}
		if m.prepareCreate != nil {
			var err *exception
			if vals, err = m.prepareCreate(e, vals); err != nil {
				return nil, err.under(above...)
			}
		}
		r, deferred, err := newRecord(e, m, vals)
		if err != nil {
			return nil, err.under(above...)
		}
		rows[i], later[i] = r, deferred
	}
	return insertRows(e, m, rows, later, above)
}

func newRecord(e *env, m *model, vals Object) (record, Object, *exception) {
	r := record{}
	deferred, err := assign(e, m, r, vals)
	if err != nil {
		return nil, nil, err
	}
	if m.defaults != nil {
		m.defaults(e, r)
	}
	uid := e.uid
	r["create_uid"], r["write_uid"] = uid, uid
	now := e.now.Format("2006-01-02 15:04:05")
	r["create_date"], r["write_date"] = now, now
	return r, deferred, nil
}

func insertRows(e *env, m *model, rows []record, later []Object, above []frame) ([]int64, *exception) {
	t := e.table(m.name)
	ids := make([]int64, len(rows))
	sqlFrames := append(append([]frame{}, above...), frModelsCreate4957, frModelsCreate5141, frSqlDbExecute354)
	for i, r := range rows {
		t.seq++
		r["id"] = t.seq
		ids[i] = t.seq
		if ie := integrityCheck(e, m, r, true); ie != nil {
			return nil, &exception{integrity: ie, frames: sqlFrames}
		}
		t.rows[t.seq] = r
	}
	for i, r := range rows {
		if err := applyDeferred(e, m, r, later[i]); err != nil {
			return nil, err.under(above...)
		}
	}
	for _, r := range rows {
		syncRecord(e, m, r, nil)
		if err := constrain(e, m, r); err != nil {
			return nil, err.under(above...)
		}
	}
	return ids, nil
}

// assign converts and sets the values written to r. Unknown fields are a
// ValueError; magic and computed fields are ignored, as Odoo ignores them.
// It returns the values to write once r is written (applyDeferred):
// x2many values that are not plain many2many links, and computed fields
// with an inverse.
func assign(e *env, m *model, r record, vals Object) (Object, *exception) {
	var deferred Object
	for _, p := range vals {
		f, err := lookupField(e, m, p.Key)
		if err != nil {
			return nil, err
		}
		if f == nil {
			return nil, valueError("Invalid field " + pyRepr(p.Key) + " on model " + pyRepr(m.name))
		}
		if magicFields[f.name] {
			continue
		}
		if f.computed {
			if f.inverseWrite != nil {
				deferred = append(deferred, p)
			}
			continue
		}
		if f.x2many() && (f.onComodel() || !linksOnly(p.Value)) {
			deferred = append(deferred, p)
			continue
		}
		v, err := storedValue(f, p.Value, r[f.name])
		if err != nil {
			return nil, err
		}
		r[f.name] = v
	}
	return deferred, nil
}

// applyDeferred writes what assign left for after the record is written,
// in the order of the values.
func applyDeferred(e *env, m *model, r record, deferred Object) *exception {
	for _, p := range deferred {
		f := m.byName[p.Key]
		var err *exception
		if f.computed {
			err = f.inverseWrite(e, r, p.Value)
		} else {
			err = applyX2many(e, m, r, f, p.Value)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// integrityCheck plays the database's constraints on a row about to be
// written: NOT NULL on required fields, foreign keys, CHECKs.
func integrityCheck(e *env, m *model, r record, insert bool) *integrityError {
	for _, f := range m.fields {
		if f.required && !f.computed && r[f.name] == nil {
			return notNullViolation(m, f)
		}
		if ie := foreignKey(e, m, f, r); ie != nil {
			return ie
		}
	}
	if m.sqlCheck != nil {
		return m.sqlCheck(e, r, insert)
	}
	return nil
}

func sqlTable(model string) string { return strings.ReplaceAll(model, ".", "_") }

func notNullViolation(m *model, f *field) *integrityError {
	return &integrityError{
		class: "psycopg2.errors.NotNullViolation",
		pgMessage: `null value in column "` + f.name + `" of relation "` + sqlTable(m.name) +
			`" violates not-null constraint` + "\n",
		validation: "The operation cannot be completed:\n- Create/update: a mandatory field is not set.\n" +
			"- Delete: another model requires the record being deleted. If possible, archive it instead.\n\n" +
			"Model: " + m.description + " (" + m.name + ")\nField: " + f.label + " (" + f.name + ")\n",
	}
}

// foreignKey checks that the records a relational field points to exist.
func foreignKey(e *env, m *model, f *field, r record) *integrityError {
	var ids []int64
	switch f.typ {
	case tMany2one:
		if id, ok := r[f.name].(int64); ok {
			ids = []int64{id}
		}
	case tMany2many:
		ids, _ = r[f.name].([]int64)
	}
	for _, id := range ids {
		if e.get(f.relation, id) == nil {
			return fkViolation(m, f, id)
		}
	}
	return nil
}

func fkViolation(m *model, f *field, id int64) *integrityError {
	constraint := sqlTable(m.name) + "_" + f.name + "_fkey"
	return &integrityError{
		class: "psycopg2.errors.ForeignKeyViolation",
		pgMessage: `insert or update on table "` + sqlTable(m.name) + `" violates foreign key constraint "` +
			constraint + `"` + "\nDETAIL:  Key (" + f.name + ")=(" + itoa(id) + `) is not present in table "` +
			sqlTable(f.relation) + `".` + "\n",
		validation: fkMessage(m, constraint),
	}
}

func fkMessage(m *model, constraint string) string {
	return "The operation cannot be completed: another model requires the record being deleted. " +
		"If possible, archive it instead.\n\nModel: " + m.description + " (" + m.name + ")\nConstraint: " +
		constraint + "\n"
}

func constrain(e *env, m *model, r record) *exception {
	if m.constrain == nil {
		return nil
	}
	return m.constrain(e, r)
}

// syncRecord runs a model's synchronisation after a write (res.partner
// copies its company's address to contacts).
func syncRecord(e *env, m *model, r record, vals Object) {
	if m.sync != nil {
		m.sync(e, r, vals)
	}
}

// write updates the records with vals. A missing id raises MissingError.
func write(e *env, m *model, ids []int64, vals Object) *exception {
	if m.readOnly {
		return notModelled("write on " + m.name)
	}
	above := m.traces.write
	if err := checkModelAccess(e, m, opWrite); err != nil {
		return err.under(append(above, frModelsWrite4641)...)
	}
	if id := missing(e, m, ids); id != 0 {
		return missingRecord(m.name, []int64{id}, e.uid, m.traces.writeMissingFrames()...)
	}
	if len(forbidden(e, m, opWrite, ids)) > 0 {
		return ruleError(e, m, opWrite).under(append(above, frModelsWrite4641, frModelsCheckAccess4362)...)
	}
	return updateRows(e, m, uniqueIDs(ids), vals, above)
}

func updateRows(e *env, m *model, ids []int64, vals Object, above []frame) *exception {
	t := e.table(m.name)
	later := map[int64]Object{}
	for _, id := range ids {
		r := t.rows[id]
		deferred, err := assign(e, m, r, vals)
		if err != nil {
			return err.under(above...)
		}
		later[id] = deferred
		r["write_uid"], r["write_date"] = e.uid, e.now.Format("2006-01-02 15:04:05")
		if ie := integrityCheck(e, m, r, false); ie != nil {
			return &exception{integrity: ie, frames: append(append([]frame{}, above...), frSqlDbExecute354)}
		}
	}
	for _, id := range ids {
		if r := t.rows[id]; r != nil {
			if err := applyDeferred(e, m, r, later[id]); err != nil {
				return err.under(above...)
			}
		}
	}
	for _, id := range ids {
		if t.rows[id] == nil {
			continue // deleted by one of its own commands
		}
		syncRecord(e, m, t.rows[id], vals)
		if err := constrain(e, m, t.rows[id]); err != nil {
			return err.under(append(above, frModelsWrite4753, frModelsValidateFields1599)...)
		}
	}
	return nil
}

// unlink deletes the records. A missing id raises MissingError; records
// pointing to a deleted one lose the reference (ondelete set null), unless
// the field restricts deletion.
func unlink(e *env, m *model, ids []int64) *exception {
	if err := unlinkMasterData(e, m, ids); err != nil {
		return err
	}
	if m.readOnly {
		return notModelled("unlink on " + m.name)
	}
	above := append(append([]frame{}, m.traces.unlink...), frModelsUnlink4464)
	if err := checkModelAccess(e, m, opUnlink); err != nil {
		return err.under(above...)
	}
	if id := missing(e, m, ids); id != 0 {
		return missingRecord(m.name, []int64{id}, e.uid, append(above, missingInCheckAccess...)...)
	}
	if len(forbidden(e, m, opUnlink, ids)) > 0 {
		return ruleError(e, m, opUnlink).under(append(above, frModelsCheckAccess4362)...)
	}
	if m.beforeUnlink != nil {
		if err := m.beforeUnlink(e, ids); err != nil {
			return err.under(above...)
		}
	}
	if ie := restricted(e, m, ids); ie != nil {
		return &exception{integrity: ie, frames: append(above, frSqlDbExecute354)}
	}
	deleteRows(e, m.name, ids)
	return nil
}

// deleteRows deletes records as Postgres does: records whose many2one
// cascades are deleted with them, then references to all of them are
// cleared.
func deleteRows(e *env, model string, ids []int64) {
	for _, id := range ids {
		delete(e.table(model).rows, id)
	}
	gone := map[int64]bool{}
	for _, id := range ids {
		gone[id] = true
	}
	for _, t := range e.db.tables {
		for _, f := range t.model.fields {
			if f.typ != tMany2one || f.relation != model || !f.cascade {
				continue
			}
			var dependents []int64
			for _, id := range t.ids() {
				if gone[idOf(t.rows[id][f.name])] {
					dependents = append(dependents, id)
				}
			}
			if len(dependents) > 0 {
				deleteRows(e, t.model.name, dependents)
			}
		}
	}
	clearReferences(e, model, ids)
}

// restricted reports a record that points to one being deleted through a
// field that forbids it (required many2ones, country_id).
func restricted(e *env, m *model, ids []int64) *integrityError {
	gone := map[int64]bool{}
	for _, id := range ids {
		gone[id] = true
	}
	for _, t := range e.db.tables {
		for _, f := range t.model.fields {
			if f.typ != tMany2one || f.relation != m.name || !(f.required || f.restrict) || f.cascade {
				continue
			}
			for _, r := range t.rows {
				if id, ok := r[f.name].(int64); ok && gone[id] && !gone[r.id()] {
					return deleteViolation(m, t.model, f)
				}
			}
		}
	}
	return nil
}

func deleteViolation(m, referrer *model, f *field) *integrityError {
	constraint := sqlTable(referrer.name) + "_" + f.name + "_fkey"
	return &integrityError{
		class: "psycopg2.errors.ForeignKeyViolation",
		pgMessage: `update or delete on table "` + sqlTable(m.name) + `" violates foreign key constraint "` +
			constraint + `" on table "` + sqlTable(referrer.name) + `"` + "\n",
		validation: fkMessage(referrer, constraint),
	}
}

// clearReferences sets many2ones pointing to deleted records to NULL and
// drops them from many2manys.
func clearReferences(e *env, model string, ids []int64) {
	gone := map[int64]bool{}
	for _, id := range ids {
		gone[id] = true
	}
	for _, t := range e.db.tables {
		for _, f := range t.model.fields {
			if f.relation != model || f.computed || f.onComodel() {
				continue
			}
			for _, r := range t.rows {
				clearReference(f, r, gone)
			}
		}
	}
}

func clearReference(f *field, r record, gone map[int64]bool) {
	switch f.typ {
	case tMany2one:
		if id, ok := r[f.name].(int64); ok && gone[id] {
			r[f.name] = nil
		}
	case tMany2many:
		ids, _ := r[f.name].([]int64)
		kept := []int64{}
		for _, id := range ids {
			if !gone[id] {
				kept = append(kept, id)
			}
		}
		r[f.name] = kept
	}
}

// withContextDefaults adds the context's default_<field> values for the
// fields of m that vals leaves out, as default_get does. Keys that name
// no field of m are ignored, as Odoo ignores them; a field Odoo describes
// but the double does not model raises NotImplementedError.
func withContextDefaults(e *env, m *model, vals Object) (Object, *exception) {
	var out Object
	for _, p := range e.defaults {
		if _, given := vals.Get(p.Key); given || magicFields[p.Key] {
			continue
		}
		f, err := lookupField(e, m, p.Key)
		if err != nil {
			return nil, err
		}
		if f != nil {
			out = append(out, p)
		}
	}
	if out == nil {
		return vals, nil
	}
	return append(out, vals...), nil
}
