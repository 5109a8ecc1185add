package odootest

import (
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// JSON-2 (Odoo 19's addons/rpc/controllers/json2.py): POST
// /json/2/<model>/<method>, a bearer API key, named arguments, the bare
// result or an error object with a real HTTP status.

const json2Prefix = "/json/2"

// json2Error is what Odoo 19 answers for an exception on a JSON-2 route:
// {"name", "message", "arguments", "context", "debug"} with a status.
type json2Error struct {
	status  int
	name    string
	message string
	args    []any
	last    string // the traceback's last line
}

// werkzeugError is a werkzeug HTTPException: its arguments are the
// description and the status, its str() "404 Not Found: description".
func werkzeugError(status int, msg string) *json2Error {
	name := map[int]string{400: "BadRequest", 401: "Unauthorized", 404: "NotFound", 422: "UnprocessableEntity"}[status]
	return &json2Error{status: status, name: "werkzeug.exceptions." + name, message: msg,
		args: []any{msg, int64(status)},
		last: "werkzeug.exceptions." + name + ": " + strconv.Itoa(status) + " " + http.StatusText(status) + ": " + msg}
}

// json2Status is the status Odoo 19 gives an exception raised by a model
// method: the Odoo exceptions by kind, anything else 500.
func json2Status(class string) int {
	switch class {
	case clsAccessError:
		return http.StatusForbidden
	case clsMissingError:
		return http.StatusNotFound
	case clsValidationError, clsUserError:
		return http.StatusUnprocessableEntity
	case clsAccessDenied:
		return http.StatusUnauthorized
	}
	return http.StatusInternalServerError
}

func fromException(exc *exception) *json2Error {
	exc = v19Exception(exc)
	args := exc.args
	if args == nil {
		args = []any{}
	}
	return &json2Error{status: json2Status(exc.class), name: exc.class, message: exc.message(), args: args,
		last: exc.lastLine()}
}

// serveJSON2 routes /json/2 and below (19.0 only). Any request but a POST
// to /json/2/<model>/<method> is Odoo's "Did you mean" 404.
func (s *Server) serveJSON2(w http.ResponseWriter, r *http.Request, path string) {
	rest := strings.TrimPrefix(strings.TrimPrefix(path, json2Prefix), "/")
	model, method, ok := strings.Cut(rest, "/")
	if r.Method != http.MethodPost || !ok || model == "" || method == "" || strings.Contains(method, "/") {
		s.writeJSON2Error(w, werkzeugError(http.StatusNotFound, "Did you mean POST /json/2/<model>/<method>?"))
		return
	}
	if db := r.Header.Get("X-Odoo-Database"); db != "" && db != s.cfg.Database {
		writeHTML(w, http.StatusNotFound, false, noDatabasePage)
		return
	}
	call := Call{Protocol: "json2", Path: r.URL.Path, DB: s.cfg.Database, Model: model, ModelMethod: method}
	uid, jerr := s.bearerUID(r)
	call.UID = uid
	if uid != 0 {
		call.Auth = "apikey"
	}
	if jerr != nil {
		s.record(call)
		s.writeJSON2Error(w, jerr)
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	params, jerr := parseJSON2Body(body)
	if jerr != nil {
		s.record(call)
		s.writeJSON2Error(w, jerr)
		return
	}
	res, jerr := s.json2Call(&call, uid, model, method, params)
	if jerr != nil {
		s.writeJSON2Error(w, jerr)
		return
	}
	s.writeJSON2(w, http.StatusOK, res)
}

// noDatabasePage is Odoo's answer to a route of a database it does not
// serve (X-Odoo-Database naming another one).
const noDatabasePage = "<!DOCTYPE html>\n<title>404 Not Found</title>\n<h1>Not Found</h1>\n" +
	"<p>No database is selected and the requested URL was not found in the server-wide controllers.</p>\n" +
	"<p>Please verify the hostname, <a href=/web/login>login</a> and try again.</p>\n\n" +
	"<!-- Alternatively, use the X-Odoo-Database header. -->\n"

// bearerUID is _auth_method_bearer: the uid of an RPC API key of an active
// user. The scheme is case-insensitive; a password is not a key.
func (s *Server) bearerUID(r *http.Request) (int64, *json2Error) {
	scheme, token, _ := strings.Cut(strings.TrimSpace(r.Header.Get("Authorization")), " ")
	token = strings.TrimSpace(token)
	if !strings.EqualFold(scheme, "bearer") || token == "" {
		return 0, werkzeugError(http.StatusUnauthorized,
			"User not authenticated, use an API Key with a Bearer Authorization header.")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, u := range s.db.allUsers() {
		if !u.active {
			continue
		}
		for _, k := range u.rpcKeys {
			if k == token {
				return u.id, nil
			}
		}
	}
	return 0, werkzeugError(http.StatusUnauthorized, "Invalid apikey")
}

// parseJSON2Body decodes the named arguments: a JSON object. A body that
// is not JSON is a 400 with Python's json error.
func parseJSON2Body(body []byte) (Object, *json2Error) {
	v, err := decodeJSON(body)
	if err != nil {
		return nil, werkzeugError(http.StatusBadRequest, "could not parse the body as json: "+pyJSONError(body))
	}
	params, ok := v.(Object)
	if !ok { // not recorded: Odoo calls the endpoint with **params
		return nil, werkzeugError(http.StatusBadRequest, "the body must be a JSON object, not "+pyTypeName(v))
	}
	return params, nil
}

// json2Call is web_json_2_rpc: the model, the public method, ids only for
// record methods, the arguments bound by name; then the call, in a
// transaction, as the key's user.
func (s *Server) json2Call(c *Call, uid int64, modelName, name string, params Object) (res any, jerr *json2Error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	defer func() {
		if p := recover(); p != nil { // a bug of the double: say so, keep serving
			res, jerr = nil, fromException(newException(clsException, fmt.Sprintf("odootest: internal error: %v", p)))
		}
	}()
	s.record(*c)
	m := registry[modelName]
	if m == nil {
		return nil, werkzeugError(http.StatusNotFound, "the model "+pyRepr(modelName)+" does not exist")
	}
	if strings.HasPrefix(name, "_") {
		return nil, fromException(newException(clsAccessError,
			"Private methods (such as "+pyRepr(modelName+"."+name)+") cannot be called remotely."))
	}
	meth := methods[name]
	if meth == nil && !notModelledMethods[name] || !methodOnModel(m, name) {
		return nil, werkzeugError(http.StatusNotFound, "The method "+pyRepr(modelName+"."+name)+" does not exist")
	}
	ids, hasIDs := params.Get("ids")
	var kw Object
	for _, p := range params {
		if p.Key != "ids" {
			kw = append(kw, p)
		}
	}
	var args []any
	if meth != nil {
		if !meth.record && truthy(ids) {
			return nil, werkzeugError(http.StatusUnprocessableEntity, "cannot call "+modelName+"."+name+" with ids")
		}
		if msg := signatureBind(meth, kw); msg != "" {
			return nil, werkzeugError(http.StatusUnprocessableEntity, msg)
		}
		if meth.record {
			if !hasIDs || ids == nil {
				ids = []any{}
			}
			args = []any{ids}
		}
	}
	e := &env{db: s.db, uid: uid, user: s.db.user(uid), activeTest: true, now: s.cfg.Now().UTC()}
	res, err := s.transaction(e, m, name, args, kw)
	if err != nil {
		if err.integrity != nil {
			err = retrying(err)
		}
		return nil, fromException(err)
	}
	if name == "create" || name == "copy" { // a recordset: JSON-2 sends its ids
		if id, ok := res.(int64); ok {
			res = []any{id}
		}
	}
	return res, nil
}

// signatureBind checks named arguments as inspect.Signature.bind does:
// the first required parameter missing, then the first unknown name
// (unless the method takes **kwargs). context is the route's own.
func signatureBind(meth *method, kw Object) string {
	known := map[string]bool{"context": true}
	for _, p := range meth.params {
		known[p.name] = true
		if _, ok := kw.Get(p.name); p.required && !ok {
			return "missing a required argument: " + pyRepr(p.name)
		}
	}
	if meth.varKw {
		return ""
	}
	for _, p := range kw {
		if !known[p.Key] {
			return "got an unexpected keyword argument " + pyRepr(p.Key)
		}
	}
	return ""
}

func (s *Server) writeJSON2(w http.ResponseWriter, status int, v any) {
	body, err := marshalPython(v)
	if err != nil { // the double's own values always encode
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	if status == http.StatusOK {
		h.Set("X-Content-Type-Options", "nosniff")
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// writeJSON2Error writes the error object. Its debug is abridged: the
// double does not hold Odoo 19's frames, so it sends the traceback's
// header and last line only.
func (s *Server) writeJSON2Error(w http.ResponseWriter, e *json2Error) {
	if e.status == http.StatusUnauthorized && strings.HasPrefix(e.name, "werkzeug.") {
		w.Header().Set("WWW-Authenticate", "Bearer ")
	}
	s.writeJSON2(w, e.status, Object{{"name", e.name}, {"message", e.message}, {"arguments", e.args},
		{"context", Object{}}, {"debug", "Traceback (most recent call last):\n" + e.last + "\n"}})
}
