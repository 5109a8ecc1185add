package odootest

import "strings"

// registry holds the models the double knows, by name. Calls on any other
// model answer UserError "Object ... doesn't exist", as Odoo does for a
// model that is not installed.
var registry map[string]*model

func init() {
	registry = map[string]*model{}
	for _, m := range []*model{
		partnerModel(), categoryModel(), countryModel(), currencyModel(), currencyRateModel(),
		configParameterModel(), usersModel(),
		groupsModel(), bankModel(),
		describedModel("res.company", "Companies"), describedModel("mail.message", "Message"),
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
			&field{name: "child_ids", typ: tOne2many, label: "Child Tags", relation: "res.partner.category", inverse: "parent_id"},
			&field{name: "active", typ: tBoolean, label: "Active"},
			&field{name: "partner_ids", typ: tMany2many, label: "Partners", relation: "res.partner", inverse: "category_id"},
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

// usersModel is res.users, as far as keygate's scopes need it: login,
// password (write only), the partner it inherits its name from, active,
// groups. Creating a user without a partner creates one with its name;
// a user without groups gets the default template's.
func usersModel() *model {
	return newModel(&model{
		name: "res.users", description: "User", order: "name, login",
		acl: map[string][]string{opRead: {groupInternal, groupPortal}, opWrite: {groupSettings},
			opCreate: {groupSettings}, opUnlink: {groupSettings}},
		fields: withLog(
			&field{name: "partner_id", typ: tMany2one, label: "Related Partner", relation: "res.partner", required: true},
			&field{name: "login", typ: tChar, label: "Login", required: true},
			&field{name: "password", typ: tChar, label: "Password", computed: true, inverseWrite: setUserPassword},
			&field{name: "active", typ: tBoolean, label: "Active"},
			&field{name: "groups_id", typ: tMany2many, label: "Groups", relation: "res.groups"},
			&field{name: "share", typ: tBoolean, label: "Share User", readonly: true, computed: true},
			&field{name: "name", typ: tChar, label: "Name", computed: true, inverseWrite: setUserName},
		),
		compute:     usersCompute,
		displayName: func(e *env, r record) string { return usersName(e, r) },
		rule: func(e *env, op string) func(record) bool {
			if !e.user.portal() {
				return nil
			}
			return func(r record) bool { return r.id() == e.uid }
		},
		defaults: func(e *env, r record) {
			setDefault(r, "active", true)
			if _, ok := r["groups_id"]; !ok {
				template, _ := e.get("res.users", uidDefaultTemplate)["groups_id"].([]int64)
				r["groups_id"] = append([]int64{}, template...)
			}
		},
		prepareCreate: usersPrepareCreate,
		beforeUnlink:  usersBeforeUnlink,
		sqlCheck:      usersUniqueLogin,
	})
}

func usersCompute(e *env, f *field, r record) any {
	switch f.name {
	case "name", "display_name":
		return usersName(e, r)
	case "share":
		ids, _ := r["groups_id"].([]int64)
		for _, id := range ids {
			if id == gidInternal {
				return false
			}
		}
		return true
	case "password":
		return "" // _compute_password: never read back
	}
	return nil
}

// usersName is the name of the user's partner (res.users inherits it).
func usersName(e *env, r record) string {
	s, _ := e.get("res.partner", idOf(r["partner_id"]))["name"].(string)
	return s
}

// usersPrepareCreate is _inherits: a user created without partner_id
// creates its partner, named after it.
func usersPrepareCreate(e *env, vals Object) (Object, *exception) {
	if v, ok := vals.Get("partner_id"); ok && truthy(v) {
		return vals, nil
	}
	name, _ := vals.Get("name")
	ids, err := create(e, registry["res.partner"], []Object{{{"name", name}}}, false)
	if err != nil {
		return nil, err
	}
	return append(Object{}, vals...).set("partner_id", ids[0]), nil
}

// setUserName writes the name to the user's partner, as _inherits does.
func setUserName(e *env, r record, v any) *exception {
	return write(e, registry["res.partner"], []int64{idOf(r["partner_id"])}, Object{{"name", v}})
}

// setUserPassword keeps the password (Odoo keeps its hash); an empty one
// changes nothing, as Odoo's _set_password.
func setUserPassword(_ *env, r record, v any) *exception {
	if s, ok := v.(string); ok && s != "" {
		r[userPassword] = s
	}
	return nil
}

// usersBeforeUnlink is res.users' _unlink_except_superuser.
func usersBeforeUnlink(_ *env, ids []int64) *exception {
	for _, id := range ids {
		if id == 1 || id == UIDAdmin {
			return newException(clsUserError, "You cannot delete the admin user because it is utilized in "+
				"various places (such as security configurations,...). Instead, archive it.")
		}
	}
	return nil
}

// usersUniqueLogin is the SQL constraint res_users_login_key.
func usersUniqueLogin(e *env, r record, _ bool) *integrityError {
	t := e.table("res.users")
	for _, id := range t.ids() {
		if id != r.id() && t.rows[id]["login"] == r["login"] {
			login, _ := r["login"].(string)
			return &integrityError{
				class: "psycopg2.errors.UniqueViolation",
				pgMessage: `duplicate key value violates unique constraint "res_users_login_key"` + "\n" +
					"DETAIL:  Key (login)=(" + login + ") already exists.\n",
				validation: "You can not have two users with the same login!",
			}
		}
	}
	return nil
}

// groupsModel is res.groups: the groups the fixtures name, readable by
// internal users; users is the other side of res.users.groups_id.
func groupsModel() *model {
	return newModel(&model{
		name: "res.groups", description: "Access Groups", order: "name",
		acl: map[string][]string{opRead: {groupInternal, groupPortal, groupPublic}, opWrite: {groupSettings},
			opCreate: {groupSettings}, opUnlink: {groupSettings}},
		fields: withLog(
			&field{name: "name", typ: tChar, label: "Name", required: true},
			&field{name: "users", typ: tMany2many, label: "Users", relation: "res.users", inverse: "groups_id"},
		),
		compute: computeDisplayName,
	})
}

// bankModel is res.partner.bank, a partner's bank accounts (bank_ids):
// deleting the partner deletes them.
func bankModel() *model {
	return newModel(&model{
		name: "res.partner.bank", description: "Bank Accounts", order: "sequence, id",
		acl: map[string][]string{opRead: {groupInternal}, opWrite: {groupContactCreator},
			opCreate: {groupContactCreator}, opUnlink: {groupContactCreator}},
		fields: withLog(
			&field{name: "active", typ: tBoolean, label: "Active"},
			&field{name: "acc_number", typ: tChar, label: "Account Number", required: true},
			&field{name: "sanitized_acc_number", typ: tChar, label: "Sanitized Account Number", readonly: true, computed: true},
			&field{name: "acc_holder_name", typ: tChar, label: "Account Holder Name"},
			&field{name: "partner_id", typ: tMany2one, label: "Account Holder", relation: "res.partner", required: true, cascade: true},
			&field{name: "allow_out_payment", typ: tBoolean, label: "Send Money"},
			&field{name: "sequence", typ: tInteger, label: "Sequence"},
			&field{name: "currency_id", typ: tMany2one, label: "Currency", relation: "res.currency"},
		),
		compute: bankCompute,
		displayName: func(e *env, r record) string {
			s, _ := r["acc_number"].(string)
			return s
		},
		defaults: func(e *env, r record) {
			setDefault(r, "active", true)
			setDefault(r, "sequence", int64(10))
			setDefault(r, "allow_out_payment", false)
		},
	})
}

// bankCompute gives the sanitized account number: without spaces, upper
// case (sanitize_account_number).
func bankCompute(e *env, f *field, r record) any {
	if f.name == "sanitized_acc_number" {
		s, _ := r["acc_number"].(string)
		if s == "" {
			return nil
		}
		return strings.ToUpper(strings.Join(strings.Fields(s), ""))
	}
	return computeDisplayName(e, f, r)
}
