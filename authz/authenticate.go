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
		if d, refused := a.refuseBlocked(&req); refused {
			return d
		}
	}
	f := Facts{Request: req, Need: NeedKey(), Defaults: &noLimits}
	if req.Credential != "" {
		f.Record, f.VerifyErr = a.keys.Verify(ctx, req.Credential)
		if f.Record != nil && f.VerifyErr == nil {
			f.Policy, f.PolicyErr = policyOf(f.Record)
		}
	}
	for {
		var d Decision
		switch decide(&f, &d) {
		case CountFailure:
			f.Failure = a.countFailure(ctx, req.ClientIP)
			a.noteFailure(req.ClientIP, f.Failure)
		case CountRequest: // everything but the rate limits passed
			d = Decision{Key: f.Record, policy: f.Policy}
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
