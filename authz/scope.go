package authz

import (
	"errors"
	"fmt"
	"strings"

	"github.com/keygate/keygate/authz/internal/route"
)

// Scope kinds, as a scope string starts.
const (
	scopeAdmin  = "admin"
	prefixOdoo  = "odoo:"
	prefixRoute = "route:"
)

// op is an Odoo operation, as odoo: scopes name them.
type op uint8

const (
	opNone op = iota
	opAll     // "*" in a scope
	opRead
	opCreate
	opWrite
	opUnlink
	opCall    // call:<method>
	opContext // client context keys beyond the basic ones
)

var opNames = map[string]op{
	"*": opAll, "read": opRead, "create": opCreate, "write": opWrite, "unlink": opUnlink, "context": opContext,
}

// readMethods are the Odoo methods that the read op grants.
var readMethods = map[string]bool{
	"search": true, "search_read": true, "read": true, "search_count": true,
	"name_search": true, "fields_get": true, "read_group": true,
}

type routeScope struct {
	method string // "*" or an HTTP method
	path   route.Glob
}

type odooScope struct {
	model string // "*" or a model name
	op    op
	call  string // the method of call:<method>
}

// scopes is a key's compiled scope list.
type scopes struct {
	admin  bool
	routes []routeScope
	odoo   []odooScope
}

// ValidateScope reports whether s is a scope keygate understands:
//
//	admin
//	odoo:<model>:<op>        model "*" or a model name (res.partner); op read,
//	                         create, write, unlink, context, call:<method> or *
//	route:<METHOD>:<glob>    METHOD "*" or an HTTP method in capitals; glob a
//	                         path starting with "/" (see the glob syntax)
//
// keystore.Config.ValidateScope takes it.
func ValidateScope(s string) error {
	var sc scopes
	return sc.add(s)
}

// add parses one scope into sc.
func (sc *scopes) add(s string) error {
	switch {
	case s == scopeAdmin:
		sc.admin = true
	case strings.HasPrefix(s, prefixOdoo):
		o, err := parseOdooScope(s[len(prefixOdoo):])
		if err != nil {
			return fmt.Errorf("scope %q: %w", s, err)
		}
		sc.odoo = append(sc.odoo, o)
	case strings.HasPrefix(s, prefixRoute):
		r, err := parseRouteScope(s[len(prefixRoute):])
		if err != nil {
			return fmt.Errorf("scope %q: %w", s, err)
		}
		sc.routes = append(sc.routes, r)
	default:
		return fmt.Errorf("scope %q: want admin, odoo:<model>:<op> or route:<METHOD>:<path-glob>", s)
	}
	return nil
}

func parseOdooScope(s string) (odooScope, error) {
	model, opText, ok := strings.Cut(s, ":")
	if !ok {
		return odooScope{}, errors.New("want odoo:<model>:<op>")
	}
	if model != "*" && !validModel(model) {
		return odooScope{}, errors.New("model must be * or a model name such as res.partner")
	}
	if method, ok := strings.CutPrefix(opText, "call:"); ok {
		if !validMethod(method) {
			return odooScope{}, errors.New("call: needs a public method name (letters, digits, _; not starting with _)")
		}
		return odooScope{model: model, op: opCall, call: method}, nil
	}
	o, ok := opNames[opText]
	if !ok {
		return odooScope{}, errors.New("op must be read, create, write, unlink, context, call:<method> or *")
	}
	return odooScope{model: model, op: o}, nil
}

func parseRouteScope(s string) (routeScope, error) {
	method, path, ok := strings.Cut(s, ":")
	if !ok {
		return routeScope{}, errors.New("want route:<METHOD>:<path-glob>")
	}
	if method != "*" && !validHTTPMethod(method) {
		return routeScope{}, errors.New("METHOD must be * or an HTTP method in capitals")
	}
	g, err := route.CompileGlob(path)
	if err != nil {
		return routeScope{}, err
	}
	return routeScope{method: method, path: g}, nil
}

// validModel: lowercase letters, digits, "_" and ".", starting with a
// letter, as Odoo's model names are.
func validModel(m string) bool {
	if m == "" || m[0] < 'a' || m[0] > 'z' {
		return false
	}
	for i := 0; i < len(m); i++ {
		c := m[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// validMethod: an Odoo method that may be called from outside: letters,
// digits and "_", not starting with "_" (Odoo's private methods).
func validMethod(m string) bool {
	if m == "" || m[0] == '_' || m[0] >= '0' && m[0] <= '9' {
		return false
	}
	for i := 0; i < len(m); i++ {
		c := m[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

func validHTTPMethod(m string) bool {
	if m == "" {
		return false
	}
	for i := 0; i < len(m); i++ {
		if c := m[i]; !(c >= 'A' && c <= 'Z' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// grantsMethod: "*" grants every method, GET grants HEAD too (as Go's
// ServeMux patterns do: HEAD is GET without the body), any other method
// itself.
func (r *routeScope) grantsMethod(m string) bool {
	return r.method == "*" || r.method == m || r.method == "GET" && m == "HEAD"
}

// allows reports whether some scope grants need.
func (sc *scopes) allows(n *Need) bool {
	switch n.kind {
	case needKey:
		return true
	case needAdmin:
		return sc.admin
	case needRoute:
		for i := range sc.routes {
			if r := &sc.routes[i]; r.grantsMethod(n.method) && r.path.Match(n.path) {
				return true
			}
		}
	case needOdoo:
		for _, o := range sc.odoo {
			if (o.model == "*" || o.model == n.model) && (o.op == opAll || o.op == n.op && (o.op != opCall || o.call == n.method)) {
				return true
			}
		}
	}
	return false
}
