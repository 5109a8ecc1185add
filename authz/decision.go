package authz

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/keygate/keygate/httpapi"
	"github.com/keygate/keygate/keystore"
	"github.com/keygate/keygate/limiter"
)

// Canonical names of the response headers written.
const (
	HeaderKeyID           = "X-Keygate-Key-Id"
	HeaderOwner           = "X-Keygate-Owner"
	HeaderScopes          = "X-Keygate-Scopes"
	HeaderRateLimit       = "Ratelimit"
	HeaderRateLimitPolicy = "Ratelimit-Policy"
	headerRetryAfter      = "Retry-After"
	headerWWWAuthenticate = "Www-Authenticate"
)

// rateLimitBuf holds the RateLimit value of MaxWindows windows of
// ordinary lengths on the stack.
const rateLimitBuf = 40 * limiter.MaxWindows

// Values of WWW-Authenticate (RFC 6750): plain when no credential was
// presented, with error="invalid_token" when one was and failed.
var (
	challengeMissing = []string{`Bearer realm="keygate"`}
	challengeInvalid = []string{`Bearer realm="keygate", error="invalid_token"`}
)

// Decision is the answer to one request. A denial is a Decision, not an
// error: Status says which.
//
//	200  allowed
//	400  the request target is malformed or not in normal form
//	401  no credential, or a malformed, unknown, revoked or expired one
//	403  the client's address is not allowed, or no scope grants the need,
//	     or the key's credits are exhausted with no refill scheduled
//	429  a rate limit, the failed-authentication limit of the client, or
//	     the key's credits exhausted until their refill
//	500  the key's stored policy does not compile
//	503  key storage or the rate limiter could not answer
type Decision struct {
	Status int
	// Reason is the message for the client.
	Reason string
	// Key is the presented key when storage knows it, whatever the
	// status (revoked and expired keys included). Shared: read only.
	Key *keystore.Verified
	// RetryAfter is how long to wait, on a 429.
	RetryAfter time.Duration
	// Err is the cause of a 500 or 503, for the log; never sent.
	Err error

	policy  *Policy
	limits  limiter.Decision // N == 0 when no limiter was asked
	quota   []string         // RateLimit-Policy value formatted once; nil: from limits
	invalid bool             // a credential was presented and failed

	credits    limiter.Spend   // the balance, when hasCredits
	owed       *limiter.Refill // a credit not yet spent (Need.DeferCredits)
	hasCredits bool
}

// Allowed reports whether the request may go on.
func (d *Decision) Allowed() bool { return d.Status == http.StatusOK }

// States returns the state of each window of the limit that decided, after
// counting this request: the key's limits (the server's defaults for a key
// with none) on a 200 or a rate-limit 429, the failed-authentication limit
// after a failed credential; none when no limiter was asked.
func (d *Decision) States() []limiter.WindowState { return d.limits.States() }

// WriteHeaders sets the response fields of the decision in h: the
// RateLimit-Policy and RateLimit fields whenever a limiter was asked; on a
// 200 X-Keygate-Key-Id, X-Keygate-Owner and X-Keygate-Scopes
// (comma-separated); on a 401 WWW-Authenticate; on a 429 Retry-After, in
// whole seconds, at least 1.
func (d *Decision) WriteHeaders(h http.Header) {
	if d.limits.N > 0 {
		h[HeaderRateLimitPolicy] = d.quotaValue()
		var buf [rateLimitBuf]byte
		h[HeaderRateLimit] = []string{string(appendRateLimit(buf[:0], d.limits.States()))}
	}
	d.writeCredits(h)
	switch d.Status {
	case http.StatusOK:
		h[HeaderKeyID], h[HeaderOwner], h[HeaderScopes] = d.Key.IDValue(), d.Key.OwnerValue(), d.policy.scopeList
	case http.StatusUnauthorized:
		h[headerWWWAuthenticate] = challengeMissing
		if d.invalid {
			h[headerWWWAuthenticate] = challengeInvalid
		}
	case http.StatusTooManyRequests:
		h[headerRetryAfter] = []string{strconv.FormatInt(RetrySeconds(d.RetryAfter), 10)}
	}
}

func (d *Decision) quotaValue() []string {
	if d.quota != nil {
		return d.quota
	}
	limits := make([]limiter.Limit, 0, d.limits.N)
	for _, s := range d.limits.States() {
		limits = append(limits, s.Limit)
	}
	return []string{string(appendPolicy(nil, limits))}
}

// RetrySeconds is the Retry-After value of a wait of d: whole seconds,
// rounded up, at least 1. Every 429 of keygate (header and "retry_after"
// detail, forward-auth, gateway and REST alike) says it this way.
func RetrySeconds(d time.Duration) int64 { return max(ceilSeconds(d), 1) }

// Body returns the JSON body of a denial: {"error": Reason, "code":
// Status}, "request_id" when requestID is not empty, and on a 429
// "details": {"retry_after": seconds}.
func (d *Decision) Body(requestID string) []byte {
	e := httpapi.Body{Error: d.Reason, Code: d.Status, RequestID: requestID}
	if d.Status == http.StatusTooManyRequests {
		e.Details = map[string]any{"retry_after": RetrySeconds(d.RetryAfter)}
	}
	b, _ := json.Marshal(e) // strings, ints and a map of them: cannot fail
	return b
}
