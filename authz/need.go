package authz

import "github.com/keygate/keygate/authz/internal/route"

// Need is what a request asks to do, which a scope must grant: a route
// (NeedRoute), an Odoo operation (NeedOdoo) or the admin API (NeedAdmin).
// The zero Need is granted by no scope.
type Need struct {
	kind   needKind
	method string // route: the HTTP method; odoo: the Odoo method
	path   string // route: the normalized path
	model  string // odoo: the model
	op     op     // odoo: the operation that method is
	// invalid is why this request can never be granted ("" when it can).
	invalid string
	// deferCredits: an allowed decision owes its credit (DeferCredits).
	deferCredits bool
	// malformed: the request itself is bad (400), whoever sends it.
	malformed bool
}

// DeferCredits returns n for a caller that checks more after authz before
// it acts, as the Odoo gateway checks every model a call reaches: an
// allowed Decision for it has spent no credit yet, and the caller spends
// it with Authorizer.SpendCredit once its own checks have passed, so that
// a call it refuses spends nothing.
func (n Need) DeferCredits() Need {
	n.deferCredits = true
	return n
}

type needKind uint8

const (
	needNone needKind = iota
	needRoute
	needOdoo
	needAdmin
	needKey
)

// Reasons a Need cannot be granted, as the client reads them.
const (
	reasonBadTarget     = "invalid request target"
	reasonPrivateMethod = "method not allowed"
)

// NeedRoute is an HTTP request for uri (the request target as the client
// sent it, query included) with method, granted by route:<METHOD>:<glob>
// scopes. The glob is matched against the decoded path (see TargetPath).
// A target whose raw path is not in normal form (dot segments, "//",
// backslashes, or ".", "/" or "\" percent-encoded at any level; see
// route.Normal), or that is not a path at all, or a method that is not an
// HTTP token, is malformed: Decide answers 400 before it looks at the
// credential, so that whatever an upstream decodes or resolves, it reaches
// the path that keygate authorized.
func NeedRoute(method, uri string) Need {
	p, ok := route.Path(uri)
	if !ok || !route.Normal(uri) || !validHTTPToken(method) {
		return Need{kind: needRoute, invalid: reasonBadTarget, malformed: true}
	}
	return Need{kind: needRoute, method: method, path: p}
}

// NeedOdoo is a call of method on an Odoo model, granted by
// odoo:<model>:<op> scopes, where the op of search, search_read, read,
// search_count, name_search, fields_get and read_group is read; of create,
// write and unlink, themselves; of any other method m, call:m. Methods
// starting with "_" (Odoo's private ones) and names that are not Odoo
// identifiers are never granted, not even by "*".
func NeedOdoo(model, method string) Need {
	if !validModel(model) || !validMethod(method) {
		return Need{kind: needOdoo, invalid: reasonPrivateMethod}
	}
	return Need{kind: needOdoo, model: model, method: method, op: odooOp(method)}
}

// NeedAdmin is a call of the admin API, granted by the admin scope.
func NeedAdmin() Need { return Need{kind: needAdmin} }

// NeedKey asks only for a valid key usable from the client's address,
// whatever its scopes: Odoo's common.login and common.authenticate, which
// answer who the key is. It counts against the key's rate limits like any
// other request.
func NeedKey() Need { return Need{kind: needKey} }

func odooOp(method string) op {
	switch {
	case readMethods[method]:
		return opRead
	case method == "create":
		return opCreate
	case method == "write":
		return opWrite
	case method == "unlink":
		return opUnlink
	}
	return opCall
}

// String describes the need as the scope that would grant it exactly, for
// logs: "route:GET:/api/v1/x", "odoo:res.partner:read", "admin".
func (n Need) String() string {
	switch {
	case n.invalid != "":
		return "invalid: " + n.invalid
	case n.kind == needRoute:
		return prefixRoute + n.method + ":" + n.path
	case n.kind == needOdoo:
		return prefixOdoo + n.model + ":" + n.opString()
	case n.kind == needAdmin:
		return scopeAdmin
	case n.kind == needKey:
		return "any valid key"
	}
	return "nothing"
}

func (n Need) opString() string {
	for name, o := range opNames {
		if o == n.op && o != opAll {
			return name
		}
	}
	return "call:" + n.method
}

// validHTTPToken: an HTTP method as RFC 9110 allows one (a token).
func validHTTPToken(m string) bool {
	if m == "" || len(m) > 32 {
		return false
	}
	for i := 0; i < len(m); i++ {
		c := m[i]
		if c <= ' ' || c >= 0x7f || isSeparator(c) {
			return false
		}
	}
	return true
}

func isSeparator(c byte) bool {
	switch c {
	case '(', ')', '<', '>', '@', ',', ';', ':', '\\', '"', '/', '[', ']', '?', '=', '{', '}':
		return true
	}
	return false
}

// TargetPath returns the path of a request target (an origin-form
// "/path?query" or an absolute-form "http://host/path?query"), normalized
// as nginx normalizes $uri: the query and fragment are dropped, percent
// escapes decoded (%2F too), "." and ".." segments resolved and repeated
// slashes merged. It reports false for a target that has no such path: not
// starting with "/", a bad escape, a ".." above the root, a NUL byte, or
// one longer than 16 KiB. A path that needs no change is returned without
// allocating. Route scopes are matched against it.
func TargetPath(uri string) (string, bool) { return route.Path(uri) }
