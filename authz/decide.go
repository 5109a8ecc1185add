package authz

import (
	"errors"
	"net/http"

	"github.com/keygate/keygate/keystore"
	"github.com/keygate/keygate/limiter"
)

// Reasons, as the client reads them.
const (
	ReasonMissing       = "missing credential"
	ReasonMalformed     = "malformed key"
	ReasonUnknown       = "unknown key"
	ReasonRevoked       = "key revoked"
	ReasonExpired       = "key expired"
	ReasonFailedAuth    = "too many failed authentications"
	ReasonAddress       = "client address not allowed for this key"
	ReasonScope         = "no scope of this key grants the request"
	ReasonRateLimited   = "rate limit exceeded"
	ReasonKeysDown      = "key storage unavailable"
	ReasonLimiterDown   = "rate limiter unavailable"
	ReasonInternal      = "internal error"
	ReasonBadTarget     = reasonBadTarget
	ReasonPrivateMethod = reasonPrivateMethod
)

// Step is what Decide needs before it can answer.
type Step uint8

const (
	// Done: the Decision is the answer.
	Done Step = iota
	// CountFailure: count a failed authentication of the client
	// (Facts.Failure) and decide again.
	CountFailure
	// CountRequest: count the request against the key's limits
	// (Facts.Rate, with Facts.Limits()) and decide again.
	CountRequest
	// CountCredits: spend one credit of the key (Facts.Credit) and
	// decide again.
	CountCredits
)

// Count is a limiter's answer.
type Count struct {
	Done     bool // the limiter was asked
	Decision limiter.Decision
	Err      error
}

// Facts are what is known about a request when Decide runs. Authorizer
// fills them: the request and need, then the outcome of key verification
// and the key's policy, then the limiters' answers when Decide asks.
type Facts struct {
	Request Request
	Need    Need
	// Key and VerifyErr are what keystore's Verify returned, when a
	// credential was presented.
	Key       *keystore.Verified
	VerifyErr error
	// Policy is Key's compiled policy; PolicyErr why it has none.
	Policy    *Policy
	PolicyErr error
	// Defaults are the limits of keys that name none.
	Defaults *LimitSet
	Failure  Count
	Rate     Count
	Credit   CreditCount
}

// Limits returns the limits that apply to the key: its own, else the
// defaults.
func (f *Facts) Limits() *LimitSet {
	if f.Policy != nil && f.Policy.limits != nil {
		return f.Policy.limits
	}
	if f.Defaults != nil {
		return f.Defaults
	}
	return &noLimits
}

// Decide is the whole decision, a pure function of what is known. It
// answers Done with the decision, or the next count it needs, which the
// caller makes and records in f before calling Decide again. In order:
//
//   - a malformed need (a route target not in normal form): 400;
//   - no credential: 401;
//   - malformed, unknown, revoked or expired: once the client's failed
//     authentications are counted, 429 if they are over their limit, else
//     401;
//   - storage unavailable: 503; any other verification or policy error: 500;
//   - client address outside the key's allowlist: 403;
//   - no scope grants the need: 403;
//   - once the request is counted against the key's limits (or the
//     defaults; none: no count), 429 if over, 503 if the limiter failed;
//   - for a key with credits, once one is spent, 429 if none is left and a
//     refill is scheduled, 403 if none is, 503 if the spender failed;
//   - else 200.
func Decide(f *Facts) (Decision, Step) {
	var d Decision
	step := decide(f, &d)
	return d, step
}

// decide fills d in place: a Decision is large enough that copies show in
// the profile.
func decide(f *Facts, d *Decision) Step {
	if f.Need.malformed {
		d.set(http.StatusBadRequest, f.Need.invalid)
		return Done
	}
	if f.Request.Credential == "" {
		d.set(http.StatusUnauthorized, ReasonMissing)
		return Done
	}
	d.Key = f.Key
	if f.VerifyErr != nil {
		return decideFailed(f, d)
	}
	if f.Key == nil || f.Policy == nil {
		d.Err = policyErr(f)
		d.set(http.StatusInternalServerError, ReasonInternal)
		return Done
	}
	d.policy = f.Policy
	switch {
	case !f.Policy.allowsAddr(f.Request.ClientIP):
		d.set(http.StatusForbidden, ReasonAddress)
	case f.Need.invalid != "":
		d.set(http.StatusForbidden, f.Need.invalid)
	case !f.Policy.scopes.allows(&f.Need):
		d.set(http.StatusForbidden, ReasonScope)
	default:
		return decideRate(f, d)
	}
	return Done
}

func (d *Decision) set(status int, reason string) { d.Status, d.Reason = status, reason }

func policyErr(f *Facts) error {
	if f.PolicyErr != nil {
		return f.PolicyErr
	}
	return errors.New("authz: verification returned neither a key nor an error")
}

// decideFailed answers a credential that did not verify.
func decideFailed(f *Facts, d *Decision) Step {
	reason := failureReason(f.VerifyErr)
	switch {
	case errors.Is(f.VerifyErr, keystore.ErrUnavailable):
		d.Err = f.VerifyErr
		d.set(http.StatusServiceUnavailable, ReasonKeysDown)
		return Done
	case reason == "":
		d.Err = f.VerifyErr
		d.set(http.StatusInternalServerError, ReasonInternal)
		return Done
	case !f.Failure.Done:
		return CountFailure
	}
	d.invalid = true
	d.set(http.StatusUnauthorized, reason)
	if d.Err = f.Failure.Err; d.Err != nil {
		return Done
	}
	d.limits = f.Failure.Decision
	if !d.limits.Allowed {
		d.RetryAfter = d.limits.RetryAfter
		d.set(http.StatusTooManyRequests, ReasonFailedAuth)
	}
	return Done
}

// failureReason names a credential's failure; "" when err is not one.
func failureReason(err error) string {
	switch {
	case errors.Is(err, keystore.ErrMalformed):
		return ReasonMalformed
	case errors.Is(err, keystore.ErrUnknown):
		return ReasonUnknown
	case errors.Is(err, keystore.ErrRevoked):
		return ReasonRevoked
	case errors.Is(err, keystore.ErrExpired):
		return ReasonExpired
	}
	return ""
}

// decideRate answers a request that its key may make, limits permitting.
func decideRate(f *Facts, d *Decision) Step {
	set := f.Limits()
	switch {
	case len(set.limits) == 0:
		return decideCredits(f, d)
	case !f.Rate.Done:
		return CountRequest
	case f.Rate.Err != nil:
		d.Err = f.Rate.Err
		d.set(http.StatusServiceUnavailable, ReasonLimiterDown)
	case !f.Rate.Decision.Allowed:
		d.limits, d.quota, d.RetryAfter = f.Rate.Decision, set.policy, f.Rate.Decision.RetryAfter
		d.set(http.StatusTooManyRequests, ReasonRateLimited)
	default:
		d.limits, d.quota = f.Rate.Decision, set.policy
		return decideCredits(f, d)
	}
	return Done
}
