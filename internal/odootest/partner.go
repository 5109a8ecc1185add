package odootest

import "strings"

// partnerModel is res.partner, the model keygate's REST facade serves.
// Its fields are a subset of Odoo 18's, in Odoo's definition order.
func partnerModel() *model {
	return newModel(&model{
		name:        "res.partner",
		description: "Contact",
		order:       "complete_name ASC, id DESC",
		parent:      "parent_id",
		recNames:    []string{"complete_name", "email", "ref", "vat", "company_registry"},
		acl: map[string][]string{
			opRead:   {groupInternal, groupPortal, groupPublic},
			opWrite:  {groupContactCreator},
			opCreate: {groupContactCreator},
			opUnlink: {groupContactCreator},
		},
		fields: []*field{
			{name: "id", typ: tInteger, label: "ID", readonly: true},
			{name: "name", typ: tChar, label: "Name"},
			{name: "complete_name", typ: tChar, label: "Complete Name", readonly: true, computed: true},
			{name: "parent_id", typ: tMany2one, label: "Related Company", relation: "res.partner"},
			{name: "child_ids", typ: tOne2many, label: "Contact", relation: "res.partner", inverse: "parent_id"},
			{name: "ref", typ: tChar, label: "Reference"},
			{name: "lang", typ: tSelection, label: "Language", selection: [][2]string{{"en_US", "English (US)"}}},
			{name: "vat", typ: tChar, label: "Tax ID"},
			{name: "company_registry", typ: tChar, label: "Company ID"},
			{name: "bank_ids", typ: tOne2many, label: "Banks", relation: "res.partner.bank", inverse: "partner_id"},
			{name: "website", typ: tChar, label: "Website Link"},
			{name: "comment", typ: tHTML, label: "Notes"},
			{name: "category_id", typ: tMany2many, label: "Tags", relation: "res.partner.category"},
			{name: "active", typ: tBoolean, label: "Active"},
			{name: "function", typ: tChar, label: "Job Position"},
			{name: "type", typ: tSelection, label: "Address Type", selection: partnerTypes},
			{name: "street", typ: tChar, label: "Street"},
			{name: "street2", typ: tChar, label: "Street2"},
			{name: "zip", typ: tChar, label: "Zip"},
			{name: "city", typ: tChar, label: "City"},
			{name: "country_id", typ: tMany2one, label: "Country", relation: "res.country", restrict: true},
			{name: "email", typ: tChar, label: "Email"},
			{name: "phone", typ: tChar, label: "Phone"},
			{name: "mobile", typ: tChar, label: "Mobile"},
			{name: "is_company", typ: tBoolean, label: "Is a Company"},
			{name: "user_ids", typ: tOne2many, label: "Users", relation: "res.users", inverse: "partner_id"},
			{name: "commercial_partner_id", typ: tMany2one, label: "Commercial Entity", relation: "res.partner", readonly: true, computed: true},
			{name: "company_name", typ: tChar, label: "Company Name"},
			{name: "display_name", typ: tChar, label: "Display Name", readonly: true, computed: true},
			{name: "create_uid", typ: tMany2one, label: "Created by", relation: "res.users", readonly: true},
			{name: "create_date", typ: tDatetime, label: "Created on", readonly: true},
			{name: "write_uid", typ: tMany2one, label: "Last Updated by", relation: "res.users", readonly: true},
			{name: "write_date", typ: tDatetime, label: "Last Updated on", readonly: true},
		},
		compute:     partnerCompute,
		displayName: func(e *env, r record) string { return partnerCompleteName(e, r) },
		rule:        partnerRule,
		defaults:    partnerDefaults,
		constrain:   partnerConstrain,
		sync:        partnerSync,
		sqlCheck:    partnerCheckName,
		traces:      partnerTraces,
	})
}

var partnerTypes = [][2]string{
	{"contact", "Contact"}, {"invoice", "Invoice Address"}, {"delivery", "Delivery Address"}, {"other", "Other Address"},
}

func partnerCompute(e *env, f *field, r record) any {
	switch f.name {
	case "complete_name", "display_name":
		return partnerCompleteName(e, r)
	case "commercial_partner_id":
		return commercialPartner(e, r).id()
	}
	return nil
}

// commercialPartner is the partner itself when it is a company or has no
// parent, else its parent's commercial partner.
func commercialPartner(e *env, r record) record {
	for seen := map[int64]bool{}; !seen[r.id()]; {
		seen[r.id()] = true
		parent := e.get("res.partner", idOf(r["parent_id"]))
		if r["is_company"] == true || parent == nil {
			return r
		}
		r = parent
	}
	return r
}

func idOf(v any) int64 {
	id, _ := v.(int64)
	return id
}

// partnerCompleteName is res.partner._get_complete_name: a contact of a
// company, or a person with a company name, shows as "Company, Contact";
// an unnamed address as its type.
func partnerCompleteName(e *env, r record) string {
	name, _ := r["name"].(string)
	parent := e.get("res.partner", idOf(r["parent_id"]))
	companyName, _ := r["company_name"].(string)
	if parent == nil && companyName == "" {
		return strings.TrimSpace(name)
	}
	if name == "" && r["type"] != "contact" {
		name = selectionLabel(partnerTypes, r["type"])
	}
	if r["is_company"] != true {
		prefix := commercialCompanyName(e, r)
		if prefix == "" && parent != nil {
			prefix, _ = parent["name"].(string)
		}
		name = prefix + ", " + name
	}
	return strings.TrimSpace(name)
}

// commercialCompanyName is the name of the commercial partner when it is
// a company, else its company_name.
func commercialCompanyName(e *env, r record) string {
	c := commercialPartner(e, r)
	if c["is_company"] == true {
		s, _ := c["name"].(string)
		return s
	}
	s, _ := c["company_name"].(string)
	return s
}

func selectionLabel(sel [][2]string, v any) string {
	for _, opt := range sel {
		if v == any(opt[0]) {
			return opt[1]
		}
	}
	return ""
}

// partnerRule is the portal record rule: a portal user sees his
// commercial partner and its contacts.
func partnerRule(e *env, op string) func(record) bool {
	if !e.user.portal() {
		return nil
	}
	own := e.get("res.partner", e.user.partnerID)
	if own == nil {
		return func(record) bool { return false }
	}
	root := map[int64]bool{commercialPartner(e, own).id(): true, own.id(): true}
	return func(r record) bool { return inHierarchy(e, registry["res.partner"], r.id(), root, true) }
}

func partnerDefaults(e *env, r record) {
	setDefault(r, "active", true)
	setDefault(r, "type", "contact")
	setDefault(r, "lang", "en_US")
	setDefault(r, "is_company", false)
}

func setDefault(r record, name string, v any) {
	if _, ok := r[name]; !ok {
		r[name] = v
	}
}

// partnerConstrain is _check_parent_id.
func partnerConstrain(e *env, r record) *exception {
	for id, seen := idOf(r["parent_id"]), map[int64]bool{}; id != 0; id = parentOf(e, registry["res.partner"], id) {
		if id == r.id() || seen[id] {
			return newException(clsValidationError, "You cannot create recursive Partner hierarchies.", frResPartnerCheckParentID461)
		}
		seen[id] = true
	}
	return nil
}

// partnerCheckName is the SQL constraint res_partner_check_name: a
// partner of type contact must have a name.
func partnerCheckName(e *env, r record, insert bool) *integrityError {
	if r["type"] != "contact" || r["name"] != nil {
		return nil
	}
	return &integrityError{
		class: "psycopg2.errors.CheckViolation",
		pgMessage: `new row for relation "res_partner" violates check constraint "res_partner_check_name"` + "\n" +
			"DETAIL:  Failing row contains " + partnerRow(e, r, insert) + ".\n",
		validation: "The operation cannot be completed: Contacts require a name",
	}
}

// partnerColumns are the columns of Odoo 18's res_partner table, in table
// order, as the fixture 51 row shows them ("" for columns the double has
// no field for: always null).
var partnerColumns = []string{
	"id", "", "create_date", "name", "", "parent_id", "", "", "country_id", "",
	"#color", "commercial_partner_id", "create_uid", "write_uid", "complete_name", "ref", "lang", "", "vat", "company_registry",
	"website", "function", "type", "street", "street2", "zip", "city", "email", "phone", "mobile",
	"", "", "", "comment", "", "", "active", "", "is_company", "",
	"write_date", "#message_bounce", "", "", "", "", "",
}

// partnerRow renders a row as Postgres's DETAIL line does: values
// unquoted, "null" for NULL, booleans t/f, timestamps with microseconds.
// Computed columns are still null in an INSERT.
func partnerRow(e *env, r record, insert bool) string {
	parts := make([]string, len(partnerColumns))
	for i, col := range partnerColumns {
		parts[i] = rowValue(e, r, col, insert)
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

func rowValue(e *env, r record, col string, insert bool) string {
	switch {
	case col == "":
		return "null"
	case strings.HasPrefix(col, "#"):
		return "0"
	case col == "create_date" || col == "write_date":
		return e.now.Format("2006-01-02 15:04:05.999999")
	case registry["res.partner"].byName[col].computed:
		if insert {
			return "null"
		}
		m := registry["res.partner"]
		return pgText(m.rawValue(e, m.byName[col], r))
	}
	return pgText(r[col])
}

func pgText(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case bool:
		if x {
			return "t"
		}
		return "f"
	case string:
		if len(x) > 64 {
			return x[:64] + "..."
		}
		return x
	}
	return pyRepr(v)
}
