package proxy

import (
	"context"
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/keygate/keygate/authz"
	"github.com/keygate/keygate/httpapi"
	"github.com/keygate/keygate/odoo"
)

// authenticator is what the gateway's Authorizer may offer to check a key
// before the body is read: *authz.Authorizer does.
type authenticator interface {
	Authenticate(ctx context.Context, req authz.Request) authz.Decision
}

// preauthenticate checks a key presented in the Authorization or
// X-API-Key header before the body is read, as early as the protocol
// allows: a bad key is refused without reading a byte of its body, and a
// good one is marked authenticated, so that its body does not count
// against the budget of unauthenticated bytes (httpapi.GuardBodies) and
// is read even while strangers exhaust it. A call with its key in the
// body (the password parameter) is left to dispatch. It returns the
// refusal to send, or nil to go on.
func (g *Gateway) preauthenticate(c echo.Context) *refusal {
	a, ok := g.auth.(authenticator)
	if !ok {
		return nil
	}
	r := c.Request()
	req := g.auth.Request(r)
	if req.Credential == "" {
		return nil
	}
	d := a.Authenticate(r.Context(), req)
	if d.Allowed() {
		httpapi.Authenticated(r)
		return nil
	}
	NoteDecision(c, &d, rateHeaders)
	return decisionRefusal(&d, authz.NeedKey(), "")
}

// bodyRefusal answers a body that could not be read because the budget
// of unauthenticated bytes is spent: 503 with Retry-After. Nil for any
// other error.
func bodyRefusal(c echo.Context, err error) *refusal {
	if !errors.Is(err, httpapi.ErrBusy) {
		return nil
	}
	c.Response().Header().Set("Retry-After", httpapi.BusyRetryAfter)
	return &refusal{http.StatusServiceUnavailable, odoo.ExcUnavailable,
		"503 Service Unavailable: too many unauthenticated request bytes in flight, retry shortly."}
}
