package authz

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/keygate/keygate/keystore"
	"github.com/keygate/keygate/limiter"
)

// Reasons of a refusal for credits: 429 when a refill is scheduled
// (Retry-After until it), 403 when none is.
const (
	ReasonCredits         = "credits exhausted"
	ReasonCreditsNoRefill = "credits exhausted and no refill is scheduled"
	ReasonCreditsDown     = "credits unavailable"
)

// CreditSpender spends one credit of a key: *limiter.MemoryCredits,
// *limiter.RedisCredits and *limiter.FallbackCredits are.
type CreditSpender interface {
	Spend(ctx context.Context, id string, r limiter.Refill) (limiter.Spend, error)
}

// CreditCount is the spender's answer.
type CreditCount struct {
	Done  bool // the spender was asked
	Spend limiter.Spend
	Err   error
}

// compileCredits turns a key's credits into the refill the spender needs;
// nil when the key has none.
func compileCredits(c *keystore.Credits) *limiter.Refill {
	if c == nil {
		return nil
	}
	r := RefillOf(c.Refill)
	return &r
}

// RefillOf is keystore's refill as the limiter's: no refill for nil.
func RefillOf(r *keystore.Refill) limiter.Refill {
	var out limiter.Refill
	if r == nil {
		return out
	}
	out.Amount, out.Day = r.Amount, r.Day
	switch r.Interval {
	case keystore.RefillDaily:
		out.Interval = limiter.Daily
	case keystore.RefillMonthly:
		out.Interval = limiter.Monthly
	}
	return out
}

// decideCredits answers a request that every other check allowed: once
// one credit is spent (keys with credits only), 200; 429 or 403 when none
// is left; 503 when the spender could not decide.
func decideCredits(f *Facts, d *Decision) Step {
	switch {
	case f.Policy.credits == nil:
		d.set(http.StatusOK, "")
	case !f.Credit.Done && f.Need.deferCredits:
		d.owed = f.Policy.credits
		d.set(http.StatusOK, "")
	case !f.Credit.Done:
		return CountCredits
	case f.Credit.Err != nil:
		d.Err = f.Credit.Err
		d.set(http.StatusServiceUnavailable, ReasonCreditsDown)
	case f.Credit.Spend.Unlimited:
		d.set(http.StatusOK, "")
	default:
		d.credits, d.hasCredits = f.Credit.Spend, true
		switch {
		case f.Credit.Spend.Allowed:
			d.set(http.StatusOK, "")
		case f.Credit.Spend.Next > 0:
			d.RetryAfter = f.Credit.Spend.Next
			d.set(http.StatusTooManyRequests, ReasonCredits)
		default:
			d.set(http.StatusForbidden, ReasonCreditsNoRefill)
		}
	}
	return Done
}

// SpendCredit spends the credit that an allowed decision for a Need with
// DeferCredits still owes, and turns d into the refusal decideCredits
// gives when none is left (429 or 403) or the spender cannot answer (503).
// It does nothing to any other decision, and spends at most once.
func (a *Authorizer) SpendCredit(ctx context.Context, d *Decision) {
	if d.owed == nil || !d.Allowed() || d.policy == nil || d.Key == nil {
		return
	}
	f := Facts{Policy: d.policy}
	a.spendCredit(ctx, d.Key.ID, d.owed, &f.Credit)
	d.owed = nil
	decideCredits(&f, d)
	if !d.Allowed() {
		a.finishCredits(ctx, d)
	}
}

// OwesCredit reports whether d, allowed for a Need with DeferCredits, has
// not spent its credit yet (SpendCredit spends it).
func (d *Decision) OwesCredit() bool { return d.owed != nil && d.Allowed() }

// Credits returns the balance after the request and whether the key has
// credits that were spent or checked.
func (d *Decision) Credits() (limiter.Spend, bool) { return d.credits, d.hasCredits }

// writeCredits adds the "credits" policy to the RateLimit-Policy and
// RateLimit fields:
//
//	RateLimit-Policy: "credits";q=<refill amount>;w=<seconds of the refill period>   (q=<balance> without refill)
//	RateLimit: "credits";r=<balance>;t=<seconds until the refill>                     (no t without refill)
func (d *Decision) writeCredits(h map[string][]string) {
	if !d.hasCredits {
		return
	}
	s := &d.credits
	pol := []byte(`"credits";q=`)
	if s.Period > 0 {
		pol = strconv.AppendInt(pol, s.Refill.Amount, 10)
		pol = append(pol, ";w="...)
		pol = strconv.AppendInt(pol, int64(s.Period/time.Second), 10)
	} else {
		pol = strconv.AppendInt(pol, s.Remaining, 10)
	}
	rl := strconv.AppendInt([]byte(`"credits";r=`), s.Remaining, 10)
	if s.Next > 0 {
		rl = append(rl, ";t="...)
		rl = strconv.AppendInt(rl, ceilSeconds(s.Next), 10)
	}
	h[HeaderRateLimitPolicy] = []string{joinField(h[HeaderRateLimitPolicy], pol)}
	h[HeaderRateLimit] = []string{joinField(h[HeaderRateLimit], rl)}
}

func joinField(v []string, item []byte) string {
	if len(v) == 0 || v[0] == "" {
		return string(item)
	}
	return v[0] + ", " + string(item)
}

// spendCredit spends a credit of key id into c.
func (a *Authorizer) spendCredit(ctx context.Context, id string, r *limiter.Refill, c *CreditCount) {
	c.Done = true
	c.Spend, c.Err = a.credits.Spend(ctx, id, *r)
	if c.Err == nil && c.Spend.Allowed && !c.Spend.Unlimited && a.spent != nil {
		a.spent(id, a.now())
	}
}

// noCredits is the spender of an Authorizer configured without one.
type noCredits struct{}

var errNoSpender = errors.New("authz: no credit spender configured")

func (noCredits) Spend(context.Context, string, limiter.Refill) (limiter.Spend, error) {
	return limiter.Spend{}, errNoSpender
}

// finishCredits logs a deferred spend that could not decide. The request
// was counted as allowed in the usage table when Check allowed it; a
// refusal for credits here is not counted again.
func (a *Authorizer) finishCredits(ctx context.Context, d *Decision) {
	if d.Err != nil {
		a.log.LogAttrs(ctx, slog.LevelWarn, "authorization failed to decide",
			slog.Int("status", d.Status), slog.Any("error", d.Err), slog.String("key_id", d.Key.ID))
	}
}
