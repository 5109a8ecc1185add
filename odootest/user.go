package odootest

// The API keys of the fixtures (see testdata/odoo/README.md). Each stands
// for a 40-character key of the admin user.
const (
	// KeyGlobal is admin's valid RPC key: no scope, no expiry.
	KeyGlobal = "ODOO_API_KEY_GLOBAL"
	// KeyExpired expired on 2020-01-01: authenticate answers false,
	// execute_kw AccessDenied.
	KeyExpired = "ODOO_API_KEY_EXPIRED"
	// KeyScoped is scoped to something other than RPC: Odoo treats it
	// as an unknown key.
	KeyScoped = "ODOO_API_KEY_SCOPED"
)

// The users of the 18.0 demo database the fixtures were recorded on.
const (
	UIDAdmin  = 2
	UIDDemo   = 6
	UIDPortal = 7
)

// Group full names, as access error messages print them.
const (
	groupSettings       = "Administration/Settings"
	groupContactCreator = "Extra Rights/Contact Creation"
	groupInternal       = "User types/Internal User"
	groupPortal         = "User types/Portal"
	groupPublic         = "User types/Public"
)

// user is a res.users record: who may log in, with what, and which
// groups grant it access.
type user struct {
	id        int64
	login     string
	password  string
	name      string
	partnerID int64
	active    bool
	groups    []string
	// rpcKeys are the user's API keys valid for RPC. Admin's expired
	// and non-RPC keys (KeyExpired, KeyScoped) are refused like unknown
	// keys, so they are not listed.
	rpcKeys []string
}

func (u *user) inGroup(groups []string) bool {
	for _, g := range groups {
		for _, h := range u.groups {
			if g == h {
				return true
			}
		}
	}
	return false
}

func (u *user) portal() bool { return u.inGroup([]string{groupPortal}) }

// checkPassword is _check_credentials: the password or an RPC API key of
// the user. Odoo refuses an empty password before anything else.
func (u *user) checkPassword(password any) bool {
	pw, ok := password.(string)
	if !ok || pw == "" {
		return false
	}
	if pw == u.password {
		return true
	}
	for _, k := range u.rpcKeys {
		if pw == k {
			return true
		}
	}
	return false
}

// seedUsers returns the users of the 18.0 demo database: uid 1 is
// OdooBot (__system__), 3 to 5 are the public user and the two templates,
// all archived; partner ids follow the README (admin's partner is 3, the
// portal user's 8).
func seedUsers() []*user {
	internal := []string{groupInternal, groupContactCreator}
	return []*user{
		{id: 1, login: "__system__", name: "OdooBot", partnerID: 2, groups: []string{groupInternal, groupSettings, groupContactCreator}},
		{id: 2, login: "admin", password: "admin", name: "Mitchell Admin", partnerID: 3, active: true,
			groups: []string{groupInternal, groupSettings, groupContactCreator}, rpcKeys: []string{KeyGlobal}},
		{id: 3, login: "public", name: "Public user", partnerID: 4, groups: []string{groupPublic}},
		{id: 4, login: "default", name: "Default User Template", partnerID: 5, groups: internal},
		{id: 5, login: "portaltemplate", name: "Portal User Template", partnerID: 6, groups: []string{groupPortal}},
		{id: 6, login: "demo", password: "demo", name: "Marc Demo", partnerID: 7, active: true, groups: internal},
		{id: 7, login: "portal", password: "portal", name: "Joel Willis", partnerID: 8, active: true, groups: []string{groupPortal}},
	}
}
