package proxy

import (
	"net/http"
	"strings"
)

// CanonicalPaths wraps the public listener's handler so that it answers the path forms
// Odoo's server takes as its canonical paths: werkzeug's server reads a
// leading "//" as "/", and Odoo's routing ignores a trailing slash, so
// "//jsonrpc", "/jsonrpc/" and "//xmlrpc/2/common" are /jsonrpc and
// /xmlrpc/2/common, answered, not redirected. Only the gateway's paths
// (/jsonrpc, /xmlrpc/..., /json/2/..., /web/...) are rewritten; every
// other path is routed as sent. It sits in front of Echo, not in Echo's
// Pre chain, which Echo builds anew for every request: a request on any
// other path (/auth above all) costs two prefix tests and no allocation.
func CanonicalPaths(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p, ok := canonicalPath(r.URL.Path); ok {
			r.URL.Path, r.URL.RawPath = p, ""
		}
		next.ServeHTTP(w, r)
	})
}

// canonicalPath returns the gateway path p stands for, and whether p is
// one of the gateway's (in any form).
func canonicalPath(p string) (string, bool) {
	if !strings.HasPrefix(p, "//") && !strings.HasSuffix(p, "/") {
		return p, false
	}
	q := "/" + strings.TrimLeft(p, "/")
	if len(q) > 1 {
		q = strings.TrimSuffix(q, "/")
	}
	if q == "/jsonrpc" || strings.HasPrefix(q, "/xmlrpc/") || strings.HasPrefix(q, "/json/2/") || strings.HasPrefix(q, "/web/") {
		return q, true
	}
	return p, false
}
