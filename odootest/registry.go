package odootest

// registry holds the models the double knows, by name. Calls on any other
// model answer UserError "Object ... doesn't exist", as Odoo does for a
// model that is not installed.
var registry map[string]*model

func init() {
	registry = map[string]*model{}
	for _, m := range []*model{
		partnerModel(), categoryModel(), countryModel(), currencyModel(), currencyRateModel(),
		configParameterModel(), usersModel(),
		describedModel("res.company", "Companies"), describedModel("mail.message", "Message"),
		describedModel("res.partner.bank", "Bank Accounts"), describedModel("res.groups", "Access Groups"),
	} {
		registry[m.name] = m
	}
}

// describedModel is a model the double knows only from Odoo's fields_get
// (see catalog.go): it exists, but holds no records.
func describedModel(name, description string) *model {
	return newModel(&model{name: name, description: description, describedOnly: true})
}

// Access lists shared by reference data: everyone reads, settings admins
// write.
var (
	readAll     = []string{groupInternal, groupPortal, groupPublic}
	settingsACL = map[string][]string{
		opRead: readAll, opWrite: {groupSettings}, opCreate: {groupSettings}, opUnlink: {groupSettings},
	}
)

// logFields are the fields Odoo adds to every model.
func logFields() []*field {
	return []*field{
		{name: "display_name", typ: tChar, label: "Display Name", readonly: true, computed: true},
		{name: "create_uid", typ: tMany2one, label: "Created by", relation: "res.users", readonly: true},
		{name: "create_date", typ: tDatetime, label: "Created on", readonly: true},
		{name: "write_uid", typ: tMany2one, label: "Last Updated by", relation: "res.users", readonly: true},
		{name: "write_date", typ: tDatetime, label: "Last Updated on", readonly: true},
	}
}

func withLog(fields ...*field) []*field {
	id := &field{name: "id", typ: tInteger, label: "ID", readonly: true}
	return append(append([]*field{id}, fields...), logFields()...)
}

// computeDisplayName serves models whose only computed field is
// display_name.
func computeDisplayName(e *env, f *field, r record) any {
	if f.name == "display_name" {
		return registry[f.model].display(e, r)
	}
	return nil
}

func categoryModel() *model {
	return newModel(&model{
		name: "res.partner.category", description: "Partner Tags", order: "name", parent: "parent_id",
		acl: map[string][]string{opRead: readAll, opWrite: {groupContactCreator},
			opCreate: {groupContactCreator}, opUnlink: {groupContactCreator}},
		fields: withLog(
			&field{name: "name", typ: tChar, label: "Tag Name", required: true},
			&field{name: "color", typ: tInteger, label: "Color"},
			&field{name: "parent_id", typ: tMany2one, label: "Parent Category", relation: "res.partner.category"},
			&field{name: "active", typ: tBoolean, label: "Active"},
		),
		compute:     computeDisplayName,
		displayName: categoryDisplayName,
		defaults:    func(e *env, r record) { setDefault(r, "active", true) },
		constrain:   categoryConstrain,
	})
}

// categoryDisplayName is "Parent / Child".
func categoryDisplayName(e *env, r record) string {
	name, _ := r["name"].(string)
	seen := map[int64]bool{r.id(): true}
	for parent := e.get("res.partner.category", idOf(r["parent_id"])); parent != nil && !seen[parent.id()]; parent = e.get("res.partner.category", idOf(parent["parent_id"])) {
		seen[parent.id()] = true
		parentName, _ := parent["name"].(string)
		name = parentName + " / " + name
	}
	return name
}

// categoryConstrain is res.partner.category's _check_parent_id.
func categoryConstrain(e *env, r record) *exception {
	m := registry["res.partner.category"]
	for id, seen := idOf(r["parent_id"]), map[int64]bool{}; id != 0; id = parentOf(e, m, id) {
		if id == r.id() || seen[id] {
			return newException(clsValidationError, "You can not create recursive tags.")
		}
		seen[id] = true
	}
	return nil
}

func countryModel() *model {
	return newModel(&model{
		name: "res.country", description: "Country", order: "name", acl: settingsACL,
		fields: withLog(
			&field{name: "name", typ: tChar, label: "Country Name", required: true},
			&field{name: "code", typ: tChar, label: "Country Code"},
		),
		compute: computeDisplayName,
	})
}

func currencyModel() *model {
	return newModel(&model{
		name: "res.currency", description: "Currency", order: "active desc, name", acl: settingsACL,
		fields: withLog(
			&field{name: "name", typ: tChar, label: "Currency", required: true},
			&field{name: "symbol", typ: tChar, label: "Symbol", required: true},
			&field{name: "active", typ: tBoolean, label: "Active"},
		),
		compute:  computeDisplayName,
		defaults: func(e *env, r record) { setDefault(r, "active", true) },
	})
}

func currencyRateModel() *model {
	return newModel(&model{
		name: "res.currency.rate", description: "Currency Rate", order: "name desc", acl: settingsACL,
		fields: withLog(
			&field{name: "name", typ: tDate, label: "Date", required: true},
			&field{name: "rate", typ: tFloat, label: "Technical Rate"},
			&field{name: "currency_id", typ: tMany2one, label: "Currency", relation: "res.currency", required: true},
		),
		compute: computeDisplayName,
		defaults: func(e *env, r record) {
			setDefault(r, "name", e.now.Format("2006-01-02"))
			setDefault(r, "rate", 1.0)
		},
	})
}

func configParameterModel() *model {
	all := []string{groupSettings}
	return newModel(&model{
		name: "ir.config_parameter", description: "System Parameter", order: "key",
		acl: map[string][]string{opRead: all, opWrite: all, opCreate: all, opUnlink: all},
		fields: withLog(
			&field{name: "key", typ: tChar, label: "Key", required: true},
			&field{name: "value", typ: tText, label: "Value", required: true},
		),
		compute: computeDisplayName,
		displayName: func(e *env, r record) string {
			s, _ := r["key"].(string)
			return s
		},
	})
}

// usersModel is res.users, readable only: the double's users are fixed
// (see user.go), so create, write and unlink are not modelled.
func usersModel() *model {
	return newModel(&model{
		name: "res.users", description: "User", order: "name, login",
		acl: map[string][]string{opRead: {groupInternal, groupPortal}, opWrite: {groupSettings},
			opCreate: {groupSettings}, opUnlink: {groupSettings}},
		fields: withLog(
			&field{name: "name", typ: tChar, label: "Name", computed: true},
			&field{name: "login", typ: tChar, label: "Login", required: true},
			&field{name: "partner_id", typ: tMany2one, label: "Related Partner", relation: "res.partner", required: true},
			&field{name: "active", typ: tBoolean, label: "Active"},
		),
		compute:     usersCompute,
		displayName: func(e *env, r record) string { return usersName(e, r) },
		rule: func(e *env, op string) func(record) bool {
			if !e.user.portal() {
				return nil
			}
			return func(r record) bool { return r.id() == e.uid }
		},
		readOnly: true,
	})
}

func usersCompute(e *env, f *field, r record) any {
	if f.name == "name" || f.name == "display_name" {
		return usersName(e, r)
	}
	return nil
}

// usersName is the name of the user's partner (res.users inherits it).
func usersName(e *env, r record) string {
	s, _ := e.get("res.partner", idOf(r["partner_id"]))["name"].(string)
	return s
}
