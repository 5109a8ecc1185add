package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/pflag"

	"github.com/keygate/keygate/authz"
	"github.com/keygate/keygate/keystore"
	"github.com/keygate/keygate/limiter"
)

// reclaimer empties a limiter's credit lease.
type reclaimer interface {
	Reclaim(ctx context.Context, id string, r limiter.Refill, epoch int64) (left, period int64, err error)
}

// creditLeases is the limiter's leases as keystore's CreditLeases. The
// store is opened before the limiter that spends from it, so the limiter
// is set once made; until then, nothing is leased.
type creditLeases struct{ r atomic.Pointer[reclaimer] }

func (c *creditLeases) set(r reclaimer) { c.r.Store(&r) }

func (c *creditLeases) Reclaim(ctx context.Context, id string, r *keystore.Refill, epoch int64) (int64, int64, error) {
	rc := c.r.Load()
	if rc == nil {
		return 0, 0, nil
	}
	return (*rc).Reclaim(ctx, id, authz.RefillOf(r), epoch)
}

// spent counts one credit spent by key id: in the usage of the key and in
// keygate_credits_spent_total.
func (a *app) spent(id string, at time.Time) {
	a.store.RecordCredit(id, at)
	a.creditsSpent.Inc()
}

// creditCollectors are the credit metrics.
func (a *app) creditCollectors() []prometheus.Collector {
	a.creditsSpent = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "keygate_credits_spent_total", Help: "Credits spent by allowed requests of keys with credits.",
	})
	out := []prometheus.Collector{a.creditsSpent}
	if fb := a.limits.fbCredits; fb != nil {
		out = append(out, prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "keygate_credits_fallbacks_total", Help: "Times credits fell back from Redis to spending in the database.",
		}, func() float64 { return float64(fb.Fallbacks()) }))
	}
	return out
}

// creditFlags are the credit flags of keys create:
//
//	--credits 1000 --refill monthly:1000      1000 now, back to 1000 on the 1st of each month
//	--refill monthly:1000:15                  refill on the 15th (31: each month's last day)
//	--credits 500 --refill daily:500          500 a day, at 00:00 UTC
//
// --refill alone starts with its amount; neither: no credits (unlimited).
type creditFlags struct {
	remaining int64
	refill    string
}

func (c *creditFlags) register(f *pflag.FlagSet) {
	f.Int64Var(&c.remaining, "credits", 0, "credits: uses the key may make (default: unlimited)")
	f.StringVar(&c.refill, "refill", "", "refill of the credits: daily:AMOUNT or monthly:AMOUNT[:DAY] (00:00 UTC; DAY 1-31, default 1)")
}

// parse returns the key's credits; set says whether --credits was given.
func (c *creditFlags) parse(set bool) (*keystore.Credits, error) {
	if !set && c.refill == "" {
		return nil, nil
	}
	out := &keystore.Credits{Remaining: c.remaining}
	if c.refill == "" {
		return out, nil
	}
	r, err := parseRefill(c.refill)
	if err != nil {
		return nil, err
	}
	if !set {
		out.Remaining = r.Amount
	}
	out.Refill = r
	return out, nil
}

func parseRefill(s string) (*keystore.Refill, error) {
	bad := fmt.Errorf("--refill %q: want daily:AMOUNT or monthly:AMOUNT[:DAY]", s)
	parts := strings.Split(s, ":")
	if len(parts) < 2 || len(parts) > 3 || parts[0] == keystore.RefillDaily && len(parts) == 3 {
		return nil, bad
	}
	amount, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil {
		return nil, bad
	}
	r := &keystore.Refill{Interval: parts[0], Amount: amount}
	if len(parts) == 3 {
		if r.Day, err = strconv.Atoi(parts[2]); err != nil {
			return nil, bad
		}
	}
	return r, nil
}
