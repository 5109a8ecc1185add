package authz

import (
	"context"
	"log/slog"
	"net/http"
)

// Authenticate decides only whether req's credential is a valid key that
// may be used from the client's address, before the caller knows what
// the request needs: the Odoo gateway asks it about an Authorization
// header before it reads the body, so that a stranger's bad key costs no
// body bytes. As Check, it refuses a client over its failed-auth limit
// before any lookup, and counts a failed credential against that limit;
// unlike Check it neither looks at scopes nor counts the request against
// the key's rate limits (the caller's Check does, once it knows the need)
// and records no usage. 200 when the key is good.
func (a *Authorizer) Authenticate(ctx context.Context, req Request) Decision {
	if req.Credential != "" {
		var d Decision
		if a.refuseBlocked(&req, &d) {
			return d
		}
	}
	f := Facts{Request: req, Need: NeedKey(), Defaults: &noLimits}
	if req.Credential != "" {
		f.Key, f.VerifyErr = a.keys.Verify(ctx, req.Credential)
		if f.Key != nil && f.VerifyErr == nil {
			f.Policy, f.PolicyErr = policyOf(f.Key)
		}
	}
	for {
		var d Decision
		switch decide(&f, &d) {
		case CountFailure:
			a.countFailure(ctx, req.ClientIP, &f.Failure)
			a.noteFailure(req.ClientIP, &f.Failure)
		case CountRequest, CountCredits: // everything but the counts passed
			d = Decision{Key: f.Key, policy: f.Policy}
			d.set(http.StatusOK, "")
			return d
		default:
			if d.Err != nil {
				a.log.LogAttrs(ctx, slog.LevelWarn, "authentication failed to decide", slog.Int("status", d.Status), slog.Any("error", d.Err))
			}
			return d
		}
	}
}

// Valid reports whether req's credential is a valid key usable from the
// client's address, counting nothing: no failure, no request. A client
// over its failed-auth limit gets false without a lookup. The gateway asks
// it about a key it found early in a body, to stop charging that body to
// strangers' budget; the Check that follows decides (and counts) as usual,
// from the cache.
func (a *Authorizer) Valid(ctx context.Context, req Request) bool {
	if req.Credential == "" {
		return false
	}
	var d Decision
	if a.refuseBlocked(&req, &d) {
		return false
	}
	key, err := a.keys.Verify(ctx, req.Credential)
	if err != nil || key == nil {
		return false
	}
	p, err := policyOf(key)
	return err == nil && p.allowsAddr(req.ClientIP)
}
