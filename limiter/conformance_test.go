package limiter

import (
	stdcmp "cmp"
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/keygate/keygate/internal/testenv"
)

// epoch is where fake clocks start: a whole number of days since the Unix
// epoch, so that it starts a fixed window of every limit up to 1d.
var epoch = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

// newFakeClock returns a clock at epoch that moves only when told.
func newFakeClock() *testenv.Clock { return testenv.NewClock(epoch) }

// implementation builds one limiter under test on a given clock.
type implementation struct {
	name string
	new  func(tb testing.TB, now func() time.Time) Allower
}

func implementations() []implementation {
	return []implementation{
		{"memory", func(tb testing.TB, now func() time.Time) Allower { return newTestMemory(tb, now) }},
		{"redis", func(tb testing.TB, now func() time.Time) Allower { return newTestRedis(tb, now) }},
		{"redis-lease", func(tb testing.TB, now func() time.Time) Allower { return newLeasingRedis(tb, now) }},
	}
}

func newTestMemory(tb testing.TB, now func() time.Time) *Memory {
	tb.Helper()
	m := NewMemory(MemoryConfig{Clock: now, SweepInterval: -1})
	tb.Cleanup(m.Close)
	return m
}

// newTestRedis returns a Redis limiter on the test server with a key
// prefix of its own.
func newTestRedis(tb testing.TB, now func() time.Time) *Redis {
	tb.Helper()
	return newRedisReplica(tb, testenv.KeyPrefix(tb), now)
}

// newRedisReplica returns a Redis limiter with a client of its own.
func newRedisReplica(tb testing.TB, prefix string, now func() time.Time) *Redis {
	tb.Helper()
	return newRedisReplicaLeasing(tb, prefix, now, 0)
}

// testLease is the LeaseMax of the tests' leasing Redis limiters.
const testLease = 64

// newLeasingRedis is newTestRedis with leasing.
func newLeasingRedis(tb testing.TB, now func() time.Time) *Redis {
	tb.Helper()
	return newRedisReplicaLeasing(tb, testenv.KeyPrefix(tb), now, testLease)
}

// newRedisReplicaLeasing returns a Redis limiter with a client of its own
// that leases at most lease requests at once.
func newRedisReplicaLeasing(tb testing.TB, prefix string, now func() time.Time, lease int64) *Redis {
	tb.Helper()
	r, err := NewRedis(RedisConfig{URL: testenv.RedisURL(tb), Prefix: prefix, Now: now, Timeout: time.Second, LeaseMax: lease})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = r.Close() })
	return r
}

func mustLimit(tb testing.TB, s string) Limit {
	tb.Helper()
	l, err := ParseLimit(s)
	if err != nil {
		tb.Fatal(err)
	}
	return l
}

func mustLimits(tb testing.TB, ss ...string) []Limit {
	tb.Helper()
	limits, err := ParseLimits(ss)
	if err != nil {
		tb.Fatal(err)
	}
	return limits
}

// st is a WindowState of a limit written as text; states are in the
// limits' order.
type st struct {
	limit     string
	remaining int64
	reset     time.Duration
}

func decisionOf(tb testing.TB, allowed bool, retry time.Duration, states ...st) Decision {
	tb.Helper()
	d := Decision{Allowed: allowed, RetryAfter: retry, N: len(states)}
	for i, s := range states {
		d.Windows[i] = WindowState{Limit: mustLimit(tb, s.limit), Remaining: s.remaining, Reset: s.reset}
	}
	return d
}

// step sends times requests of cost for id, after advancing the clock.
type step struct {
	advance time.Duration
	id      string // "a" if empty
	cost    int64  // 1 if 0
	times   int    // 1 if 0
	want    outcome
}

type outcome struct {
	Admitted int
	Last     Decision
}

func run(tb testing.TB, l Allower, clock *testenv.Clock, limits []Limit, s step) outcome {
	tb.Helper()
	clock.Add(s.advance)
	id, cost, times := stdcmp.Or(s.id, "a"), stdcmp.Or(s.cost, 1), stdcmp.Or(s.times, 1)
	var o outcome
	for range times {
		d, err := l.Allow(context.Background(), id, limits, cost)
		if err != nil {
			tb.Fatalf("Allow: %v", err)
		}
		if d.Allowed {
			o.Admitted++
		}
		o.Last = d
	}
	return o
}

// TestConformance runs the same cases against every implementation. The
// expected numbers follow from the formula of doc.go; each case says how.
func TestConformance(t *testing.T) {
	for _, impl := range implementations() {
		t.Run(impl.name, func(t *testing.T) {
			t.Parallel()
			for _, tc := range conformanceCases(t) {
				t.Run(tc.name, func(t *testing.T) {
					t.Parallel()
					clock := newFakeClock()
					l := impl.new(t, clock.Now)
					limits := mustLimits(t, tc.limits...)
					for i, s := range tc.steps {
						if diff := cmp.Diff(s.want, run(t, l, clock, limits, s)); diff != "" {
							t.Fatalf("step %d (-want +got):\n%s", i, diff)
						}
					}
				})
			}
		})
	}
}

type conformanceCase struct {
	name   string
	limits []string
	steps  []step
}

func conformanceCases(tb testing.TB) []conformanceCase {
	d := func(allowed bool, retry time.Duration, states ...st) Decision {
		return decisionOf(tb, allowed, retry, states...)
	}
	const ms = time.Millisecond
	return []conformanceCase{{
		// Denied at curr=5: in the next window prev=5 must weigh <= 4,
		// weight <= 0.8, so elapsed >= 200ms: 1000+200ms.
		name:   "a burst admits exactly the limit",
		limits: []string{"5/1s"},
		steps: []step{
			{times: 7, want: outcome{5, d(false, 1200*ms, st{"5/1s", 0, 2 * time.Second})}},
		},
	}, {
		// At 1.25s prev=10 weighs 0.75: 7.5 used, 2 more fit. The third
		// fits when 10*weight <= 7, at elapsed 300ms, 50ms later. At 2s,
		// prev=3 weighs 1: 7 fit; the eighth when 3*weight <= 2, weight
		// <= 0.666666, at elapsed 334ms.
		name:   "the previous window weighs by the unelapsed fraction",
		limits: []string{"10/1s"},
		steps: []step{
			{times: 10, want: outcome{10, d(true, 0, st{"10/1s", 0, 2 * time.Second})}},
			{advance: 1250 * ms, times: 3, want: outcome{2, d(false, 50*ms, st{"10/1s", 0, 1750 * ms})}},
			{advance: 50 * ms, want: outcome{1, d(true, 0, st{"10/1s", 0, 1700 * ms})}},
			{advance: 700 * ms, times: 8, want: outcome{7, d(false, 334*ms, st{"10/1s", 0, 2 * time.Second})}},
		},
	}, {
		// The minute window has room at first; after 1.5s the second
		// window does, but the minute is full until prev=3 weighs <= 2,
		// at elapsed 20000ms of the next minute. There, the minute admits
		// one while 3*0.666666+1 < 3 and the next waits for weight
		// <= 0.333333, at elapsed 40000ms.
		name:   "several windows are checked together",
		limits: []string{"2/1s", "3/1m"},
		steps: []step{
			{times: 3, want: outcome{2, d(false, 1500*ms, st{"2/1s", 0, 2 * time.Second}, st{"3/1m", 1, 2 * time.Minute})}},
			{advance: 1500 * ms, times: 2, want: outcome{1, d(false, 78500*ms, st{"2/1s", 0, 1500 * ms}, st{"3/1m", 0, 118500 * ms})}},
			{advance: 78500 * ms, times: 2, want: outcome{1, d(false, 20*time.Second, st{"2/1s", 1, 2 * time.Second}, st{"3/1m", 0, 100 * time.Second})}},
		},
	}, {
		// At 1.5s one of ten is admitted; at 2.5s prev is that one, not
		// ten, weighing 0.5, so two are admitted. Had the nine denials
		// counted, prev=10 would admit none.
		name:   "denied requests count in none",
		limits: []string{"3/1s"},
		steps: []step{
			{times: 3, want: outcome{3, d(true, 0, st{"3/1s", 0, 2 * time.Second})}},
			{advance: 1500 * ms, times: 10, want: outcome{1, d(false, 167*ms, st{"3/1s", 0, 1500 * ms})}},
			{advance: time.Second, times: 3, want: outcome{2, d(false, 500*ms, st{"3/1s", 0, 1500 * ms})}},
		},
	}, {
		// 4+4 admitted; 4 more needs prev=8 to weigh <= 6: elapsed 250ms
		// of the next window; 2 still fit now.
		name:   "cost counts as that many requests",
		limits: []string{"10/1s"},
		steps: []step{
			{cost: 4, want: outcome{1, d(true, 0, st{"10/1s", 6, 2 * time.Second})}},
			{cost: 4, want: outcome{1, d(true, 0, st{"10/1s", 2, 2 * time.Second})}},
			{cost: 4, want: outcome{0, d(false, 1250*ms, st{"10/1s", 2, 2 * time.Second})}},
			{cost: 2, want: outcome{1, d(true, 0, st{"10/1s", 0, 2 * time.Second})}},
		},
	}, {
		name:   "retry after is exact to the millisecond",
		limits: []string{"10/1s"},
		steps: []step{
			{times: 11, want: outcome{10, d(false, 1100*ms, st{"10/1s", 0, 2 * time.Second})}},
			{advance: 1099 * ms, want: outcome{0, d(false, 1*ms, st{"10/1s", 0, 901 * ms})}},
			{advance: 1 * ms, want: outcome{1, d(true, 0, st{"10/1s", 0, 1900 * ms})}},
		},
	}, {
		// The hour's weight reaches 0 only when (W-e)*S < W, at elapsed
		// 3599997ms of the next hour.
		name:   "ids are limited apart",
		limits: []string{"1/1h"},
		steps: []step{
			{id: "a", want: outcome{1, d(true, 0, st{"1/1h", 0, 2 * time.Hour})}},
			{id: "b", want: outcome{1, d(true, 0, st{"1/1h", 0, 2 * time.Hour})}},
			{id: "a", want: outcome{0, d(false, 2*time.Hour-3*ms, st{"1/1h", 0, 2 * time.Hour})}},
		},
	}, {
		// Back at 0.5s, the count lands in the previous window. At 1.5s
		// it weighs 0.5 and curr is 1: a second request fits only in the
		// next window, 500ms on, where prev=1 weighs at most 1.
		name:   "a clock that goes back still counts",
		limits: []string{"2/1s"},
		steps: []step{
			{advance: 1500 * ms, want: outcome{1, d(true, 0, st{"2/1s", 1, 1500 * ms})}},
			{advance: -time.Second, want: outcome{1, d(true, 0, st{"2/1s", 1, 1500 * ms})}},
			{advance: time.Second, want: outcome{0, d(false, 500*ms, st{"2/1s", 0, 1500 * ms})}},
		},
	}, {
		// Two windows later nothing is counted any more.
		name:   "counts expire after two windows",
		limits: []string{"2/1s"},
		steps: []step{
			{times: 2, want: outcome{2, d(true, 0, st{"2/1s", 0, 2 * time.Second})}},
			{advance: 2 * time.Second, want: outcome{1, d(true, 0, st{"2/1s", 1, 2 * time.Second})}},
		},
	}}
}

// TestInvalidRequests checks that every implementation refuses what it
// cannot decide on, with ErrInvalidRequest.
func TestInvalidRequests(t *testing.T) {
	nine := make([]Limit, 9)
	for i := range nine {
		nine[i] = Limit{Count: 10, Window: time.Duration(i+1) * time.Second}
	}
	tests := []struct {
		name   string
		id     string
		limits []Limit
		cost   int64
	}{
		{"empty id", "", []Limit{{10, time.Second}}, 1},
		{"no limits", "a", nil, 1},
		{"more than MaxWindows limits", "a", nine, 1},
		{"window below a second", "a", []Limit{{10, time.Millisecond}}, 1},
		{"window not whole seconds", "a", []Limit{{10, 1500 * time.Millisecond}}, 1},
		{"count zero", "a", []Limit{{0, time.Second}}, 1},
		{"two limits with one window", "a", []Limit{{10, time.Second}, {20, time.Second}}, 1},
		{"cost zero", "a", []Limit{{10, time.Second}}, 0},
		{"cost above a count", "a", []Limit{{10, time.Second}, {5, time.Minute}}, 6},
	}
	for _, impl := range implementations() {
		l := impl.new(t, newFakeClock().Now)
		for _, tc := range tests {
			t.Run(impl.name+"/"+tc.name, func(t *testing.T) {
				_, err := l.Allow(context.Background(), tc.id, tc.limits, tc.cost)
				if !errors.Is(err, ErrInvalidRequest) {
					t.Fatalf("Allow = %v, want ErrInvalidRequest", err)
				}
			})
		}
	}
}

func TestDecisionStates(t *testing.T) {
	d := decisionOf(t, true, 0, st{"1/1s", 0, time.Second}, st{"2/1m", 1, time.Minute})
	want := []WindowState{
		{Limit{1, time.Second}, 0, time.Second},
		{Limit{2, time.Minute}, 1, time.Minute},
	}
	if diff := cmp.Diff(want, d.States()); diff != "" {
		t.Fatalf("States (-want +got):\n%s", diff)
	}
}

func ExampleMemory_Allow() {
	m := NewMemory(MemoryConfig{})
	defer m.Close()
	limits, _ := ParseLimits([]string{"2/1s", "100/1h"})
	for range 3 {
		d, _ := m.Allow(context.Background(), "key-1", limits, 1)
		fmt.Println(d.Allowed, d.States()[0].Remaining, d.States()[1].Remaining)
	}
	// Output:
	// true 1 99
	// true 0 98
	// false 0 98
}
