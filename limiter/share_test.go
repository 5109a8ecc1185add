package limiter

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/redis/go-redis/v9"

	"github.com/keygate/keygate/internal/testenv"
)

// newLeasingReplica returns a Redis limiter on url that leases with ttl.
func newLeasingReplica(tb testing.TB, url, prefix string, now func() time.Time, ttl time.Duration) *Redis {
	tb.Helper()
	r, err := NewRedis(RedisConfig{URL: url, Prefix: prefix, Now: now, Timeout: time.Second, LeaseMax: testLease, LeaseTTL: ttl})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = r.Close() })
	return r
}

// stored returns what Redis counts for id in the current fixed window of
// limit l at now, and the number of outstanding lease records of id.
func stored(tb testing.TB, r *Redis, id string, l Limit, now time.Time) (curr, records int64) {
	tb.Helper()
	size := l.Window.Milliseconds()
	key := fmt.Sprintf("{%s:%s}:%d:%d", r.prefix, id, size/1000, now.UnixMilli()/size)
	ctx := context.Background()
	curr, err := r.client.Get(ctx, key).Int64()
	if err != nil && err != redis.Nil {
		tb.Fatal(err)
	}
	fields, err := r.client.HKeys(ctx, "{"+r.prefix+":"+id+"}:lease").Result()
	if err != nil {
		tb.Fatal(err)
	}
	for _, f := range fields {
		if f != "n" {
			records++
		}
	}
	return curr, records
}

// leaseOf returns the requests that r's lease of id holds and has spent,
// or 0, 0.
func leaseOf(r *Redis, id string) (size, spent int64) {
	if l := r.leases.get(id); l != nil {
		return l.size, min(l.spent.Load(), l.size)
	}
	return 0, 0
}

// both sends one request for "a" to mem and to red and returns their
// decisions.
func both(tb testing.TB, mem *Memory, red *Redis, limits []Limit) (fromMemory, fromRedis Decision) {
	tb.Helper()
	fromMemory, err := mem.Allow(context.Background(), "a", limits, 1)
	if err != nil {
		tb.Fatal(err)
	}
	fromRedis, err = red.Allow(context.Background(), "a", limits, 1)
	if err != nil {
		tb.Fatal(err)
	}
	return fromMemory, fromRedis
}

// agree sends one request for "a" to mem and red, and wants the same
// decision, which it returns.
func agree(tb testing.TB, mem *Memory, red *Redis, limits []Limit, what string) Decision {
	tb.Helper()
	want, got := both(tb, mem, red, limits)
	if diff := cmp.Diff(want, got); diff != "" {
		tb.Fatalf("%s (-memory +redis):\n%s", what, diff)
	}
	return got
}

// TestLeaseGrantedOnlyFarFromTheLimit sends 120 requests to a limit of 100
// through one leasing replica: every decision is Memory's; from the second
// request, when the id is busy, leases are an eighth of the room left after
// the granting request (at most testLease, none under 2); once the last
// lease is spent Redis counts exactly the admitted requests.
func TestLeaseGrantedOnlyFarFromTheLimit(t *testing.T) {
	clock := newFakeClock()
	mem, red := newTestMemory(t, clock.Now), newLeasingReplica(t, testenv.RedisURL(t), testenv.KeyPrefix(t), clock.Now, time.Hour)
	limits := mustLimits(t, "100/1h")
	var sizes []int64
	var local, leased int64
	admitted := 0
	for i := range 120 {
		before := red.leases.get("a")
		var spent int64
		if before != nil {
			spent = before.spent.Load()
		}
		got := agree(t, mem, red, limits, fmt.Sprint("request ", i))
		admitted += b2i(got.Allowed)
		after := red.leases.get("a")
		switch {
		case after != nil && after == before:
			if after.spent.Load() != spent+1 {
				t.Fatalf("request %d: lease held, but not spent from", i)
			}
			local++
		case after != nil:
			sizes = append(sizes, after.size)
			leased += after.size
			if wantSize := min(testLease, got.Windows[0].Remaining/8); after.size != wantSize {
				t.Fatalf("request %d: lease of %d with %d remaining, want %d", i, after.size, got.Windows[0].Remaining, wantSize)
			}
		}
	}
	// None at first; 98/8 = 12 leased by the second request; after 13 more,
	// 85/8 = 10; then 74/8 = 9, 64/8 = 8, 55/8 = 6, 48/8 = 6, 41/8 = 5,
	// 35/8 = 4, 30/8 = 3, 26/8 = 3, 22/8 = 2, 19/8 = 2, 16/8 = 2; at 13
	// remaining, no more.
	if diff := cmp.Diff([]int64{12, 10, 9, 8, 6, 6, 5, 4, 3, 3, 2, 2, 2}, sizes); diff != "" {
		t.Fatalf("leases granted (-want +got):\n%s", diff)
	}
	if admitted != 100 || local != leased {
		t.Fatalf("%d admitted, %d of them from leases of %d; want 100, all", admitted, local, leased)
	}
	curr, records := stored(t, red, "a", limits[0], clock.Now())
	if curr != 100 || records != 0 {
		t.Fatalf("Redis counts %d with %d leases outstanding, want 100 and 0", curr, records)
	}
}

// TestLeaseExpiryReturnsUnspentUnits ends a lease of which three
// requests were spent as its timer would: Redis then counts what was
// admitted, and no lease outstanding.
func TestLeaseExpiryReturnsUnspentUnits(t *testing.T) {
	clock := newFakeClock()
	red := newLeasingReplica(t, testenv.RedisURL(t), testenv.KeyPrefix(t), clock.Now, time.Minute)
	limits := mustLimits(t, "1000/1h")
	for range 5 { // a lease from the second
		allow(t, red, "a", "1000/1h")
	}
	l := red.leases.get("a")
	if l == nil || l.size != testLease || l.spent.Load() != 3 {
		t.Fatalf("lease %+v, want %d requests, 3 spent", l, testLease)
	}
	if curr, records := stored(t, red, "a", limits[0], clock.Now()); curr != 2+testLease || records != 1 {
		t.Fatalf("while leased, Redis counts %d with %d leases, want %d and 1", curr, records, 2+testLease)
	}
	l.timer.Stop()
	red.expire(l)
	if curr, records := stored(t, red, "a", limits[0], clock.Now()); curr != 5 || records != 0 {
		t.Fatalf("after expiry, Redis counts %d with %d leases, want 5 and 0", curr, records)
	}
	if red.leases.get("a") != nil {
		t.Fatal("expired lease still held")
	}
}

// TestLeaseEndsWithItsTime has a lease outlive its time by the injected
// clock, and then its fixed window: the next request goes to Redis, which
// no longer counts what the lease did not spend, in the window where it
// is now the previous one.
func TestLeaseEndsWithItsTime(t *testing.T) {
	clock := newFakeClock()
	mem, red := newTestMemory(t, clock.Now), newLeasingReplica(t, testenv.RedisURL(t), testenv.KeyPrefix(t), clock.Now, time.Minute)
	limits := mustLimits(t, "1000/1h")
	step := func(advance time.Duration) {
		t.Helper()
		clock.Add(advance)
		agree(t, mem, red, limits, fmt.Sprint("at ", clock.Now()))
	}
	clock.Add(57 * time.Minute) // a lease lasts a minute, and only within its windows
	step(0)
	step(0) // the id is busy
	first := red.leases.get("a")
	step(time.Second)
	if first == nil || red.leases.get("a") != first || first.spent.Load() != 1 {
		t.Fatal("no lease spent within its time")
	}
	step(time.Minute) // first expired: Redis
	step(0)           // and a lease until 59:01
	second := red.leases.get("a")
	if second == first || second == nil {
		t.Fatal("expired lease used, or none granted")
	}
	step(30 * time.Second)
	if second.spent.Load() != 1 {
		t.Fatal("second lease not spent from")
	}
	step(time.Minute) // at 59:31, no lease: it would outlive the window
	if red.leases.get("a") != nil {
		t.Fatal("lease granted across the end of its windows")
	}
	for range 3 { // the next window, where what the leases did not spend is not in prev
		step(10 * time.Minute)
	}
}

// TestLeaseOfALostReplica has a replica lose Redis (its client closed)
// while it holds a lease: what it spent counts, what it did not is lost
// to the window (never admitted twice), and its record no longer makes
// denials wait once its time is up.
func TestLeaseOfALostReplica(t *testing.T) {
	clock := newFakeClock()
	prefix, url := testenv.KeyPrefix(t), testenv.RedisURL(t)
	lost := newLeasingReplica(t, url, prefix, clock.Now, time.Minute)
	other := newLeasingReplica(t, url, prefix, clock.Now, time.Minute)
	limits := mustLimits(t, "1000/1h")
	for range 12 {
		allow(t, lost, "a", "1000/1h")
	}
	if size, spent := leaseOf(lost, "a"); size != testLease || spent != 10 {
		t.Fatalf("lease of %d, %d spent, want %d, 10", size, spent, testLease)
	}
	_ = lost.client.Close()
	clock.Add(2 * time.Minute) // its record is dropped a lease's time after it expired
	got := hammer(t, []Allower{other}, "a", limits, 6)
	// 12 admitted by the lost replica, and 54 of its lease lost.
	if got != 1000-2-testLease {
		t.Fatalf("other replica admitted %d, want %d", got, 1000-2-testLease)
	}
}

// TestLeaseOutlivesRedis stops Redis while a replica holds a lease: the
// lease still decides, as counted in Redis before; once it has expired,
// Redis fails and a Fallback answers from memory.
func TestLeaseOutlivesRedis(t *testing.T) {
	srv := testenv.StartRedis(t)
	clock := newFakeClock()
	red := newLeasingReplica(t, srv.URL(), testenv.KeyPrefix(t), clock.Now, time.Minute)
	f := NewFallback(red, newTestMemory(t, clock.Now), nil)
	limits := mustLimits(t, "1000/1h")
	allowF := func() bool {
		t.Helper()
		d, err := f.Allow(context.Background(), "a", limits, 1)
		if err != nil {
			t.Fatal(err)
		}
		return d.Allowed
	}
	allowF()
	allowF() // a lease
	srv.Stop()
	var states []State
	for range 5 {
		allowF()
		states = append(states, f.State())
	}
	if _, spent := leaseOf(red, "a"); spent != 5 {
		t.Fatalf("%d spent from the lease, want 5", spent)
	}
	clock.Add(time.Minute)
	if !allowF() {
		t.Fatal("memory denied")
	}
	states = append(states, f.State())
	want := []State{StateRedis, StateRedis, StateRedis, StateRedis, StateRedis, StateMemory}
	if diff := cmp.Diff(want, states); diff != "" {
		t.Fatalf("states (-want +got):\n%s", diff)
	}
}

// TestLeasesOfIdleReplicasDoNotDeny has two replicas take leases of one id
// and go idle while a third sends 400 requests for a limit of 200: its
// requests that do not fit while the leases are outstanding wait for them
// to end (by their timers, after 200ms), and exactly the limit is admitted.
func TestLeasesOfIdleReplicasDoNotDeny(t *testing.T) {
	clock := newFakeClock()
	prefix, url := testenv.KeyPrefix(t), testenv.RedisURL(t)
	var idle []*Redis
	for range 2 {
		r := newLeasingReplica(t, url, prefix, clock.Now, 200*time.Millisecond)
		allow(t, r, "a", "200/1h")
		allow(t, r, "a", "200/1h")
		if size, _ := leaseOf(r, "a"); size == 0 {
			t.Fatal("idle replica holds no lease")
		}
		idle = append(idle, r)
	}
	busy := newLeasingReplica(t, url, prefix, clock.Now, 0)
	if got := hammer(t, []Allower{busy}, "a", mustLimits(t, "200/1h"), 2); got != 196 {
		t.Fatalf("busy replica admitted %d, want 196", got)
	}
}

// TestLeaseSpendDoesNotAllocate: a request decided from a lease costs no
// allocation.
func TestLeaseSpendDoesNotAllocate(t *testing.T) {
	clock := newFakeClock()
	r, err := NewRedis(RedisConfig{URL: testenv.RedisURL(t), Prefix: testenv.KeyPrefix(t), Now: clock.Now, LeaseMax: MaxCount, LeaseTTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close() })
	limits := []Limit{{Count: MaxCount, Window: 24 * time.Hour}}
	ctx := context.Background()
	for range 2 { // a lease from the second
		if _, err := r.Allow(ctx, "a", limits, 1); err != nil {
			t.Fatal(err)
		}
	}
	allocs := testing.AllocsPerRun(1000, func() {
		if _, err := r.Allow(ctx, "a", limits, 1); err != nil {
			t.Fatal(err)
		}
	})
	if _, spent := leaseOf(r, "a"); spent != 1001 || allocs != 0 {
		t.Fatalf("%d spent from the lease, %v allocations per request; want 1001 and 0", spent, allocs)
	}
}

// TestOneLeaseAskInFlightPerID: while a call of an id asks for a lease, no
// other call of that id does (each grant would end the one before it);
// other ids are not held back.
func TestOneLeaseAskInFlightPerID(t *testing.T) {
	tbl := newLeaseTable()
	if !tbl.ask("a") {
		t.Fatal("the first ask of a was refused")
	}
	if tbl.ask("a") {
		t.Error("a second ask of a went while the first was in flight")
	}
	if !tbl.ask("b") {
		t.Error("an ask of b was held back by a's")
	}
	tbl.asked("a")
	if !tbl.ask("a") {
		t.Error("an ask of a was refused after the first was answered")
	}
}

// TestAskInFlight: a call denied for a lease that a concurrent call of
// its replica is being granted can wait for that grant, not for the
// lease's end.
func TestAskInFlight(t *testing.T) {
	tbl := newLeaseTable()
	ctx := context.Background()
	if ch := tbl.inFlight("a"); ch != nil || awaited(ctx, ch, time.Now().Add(time.Hour)) {
		t.Fatal("an ask in flight when none was asked")
	}
	tbl.ask("a")
	ch := tbl.inFlight("a")
	if ch == nil {
		t.Fatal("no ask in flight after ask")
	}
	if awaited(ctx, ch, time.Now()) {
		t.Error("an ask not answered was reported answered")
	}
	tbl.asked("a")
	if !awaited(ctx, ch, time.Now().Add(time.Hour)) {
		t.Error("the answered ask was not reported")
	}
	if tbl.inFlight("a") != nil {
		t.Error("an ask still in flight once answered")
	}
}

// TestLeaseRenewedInItsLastQuarter: in the last quarter of a lease's time,
// a call asks Redis for the next lease, unless another call of the id is
// already asking, in which case it spends the current one; the next lease
// replaces it, and its settlement returns what it did not spend, so that
// Redis then counts the admitted requests and the next lease only.
func TestLeaseRenewedInItsLastQuarter(t *testing.T) {
	clock := newFakeClock()
	mem, red := newTestMemory(t, clock.Now), newLeasingReplica(t, testenv.RedisURL(t), testenv.KeyPrefix(t), clock.Now, time.Minute)
	limits := mustLimits(t, "1000/1h")
	agree(t, mem, red, limits, "first request")
	agree(t, mem, red, limits, "second request") // the id is busy: a lease
	first := red.leases.get("a")
	if first == nil || first.size != testLease {
		t.Fatalf("lease %+v, want %d requests", first, testLease)
	}
	clock.Add(46 * time.Second) // past the first three quarters of a minute
	if !red.leases.ask("a") {   // a concurrent call of a is asking
		t.Fatal("an ask of a in flight before any")
	}
	agree(t, mem, red, limits, "while another call asks")
	red.leases.asked("a")
	if red.leases.get("a") != first || first.spent.Load() != 1 {
		t.Fatal("the lease was not spent while another call asked for the next")
	}
	// Asks for the next lease. Redis still counts the first lease's
	// unspent requests when it grants it: the remaining reads lower by
	// those (doc.go, Leases), never the admission.
	want, got := both(t, mem, red, limits)
	unspent := first.size - 1
	if !got.Allowed || got.Windows[0].Remaining != want.Windows[0].Remaining-unspent {
		t.Fatalf("in the last quarter: %+v, want admitted with %d remaining", got, want.Windows[0].Remaining-unspent)
	}
	second := red.leases.get("a")
	if second == nil || second == first || second.spent.Load() != 0 {
		t.Fatalf("lease %+v after the last quarter's ask, want a new one, unspent", second)
	}
	<-first.settled
	curr, records := stored(t, red, "a", limits[0], clock.Now())
	if want := 4 + second.size; curr != want || records != 1 {
		t.Fatalf("Redis counts %d with %d leases, want %d and 1", curr, records, want)
	}
}

// TestRedisConfigLeaseBounds: a lease size outside 0 to MaxCount, or a
// lease time that is negative or not whole milliseconds, is refused.
func TestRedisConfigLeaseBounds(t *testing.T) {
	for _, cfg := range []RedisConfig{
		{LeaseMax: -1},
		{LeaseMax: MaxCount + 1},
		{LeaseTTL: -time.Millisecond},
		{LeaseTTL: 1500 * time.Microsecond},
	} {
		cfg.URL = "redis://127.0.0.1:1"
		if r, err := NewRedis(cfg); err == nil || !strings.Contains(err.Error(), "limiter: redis lease") {
			if r != nil {
				_ = r.Close()
			}
			t.Errorf("NewRedis(LeaseMax %d, LeaseTTL %s) = %v, want a lease error", cfg.LeaseMax, cfg.LeaseTTL, err)
		}
	}
	r, err := NewRedis(RedisConfig{URL: "redis://127.0.0.1:1", LeaseMax: MaxCount, LeaseTTL: time.Second})
	if err != nil {
		t.Fatalf("NewRedis at the bounds: %v", err)
	}
	_ = r.Close()
}
