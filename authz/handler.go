package authz

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/keygate/keygate/httpapi"
)

// Handler answers forward-auth checks from Traefik and nginx.
type Handler struct {
	a *Authorizer
}

// NewHandler returns the /auth handler of a.
func NewHandler(a *Authorizer) *Handler { return &Handler{a: a} }

// FastMethods are the methods of /auth that httpapi.FastServer answers
// itself: those proxies send (nginx's auth_request and Traefik's
// forwardAuth send GET), and the others a body-less check may come with.
// Any other goes to Echo's route, which answers every method.
var FastMethods = []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions}

// Register adds the handler's routes to g:
//
//	ANY /auth   the forward-auth check of the request that the proxy names
func (h *Handler) Register(g *echo.Group) {
	g.Any("/auth", h.auth)
}

// auth only does I/O around the decision: it reads the request, asks the
// Authorizer for the route it targets, and writes the answer: 200 with no
// body, or the JSON error body.
func (h *Handler) auth(c echo.Context) error {
	r := c.Request()
	req := h.a.Request(r)
	var d Decision
	h.a.check(r.Context(), &req, NeedRoute(req.Method, req.URI), &d)
	res := c.Response()
	d.WriteHeaders(res.Header())
	if d.Key != nil {
		httpapi.SetCaller(c, d.Key.ID, d.Key.Owner)
	}
	if d.Allowed() {
		return c.NoContent(http.StatusOK)
	}
	return c.JSONBlob(d.Status, d.Body(httpapi.RequestID(c)))
}

// Fast is auth for httpapi.FastServer, which reads the request itself:
// the same decision, fields and body.
func (h *Handler) Fast(x *httpapi.Exchange) {
	req := fromHeader(x.Method, x.Host, x.RequestURI, x.RemoteAddr, false, x.Header, h.a.trusted)
	var d Decision
	h.a.check(x.Context(), &req, NeedRoute(req.Method, req.URI), &d)
	d.WriteHeaders(x.ResponseHeader())
	if d.Key != nil {
		x.SetCaller(d.Key.ID, d.Key.Owner)
	}
	if d.Allowed() {
		x.NoContent(http.StatusOK)
		return
	}
	x.JSONBlob(d.Status, d.Body(x.RequestID()))
}
