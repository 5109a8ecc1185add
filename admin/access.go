package admin

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/keygate/keygate/authz"
	"github.com/keygate/keygate/httpapi"
)

// Authorizer decides admin requests as /auth decides its own:
// *authz.Authorizer is one.
type Authorizer interface {
	Request(r *http.Request) authz.Request
	Check(ctx context.Context, req authz.Request, need authz.Need) authz.Decision
	Blocked(req authz.Request) (authz.Decision, bool)
}

// decisionHeaders are the fields of a decision that admin answers carry.
var decisionHeaders = []string{authz.HeaderRateLimit, authz.HeaderRateLimitPolicy, "Retry-After"}

// checkedActor authenticates cred through the Authorizer: a client over
// its failed-auth limit is refused (429) before anything else, the
// bootstrap token included; the token is admitted as such; any other
// credential must be a key with the admin scope, used from its allowlist
// and within its rate limits, and a credential that fails (a wrong token
// too) counts against the client's failed-auth limit.
func (a *API) checkedActor(c echo.Context, cred string) (string, error) {
	r := c.Request()
	req := a.authz.Request(r)
	req.Credential = cred
	if d, blocked := a.authz.Blocked(req); blocked {
		return "", a.refuse(c, &d)
	}
	if a.isToken(cred) {
		httpapi.Authenticated(r)
		return "admin-token", nil
	}
	d := a.authz.Check(r.Context(), req, authz.NeedAdmin())
	if !d.Allowed() {
		return "", a.refuse(c, &d)
	}
	httpapi.Authenticated(r) // its body no longer counts as a stranger's
	copyHeaders(c, &d)
	return "key:" + d.Key.ID, nil
}

func (a *API) isToken(cred string) bool {
	if a.tokenHash == nil {
		return false
	}
	h := sha256.Sum256([]byte(cred))
	return subtle.ConstantTimeCompare(h[:], a.tokenHash[:]) == 1
}

// refuse turns a denial into the admin API's error answer.
func (a *API) refuse(c echo.Context, d *authz.Decision) error {
	copyHeaders(c, d)
	msg := d.Reason
	switch d.Status {
	case http.StatusUnauthorized:
		c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="keygate-admin", error="invalid_token"`)
		msg = "invalid credential"
	case http.StatusForbidden:
		if d.Reason == authz.ReasonScope {
			msg = "the key lacks the admin scope"
		}
	}
	e := &httpapi.Error{Status: d.Status, Message: msg, Cause: d.Err}
	if d.Status == http.StatusTooManyRequests {
		e.Details = map[string]any{"retry_after": max(int64((d.RetryAfter+time.Second-1)/time.Second), 1)}
	}
	return e
}

func copyHeaders(c echo.Context, d *authz.Decision) {
	h := http.Header{}
	d.WriteHeaders(h)
	out := c.Response().Header()
	for _, k := range decisionHeaders {
		if v := h[k]; v != nil {
			out[k] = v
		}
	}
}
