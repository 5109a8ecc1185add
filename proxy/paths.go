package proxy

import (
	"strings"

	"github.com/labstack/echo/v4"
)

// CanonicalPaths is an Echo Pre middleware that answers the path forms
// Odoo's server takes as its canonical paths: werkzeug's server reads a
// leading "//" as "/", and Odoo's routing ignores a trailing slash, so
// "//jsonrpc", "/jsonrpc/" and "//xmlrpc/2/common" are /jsonrpc and
// /xmlrpc/2/common, answered, not redirected. Only the gateway's paths
// (/jsonrpc, /xmlrpc/..., /json/2/..., /web/...) are rewritten; every
// other path is routed as sent.
func CanonicalPaths(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		u := c.Request().URL
		if p, ok := canonicalPath(u.Path); ok {
			u.Path, u.RawPath = p, ""
		}
		return next(c)
	}
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
