package odootest

// The ORM: search, read, create, write and unlink on a model's table,
// with Odoo's access checks. Errors carry the frames below api.call_kw.

// search returns the ids of the records matching domain, in order, after
// offset and limit; limit 0 means no limit. ACL and record rules apply.
func search(e *env, m *model, domain any, offset, limit int64, order string) ([]int64, *exception) {
	if err := checkModelAccess(e, m, opRead); err != nil {
		return nil, err.under(frModelsSearch5730)
	}
	ids, err := filterDomain(e, m, domain)
	if err != nil {
		return nil, err
	}
	terms, err := parseOrder(e, m, order)
	if err != nil {
		return nil, err
	}
	sortRecords(e, m, ids, terms)
	return window(ids, offset, limit), nil
}

// filterDomain returns the ids of the records matching domain, the active
// test and the record rules, unordered.
func filterDomain(e *env, m *model, domain any) ([]int64, *exception) {
	root, err := parseDomain(e, m, domain)
	if err != nil {
		return nil, err.under(frModelsSearch5736, frModelsWhereCalc5487)
	}
	active := activeFilter(e, m, domain)
	if err := sqlCastError(e, m, root, active); err != nil {
		return nil, err
	}
	allow := ruleFilter(e, m, opRead)
	t := e.table(m.name)
	var ids []int64
	for _, id := range t.ids() {
		r := t.rows[id]
		if active && r["active"] != true || allow != nil && !allow(r) || !root.match(e, r) {
			continue
		}
		ids = append(ids, id)
	}
	return ids, nil
}

func window(ids []int64, offset, limit int64) []int64 {
	if offset > int64(len(ids)) {
		return []int64{}
	}
	ids = ids[max(offset, 0):]
	if limit > 0 && limit < int64(len(ids)) {
		ids = ids[:limit]
	}
	return ids
}

// checkFields validates field names as _determine_fields_to_fetch does.
func checkFields(e *env, m *model, names []string) *exception {
	for _, n := range names {
		f, err := lookupField(e, m, n)
		if err != nil {
			return err
		}
		if f == nil {
			return invalidField(e, m, n).under(frModelsDetermineFieldsToFetch4111)
		}
	}
	return nil
}

// readFields is the default field list of read: every field the double
// models (and the version has).
func readFields(e *env, m *model, names []string) []string {
	if len(names) > 0 {
		return names
	}
	fields := knownFields(e, m)
	out := make([]string, 0, len(fields))
	for _, f := range fields {
		out = append(out, f.name)
	}
	return out
}

// read returns the records with id first, then the fields in the order
// asked. Missing ids are dropped; records hidden by a record rule raise
// AccessError.
func read(e *env, m *model, ids []int64, names []string, classic bool) ([]any, *exception) {
	if err := checkModelAccess(e, m, opRead); err != nil {
		return nil, err.under(frModelsRead3782)
	}
	if err := checkFields(e, m, names); err != nil {
		return nil, err.under(frModelsRead3782)
	}
	if hidden := forbidden(e, m, opRead, ids); len(hidden) > 0 {
		return nil, ruleError(e, m, opRead).under(frModelsRead3782, frModelsFetch4083)
	}
	names = readFields(e, m, names)
	out := []any{}
	t := e.table(m.name)
	for _, id := range uniqueIDs(ids) {
		if r := t.rows[id]; r != nil {
			out = append(out, readRecord(e, m, r, names, classic))
		}
	}
	return out, nil
}

func readRecord(e *env, m *model, r record, names []string, classic bool) Object {
	o := Object{{"id", r.id()}}
	for _, n := range names {
		if n != "id" {
			o = append(o, Pair{n, readValue(e, m, m.byName[n], r, classic)})
		}
	}
	return o
}

func uniqueIDs(ids []int64) []int64 {
	seen := map[int64]bool{}
	var out []int64
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// missing returns the first id of ids that has no record, or 0.
func missing(e *env, m *model, ids []int64) int64 {
	t := e.table(m.name)
	for _, id := range ids {
		if t.rows[id] == nil {
			return id
		}
	}
	return 0
}

// invalidField is the ValueError of a field name a model does not have;
// 19.0 leaves out "model".
func invalidField(e *env, m *model, name string) *exception {
	if e.version == "19.0" {
		return valueError("Invalid field " + pyRepr(name) + " on " + pyRepr(m.name))
	}
	return valueError("Invalid field " + pyRepr(name) + " on model " + pyRepr(m.name))
}
