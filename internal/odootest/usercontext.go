package odootest

import "time"

// KeyDemo is the demo user's RPC key, on 19.0 only (the 19.0 fixtures
// use it for JSON-2's AccessError; Odoo requires an expiry date on a
// non-admin user's key, this one has not expired).
const KeyDemo = "ODOO_API_KEY_DEMO"

// newVersionDatabase is the pristine database of the configured version:
// 18.0's data, plus on 19.0 the demo user's key and the group names that
// 19.0's messages print.
func newVersionDatabase(version string, now func() time.Time) *database {
	db := newDatabase(now)
	if version == "19.0" {
		db.apiKeys[UIDDemo] = append(db.apiKeys[UIDDemo], KeyDemo)
		db.groupLabels = map[string]string{groupSettings: "Role / Administrator"}
	}
	return db
}

// groupLabel is the name an access error prints for a group.
func (db *database) groupLabel(g string) string {
	if l, ok := db.groupLabels[g]; ok {
		return l
	}
	return g
}

// userContext is res.users.context_get: the demo database's users all
// have lang en_US and the time zone Europe/Brussels (recorded for admin
// and demo, 18.0 and 19.0).
func userContext(uid int64) Object {
	return Object{{"lang", "en_US"}, {"tz", "Europe/Brussels"}, {"uid", uid}}
}

// modelMethods are the methods that exist on one model only; every other
// method of methods exists on every model.
var modelMethods = map[string]string{"context_get": "res.users"}

// methodOnModel reports whether the named method exists on m.
func methodOnModel(m *model, name string) bool {
	only, ok := modelMethods[name]
	return !ok || only == m.name
}

// This file sorts after methods.go, whose init makes the methods map.
func init() {
	methods["context_get"] = &method{run: func(c *call) (any, *exception) {
		if !methodOnModel(c.m, c.name) {
			return nil, newException(clsAttributeError, "The method '"+c.name+"' does not exist on the model '"+c.m.name+"'")
		}
		return userContext(c.e.uid), nil
	}}
}

// credentialKind names the credential of an object call: the user's
// password, one of its RPC keys, or "" when neither is right.
func (s *Server) credentialKind(uid int64, password any) string {
	u := s.db.user(uid)
	pw, _ := password.(string)
	if u == nil || !u.active || pw == "" {
		return ""
	}
	if pw == u.password {
		return "password"
	}
	for _, k := range u.rpcKeys {
		if pw == k {
			return "apikey"
		}
	}
	return ""
}
