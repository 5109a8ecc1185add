package odootest

func runSearch(c *call) (any, *exception) {
	ids, err := search(c.e, c.m, c.args["domain"], c.int("offset"), c.int("limit"), c.str("order"))
	if err != nil && err.class == clsInvalidText { // raised by the query, which search runs last
		return nil, err.under(frModelsSearch1717, frModelsSearchFetch1749, frModelsFetchQuery4183, frModelsBrowse6157,
			frQueryBool261, frQueryGetResultIDs225, frAPIExecuteQuery962, frSqlDbExecute354)
	}
	if err != nil {
		return nil, err
	}
	return idsToList(ids), nil
}

func runSearchCount(c *call) (any, *exception) {
	ids, err := search(c.e, c.m, c.args["domain"], 0, c.int("limit"), "id")
	if err != nil {
		return nil, err.under(frModelsSearchCount1694)
	}
	return int64(len(ids)), nil
}

// runSearchRead is search_read: search, then read the fields of what it
// found (the record rules already applied to the search).
func runSearchRead(c *call) (any, *exception) {
	names, err := stringList(c.args["fields"])
	if err != nil {
		return nil, err
	}
	ids, err := search(c.e, c.m, c.args["domain"], c.int("offset"), c.int("limit"), c.str("order"))
	if err != nil {
		return nil, err.under(searchReadFrames...)
	}
	if err := checkFields(c.e, c.m, names); err != nil {
		return nil, err.under(frModelsSearchRead6061, frModelsSearchFetch1747)
	}
	for _, p := range c.kw {
		if p.Key != "load" {
			return nil, typeError("BaseModel._read_format() got an unexpected keyword argument " + pyRepr(p.Key))
		}
	}
	load, hasLoad := c.kw.Get("load")
	return readRows(c.e, c.m, ids, names, !hasLoad || load == "_classic_read"), nil
}

func readRows(e *env, m *model, ids []int64, names []string, classic bool) []any {
	names = readFields(e, m, names)
	out := []any{}
	for _, id := range ids {
		out = append(out, readRecord(e, m, e.get(m.name, id), names, classic))
	}
	return out
}

func runRead(c *call) (any, *exception) {
	names, err := stringList(c.args["fields"])
	if err != nil {
		return nil, err
	}
	return read(c.e, c.m, c.ids, names, c.args["load"] == "_classic_read")
}

// runCheckAccess is check_access(operation): the ACL, then the record
// rules on the ids. It returns None.
func runCheckAccess(c *call) (any, *exception) {
	op := c.str("operation")
	if _, ok := aclVerbs[op]; !ok {
		return nil, valueError("Invalid access mode " + pyRepr(c.args["operation"]))
	}
	if err := checkModelAccess(c.e, c.m, op); err != nil {
		return nil, err
	}
	if id := missing(c.e, c.m, c.ids); id != 0 && op != opCreate {
		return nil, missingRecord(c.m.name, []int64{id}, c.e.uid, missingInCheckAccess...)
	}
	if len(forbidden(c.e, c.m, op, c.ids)) > 0 {
		return nil, ruleError(c.e, c.m, op).under(frModelsCheckAccess4362)
	}
	return nil, nil
}

// runNameSearch is name_search: the records whose _rec_names_search
// fields match name, as [id, display_name] pairs in the model's order.
func runNameSearch(c *call) (any, *exception) {
	domain, err := nameSearchDomain(c)
	if err != nil {
		return nil, err
	}
	ids, err := search(c.e, c.m, domain, 0, c.int("limit"), "")
	if err != nil {
		return nil, err
	}
	out := []any{}
	for _, id := range ids {
		out = append(out, []any{id, c.m.display(c.e, c.e.get(c.m.name, id))})
	}
	return out, nil
}

func nameSearchDomain(c *call) ([]any, *exception) {
	arg := c.args["args"] // 18.0's name; 19.0 calls it domain
	if c.e.version == "19.0" {
		arg = c.args["domain"]
	}
	extra, ok := asList(arg)
	if !ok && truthy(arg) {
		return nil, valueError("Invalid domain " + pyRepr(arg))
	}
	name, op := c.str("name"), c.str("operator")
	if name == "" && (op == "ilike" || op == "like") {
		return extra, nil
	}
	fields := c.m.recNames
	if len(fields) == 0 {
		fields = []string{"display_name"}
	}
	var terms []any
	join := "|"
	if op == "!=" || op == "not in" || op == "not like" || op == "not ilike" {
		join = "&"
	}
	for i, f := range fields {
		if i > 0 {
			terms = append([]any{join}, terms...)
		}
		terms = append(terms, []any{f, op, name})
	}
	return append(append([]any{}, extra...), terms...), nil
}
