package odootest

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Config configures a Server. The zero value serves Odoo 18.0's database
// odoo_test on the real clock.
type Config struct {
	// Version is the Odoo version to answer as: "18.0" (default) or
	// "19.0". 19.0 changes what the 19.0 fixtures show changed (version
	// info, error.code 0, the key order of error data, a one-line
	// AccessDenied debug, reworded errors) and serves JSON-2; the data
	// stays 18.0's (see doc.go).
	Version string
	// Database is the one database the double serves. Default "odoo_test".
	Database string
	// Databases is what db.list answers. Default: Database and
	// "odoo_test_pristine", as on the server the fixtures were recorded on.
	// Calls naming any database but Database fail as a missing database.
	Databases []string
	// Now is the clock for create_date and write_date. Default time.Now.
	Now func() time.Time
}

// Server is an in-memory Odoo: an http.Handler answering /jsonrpc,
// /xmlrpc, the web session API and (19.0) /json/2 as Odoo does. It is safe for concurrent use; calls are
// serialized, each one a transaction.
type Server struct {
	cfg Config

	mu sync.Mutex // serializes calls: guards db
	db *database

	callsMu sync.Mutex
	calls   []Call // every call that reached the dispatcher

	web webSessions // the web client's sessions (websession.go)

	delay  atomic.Int64 // nanoseconds each request waits
	hangMu sync.Mutex
	hang   chan struct{} // closed to release hanging requests; nil when not hanging
}

// Call is one call that reached the double: an RPC call that reached the
// dispatcher, a JSON-2 request to a model method, or a request to a web
// session route. Transport errors (a body that does not parse, a GET, a
// database the double does not serve) are not calls. A call is recorded
// whether or not its credentials were accepted.
type Call struct {
	// Protocol is how the call came in: "jsonrpc" (/jsonrpc), "xmlrpc"
	// (/xmlrpc/...), "json2" (/json/2/<model>/<method>, 19.0) or "web"
	// (/web/...: the session API).
	Protocol string
	Path     string // the request path (jsonrpc: the route, "/jsonrpc")
	// Service is the RPC service (common, db, object, or what the client
	// sent); "web" for the session API; empty for JSON-2.
	Service string
	// Method is the service method (login, execute_kw, ...), or the web
	// route: version_info, authenticate, get_session_info, call_kw,
	// destroy; empty for JSON-2.
	Method string
	DB     string // the database named (JSON-2: the one served)
	// UID is who the call runs as: object calls the uid sent, JSON-2 the
	// owner of the bearer key, web calls the session's user (authenticate:
	// the user logged in); 0 when there is none.
	UID int64
	// Auth is the credential that was accepted: "password", "apikey"
	// (execute_kw's password argument, JSON-2's bearer), "session" (the
	// session cookie of a web route); empty when none was, or when the
	// call takes none.
	Auth        string
	Model       string // object, JSON-2 and call_kw calls: the model
	ModelMethod string // object, JSON-2 and call_kw calls: the model method
}

// New returns a Server holding the pristine demo database.
func New(cfg Config) (*Server, error) {
	if cfg.Version == "" {
		cfg.Version = "18.0"
	}
	if cfg.Version != "18.0" && cfg.Version != "19.0" {
		return nil, errors.New("odootest: Version must be 18.0 or 19.0, not " + cfg.Version)
	}
	if cfg.Database == "" {
		cfg.Database = "odoo_test"
	}
	if cfg.Databases == nil {
		cfg.Databases = []string{cfg.Database, "odoo_test_pristine"}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Server{cfg: cfg, db: newVersionDatabase(cfg.Version, cfg.Now)}, nil
}

// ServeHTTP routes /jsonrpc, /xmlrpc/2/<service>, /xmlrpc/<service>, the
// web session routes and (19.0) /json/2; anything else is a 404 page.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Connection", "close")
	if !s.wait(r.Context()) {
		return
	}
	switch path := routePath(r.URL.Path); {
	case path == json2Prefix || strings.HasPrefix(path, json2Prefix+"/"):
		if s.cfg.Version == "18.0" {
			writeHTML(w, http.StatusNotFound, false, notFoundPage)
			return
		}
		s.serveJSON2(w, r, path)
	case path == "/jsonrpc":
		s.serveJSONRPC(w, r)
	case strings.HasPrefix(path, "/xmlrpc/2/") && isSegment(path[len("/xmlrpc/2/"):]):
		s.serveXMLRPC(w, r, path[len("/xmlrpc/2/"):], false)
	case strings.HasPrefix(path, "/xmlrpc/") && isSegment(path[len("/xmlrpc/"):]):
		s.serveXMLRPC(w, r, path[len("/xmlrpc/"):], true)
	default:
		if !s.serveWeb(w, r, path) {
			writeHTML(w, http.StatusNotFound, false, notFoundPage)
		}
	}
}

// routePath is the path as Odoo's routing sees it: werkzeug's server
// turns a leading "//" into "/", and the routes ignore a trailing slash.
func routePath(p string) string {
	if strings.HasPrefix(p, "//") {
		p = "/" + strings.TrimLeft(p, "/")
	}
	if len(p) > 1 {
		p = strings.TrimSuffix(p, "/")
	}
	return p
}

func isSegment(s string) bool { return s != "" && !strings.Contains(s, "/") }

// wait applies the delay and the hang switch; false when the client gave
// up first.
func (s *Server) wait(ctx context.Context) bool {
	if d := time.Duration(s.delay.Load()); d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return false
		}
	}
	s.hangMu.Lock()
	hang := s.hang
	s.hangMu.Unlock()
	if hang == nil {
		return true
	}
	select {
	case <-hang:
		return true
	case <-ctx.Done():
		return false
	}
}

// SetDelay makes every request wait d before it is handled (0: none), for
// timeout tests. A request whose client goes away stops waiting.
func (s *Server) SetDelay(d time.Duration) { s.delay.Store(int64(d)) }

// SetHang(true) makes requests wait until SetHang(false) (or Reset), or
// until their client goes away.
func (s *Server) SetHang(on bool) {
	s.hangMu.Lock()
	defer s.hangMu.Unlock()
	switch {
	case on && s.hang == nil:
		s.hang = make(chan struct{})
	case !on && s.hang != nil:
		close(s.hang)
		s.hang = nil
	}
}

// Calls returns the calls received so far, oldest first.
func (s *Server) Calls() []Call {
	s.callsMu.Lock()
	defer s.callsMu.Unlock()
	out := make([]Call, len(s.calls))
	copy(out, s.calls)
	return out
}

func (s *Server) record(c Call) {
	s.callsMu.Lock()
	defer s.callsMu.Unlock()
	s.calls = append(s.calls, c)
}

// Reset puts the pristine data back (next partner id 42), forgets the
// calls, and clears the delay and the hang switch.
func (s *Server) Reset() {
	s.mu.Lock()
	s.db = newVersionDatabase(s.cfg.Version, s.cfg.Now)
	s.mu.Unlock()
	s.callsMu.Lock()
	s.calls = nil
	s.callsMu.Unlock()
	s.web.reset()
	s.SetDelay(0)
	s.SetHang(false)
}

// Records returns every record of model as the double holds it now,
// archived ones included, ordered by id: each as read returns it (id,
// then every field the double models, a many2one as [id, "name"], an
// x2many as its ids), read as the superuser, without access rules. Tests
// use it to prove what a call did, or that nothing was created. A model
// the double holds no records of is an error.
func (s *Server) Records(model string) ([]Object, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.db.table(model)
	if t == nil {
		return nil, errors.New("odootest: the double holds no records of " + strconv.Quote(model))
	}
	e := &env{db: s.db, uid: 1, user: s.db.user(1), now: s.cfg.Now().UTC(), version: s.cfg.Version}
	names := readFields(e, t.model, nil)
	out := []Object{}
	for _, id := range t.ids() {
		out = append(out, readRecord(e, t.model, t.rows[id], names, true))
	}
	return out, nil
}
