package odootest

// Address and commercial fields of res.partner (_address_fields,
// _commercial_fields), as far as the double models them.
var (
	addressFields    = []string{"street", "street2", "zip", "city", "country_id"}
	commercialFields = []string{"vat", "company_registry"}
)

// partnerSync is res.partner._fields_sync: a contact takes its company's
// address (when the company has one) and commercial fields; a company
// passes changes of those on to its contacts.
func partnerSync(e *env, r record, vals Object) {
	if vals == nil || hasAny(vals, "parent_id", "type") {
		syncFromParent(e, r)
	}
	if vals != nil {
		syncToChildren(e, r, hasAny(vals, addressFields...), hasAny(vals, commercialFields...), map[int64]bool{})
	}
}

func hasAny(vals Object, names ...string) bool {
	for _, n := range names {
		if _, ok := vals.Get(n); ok {
			return true
		}
	}
	return false
}

func syncFromParent(e *env, r record) {
	parent := e.get("res.partner", idOf(r["parent_id"]))
	if parent == nil {
		return
	}
	if r["type"] == "contact" && hasAddress(parent) {
		copyFields(r, parent, addressFields)
	}
	if commercial := commercialPartner(e, r); commercial.id() != r.id() {
		copyFields(r, commercial, commercialFields)
	}
}

func hasAddress(r record) bool {
	for _, f := range addressFields {
		if r[f] != nil {
			return true
		}
	}
	return false
}

func copyFields(dst, src record, names []string) {
	for _, n := range names {
		dst[n] = src[n]
	}
}

// syncToChildren is _children_sync: contacts follow their company's
// address, and the contacts of a commercial entity its commercial fields.
// seen guards against a parent loop (which the constraint refuses after
// the sync).
func syncToChildren(e *env, r record, address, commercial bool, seen map[int64]bool) {
	if seen[r.id()] {
		return
	}
	seen[r.id()] = true
	t := e.table("res.partner")
	for _, id := range t.ids() {
		child := t.rows[id]
		if idOf(child["parent_id"]) != r.id() || child.id() == r.id() {
			continue
		}
		childAddress := address && child["type"] == "contact"
		childCommercial := commercial && child["is_company"] != true
		if childAddress {
			copyFields(child, r, addressFields)
		}
		if childCommercial {
			copyFields(child, r, commercialFields)
		}
		if childAddress || childCommercial {
			syncToChildren(e, child, childAddress, childCommercial, seen)
		}
	}
}
