package limiter

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/keygate/keygate/internal/testenv"
)

// testPool is the database's side of credits (keystore.Store.TakeCredits
// and AdjustCredits), which limiter may not import: the same rules on a
// map. cmd's tests run the real store.
type testPool struct {
	mu    sync.Mutex
	accts map[string]*poolAccount
	takes atomic.Int64
	down  atomic.Bool
}

type poolAccount struct {
	remaining, refilledAt, epoch int64
	refill                       Refill
}

var errPoolDown = errors.New("test pool down")

func newTestPool() *testPool { return &testPool{accts: map[string]*poolAccount{}} }

// add gives id credits set at instant at.
func (p *testPool) add(id string, remaining int64, r Refill, at time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.accts[id] = &poolAccount{remaining: remaining, refilledAt: at.UnixMilli(), refill: r}
}

func (p *testPool) Take(_ context.Context, id string, period, max int64) (Grant, error) {
	p.takes.Add(1)
	if p.down.Load() {
		return Grant{}, errPoolDown
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	a := p.accts[id]
	if a == nil {
		return Grant{}, ErrNoCredits
	}
	if a.refill.Interval != NoRefill && period > a.refilledAt {
		a.remaining, a.refilledAt, a.epoch = a.refill.Amount, period, a.epoch+1
	}
	block := min(max, a.remaining)
	a.remaining -= block
	return Grant{Block: block, Remaining: a.remaining, Epoch: a.epoch}, nil
}

func (p *testPool) remaining(id string) int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.accts[id].remaining
}

type reclaimer interface {
	Reclaim(ctx context.Context, id string, r Refill, epoch int64) (left, period int64, err error)
}

// adjust is AdjustCredits: reclaim the lease into the balance, then apply
// op, in a new epoch.
func (p *testPool) adjust(tb testing.TB, rc reclaimer, id, op string, value int64) int64 {
	tb.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	a := p.accts[id]
	left, period, err := rc.Reclaim(context.Background(), id, a.refill, a.epoch)
	if err != nil {
		tb.Fatal(err)
	}
	if a.refill.Interval != NoRefill && period > a.refilledAt {
		a.remaining, a.refilledAt, left = a.refill.Amount, period, 0
	}
	a.remaining += left
	switch op {
	case "set":
		a.remaining = value
	case "increment":
		a.remaining += value
	case "decrement":
		a.remaining = max(a.remaining-value, 0)
	}
	a.epoch++
	return a.remaining
}

// creditImpl builds replicas of one credits implementation, sharing
// their state as replicas of keygate do: one pool and, for Redis, one
// server and key prefix, each replica with a client of its own.
type creditImpl struct {
	name string
	new  func(tb testing.TB, pool Pool, lease int64, now func() time.Time) func() spenderReclaimer
}

type spenderReclaimer interface {
	CreditSpender
	reclaimer
}

func creditImpls() []creditImpl {
	return []creditImpl{
		{"memory", func(tb testing.TB, pool Pool, lease int64, now func() time.Time) func() spenderReclaimer {
			return func() spenderReclaimer {
				m, err := NewMemoryCredits(CreditsConfig{Pool: pool, Lease: lease, Clock: now})
				if err != nil {
					tb.Fatal(err)
				}
				return m
			}
		}},
		{"redis", func(tb testing.TB, pool Pool, lease int64, now func() time.Time) func() spenderReclaimer {
			prefix := testenv.KeyPrefix(tb)
			return func() spenderReclaimer { return newRedisCredits(tb, newRedisReplica(tb, prefix, now), pool, lease) }
		}},
	}
}

func newRedisCredits(tb testing.TB, r *Redis, pool Pool, lease int64) *RedisCredits {
	tb.Helper()
	c, err := NewRedisCredits(r, CreditsConfig{Pool: pool, Lease: lease})
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

func spend(tb testing.TB, s CreditSpender, id string, r Refill) Spend {
	tb.Helper()
	got, err := s.Spend(context.Background(), id, r)
	if err != nil {
		tb.Fatal(err)
	}
	return got
}

// TestCreditsExactAcrossReplicas: 3 replicas × 16 goroutines spend a key
// of 100 credits until refused: exactly 100 are allowed, whatever the
// lease size, and the pool is empty.
func TestCreditsExactAcrossReplicas(t *testing.T) {
	for _, impl := range creditImpls() {
		for _, lease := range []int64{1, 7, 100} {
			t.Run(impl.name+"/lease_"+itoa(lease), func(t *testing.T) {
				t.Parallel()
				pool := newTestPool()
				pool.add("k", 100, Refill{}, epoch)
				clock := newFakeClock()
				replica := impl.new(t, pool, lease, clock.Now)
				var allowed, errs atomic.Int64
				var wg sync.WaitGroup
				for range 3 {
					s := replica()
					for range 16 {
						wg.Go(func() {
							for {
								got, err := s.Spend(context.Background(), "k", Refill{})
								if err != nil {
									errs.Add(1)
									return
								}
								if !got.Allowed {
									return
								}
								allowed.Add(1)
							}
						})
					}
				}
				wg.Wait()
				got := [3]int64{allowed.Load(), errs.Load(), pool.remaining("k")}
				if diff := cmp.Diff([3]int64{100, 0, 0}, got); diff != "" {
					t.Fatalf("allowed, errors, pool left (-want +got):\n%s", diff)
				}
			})
		}
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// TestCreditsRefill: exhausted credits are refused until the refill
// boundary, with Next the time to it, and are back to the refill amount
// from that instant, for each implementation.
func TestCreditsRefill(t *testing.T) {
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	cases := []struct {
		name          string
		refill        Refill
		created, last string // last: a moment before the boundary
		boundary      string
		period        time.Duration
	}{
		{"daily_at_midnight_utc", Refill{Interval: Daily, Amount: 5}, "2030-04-29T08:00:00Z", "2030-04-29T23:59:59.750Z", "2030-04-30T00:00:00Z", 24 * time.Hour},
		{"monthly_day_1_at_a_month_end", Refill{Interval: Monthly, Amount: 5, Day: 1}, "2030-04-10T00:00:00Z", "2030-04-30T23:59:59.999Z", "2030-05-01T00:00:00Z", 31 * 24 * time.Hour},
		{"monthly_day_31_in_a_30_day_month", Refill{Interval: Monthly, Amount: 5, Day: 31}, "2030-04-02T00:00:00Z", "2030-04-29T23:00:00Z", "2030-04-30T00:00:00Z", 31 * 24 * time.Hour},
		{"monthly_day_31_in_february", Refill{Interval: Monthly, Amount: 5, Day: 31}, "2030-02-01T00:00:00Z", "2030-02-27T12:00:00Z", "2030-02-28T00:00:00Z", 31 * 24 * time.Hour},
	}
	for _, impl := range creditImpls() {
		for _, c := range cases {
			t.Run(impl.name+"/"+c.name, func(t *testing.T) {
				t.Parallel()
				clock := testenv.NewClock(at(c.created))
				pool := newTestPool()
				pool.add("k", 3, c.refill, at(c.created))
				s := impl.new(t, pool, 2, clock.Now)()
				var got []bool
				for range 4 {
					got = append(got, spend(t, s, "k", c.refill).Allowed)
				}
				if diff := cmp.Diff([]bool{true, true, true, false}, got); diff != "" {
					t.Fatalf("spends of 3 credits (-want +got):\n%s", diff)
				}
				clock.Set(at(c.last))
				before := spend(t, s, "k", c.refill)
				wantBefore := Spend{Refill: c.refill, Next: at(c.boundary).Sub(at(c.last)), Period: before.Period}
				if diff := cmp.Diff(wantBefore, before); diff != "" {
					t.Fatalf("just before the refill (-want +got):\n%s", diff)
				}
				clock.Set(at(c.boundary))
				after := spend(t, s, "k", c.refill)
				wantAfter := Spend{Allowed: true, Remaining: 4, Refill: c.refill, Next: after.Next, Period: c.period}
				if diff := cmp.Diff(wantAfter, after); diff != "" {
					t.Fatalf("at the refill (-want +got):\n%s", diff)
				}
			})
		}
	}
}

// TestCreditsWithoutRefill: exhausted credits with no refill are refused
// with no Next (authz answers 403), and an id the pool has no credits for
// is unlimited.
func TestCreditsWithoutRefill(t *testing.T) {
	for _, impl := range creditImpls() {
		t.Run(impl.name, func(t *testing.T) {
			t.Parallel()
			clock := newFakeClock()
			pool := newTestPool()
			pool.add("k", 1, Refill{}, epoch)
			s := impl.new(t, pool, 10, clock.Now)()
			got := []Spend{spend(t, s, "k", Refill{}), spend(t, s, "k", Refill{}), spend(t, s, "other", Refill{})}
			want := []Spend{{Allowed: true}, {}, {Allowed: true, Unlimited: true}}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Fatalf("spends (-want +got):\n%s", diff)
			}
		})
	}
}

// TestCreditsExhaustedAsksThePoolOncePerRecheck: a refused spend costs no
// Take until the recheck interval passed, so a client hammering an
// exhausted key does not hammer the database.
func TestCreditsExhaustedAsksThePoolOncePerRecheck(t *testing.T) {
	for _, impl := range creditImpls() {
		t.Run(impl.name, func(t *testing.T) {
			t.Parallel()
			clock := newFakeClock()
			pool := newTestPool()
			pool.add("k", 0, Refill{}, epoch)
			s := impl.new(t, pool, 10, clock.Now)()
			for range 20 {
				spend(t, s, "k", Refill{})
			}
			first := pool.takes.Load()
			clock.Add(recheck)
			spend(t, s, "k", Refill{})
			if diff := cmp.Diff([2]int64{1, 2}, [2]int64{first, pool.takes.Load()}); diff != "" {
				t.Fatalf("takes after 20 refusals, then after the recheck (-want +got):\n%s", diff)
			}
		})
	}
}

// TestCreditsAdjust: an administrator's change reclaims the lease into the
// balance, so set, increment and decrement act on the whole balance, and
// a block granted before the change is never added after it.
func TestCreditsAdjust(t *testing.T) {
	for _, impl := range creditImpls() {
		t.Run(impl.name, func(t *testing.T) {
			t.Parallel()
			clock := newFakeClock()
			pool := newTestPool()
			pool.add("k", 50, Refill{}, epoch)
			s := impl.new(t, pool, 10, clock.Now)()
			spend(t, s, "k", Refill{}) // leases 10, spends 1: 49 left, 9 in the lease
			var got []int64
			got = append(got, pool.adjust(t, s, "k", "increment", 5))
			got = append(got, spend(t, s, "k", Refill{}).Remaining)
			got = append(got, pool.adjust(t, s, "k", "decrement", 60))
			got = append(got, b2i64(spend(t, s, "k", Refill{}).Allowed))
			got = append(got, pool.adjust(t, s, "k", "set", 2))
			got = append(got, spend(t, s, "k", Refill{}).Remaining, spend(t, s, "k", Refill{}).Remaining, b2i64(spend(t, s, "k", Refill{}).Allowed))
			want := []int64{54, 53, 0, 0, 2, 1, 0, 0}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Fatalf("balances (-want +got):\n%s", diff)
			}
		})
	}
}

func b2i64(b bool) int64 { return int64(b2i(b)) }

// TestCreditsStaleGrantIsDiscarded: a block taken before an
// administrator's change and granted after it is dropped (credits are
// forgotten, never granted twice).
func TestCreditsStaleGrantIsDiscarded(t *testing.T) {
	l := &lease{left: 3, per: 0, epoch: 4, pool: 10}
	if got := l.reclaim(4, 0); got != 3 {
		t.Fatalf("reclaim = %d, want 3", got)
	}
	l.grant(Grant{Block: 10, Remaining: 0, Epoch: 4}, 0, 0)
	allowed, ok := l.spend(0, 0, 1000)
	if diff := cmp.Diff([2]bool{false, false}, [2]bool{allowed, ok}); diff != "" {
		t.Fatalf("spend after a stale grant (-want +got):\n%s", diff)
	}
}

// TestRedisCreditsRestart: Redis restarted without persistence loses the
// lease it held, and nothing else: the key spends exactly 100 - (what the
// lease held), so at most one lease is forgotten and nothing is granted
// twice.
func TestRedisCreditsRestart(t *testing.T) {
	srv := testenv.StartRedis(t)
	pool := newTestPool()
	pool.add("k", 100, Refill{}, epoch)
	r, err := NewRedis(RedisConfig{URL: srv.URL(), Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close() })
	s := newRedisCredits(t, r, pool, 10)
	allowed := 0
	for range 35 {
		allowed += b2i(spend(t, s, "k", Refill{}).Allowed)
	}
	held := 100 - pool.remaining("k") - 35 // in the lease when Redis dies
	srv.Stop()
	srv.Start()
	for tries := 0; ; tries++ {
		got, err := s.Spend(context.Background(), "k", Refill{})
		if err != nil && tries < 100 {
			continue // the client reconnects
		}
		if err != nil {
			t.Fatal(err)
		}
		if !got.Allowed {
			break
		}
		allowed++
	}
	if diff := cmp.Diff([2]int64{100 - held, 5}, [2]int64{int64(allowed), held}); diff != "" {
		t.Fatalf("allowed, lease lost (-want +got):\n%s", diff)
	}
}

// TestFallbackCreditsSpendInThePoolWhileRedisIsDown: with Redis down,
// every spend is one Take of one credit (exact across replicas), and the
// spender returns to Redis once a probe succeeds.
func TestFallbackCreditsSpendInThePoolWhileRedisIsDown(t *testing.T) {
	srv := testenv.StartRedis(t)
	pool := newTestPool()
	pool.add("k", 30, Refill{}, epoch)
	clock := newFakeClock()
	r, err := NewRedis(RedisConfig{URL: srv.URL(), Timeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close() })
	f := NewFallbackCredits(newRedisCredits(t, r, pool, 10), pool, nil, clock.Now)
	spend(t, f, "k", Refill{}) // leases 10 in Redis: 20 left in the pool
	srv.Stop()
	allowed, takes := 0, pool.takes.Load()
	for range 25 {
		allowed += b2i(spend(t, f, "k", Refill{}).Allowed)
	}
	// 20 takes of one credit, one that finds none; the other refusals
	// within the recheck interval ask nothing.
	down := [4]int64{int64(allowed), pool.remaining("k"), int64(b2i(f.Down())), pool.takes.Load() - takes}
	if diff := cmp.Diff([4]int64{20, 0, 1, 21}, down); diff != "" {
		t.Fatalf("with Redis down: allowed, pool left, down, takes (-want +got):\n%s", diff)
	}
	srv.Start()
	for i := 0; f.Down() && i < 50; i++ {
		clock.Add(ProbeInterval)
		spend(t, f, "k", Refill{})
	}
	// The restart lost the 9 credits of the lease (the documented bound):
	// back on Redis, the key is exhausted.
	got := spend(t, f, "k", Refill{})
	if diff := cmp.Diff([2]bool{false, false}, [2]bool{f.Down(), got.Allowed}); diff != "" {
		t.Fatalf("back on Redis: down, allowed (-want +got):\n%s", diff)
	}
}

// TestRedisCreditsUseRedisTime: without an injected clock, the period is
// Redis's, and a guess of the local clock that falls in another period is
// corrected by asking again with Redis's time.
func TestRedisCreditsUseRedisTime(t *testing.T) {
	pool := newTestPool()
	daily := Refill{Interval: Daily, Amount: 5}
	pool.add("k", 5, daily, time.Now())
	c := newRedisCredits(t, newTestRedis(t, nil), pool, 2)
	got := spend(t, c, "k", daily)
	if !got.Allowed || got.Next <= 0 || got.Next > 24*time.Hour || got.Period != 24*time.Hour {
		t.Fatalf("spend = %+v, want allowed with the next refill within a day", got)
	}
	stale := time.Now().Add(-72 * time.Hour).UnixMilli()
	rep, err := c.eval(context.Background(), "k", daily, "s", -1, stale, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep.status != -2 {
		t.Fatalf("status for a guess 3 days off = %d, want -2", rep.status)
	}
}

func (p *testPool) Return(_ context.Context, id string, epoch, left int64) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if a := p.accts[id]; a != nil && a.epoch == epoch {
		a.remaining += left
	}
	return nil
}

// TestMemoryCreditsCloseReturnsLeases: a clean shutdown gives back what
// the leases held, unless the balance moved to another epoch meanwhile.
func TestMemoryCreditsCloseReturnsLeases(t *testing.T) {
	pool := newTestPool()
	pool.add("a", 50, Refill{}, epoch)
	pool.add("b", 50, Refill{}, epoch)
	m, err := NewMemoryCredits(CreditsConfig{Pool: pool, Lease: 10})
	if err != nil {
		t.Fatal(err)
	}
	spend(t, m, "a", Refill{})
	spend(t, m, "b", Refill{})
	pool.mu.Lock()
	pool.accts["b"].epoch++ // an administrator's change the lease missed
	pool.mu.Unlock()
	if err := m.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := [2]int64{pool.remaining("a"), pool.remaining("b")}
	if diff := cmp.Diff([2]int64{49, 40}, got); diff != "" {
		t.Fatalf("balances after Close (-want +got):\n%s", diff)
	}
}

// stopAfterTake is a Pool that stops Redis right after a take, so that
// the grant of the block fails.
type stopAfterTake struct {
	*testPool
	stop func()
}

func (p stopAfterTake) Take(ctx context.Context, id string, period, max int64) (Grant, error) {
	g, err := p.testPool.Take(ctx, id, period, max)
	p.stop()
	return g, err
}

// TestRedisCreditsRetryFailedGrant: a block whose grant failed is granted
// at the next spend once Redis answers, once: a Redis outage between a
// take and its grant forgets nothing.
func TestRedisCreditsRetryFailedGrant(t *testing.T) {
	srv := testenv.StartRedis(t)
	pool := newTestPool()
	pool.add("k", 30, Refill{}, epoch)
	r, err := NewRedis(RedisConfig{URL: srv.URL(), Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close() })
	var once sync.Once
	c := newRedisCredits(t, r, stopAfterTake{pool, func() { once.Do(srv.Stop) }}, 10)
	if _, err := c.Spend(context.Background(), "k", Refill{}); err == nil {
		t.Fatal("spend with Redis stopped after the take succeeded")
	}
	srv.Start()
	allowed := 0
	for tries := 0; tries < 100; tries++ {
		got, err := c.Spend(context.Background(), "k", Refill{})
		if err != nil {
			continue // reconnecting
		}
		if !got.Allowed {
			break
		}
		allowed++
	}
	if allowed != 30 {
		t.Fatalf("allowed %d of 30 credits after a failed grant", allowed)
	}
}

func TestRedisCreditsGrantAppliesOnce(t *testing.T) {
	pool := newTestPool()
	c := newRedisCredits(t, newTestRedis(t, nil), pool, 10)
	p := pendingGrant{id: "k", g: Grant{Block: 10, Epoch: 1}, token: c.token()}
	var got []int64
	for range 2 {
		rep, err := c.run(context.Background(), "k", Refill{}, "G", p.args()...)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, rep.balance)
	}
	if diff := cmp.Diff([]int64{10, 10}, got); diff != "" {
		t.Fatalf("lease after the same grant twice (-want +got):\n%s", diff)
	}
}

// TestRedisCreditsGrantTokensAreBounded: the lease remembers the tokens of
// its last 32 grants, no more.
func TestRedisCreditsGrantTokensAreBounded(t *testing.T) {
	c := newRedisCredits(t, newTestRedis(t, nil), newTestPool(), 10)
	first := pendingGrant{id: "k", g: Grant{Block: 1, Epoch: 1}, token: c.token()}
	grant := func(p pendingGrant) int64 {
		rep, err := c.run(context.Background(), "k", Refill{}, "G", p.args()...)
		if err != nil {
			t.Fatal(err)
		}
		return rep.balance
	}
	grant(first)
	for range 31 {
		grant(pendingGrant{id: "k", g: Grant{Block: 1, Epoch: 1}, token: c.token()})
	}
	within := grant(first) // the 32nd most recent: remembered
	grant(pendingGrant{id: "k", g: Grant{Block: 1, Epoch: 1}, token: c.token()})
	beyond := grant(first) // now the 33rd: forgotten, applies again
	if diff := cmp.Diff([2]int64{32, 34}, [2]int64{within, beyond}); diff != "" {
		t.Fatalf("lease after re-sending the first grant (-want +got):\n%s", diff)
	}
	key := c.key("k")
	toks, err := c.client.HGet(context.Background(), key, "k").Result()
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(toks, ",") - 1; n != 32 {
		t.Fatalf("tokens kept = %d, want 32", n)
	}
}

// TestRedisCreditsPendingGrantsAreBounded: the grants kept for retry are
// at most maxPending, the oldest forgotten beyond.
func TestRedisCreditsPendingGrantsAreBounded(t *testing.T) {
	c := &RedisCredits{}
	for i := range maxPending + 2 {
		c.keep(pendingGrant{id: itoa(int64(i))})
	}
	got := [3]any{len(c.pending), c.npending.Load(), c.pending[0].id}
	if diff := cmp.Diff([3]any{maxPending, int32(maxPending), "2"}, got); diff != "" {
		t.Fatalf("pending grants: count, npending, oldest kept (-want +got):\n%s", diff)
	}
}
