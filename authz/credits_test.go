package authz_test

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/keygate/keygate/authz"
	"github.com/keygate/keygate/keystore"
	"github.com/keygate/keygate/limiter"
)

// withCredits gives an env's Authorizer a MemoryCredits over its store,
// leasing lease credits at once, and counts what Spent is told.
func withCredits(e **env, lease int64, spent *atomic.Int64) envOption {
	return func(c *authz.Config) {
		c.Credits = &lazySpender{e: e, lease: lease}
		c.Spent = func(string, time.Time) { spent.Add(1) }
	}
}

// lazySpender makes the MemoryCredits on first use, once the env's store
// exists.
type lazySpender struct {
	e     **env
	lease int64
	once  sync.Once
	m     *limiter.MemoryCredits
	err   error
}

func (l *lazySpender) Spend(ctx context.Context, id string, r limiter.Refill) (limiter.Spend, error) {
	l.once.Do(func() {
		e := *l.e
		l.m, l.err = limiter.NewMemoryCredits(limiter.CreditsConfig{Pool: authz.CreditPool{Store: e.store}, Lease: l.lease, Clock: e.clock.Now})
	})
	if l.err != nil {
		return limiter.Spend{}, l.err
	}
	return l.m.Spend(ctx, id, r)
}

func spentCredit(allowed bool, remaining int64, r limiter.Refill, next, period time.Duration) func(*authz.Facts) {
	return func(f *authz.Facts) {
		f.Credit = authz.CreditCount{Done: true, Spend: limiter.Spend{Allowed: allowed, Remaining: remaining, Refill: r, Next: next, Period: period}}
	}
}

// TestDecideCredits: credits are spent last, after every other check, and
// shape the answer.
func TestDecideCredits(t *testing.T) {
	key := verified(t, &keystore.Record{ID: "key-c", Owner: "p", Scopes: []string{"route:GET:/api/**"}, RateLimits: []string{"10/1s"},
		Credits: &keystore.Credits{Remaining: 100, Refill: &keystore.Refill{Interval: "daily", Amount: 100}}})
	okRate := counted(true, 0, state(perSecond, 9, time.Second))
	daily := limiter.Refill{Interval: limiter.Daily, Amount: 100}
	base := func() authz.Facts {
		return authz.Facts{
			Request: authz.Request{Method: "GET", URI: "/api/x", ClientIP: addr("203.0.113.7"), Credential: "kg_presented"},
			Need:    authz.NeedRoute("GET", "/api/x"), Key: key, Policy: key.Policy.(*authz.Policy),
		}
	}
	ids := []string{"X-Keygate-Key-Id", "key-c", "X-Keygate-Owner", "p", "X-Keygate-Scopes", "route:GET:/api/**"}
	cases := []decideCase{
		{name: "scope_refusal_spends_nothing", edit: need(authz.NeedRoute("POST", "/api/x")),
			want: answer{403, hdr(), errBody(403, "no scope of this key grants the request")}, key: "key-c"},
		{name: "rate_limit_refusal_spends_nothing", edit: rate(counted(false, time.Second, state(perSecond, 0, time.Second))),
			want: answer{429, hdr("Ratelimit-Policy", `"1s";q=10;w=1`, "Ratelimit", `"1s";r=0;t=1`, "Retry-After", "1"),
				withDetails(errBody(429, "rate limit exceeded"), 1)}, key: "key-c", retry: time.Second},
		{name: "allowed_by_every_check_spends_a_credit", edit: rate(okRate), step: authz.CountCredits},
		{name: "spent_credit_is_200_with_the_balance",
			edit: then(rate(okRate), spentCredit(true, 41, daily, 90*time.Minute, 24*time.Hour)),
			want: answer{200, hdr(append([]string{"Ratelimit-Policy", `"1s";q=10;w=1, "credits";q=100;w=86400`,
				"Ratelimit", `"1s";r=9;t=1, "credits";r=41;t=5400`}, ids...)...), nil}, key: "key-c"},
		{name: "exhausted_with_a_refill_is_429_until_it",
			edit: then(rate(okRate), spentCredit(false, 0, daily, 90*time.Minute+1, 24*time.Hour)),
			want: answer{429, hdr("Ratelimit-Policy", `"1s";q=10;w=1, "credits";q=100;w=86400`,
				"Ratelimit", `"1s";r=9;t=1, "credits";r=0;t=5401`, "Retry-After", "5401"),
				withDetails(errBody(429, "credits exhausted"), 5401)}, key: "key-c", retry: 90*time.Minute + 1},
		{name: "exhausted_without_refill_is_403",
			edit: then(rate(okRate), spentCredit(false, 0, limiter.Refill{}, 0, 0)),
			want: answer{403, hdr("Ratelimit-Policy", `"1s";q=10;w=1, "credits";q=0`, "Ratelimit", `"1s";r=9;t=1, "credits";r=0`),
				errBody(403, "credits exhausted and no refill is scheduled")}, key: "key-c"},
		{name: "spender_error_is_503",
			edit: then(rate(okRate), func(f *authz.Facts) { f.Credit = authz.CreditCount{Done: true, Err: errors.New("db down")} }),
			want: answer{503, hdr("Ratelimit-Policy", `"1s";q=10;w=1`, "Ratelimit", `"1s";r=9;t=1`), errBody(503, "credits unavailable")}, key: "key-c"},
		{name: "key_whose_credits_were_removed_is_200_without_credits",
			edit: then(rate(okRate), func(f *authz.Facts) {
				f.Credit = authz.CreditCount{Done: true, Spend: limiter.Spend{Allowed: true, Unlimited: true}}
			}),
			want: answer{200, hdr(append([]string{"Ratelimit-Policy", `"1s";q=10;w=1`, "Ratelimit", `"1s";r=9;t=1`}, ids...)...), nil}, key: "key-c"},
	}
	for _, tt := range cases {
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
			if d.RetryAfter != tt.retry {
				t.Errorf("RetryAfter = %v, want %v", d.RetryAfter, tt.retry)
			}
		})
	}
}

// TestCheckCredits: through a real store and MemoryCredits, a key of 3
// daily credits spends one per allowed request, nothing on a refusal for
// scope or rate, is refused with 429 until midnight UTC, and refills then.
func TestCheckCredits(t *testing.T) {
	var e *env
	var spent atomic.Int64
	e = newEnv(t, withCredits(&e, 2, &spent))
	_, key := e.key(t, keystore.Spec{Scopes: []string{"route:GET:/**"}, RateLimits: []string{"2/1s"},
		Credits: &keystore.Credits{Remaining: 3, Refill: &keystore.Refill{Interval: "daily", Amount: 3}}})
	ip := "198.51.100.1"
	got := statuses(
		check(e, key, ip, "POST", "/a"),                                // no scope: 403
		check(e, key, ip, "GET", "/a"), check(e, key, ip, "GET", "/a"), // 2 credits
		check(e, key, ip, "GET", "/a"), // over 2/1s: 429, no credit
	)
	e.clock.Add(2 * time.Second) // the sliding window of 2/1s is empty again
	last := check(e, key, ip, "GET", "/a")
	exhausted := check(e, key, ip, "GET", "/a")
	if diff := cmp.Diff([]int{403, 200, 200, 429, 200, 429}, append(got, last.Status, exhausted.Status)); diff != "" {
		t.Fatalf("statuses (-want +got):\n%s", diff)
	}
	if s, _ := last.Credits(); s.Remaining != 0 {
		t.Fatalf("balance after the third credit = %d, want 0", s.Remaining)
	}
	// 10:00:02 UTC: the refill is at midnight, 13:59:58 away.
	want := answer{429, hdr("Ratelimit-Policy", `"1s";q=2;w=1, "credits";q=3;w=86400`,
		"Ratelimit", `"1s";r=0;t=2, "credits";r=0;t=50398`, "Retry-After", "50398"),
		withDetails(errBody(429, "credits exhausted"), 50398)}
	if diff := cmp.Diff(want, answerOf(t, exhausted)); diff != "" {
		t.Fatalf("exhausted answer (-want +got):\n%s", diff)
	}
	e.clock.Add(50398 * time.Second)
	refilled := check(e, key, ip, "GET", "/a")
	s, _ := refilled.Credits()
	if diff := cmp.Diff([2]int64{200, 2}, [2]int64{int64(refilled.Status), s.Remaining}); diff != "" {
		t.Fatalf("at midnight: status, balance (-want +got):\n%s", diff)
	}
	if spent.Load() != 4 {
		t.Fatalf("credits spent = %d, want 4", spent.Load())
	}
}

func TestCheckCreditsWithoutRefillIs403(t *testing.T) {
	var e *env
	var spent atomic.Int64
	e = newEnv(t, withCredits(&e, 10, &spent))
	_, key := e.key(t, keystore.Spec{Scopes: []string{"route:GET:/**"}, Credits: &keystore.Credits{Remaining: 1}})
	got := statuses(check(e, key, "198.51.100.1", "GET", "/a"), check(e, key, "198.51.100.1", "GET", "/a"))
	if diff := cmp.Diff([]int{http.StatusOK, http.StatusForbidden}, got); diff != "" {
		t.Fatalf("statuses (-want +got):\n%s", diff)
	}
}

// TestCreditsThroughAuthenticateAndCheckKey: a valid key with credits is
// authenticated (200, no credit spent: Authenticate counts nothing), and a
// session's key spends its credit as Check does.
func TestCreditsThroughAuthenticateAndCheckKey(t *testing.T) {
	var e *env
	var spent atomic.Int64
	e = newEnv(t, withCredits(&e, 10, &spent))
	rec, key := e.key(t, keystore.Spec{Scopes: []string{"route:GET:/**"}, Credits: &keystore.Credits{Remaining: 1}})
	req := authz.Request{Method: "GET", URI: "/a", Credential: key, ClientIP: addr("198.51.100.1")}
	got := []int{
		e.auth.Authenticate(ctx, req).Status,
		e.auth.CheckKey(ctx, req, rec, authz.NeedRoute("GET", "/a")).Status,
		e.auth.CheckKey(ctx, req, rec, authz.NeedRoute("GET", "/a")).Status,
		e.auth.Authenticate(ctx, req).Status,
	}
	want := []int{http.StatusOK, http.StatusOK, http.StatusForbidden, http.StatusOK}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("authenticate, session spends, session exhausted, authenticate (-want +got):\n%s", diff)
	}
	if spent.Load() != 1 {
		t.Fatalf("credits spent = %d, want 1", spent.Load())
	}
}

// TestDeferredCredits: an allowed decision for a Need with DeferCredits
// spends nothing until SpendCredit, which spends once; a call refused in
// between (no SpendCredit) spends nothing; SpendCredit on an exhausted key
// turns the decision into the refusal Check would give.
func TestDeferredCredits(t *testing.T) {
	var e *env
	var spent atomic.Int64
	e = newEnv(t, withCredits(&e, 10, &spent))
	_, key := e.key(t, keystore.Spec{Scopes: []string{"odoo:res.partner:read"}, Credits: &keystore.Credits{Remaining: 1}})
	req := authz.Request{Method: "POST", URI: "/jsonrpc", Credential: key, ClientIP: addr("198.51.100.1")}
	need := authz.NeedOdoo("res.partner", "read").DeferCredits()

	refused := e.auth.Check(ctx, req, need) // the caller's own check refuses it: no SpendCredit
	d := e.auth.Check(ctx, req, need)
	before := spent.Load()
	e.auth.SpendCredit(ctx, &d)
	e.auth.SpendCredit(ctx, &d) // at most once
	last := e.auth.Check(ctx, req, need)
	e.auth.SpendCredit(ctx, &last)
	got := []int64{int64(refused.Status), before, int64(d.Status), spent.Load(), int64(last.Status)}
	want := []int64{http.StatusOK, 0, http.StatusOK, 1, http.StatusForbidden}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("deferred status, spent before SpendCredit, status after, spent, exhausted status (-want +got):\n%s", diff)
	}
}
