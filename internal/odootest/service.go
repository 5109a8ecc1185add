package odootest

import (
	"fmt"
	"strconv"
	"strings"
)

// dispatchRPC is odoo.http.dispatch_rpc: the common, db and object
// services, shared by JSON-RPC and XML-RPC. It records the call, and
// returns the result or the exception with its frames from dispatch_rpc
// down.
func (s *Server) dispatchRPC(c *Call, params []any) (res any, err *exception) {
	s.mu.Lock()
	defer s.mu.Unlock()
	defer func() {
		if p := recover(); p != nil { // a bug of the double: say so, keep serving
			res, err = nil, newException(clsException, fmt.Sprintf("odootest: internal error: %v", p))
		}
	}()
	describeCall(c, params)
	if c.Service == "object" && len(params) > 2 {
		c.Auth = s.credentialKind(c.UID, params[2])
	}
	s.record(*c)
	switch c.Service {
	case "common":
		res, err = s.common(c.Method, params)
	case "db":
		res, err = s.dbService(c.Method, params)
	case "object":
		res, err = s.object(c.Method, params)
	default:
		return nil, &exception{class: clsKeyError, args: []any{c.Service}, frames: []frame{frHttpDispatchRpc397}}
	}
	if err != nil {
		return nil, err.under(frHttpDispatchRpc398)
	}
	return res, nil
}

// describeCall fills the call's database, and for an object call its
// uid, model and model method, from the call's parameters.
func describeCall(c *Call, params []any) {
	str := func(i int) string {
		if i < len(params) {
			s, _ := params[i].(string)
			return s
		}
		return ""
	}
	c.DB = str(0)
	if c.Service != "object" || len(params) < 2 {
		return
	}
	c.UID, _ = asInt(params[1])
	c.Model, c.ModelMethod = str(3), str(4)
}

func (s *Server) versionInfo() Object {
	major, _ := strconv.Atoi(strings.SplitN(s.cfg.Version, ".", 2)[0])
	return Object{
		{"server_version", s.cfg.Version},
		{"server_version_info", []any{int64(major), int64(0), int64(0), "final", int64(0), ""}},
		{"server_serie", s.cfg.Version},
		{"protocol_version", int64(1)},
	}
}

// arity checks the number of parameters of an exp_* function whose
// parameters are names (the first required of them mandatory), raising
// Python's TypeError.
func arity(fn string, params []any, required int, names ...string) *exception {
	n := len(params)
	switch {
	case n < required:
		missing := make([]string, 0, required-n)
		for _, name := range names[n:required] {
			missing = append(missing, pyRepr(name))
		}
		return typeError(fn + "() missing " + strconv.Itoa(required-n) + " required positional argument" +
			plural(required-n) + ": " + pyJoinNames(missing))
	case n > len(names):
		takes := strconv.Itoa(len(names))
		if required != len(names) {
			takes = "from " + strconv.Itoa(required) + " to " + takes
		}
		return typeError(fn + "() takes " + takes + " positional argument" + plural(len(names)) + " but " +
			strconv.Itoa(n) + wasWere(n) + " given")
	}
	return nil
}

// common is odoo.service.common: version, login, authenticate (about
// is not modelled).
func (s *Server) common(method string, params []any) (any, *exception) {
	switch method {
	case "version":
		return s.versionInfo(), arity("exp_version", params, 0)
	case "about":
		return nil, notModelled("common.about")
	case "login":
		if err := arity("exp_login", params, 3, "db", "login", "password"); err != nil {
			return nil, err
		}
		return s.authenticate(params[0], params[1], params[2])
	case "authenticate":
		if err := arity("exp_authenticate", params, 4, "db", "login", "password", "user_agent_env"); err != nil {
			return nil, err
		}
		return s.authenticate(params[0], params[1], params[2])
	}
	return nil, newException(clsException, "Method not found: "+method, frCommonDispatch60)
}

// authenticate answers the user's uid, or false for a wrong login,
// password or key: never an error, except for a database that does not
// exist.
func (s *Server) authenticate(db, login, password any) (any, *exception) {
	if err := s.checkDatabase(db); err != nil {
		return nil, err
	}
	for _, u := range s.db.allUsers() {
		if u.active && u.login == login && u.checkPassword(password) {
			return u.id, nil
		}
	}
	return false, nil
}

// checkDatabase fails as psycopg2 does for a database the double does not
// serve.
func (s *Server) checkDatabase(db any) *exception {
	if name, ok := db.(string); ok && name == s.cfg.Database {
		return nil
	}
	name, _ := db.(string)
	return newException(clsOperationalErr, `connection to server on socket "/var/run/postgresql/.s.PGSQL.5432" failed: `+
		`FATAL:  database "`+name+`" does not exist`+"\n")
}

// privilegedDBMethods need the master password, which the double never
// accepts.
var privilegedDBMethods = map[string]bool{
	"create_database": true, "duplicate_database": true, "drop": true, "dump": true, "restore": true,
	"rename": true, "change_admin_password": true, "migrate_databases": true,
}

// dbService is odoo.service.db, as far as it is harmless.
func (s *Server) dbService(method string, params []any) (any, *exception) {
	switch {
	case method == "list":
		return stringsToList(s.cfg.Databases), arity("exp_list", params, 0, "document")
	case method == "server_version":
		return s.cfg.Version, arity("exp_server_version", params, 0)
	case method == "db_exist":
		if err := arity("exp_db_exist", params, 1, "db_name"); err != nil {
			return nil, err
		}
		return params[0] == any(s.cfg.Database), nil
	case method == "list_lang" || method == "list_countries":
		return nil, notModelled("db." + method)
	case privilegedDBMethods[method]:
		return nil, accessDenied()
	}
	return nil, &exception{class: clsKeyError, args: []any{"Method not found: " + method}}
}

func stringsToList(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}
