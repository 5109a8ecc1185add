package authz

import (
	"context"

	"github.com/keygate/keygate/keystore"
)

// CheckKey decides whether the key rec may do need, for a request whose
// key was established another way than by presenting it: a web session,
// whose store has just read rec and found it active. It checks the key's
// policy (scopes, address), counts the request in the key's limits and
// spends its credit as Check does; there is no credential to verify, so
// nothing is counted as a failed authentication.
func (a *Authorizer) CheckKey(ctx context.Context, req Request, rec *keystore.Record, need Need) (d Decision) {
	req.Credential = "session" // decide asks for one; it is never verified here
	f := Facts{Request: req, Need: need, Defaults: &a.defaults}
	var p any // nil, not a nil *Policy, when rec does not compile
	if f.Policy, f.PolicyErr = compile(rec); f.PolicyErr == nil {
		p = f.Policy
	}
	f.Key = rec.Verified(p)
	a.decideCounting(ctx, &f, &d)
	return d
}
