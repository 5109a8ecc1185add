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

// user is what the double needs of a res.users record to authenticate a
// call and check its access: who may log in, with what, and which groups
// grant it access. It is read from the res.users table (database.user).
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

// The res.groups records of the 18.0 demo database that the fixtures name
// (18.0/metadata/02 lists them as the virtual group fields of res.users),
// with the full names access errors print for those the ACLs use.
const (
	gidInternal       = 1
	gidAccessRights   = 2
	gidSettings       = 4
	gidTechnical      = 7
	gidExport         = 8
	gidContactCreator = 9
	gidPortal         = 10
	gidPublic         = 11
)

var seedGroups = []struct {
	id   int64
	name string
	full string // full_name, for the groups ACLs name
}{
	{gidInternal, "Internal User", groupInternal},
	{gidAccessRights, "Access Rights", ""},
	{3, "Bypass HTML Field Sanitize", ""},
	{gidSettings, "Settings", groupSettings},
	{5, "Multi Companies", ""},
	{6, "Multi Currencies", ""},
	{gidTechnical, "Technical Features", ""},
	{gidExport, "Access to export feature", ""},
	{gidContactCreator, "Contact Creation", groupContactCreator},
	{gidPortal, "Portal", groupPortal},
	{gidPublic, "Public", groupPublic},
	{12, "Canned Response Administrator", ""},
	{13, "Mail Template Editor", ""},
	{14, "Receive notifications in Odoo", ""},
}

// uidDefaultTemplate is the user whose groups a new user gets when it is
// created without groups: fixture 18.0/relations/22 shows them (8, 9, 1
// and 7).
const uidDefaultTemplate = 4

// seedUser is one user of the 18.0 demo database: uid 1 is OdooBot
// (__system__), 3 to 5 are the public user and the two templates, all
// archived; partner ids follow the README (admin's partner is 3, the
// portal user's 8). The groups beyond those the fixtures show are the
// double's choice: admin and OdooBot are settings admins, demo an
// internal user who may create contacts.
type seedUser struct {
	id        int64
	login     string
	password  string
	partnerID int64
	active    bool
	groups    []int64
	rpcKeys   []string
}

var seedUsers = []seedUser{
	{id: 1, login: "__system__", partnerID: 2, groups: []int64{1, 2, 4, 7, 8, 9}},
	{id: 2, login: "admin", password: "admin", partnerID: 3, active: true,
		groups: []int64{1, 2, 4, 7, 8, 9}, rpcKeys: []string{KeyGlobal}},
	{id: 3, login: "public", partnerID: 4, groups: []int64{gidPublic}},
	{id: uidDefaultTemplate, login: "default", partnerID: 5, groups: []int64{1, 7, 8, 9}},
	{id: 5, login: "portaltemplate", partnerID: 6, groups: []int64{gidPortal}},
	{id: 6, login: "demo", password: "demo", partnerID: 7, active: true, groups: []int64{gidInternal, gidContactCreator}},
	{id: 7, login: "portal", password: "portal", partnerID: 8, active: true, groups: []int64{gidPortal}},
}

// user returns the user of uid as res.users holds it now, or nil.
func (db *database) user(uid int64) *user {
	r := db.tables["res.users"].rows[uid]
	if r == nil {
		return nil
	}
	u := &user{id: uid, active: r["active"] == true, partnerID: idOf(r["partner_id"]), rpcKeys: db.apiKeys[uid]}
	u.login, _ = r["login"].(string)
	u.password, _ = r[userPassword].(string)
	if p := db.tables["res.partner"].rows[u.partnerID]; p != nil {
		u.name, _ = p["name"].(string)
	}
	groups := db.tables["res.groups"].rows
	ids, _ := r["groups_id"].([]int64)
	for _, gid := range ids {
		if full, _ := groups[gid][groupFullName].(string); full != "" {
			u.groups = append(u.groups, full)
		}
	}
	return u
}

// users returns every user, by id.
func (db *database) allUsers() []*user {
	t := db.tables["res.users"]
	out := make([]*user, 0, len(t.rows))
	for _, id := range t.ids() {
		out = append(out, db.user(id))
	}
	return out
}

// Keys of res.users and res.groups rows that are no field: what the
// double keeps of a password (Odoo keeps a hash), and a group's full name.
const (
	userPassword  = "_password"
	groupFullName = "_full_name"
)
