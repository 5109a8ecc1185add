package odootest

// methods are the public model methods the double serves, with their
// Odoo 18 signatures. Any other name is a method that does not exist
// (AttributeError), except those of notModelledMethods.
var methods map[string]*method

func init() {
	methods = map[string]*method{
		"search":            {params: []param{req("domain"), opt("offset", int64(0)), opt("limit", nil), opt("order", nil)}, run: runSearch},
		"search_count":      {params: []param{req("domain"), opt("limit", nil)}, run: runSearchCount},
		"search_read":       {params: []param{opt("domain", nil), opt("fields", nil), opt("offset", int64(0)), opt("limit", nil), opt("order", nil)}, varKw: true, run: runSearchRead},
		"read":              {record: true, params: []param{opt("fields", nil), opt("load", "_classic_read")}, run: runRead},
		"create":            {params: []param{req("vals_list")}, run: runCreate},
		"write":             {record: true, params: []param{req("vals")}, run: runWrite},
		"unlink":            {record: true, run: runUnlink},
		"fields_get":        {params: []param{opt("allfields", nil), opt("attributes", nil)}, run: runFieldsGet},
		"name_search":       {params: []param{opt("name", ""), opt("args", nil), opt("operator", "ilike"), opt("limit", int64(100))}, run: runNameSearch},
		"web_search_read":   {params: []param{req("domain"), req("specification"), opt("offset", int64(0)), opt("limit", nil), opt("order", nil), opt("count_limit", nil)}, run: runWebSearchRead},
		"check_access":      {record: true, params: []param{req("operation")}, run: runCheckAccess},
		"check_access_rule": {record: true, params: []param{req("operation")}, run: runCheckAccess},
		"action_archive":    {record: true, run: runSetActive(false)},
		"action_unarchive":  {record: true, run: runSetActive(true)},
		"export_data":       {record: true, params: []param{req("fields_to_export")}, run: runExportData},
		"read_group":        {params: []param{req("domain"), req("fields"), req("groupby"), opt("offset", int64(0)), opt("limit", nil), opt("orderby", false), opt("lazy", true)}, run: runReadGroup},
	}
}

// methods19 are the methods whose signature changed in Odoo 19.0.
var methods19 = map[string]*method{
	"name_search": {params: []param{opt("name", ""), opt("domain", nil), opt("operator", "ilike"), opt("limit", int64(100))}, run: runNameSearch},
}

// methodOf returns the method name of the env's Odoo version, or nil.
func methodOf(e *env, name string) *method {
	if m := methods19[name]; m != nil && e.version == "19.0" {
		return m
	}
	return methods[name]
}

// notModelledMethods exist in Odoo 18 but not in the double: calling
// one says so (NotImplementedError) rather than pretend it does not
// exist. (search_fetch and exists return recordsets, which Odoo cannot
// send over RPC either.)
var notModelledMethods = map[string]bool{
	"web_read_group": true, "load": true, "onchange": true,
	"get_metadata": true, "read_progress_bar": true, "message_post": true, "search_fetch": true,
	"exists": true, "copy": true, "name_create": true, "web_read": true, "default_get": true,
	"check_access_rights": true, "toggle_active": true,
}

// writeMethods change data: the dispatcher runs them in a transaction.
var writeMethods = map[string]bool{
	"create": true, "write": true, "unlink": true,
	"action_archive": true, "action_unarchive": true,
}
