package limiter

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

//go:embed allow.lua
var allowLua string

// allowHash is the SHA1 of allow.lua, for EVALSHA.
var allowHash = redis.NewScript(allowLua).Hash()

// Defaults of RedisConfig.
const (
	DefaultPrefix       = "kg"
	DefaultRedisTimeout = 50 * time.Millisecond
)

// Key lifetimes beyond the two windows they count in: a little, to absorb
// clock steps; an hour when time is injected, since injected time does not
// follow the clock by which Redis expires keys.
const (
	keepAfter         = time.Second
	keepAfterInjected = time.Hour
)

// RedisConfig configures a Redis limiter.
type RedisConfig struct {
	// Client is used as is and not closed by Close. It should have
	// ContextTimeoutEnabled, as NewRedisClient's clients do, or Timeout
	// will not bound the wait for a reply.
	Client redis.UniversalClient
	// URL is used when Client is nil; see NewRedisClient. Close closes the
	// client made from it.
	URL string
	// Prefix starts every key, inside the hash tag: "{<prefix>:<id>}:...".
	// Empty means DefaultPrefix. It must not contain '{' or '}'.
	Prefix string
	// Timeout bounds each Allow; 0 means DefaultRedisTimeout.
	Timeout time.Duration
	// LeaseMax is the most requests of an id that Redis leases to the
	// replica at once, to be decided here without Redis while the id is
	// far from its limits (see doc.go, Leases); 0 disables leasing. Every
	// replica of one Redis should lease, or none: one that does not denies
	// without waiting for the leases of the others to end.
	LeaseMax int64
	// LeaseTTL is how long a lease lasts; 0 means DefaultLeaseTTL. It
	// should be well under Timeout.
	LeaseTTL time.Duration
	// Now replaces Redis's clock. For tests only: with it, replicas no longer
	// agree on the time, which is what Redis TIME is for.
	Now func() time.Time
}

// Redis is the limiter shared by every replica: the counts live in Redis,
// and a Lua script checks and counts all the windows of a request
// atomically, at Redis's time. Concurrent calls share round trips and
// script runs (see pipeliner).
type Redis struct {
	client  redis.UniversalClient
	owned   bool
	prefix  string
	timeout time.Duration
	now     func() time.Time
	pipe    *pipeliner
	// offset is Redis's clock minus the local clock, as last seen (ms), so
	// that a call's keys are those of Redis's time even when the clocks
	// differ. skew is added to every guess, for tests only.
	offset atomic.Int64
	skew   int64
	// leases are the replica's leases, nil without leasing.
	leaseMax int64
	leaseTTL time.Duration
	leases   *leaseTable
}

// NewRedis validates cfg, fills its defaults and returns a Redis limiter.
// It does not connect: a Redis that is down shows in Allow's errors.
func NewRedis(cfg RedisConfig) (*Redis, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	r := &Redis{client: cfg.Client, prefix: cfg.Prefix, timeout: cfg.Timeout, now: cfg.Now, leaseMax: cfg.LeaseMax, leaseTTL: cfg.LeaseTTL}
	if r.prefix == "" {
		r.prefix = DefaultPrefix
	}
	if r.timeout == 0 {
		r.timeout = DefaultRedisTimeout
	}
	if r.leaseTTL == 0 {
		r.leaseTTL = DefaultLeaseTTL
	}
	if r.leaseMax > 0 {
		r.leases = newLeaseTable()
	}
	if r.client == nil {
		c, err := NewRedisClient(cfg.URL)
		if err != nil {
			return nil, err
		}
		r.client, r.owned = c, true
	}
	keep := keepAfter
	if r.now != nil {
		keep = keepAfterInjected
	}
	r.pipe = newPipeliner(r.client, keep.Milliseconds(), r.leaseTTL.Milliseconds())
	r.pipe.leaseMax, r.pipe.leases = r.leaseMax, r.leases
	return r, nil
}

func (cfg RedisConfig) check() error {
	var errs []error
	if (cfg.Client == nil) == (cfg.URL == "") {
		errs = append(errs, errors.New("limiter: set one of RedisConfig.Client and RedisConfig.URL"))
	}
	if strings.ContainsAny(cfg.Prefix, "{}") {
		errs = append(errs, fmt.Errorf("limiter: redis prefix %q contains { or }", cfg.Prefix))
	}
	if cfg.Timeout < 0 {
		errs = append(errs, fmt.Errorf("limiter: negative redis timeout %s", cfg.Timeout))
	}
	if cfg.LeaseMax < 0 || cfg.LeaseMax > MaxCount {
		errs = append(errs, fmt.Errorf("limiter: redis lease %d outside 0 to %d", cfg.LeaseMax, MaxCount))
	}
	if cfg.LeaseTTL < 0 || cfg.LeaseTTL%time.Millisecond != 0 {
		errs = append(errs, fmt.Errorf("limiter: redis lease ttl %s not a whole number of milliseconds", cfg.LeaseTTL))
	}
	return errors.Join(errs...)
}

// Allow decides whether cost more fits every limit of id and, if so,
// counts it in all of them, in one run of allow.lua, alone or with
// concurrent calls (see pipeliner), or with leasing from the replica's
// lease of id when it holds one (see doc.go, Leases). It waits at most the
// timeout, or until ctx's deadline if sooner; ctx's cancellation is
// noticed until the call is sent. An error means Redis did not answer in
// time or answered unexpectedly.
func (r *Redis) Allow(ctx context.Context, id string, limits []Limit, cost int64) (d Decision, err error) {
	err = r.allow(ctx, &d, id, limits, cost)
	return d, err
}

// allow is Allow deciding into d (see decide), for Fallback.
func (r *Redis) allow(ctx context.Context, d *Decision, id string, limits []Limit, cost int64) error {
	if err := checkRequest(id, limits, cost); err != nil {
		return err
	}
	start := time.Now()
	deadline := start.Add(r.timeout)
	if dl, ok := ctx.Deadline(); ok && dl.Before(deadline) {
		deadline = dl
	}
	for now := start; ; now = time.Now() {
		var old *share
		var settle *call
		var asking bool
		if r.leases != nil {
			var ok bool
			if ok, old, settle, asking = r.fromLease(ctx, now, deadline, id, limits, cost, d); ok {
				return nil
			}
		}
		pending, err := r.ask(ctx, deadline, id, limits, cost, old, settle, asking, d)
		if old != nil {
			putCall(settle)
			r.ended(old)
		}
		if err != nil || pending <= 0 {
			return err
		}
		// Denied while leases of id were outstanding. If one is this
		// replica's (held, or being granted to a concurrent call), decide
		// from it or end it at once; else ask again once the first ends, if
		// there is time. Until then the denial stands.
		if r.leases.get(id) != nil || awaited(ctx, r.leases.inFlight(id), deadline) {
			continue
		}
		wait := ms(pending)
		if !time.Now().Add(wait).Before(deadline) || !sleep(ctx, wait) {
			return nil
		}
	}
}

// ask decides one request in allow.lua, with settle, the settlement of
// old, the lease of id it ended, if not nil. When leases of id made it a
// denial, pending is how long until the first of them ends, in
// milliseconds (at least 1).
//
// With leasing, it asks for a lease when id is busy: its last lease was
// spent, or it asked Redis a lease's time ago at most (leaseTable.busy);
// the pipeliner also asks for one when concurrent calls of id go
// together. Otherwise it asks for none: lease 1 is below the smallest.
//
// It decides into d, as fromLease does: a Decision returned through each
// of them would deepen /auth's stack (see decide).
func (r *Redis) ask(ctx context.Context, deadline time.Time, id string, limits []Limit, cost int64, old *share, settle *call, asking bool, d *Decision) (pending int64, err error) {
	start := time.Now()
	now, sent := int64(-1), start.UnixMilli()
	guess := sent + r.offset.Load()
	if r.now != nil {
		now = r.now().UnixMilli()
		guess = now
	}
	c := getCall(ctx, deadline, r.prefix, id, limits, cost, now, guess+r.skew)
	defer putCall(c)
	if r.leases != nil {
		c.lease, c.settle = 1, settle
		if asking || (r.leases.busy(id, guess, r.leaseTTL.Milliseconds()) || old != nil && old.renew) && r.leases.ask(id) {
			c.lease, c.asking = r.leaseMax, true
		}
	}
	r.pipe.do(c)
	if c.asking {
		// After the grant below, if any: until then no other call asks.
		defer r.leases.asked(id)
	}
	if c.err != nil {
		reloadTopology(r.client)
		*d = Decision{}
		return 0, fmt.Errorf("limiter: redis allow: %w", c.err)
	}
	if err = r.decision(d, limits, cost, c.reply, sent); err != nil {
		*d = Decision{}
		return 0, err
	}
	if c.lease > 0 && c.rank == 0 && d.Allowed {
		r.grant(c, limits, cost, start)
	}
	if until := c.granted[2]; until > 0 && !d.Allowed {
		pending = max(until-c.reply[2*c.n+1], 0) + 1
	}
	return pending, nil
}

// sleep waits d, or until ctx is done; it reports whether it waited d.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// decision computes the decision from allow.lua's reply: the counts it
// read and Redis's time, with decide, as Memory does. The script's own
// check must agree with decide's.
func (r *Redis) decision(d *Decision, limits []Limit, cost int64, reply []int64, sent int64) error {
	n := len(limits)
	if len(reply) != 2*n+2 {
		return fmt.Errorf("limiter: redis allow: %d values in reply, want %d", len(reply), 2*n+2)
	}
	var c [MaxWindows]counts
	for i := range n {
		c[i] = counts{prev: reply[2*i], curr: reply[2*i+1]}
	}
	allowed, now := reply[2*n] == 1, reply[2*n+1]
	decide(d, now, limits, cost, &c)
	if d.Allowed != allowed {
		return fmt.Errorf("limiter: redis allow: script admitted %t, decide %t at %d", allowed, d.Allowed, now)
	}
	if r.now == nil {
		r.offset.Store(now - sent)
	}
	return nil
}

// reloadTopology asks a Cluster client to read the cluster's slots again
// after a failed call: go-redis reloads them by itself only on a MOVED
// reply or once a minute, so a client would go on calling a dead master
// for up to a minute after its replica took over. Reloads are coalesced
// (one at a time, 200ms apart), so calling this on every failure is cheap.
func reloadTopology(c redis.UniversalClient) {
	if cc, ok := c.(*redis.ClusterClient); ok {
		cc.ReloadState(context.Background())
	}
}

// Close ends the leases held, returning what they did not spend, waits
// for the pipelines in flight and closes the client that NewRedis made
// from RedisConfig.URL.
func (r *Redis) Close() error {
	if r.leases != nil {
		for _, l := range r.leases.all() {
			l.timer.Stop()
			r.expire(l)
			<-l.settled
		}
	}
	r.pipe.wait()
	if !r.owned {
		return nil
	}
	return r.client.Close()
}
