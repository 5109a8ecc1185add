package odootest

import (
	"crypto/rand"
	"embed"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
)

// The web client's session API (addons/web/controllers): JSON-RPC
// envelopes whose params are named, a session in the session_id cookie.

// sessionMaxAge is Odoo's session inactivity limit, the cookie's Max-Age
// (7 days); its Expires is a year after the request.
const sessionMaxAge = 604800

// webSession is one session the double handed out: anonymous (uid 0) or
// logged in.
type webSession struct {
	uid int64
	db  string
}

// webSessions are the live sessions, by id.
type webSessions struct {
	mu sync.Mutex
	m  map[string]webSession
}

// newSessionID is Odoo's: 63 random bytes in URL-safe base64, 84
// characters.
func newSessionID() string {
	b := make([]byte, 63)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return base64.URLEncoding.EncodeToString(b)
}

func (ws *webSessions) create(uid int64, db string) string {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	if ws.m == nil {
		ws.m = map[string]webSession{}
	}
	id := newSessionID()
	ws.m[id] = webSession{uid: uid, db: db}
	return id
}

func (ws *webSessions) get(id string) (webSession, bool) {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	sess, ok := ws.m[id]
	return sess, ok
}

func (ws *webSessions) drop(id string) {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	delete(ws.m, id)
}

func (ws *webSessions) reset() {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	ws.m = nil
}

// webRoutes are the session API's routes; call_kw also takes any
// /<model>/<method> suffix, which Odoo ignores.
var webRoutes = map[string]string{
	"/web/webclient/version_info":   "version_info",
	"/web/session/authenticate":     "authenticate",
	"/web/session/get_session_info": "get_session_info",
	"/web/session/destroy":          "destroy",
	"/web/dataset/call_kw":          "call_kw",
}

// webRoute names the route of a path, or "".
func webRoute(path string) string {
	if strings.HasPrefix(path, "/web/dataset/call_kw/") {
		return "call_kw"
	}
	return webRoutes[path]
}

// Frames of the web routes (18.0/web): the transport above the
// controller, the controllers, and the user check of auth='user' routes.
var (
	frSessionAuthenticate36      = frame{pkgAddons + "web/controllers/session.py", 36, "authenticate", `raise AccessError("Database not found.")`, ""}
	frSessionAuthenticate38      = frame{pkgAddons + "web/controllers/session.py", 38, "authenticate", `auth_info = request.session.authenticate(db, credential)`, `            ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^`}
	frHttpAuthenticate1043       = frame{pkgOdoo + "http.py", 1043, "authenticate", `auth_info = registry['res.users'].authenticate(dbname, credential, wsgienv)`, `            ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^`}
	frSignupAuthenticate122      = frame{pkgAddons + "auth_signup/models/res_users.py", 122, "authenticate", `auth_info = super().authenticate(db, credential, user_agent_env)`, `            ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^`}
	frUsersAuthenticate963       = frame{pkgOdoo + "addons/base/models/res_users.py", 963, "authenticate", `auth_info = cls._login(db, credential, user_agent_env=user_agent_env)`, `            ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^`}
	frUsersLogin933              = frame{pkgOdoo + "addons/base/models/res_users.py", 933, "_login", `auth_info = user._check_credentials(credential, user_agent_env)`, `            ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^`}
	frUsersCheckCreds2268        = frame{pkgOdoo + "addons/base/models/res_users.py", 2268, "_check_credentials", `return super()._check_credentials(credential, user_agent_env)`, `       ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^`}
	frUsersCheckCreds498         = frame{pkgOdoo + "addons/base/models/res_users.py", 498, "_check_credentials", `raise AccessDenied()`, ""}
	frDatasetCallKw35            = frame{pkgAddons + "web/controllers/dataset.py", 35, "call_kw", `return call_kw(request.env[model], method, args, kwargs)`, `       ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^`}
	frModelsWrite4753            = frame{pkgOdoo + "models.py", 4753, "write", `real_recs._validate_fields(vals, inverse_fields)`, ""}
	frModelsValidateFields1599   = frame{pkgOdoo + "models.py", 1599, "_validate_fields", `check(self)`, ""}
	frResPartnerCheckParentID461 = frame{pkgOdoo + "addons/base/models/res_partner.py", 461, "_check_parent_id", `raise ValidationError(_('You cannot create recursive Partner hierarchies.'))`, ""}
	frHttpServeIrHttp1919        = frame{pkgOdoo + "http.py", 1919, "_serve_ir_http", `self.registry['ir.http']._authenticate(rule.endpoint)`, ""}
	frIrHttpAuthenticate259      = frame{pkgOdoo + "addons/base/models/ir_http.py", 259, "_authenticate", `cls._authenticate_explicit(auth)`, ""}
	frIrHttpAuthExplicit268      = frame{pkgOdoo + "addons/base/models/ir_http.py", 268, "_authenticate_explicit", `getattr(cls, f'_auth_method_{auth}')()`, ""}
	frIrHttpAuthMethodUser244    = frame{pkgOdoo + "addons/base/models/ir_http.py", 244, "_auth_method_user", `raise http.SessionExpiredException("Session expired")`, ""}
)

// webEntry are the frames above a web controller: the JSON-RPC
// transport's, down to route_wrapper.
var webEntry = jsonrpcEntry[:6]

const clsSessionExpired = "odoo.http.SessionExpiredException"

// sessionExpired is raised by auth='user' routes without a logged-in
// session, before the controller runs.
func sessionExpired() *exception {
	return &exception{class: clsSessionExpired, args: []any{"Session expired"},
		entry: []frame{jsonrpcEntry[0], jsonrpcEntry[1], frHttpServeIrHttp1919, frIrHttpAuthenticate259,
			frIrHttpAuthExplicit268, frIrHttpAuthMethodUser244}}
}

// webRequest is one JSON-RPC request to a web route.
type webRequest struct {
	w      http.ResponseWriter
	r      *http.Request
	route  string
	id     any
	params Object
	sid    string     // the session_id cookie, if any
	sess   webSession // the session it names, if live
	live   bool
}

// serveWeb serves the session API's routes; it reports false for a path
// that is not one of them.
func (s *Server) serveWeb(w http.ResponseWriter, r *http.Request, path string) bool {
	route := webRoute(path)
	if route == "" {
		return false
	}
	req, ok := readJSONRPC(w, r)
	if !ok {
		return true
	}
	wr := &webRequest{w: w, r: r, route: route}
	wr.id, _ = req.Get("id")
	pv, _ := req.Get("params")
	wr.params, _ = pv.(Object)
	if c, err := r.Cookie("session_id"); err == nil {
		wr.sid = c.Value
		wr.sess, wr.live = s.web.get(c.Value)
	}
	call := Call{Protocol: "web", Path: r.URL.Path, Service: "web", Method: route}
	if route != "version_info" && route != "authenticate" {
		if !wr.live || wr.sess.uid == 0 {
			s.record(call)
			s.writeSessionExpired(w)
			return true
		}
		call.DB, call.UID, call.Auth = wr.sess.db, wr.sess.uid, "session"
	}
	switch route {
	case "version_info":
		s.record(call)
		if !wr.live {
			s.setSessionCookie(w, s.web.create(0, ""), 1)
		}
		s.writeJSONRPC(w, wr.id, s.versionInfo(), nil)
	case "authenticate":
		s.webAuthenticate(wr, call)
	case "get_session_info":
		s.record(call)
		s.mu.Lock()
		info, exc := s.sessionInfo(wr.sess.uid, wr.sess.db)
		s.mu.Unlock()
		if exc == nil {
			s.setSessionCookie(w, wr.sid, 1)
		}
		s.writeWebResult(wr, info, exc)
	case "call_kw":
		s.webCallKW(wr, call)
	case "destroy":
		s.record(call)
		s.web.drop(wr.sid)
		w.Header().Add("Set-Cookie", "cids=; Expires="+s.cookieExpires()+"; Max-Age=0; Path=/")
		s.setSessionCookie(w, s.web.create(0, ""), 1)
		s.writeJSONRPC(w, wr.id, nil, nil)
	}
	return true
}

// readJSONRPC reads a JSON-RPC request as Odoo's type='json' routes do,
// answering the transport errors itself.
func readJSONRPC(w http.ResponseWriter, r *http.Request) (Object, bool) {
	if r.Method != http.MethodPost || !isJSONRequest(r) {
		writeHTML(w, http.StatusBadRequest, false, inferredTypePage(routePath(r.URL.Path)))
		return nil, false
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, false
	}
	v, err := decodeJSON(body)
	if err != nil {
		writeHTML(w, http.StatusBadRequest, true, "Invalid JSON data")
		return nil, false
	}
	req, ok := v.(Object)
	if !ok {
		writeHTML(w, http.StatusBadRequest, true, "Invalid JSON-RPC data")
		return nil, false
	}
	return req, true
}

func (s *Server) cookieExpires() string {
	return s.cfg.Now().UTC().AddDate(1, 0, 0).Format(http.TimeFormat)
}

// setSessionCookie sets the session cookie as Odoo does, n times (19.0's
// authenticate sends it twice).
func (s *Server) setSessionCookie(w http.ResponseWriter, id string, n int) {
	v := "session_id=" + id + "; Expires=" + s.cookieExpires() + "; Max-Age=" + strconv.Itoa(sessionMaxAge) + "; HttpOnly; Path=/"
	for range n {
		w.Header().Add("Set-Cookie", v)
	}
}

// writeSessionExpired is Odoo's answer to a route that needs a user
// without one: error code 100, and id null (the request was not read).
func (s *Server) writeSessionExpired(w http.ResponseWriter) {
	exc := s.webException(sessionExpired())
	resp := Object{{"jsonrpc", "2.0"}, {"id", nil}, {"error", s.jsonError(exc)}}
	errObj := resp[2].Value.(Object)
	errObj[0].Value, errObj[1].Value = int64(100), "Odoo Session Expired"
	body, _ := marshalPython(resp) // the double's own values always encode
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	_, _ = w.Write(body)
}

// webException prepares an exception for a web route's envelope: on 19.0,
// whose frames the double does not hold, the traceback is abridged to its
// last line.
func (s *Server) webException(exc *exception) *exception {
	if s.cfg.Version == "19.0" {
		return &exception{class: exc.class, args: exc.args, entry: []frame{}}
	}
	return exc
}

func (s *Server) writeWebResult(wr *webRequest, res any, exc *exception) {
	if exc != nil {
		exc = s.webException(exc)
	}
	s.writeJSONRPC(wr.w, wr.id, res, exc)
}

// webParams binds a controller's named parameters: the required ones
// must be there (Python's TypeError otherwise), unknown ones are dropped
// as route_wrapper drops them.
func webParams(qual string, params Object, required ...string) (map[string]any, *exception) {
	out := map[string]any{}
	var missing []string
	for _, name := range required {
		v, ok := params.Get(name)
		if !ok {
			missing = append(missing, pyRepr(name))
		}
		out[name] = v
	}
	if len(missing) > 0 {
		err := typeError(qual + "() missing " + strconv.Itoa(len(missing)) + " required positional argument" +
			plural(len(missing)) + ": " + pyJoinNames(missing))
		err.entry = webEntry
		return nil, err
	}
	return out, nil
}

// webAuthenticate is /web/session/authenticate: a database the server
// serves, then the login's password (never an API key: an interactive
// login refuses them). A success replaces the session with a new one and
// answers the session info.
func (s *Server) webAuthenticate(wr *webRequest, call Call) {
	p, exc := webParams("Session.authenticate", wr.params, "db", "login", "password")
	if exc != nil {
		s.record(call)
		s.writeWebResult(wr, nil, exc)
		return
	}
	call.DB, _ = p["db"].(string)
	if call.DB != s.cfg.Database {
		s.record(call)
		exc := newException(clsAccessError, "Database not found.")
		exc.entry = append(append([]frame{}, webEntry...), frSessionAuthenticate36)
		s.writeWebResult(wr, nil, exc)
		return
	}
	s.mu.Lock()
	var u *user
	for _, c := range s.db.allUsers() {
		if pw, ok := p["password"].(string); ok && pw != "" && c.active && c.login == p["login"] && c.password == pw {
			u = c
		}
	}
	if u == nil {
		s.mu.Unlock()
		s.record(call)
		exc := accessDenied(frSessionAuthenticate38, frHttpAuthenticate1043, frSignupAuthenticate122,
			frUsersAuthenticate963, frUsersLogin933, frUsersCheckCreds2268, frUsersCheckCreds498)
		exc.entry = webEntry
		s.writeWebResult(wr, nil, exc)
		return
	}
	call.UID, call.Auth = u.id, "password"
	if u.inGroup([]string{groupSettings}) { // res.users.authenticate sets the base URL for system users
		s.setBaseURL(wr.r)
	}
	info, exc := s.sessionInfo(u.id, call.DB)
	s.mu.Unlock()
	s.record(call)
	if exc == nil {
		if wr.live {
			s.web.drop(wr.sid) // the session is rotated: the old id dies
		}
		n := 1
		if s.cfg.Version == "19.0" {
			n = 2
		}
		s.setSessionCookie(wr.w, s.web.create(u.id, call.DB), n)
	}
	s.writeWebResult(wr, info, exc)
}

// setBaseURL sets web.base.url to the request's root URL, as Odoo does
// when a system user logs in through the web (base_location).
func (s *Server) setBaseURL(r *http.Request) {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	for _, rec := range s.db.table("ir.config_parameter").rows {
		if rec["key"] == "web.base.url" {
			rec["value"] = scheme + "://" + r.Host
		}
	}
}

// webCallKW is /web/dataset/call_kw[/<path>]: model and method come from
// params (the path is ignored), run as the session's user with
// execute_kw's results and errors.
func (s *Server) webCallKW(wr *webRequest, call Call) {
	p, exc := webParams("DataSet.call_kw", wr.params, "model", "method", "args", "kwargs")
	if exc != nil {
		s.record(call)
		s.writeWebResult(wr, nil, exc)
		return
	}
	call.Model, _ = p["model"].(string)
	call.ModelMethod, _ = p["method"].(string)
	s.mu.Lock()
	s.record(call)
	res, exc := s.webExecute(wr.sess.uid, p)
	s.mu.Unlock()
	if exc != nil {
		exc.entry = append(append([]frame{}, webEntry...), frDatasetCallKw35)
	}
	s.writeWebResult(wr, res, exc)
}

// webExecute runs one call_kw, in a transaction, as uid.
func (s *Server) webExecute(uid int64, p map[string]any) (res any, exc *exception) {
	defer func() {
		if p := recover(); p != nil { // a bug of the double: say so, keep serving
			res, exc = nil, newException(clsException, fmt.Sprintf("odootest: internal error: %v", p))
		}
	}()
	u := s.db.user(uid)
	if u == nil || !u.active {
		return nil, sessionExpired()
	}
	modelName, _ := p["model"].(string)
	m := registry[modelName]
	if m == nil {
		return nil, &exception{class: clsKeyError, args: []any{p["model"]}}
	}
	name, ok := p["method"].(string)
	if !ok {
		return nil, typeError("attribute name must be string, not " + pyRepr(pyTypeName(p["method"])))
	}
	if strings.HasPrefix(name, "_") || name == "init" {
		return nil, newException(clsAccessError, "Private methods (such as "+name+") cannot be called remotely.")
	}
	args, ok := asList(p["args"])
	if !ok {
		return nil, typeError("odoo.api.call_kw() argument after * must be an iterable, not " + pyTypeName(p["args"]))
	}
	var kw Object
	if truthy(p["kwargs"]) {
		if kw, ok = p["kwargs"].(Object); !ok {
			return nil, typeError("odoo.api.call_kw() argument after ** must be a mapping, not " + pyTypeName(p["kwargs"]))
		}
	}
	e := &env{db: s.db, uid: uid, user: u, activeTest: true, now: s.cfg.Now().UTC()}
	res, exc = s.transaction(e, m, name, args, kw)
	if exc != nil && exc.integrity != nil {
		exc = retrying(exc)
	}
	return res, exc
}

//go:embed sessioninfo/*.json
var sessionInfoFiles embed.FS

// sessionInfo is ir.http.session_info for uid: the session info Odoo
// answered for that login (sessioninfo/<version>-<login>.json, recorded
// for admin and demo; the web client's settings and caches as recorded),
// with what the double's database says of the user: ids, names, the
// partner's write_date, the database, web.base.url.
func (s *Server) sessionInfo(uid int64, db string) (Object, *exception) {
	u := s.db.user(uid)
	if u == nil {
		return nil, sessionExpired()
	}
	data, err := sessionInfoFiles.ReadFile("sessioninfo/" + s.cfg.Version + "-" + u.login + ".json")
	if err != nil {
		return nil, notModelled("the session info of " + u.login)
	}
	v, err := decodeJSON(data)
	if err != nil {
		return nil, notModelled("the session info of " + u.login + ": " + err.Error())
	}
	info := v.(Object)
	e := &env{db: s.db, uid: uid, user: u, now: s.cfg.Now().UTC()}
	recUID, _ := info.Get("uid")
	recPartner, _ := info.Get("partner_id")
	personalize(e, info, db)
	store, _ := info.Get("storeData")
	personalizeStore(e, store.(Object), recUID, recPartner)
	return info, nil
}

// personalize sets the session info's keys that say who the user is.
func personalize(e *env, info Object, db string) {
	u, partner := e.user, e.get("res.partner", e.user.partnerID)
	for _, kv := range []struct {
		path []string
		v    any
	}{
		{[]string{"uid"}, u.id},
		{[]string{"user_context", "uid"}, u.id},
		{[]string{"db"}, db},
		{[]string{"user_settings", "user_id", "id"}, u.id},
		{[]string{"name"}, partner["name"]},
		{[]string{"username"}, u.login},
		{[]string{"partner_write_date"}, partner["write_date"]},
		{[]string{"partner_display_name"}, partnerCompleteName(e, partner)},
		{[]string{"partner_id"}, u.partnerID},
		{[]string{"web.base.url"}, configParam(e, "web.base.url")},
		{[]string{"storeData", "Store", "self", "id"}, u.partnerID},
		{[]string{"storeData", "Store", "self_partner"}, u.partnerID},
		{[]string{"storeData", "Store", "settings", "user_id", "id"}, u.id},
	} {
		setIn(info, kv.v, kv.path...)
	}
}

// personalizeStore sets the Discuss store's records of the user (recorded
// as recUID and recPartner) and OdooBot's partner (2).
func personalizeStore(e *env, store Object, recUID, recPartner any) {
	u, partner, bot := e.user, e.get("res.partner", e.user.partnerID), e.get("res.partner", 2)
	partners, _ := store.Get("res.partner")
	for _, p := range asAnyList(partners) {
		po, _ := p.(Object)
		switch id, _ := po.Get("id"); id {
		case recPartner:
			setIn(po, u.partnerID, "id")
			setIn(po, partner["name"], "name")
			setIn(po, u.id, "userId")
			setIn(po, u.id, "main_user_id")
			setIn(po, partner["write_date"], "write_date")
		case int64(2):
			setIn(po, bot["write_date"], "write_date")
		}
	}
	users, _ := store.Get("res.users")
	for _, p := range asAnyList(users) {
		if po, _ := p.(Object); po != nil {
			if id, _ := po.Get("id"); id == recUID {
				setIn(po, u.id, "id")
			}
		}
	}
}

func asAnyList(v any) []any {
	l, _ := asList(v)
	return l
}

// setIn sets the value at a path of keys, where the path exists.
func setIn(o Object, v any, path ...string) {
	for i := range o {
		if o[i].Key != path[0] {
			continue
		}
		if len(path) == 1 {
			o[i].Value = v
			return
		}
		if sub, ok := o[i].Value.(Object); ok {
			setIn(sub, v, path[1:]...)
		}
		return
	}
}

func configParam(e *env, key string) any {
	for _, r := range e.table("ir.config_parameter").rows {
		if r["key"] == key {
			return r["value"]
		}
	}
	return false
}
