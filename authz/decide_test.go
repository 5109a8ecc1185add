package authz_test

import (
	"errors"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/keygate/keygate/authz"
	"github.com/keygate/keygate/keystore"
	"github.com/keygate/keygate/limiter"
)

// Limits of the decision tests.
var (
	perSecond  = limiter.Limit{Count: 10, Window: time.Second}
	perHour    = limiter.Limit{Count: 5000, Window: time.Hour}
	failLimit  = limiter.Limit{Count: 3, Window: time.Minute}
	defaultsPS = limiter.Limit{Count: 100, Window: time.Second}
)

// counted is a limiter answer for the decision tables.
func counted(allowed bool, retry time.Duration, states ...limiter.WindowState) authz.Count {
	d := limiter.Decision{Allowed: allowed, RetryAfter: retry, N: len(states)}
	copy(d.Windows[:], states)
	return authz.Count{Done: true, Decision: d}
}

func state(l limiter.Limit, remaining int64, reset time.Duration) limiter.WindowState {
	return limiter.WindowState{Limit: l, Remaining: remaining, Reset: reset}
}

// decideCase is one row of TestDecide: facts are built from a base by
// edit; want is what the client sees.
type decideCase struct {
	name  string
	edit  func(f *authz.Facts)
	step  authz.Step
	want  answer
	key   string        // the id of Decision.Key, "" for none
	retry time.Duration // Decision.RetryAfter
}

func TestDecide(t *testing.T) {
	full := verified(t, &keystore.Record{
		ID: "key-1", Owner: "partner-42", Scopes: []string{"route:GET:/api/**", "odoo:res.partner:read"},
		RateLimits: []string{"10/1s", "5000/1h"}, IPAllowlist: []string{"203.0.113.0/24", "2001:db8::/32"},
	})
	bare := verified(t, &keystore.Record{ID: "key-2", Scopes: []string{"route:*:/**"}})
	defaults := authz.NewLimitSet([]limiter.Limit{defaultsPS})
	base := func() authz.Facts {
		return authz.Facts{
			Request: authz.Request{Method: "GET", URI: "/api/v1/x", ClientIP: addr("203.0.113.7"), Credential: "kg_presented"},
			Need:    authz.NeedRoute("GET", "/api/v1/x"),
			Key:     full, Policy: full.Policy.(*authz.Policy),
			Defaults: &defaults,
		}
	}
	for _, tt := range decideTable(full, bare) {
		t.Run(tt.name, func(t *testing.T) {
			f := base()
			tt.edit(&f)
			d, step := authz.Decide(&f)
			if step != tt.step {
				t.Fatalf("step = %v, want %v", step, tt.step)
			}
			if step != authz.Done {
				return
			}
			if diff := cmp.Diff(tt.want, answerOf(t, d)); diff != "" {
				t.Errorf("answer (-want +got):\n%s", diff)
			}
			if got := keyID(d); got != tt.key {
				t.Errorf("Decision.Key = %q, want %q", got, tt.key)
			}
			if d.RetryAfter != tt.retry {
				t.Errorf("RetryAfter = %v, want %v", d.RetryAfter, tt.retry)
			}
		})
	}
}

func keyID(d authz.Decision) string {
	if d.Key == nil {
		return ""
	}
	return d.Key.ID
}

func verifyFailed(err error, key *keystore.Verified) func(*authz.Facts) {
	return func(f *authz.Facts) { f.Key, f.Policy, f.VerifyErr = key, nil, err }
}

func then(edits ...func(*authz.Facts)) func(*authz.Facts) {
	return func(f *authz.Facts) {
		for _, e := range edits {
			e(f)
		}
	}
}

func failures(c authz.Count) func(*authz.Facts) { return func(f *authz.Facts) { f.Failure = c } }
func rate(c authz.Count) func(*authz.Facts)     { return func(f *authz.Facts) { f.Rate = c } }
func clientIP(s string) func(*authz.Facts) {
	return func(f *authz.Facts) { f.Request.ClientIP = addr(s) }
}
func need(n authz.Need) func(*authz.Facts) { return func(f *authz.Facts) { f.Need = n } }

func decideTable(full, bare *keystore.Verified) []decideCase {
	okFail := counted(true, 0, state(failLimit, 2, time.Minute))
	okRate := counted(true, 0, state(perSecond, 9, time.Second), state(perHour, 4999, time.Hour))
	invalid := `Bearer realm="keygate", error="invalid_token"`
	failFields := []string{"Ratelimit-Policy", `"1m";q=3;w=60`, "Ratelimit", `"1m";r=2;t=60`}
	allowedHeaders := hdr("Ratelimit-Policy", `"1s";q=10;w=1, "1h";q=5000;w=3600`, "Ratelimit", `"1s";r=9;t=1, "1h";r=4999;t=3600`,
		"X-Keygate-Key-Id", "key-1", "X-Keygate-Owner", "partner-42", "X-Keygate-Scopes", "route:GET:/api/**,odoo:res.partner:read")
	return []decideCase{
		{
			name: "missing_credential_is_401_without_counting", edit: func(f *authz.Facts) { f.Request.Credential = "" },
			want: answer{401, hdr("Www-Authenticate", `Bearer realm="keygate"`), errBody(401, "missing credential")},
		},
		{name: "malformed_key_counts_a_failure_first", edit: verifyFailed(keystore.ErrMalformed, nil), step: authz.CountFailure},
		{
			name: "malformed_key_is_401", edit: then(verifyFailed(keystore.ErrMalformed, nil), failures(okFail)),
			want: answer{401, hdr(append(failFields, "Www-Authenticate", invalid)...), errBody(401, "malformed key")},
		},
		{
			name: "unknown_key_is_401", edit: then(verifyFailed(keystore.ErrUnknown, nil), failures(okFail)),
			want: answer{401, hdr(append(failFields, "Www-Authenticate", invalid)...), errBody(401, "unknown key")},
		},
		{
			name: "revoked_key_is_401", edit: then(verifyFailed(keystore.ErrRevoked, full), failures(okFail)),
			want: answer{401, hdr(append(failFields, "Www-Authenticate", invalid)...), errBody(401, "key revoked")}, key: "key-1",
		},
		{
			name: "expired_key_is_401", edit: then(verifyFailed(keystore.ErrExpired, full), failures(okFail)),
			want: answer{401, hdr(append(failFields, "Www-Authenticate", invalid)...), errBody(401, "key expired")}, key: "key-1",
		},
		{
			name: "too_many_failures_is_429",
			edit: then(verifyFailed(keystore.ErrUnknown, nil), failures(counted(false, 19200*time.Millisecond, state(failLimit, 0, 50*time.Second)))),
			want: answer{429, hdr("Ratelimit-Policy", `"1m";q=3;w=60`, "Ratelimit", `"1m";r=0;t=50`, "Retry-After", "20"),
				withDetails(errBody(429, "too many failed authentications"), 20)},
			retry: 19200 * time.Millisecond,
		},
		{
			name: "failure_limiter_error_is_still_401",
			edit: then(verifyFailed(keystore.ErrUnknown, nil), failures(authz.Count{Done: true, Err: errors.New("redis down")})),
			want: answer{401, hdr("Www-Authenticate", invalid), errBody(401, "unknown key")},
		},
		{
			name: "storage_unavailable_is_503", edit: verifyFailed(fmt.Errorf("keystore: verify: %w: timeout", keystore.ErrUnavailable), nil),
			want: answer{503, hdr(), errBody(503, "key storage unavailable")},
		},
		{
			name: "other_verify_error_is_500", edit: verifyFailed(errors.New("stored policy does not compile"), nil),
			want: answer{500, hdr(), errBody(500, "internal error")},
		},
		{
			name: "policy_error_is_500", edit: func(f *authz.Facts) { f.Policy, f.PolicyErr = nil, errors.New("bad scope") },
			want: answer{500, hdr(), errBody(500, "internal error")}, key: "key-1",
		},
		{
			name: "address_outside_ipv4_allowlist_is_403", edit: then(clientIP("198.51.100.7"), rate(okRate)),
			want: answer{403, hdr(), errBody(403, "client address not allowed for this key")}, key: "key-1",
		},
		{
			name: "address_outside_ipv6_allowlist_is_403", edit: then(clientIP("2001:db9::1"), rate(okRate)),
			want: answer{403, hdr(), errBody(403, "client address not allowed for this key")}, key: "key-1",
		},
		{
			name: "unknown_address_with_an_allowlist_is_403", edit: func(f *authz.Facts) { f.Request.ClientIP = netipZero },
			want: answer{403, hdr(), errBody(403, "client address not allowed for this key")}, key: "key-1",
		},
		{
			name: "address_inside_ipv6_allowlist_is_allowed", edit: then(clientIP("2001:db8:1::5"), rate(okRate)),
			want: answer{200, allowedHeaders, nil}, key: "key-1",
		},
		{
			name: "ipv4_mapped_address_inside_ipv4_allowlist_is_allowed", edit: then(clientIP("::ffff:203.0.113.200"), rate(okRate)),
			want: answer{200, allowedHeaders, nil}, key: "key-1",
		},
		{
			name: "no_scope_for_the_route_is_403", edit: need(authz.NeedRoute("POST", "/api/v1/x")),
			want: answer{403, hdr(), errBody(403, "no scope of this key grants the request")}, key: "key-1",
		},
		{
			name: "no_scope_for_the_odoo_call_is_403", edit: need(authz.NeedOdoo("res.partner", "write")),
			want: answer{403, hdr(), errBody(403, "no scope of this key grants the request")}, key: "key-1",
		},
		{
			name: "private_odoo_method_is_403", edit: need(authz.NeedOdoo("res.partner", "_search")),
			want: answer{403, hdr(), errBody(403, "method not allowed")}, key: "key-1",
		},
		{
			name: "target_not_in_normal_form_is_400_before_the_key_is_looked_at", edit: need(authz.NeedRoute("GET", "/api/%2e%2e/admin")),
			want: answer{400, hdr(), errBody(400, "invalid request target")},
		},
		{name: "granted_request_is_counted_first", edit: func(*authz.Facts) {}, step: authz.CountRequest},
		{
			name: "granted_and_within_limits_is_200", edit: rate(okRate),
			want: answer{200, allowedHeaders, nil}, key: "key-1",
		},
		{
			name: "granted_odoo_read_is_200", edit: then(need(authz.NeedOdoo("res.partner", "search_read")), rate(okRate)),
			want: answer{200, allowedHeaders, nil}, key: "key-1",
		},
		{
			name: "over_a_limit_is_429_with_retry_after_at_least_1",
			edit: rate(counted(false, 300*time.Millisecond, state(perSecond, 0, 1700*time.Millisecond), state(perHour, 4990, time.Hour))),
			want: answer{429, hdr("Ratelimit-Policy", `"1s";q=10;w=1, "1h";q=5000;w=3600`, "Ratelimit", `"1s";r=0;t=2, "1h";r=4990;t=3600`,
				"Retry-After", "1"), withDetails(errBody(429, "rate limit exceeded"), 1)},
			key: "key-1", retry: 300 * time.Millisecond,
		},
		{
			name: "limiter_error_is_503_never_200", edit: rate(authz.Count{Done: true, Err: errors.New("redis timeout")}),
			want: answer{503, hdr(), errBody(503, "rate limiter unavailable")}, key: "key-1",
		},
		{
			name: "key_without_limits_gets_the_defaults",
			edit: func(f *authz.Facts) {
				f.Key, f.Policy = bare, bare.Policy.(*authz.Policy)
				f.Rate = counted(true, 0, state(defaultsPS, 99, time.Second))
			},
			want: answer{200, hdr("Ratelimit-Policy", `"1s";q=100;w=1`, "Ratelimit", `"1s";r=99;t=1`,
				"X-Keygate-Key-Id", "key-2", "X-Keygate-Owner", "", "X-Keygate-Scopes", "route:*:/**"), nil},
			key: "key-2",
		},
		{
			name: "key_without_limits_and_no_defaults_is_not_counted",
			edit: func(f *authz.Facts) { f.Key, f.Policy, f.Defaults = bare, bare.Policy.(*authz.Policy), nil },
			want: answer{200, hdr("X-Keygate-Key-Id", "key-2", "X-Keygate-Owner", "", "X-Keygate-Scopes", "route:*:/**"), nil},
			key:  "key-2",
		},
	}
}

var netipZero netip.Addr

func withDetails(body map[string]any, retry float64) map[string]any {
	body["details"] = map[string]any{"retry_after": retry}
	return body
}

func TestBodyHasTheRequestID(t *testing.T) {
	d, _ := authz.Decide(&authz.Facts{})
	got := decodeBody(t, d.Body("req-7"))
	want := map[string]any{"error": "missing credential", "code": float64(401), "request_id": "req-7"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("body (-want +got):\n%s", diff)
	}
}
