package limiter

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/keygate/keygate/internal/testenv"
	"github.com/redis/go-redis/v9"
)

// TestRedisRunsBatchedRequestsInTurn sends random batches of requests to
// allow.lua in one script each, and wants for every request the decision
// that Memory makes for the same requests one after the other: the same
// id many times in a row (one run of keys), ids interleaved, limit sets
// changing, times crossing windows within a batch, and keys guessed right
// or wrong.
func TestRedisRunsBatchedRequestsInTurn(t *testing.T) {
	for seed := range uint64(8) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			t.Parallel()
			rng := rand.New(rand.NewPCG(seed, 7))
			clock := newFakeClock()
			mem, red := newTestMemory(t, clock.Now), newTestRedis(t, clock.Now)
			sets := randomLimitSets(rng)
			var allowed, denied int
			var grouped [2]int // calls after the first of their entry, denied and allowed
			for batch := range 40 {
				var reqs []batchedRequest
				for range 1 + rng.IntN(24) {
					var q batchedRequest
					if len(reqs) > 0 && rng.IntN(5) < 2 { // the same again: one entry of the script
						p := reqs[len(reqs)-1]
						q = batchedRequest{limits: p.limits, id: p.id, cost: p.cost, guess: p.guess}
					} else {
						clock.Add(randomBatchStep(rng))
						q = batchedRequest{limits: sets[rng.IntN(len(sets))], id: fmt.Sprint("id-", rng.IntN(3))}
						q.cost = randomCost(rng, q.limits)
						q.guess = clock.Now().UnixMilli() + randomSkew(rng)
					}
					var err error
					if q.want, err = mem.Allow(context.Background(), q.id, q.limits, q.cost); err != nil {
						t.Fatal(err)
					}
					q.call = getCall(context.Background(), time.Now().Add(time.Minute), red.prefix, q.id, q.limits, q.cost, clock.Now().UnixMilli(), q.guess)
					reqs = append(reqs, q)
				}
				calls := make([]*call, len(reqs))
				for i, q := range reqs {
					calls[i] = q.call
				}
				red.pipe.send(context.Background(), calls)
				for i, q := range reqs {
					if q.call.err != nil {
						t.Fatalf("batch %d, request %d: %v", batch, i, q.call.err)
					}
					var got Decision
					if err := red.decision(&got, q.limits, q.cost, q.call.reply, 0); err != nil {
						t.Fatalf("batch %d, request %d: %v", batch, i, err)
					}
					if diff := cmp.Diff(q.want, got); diff != "" {
						t.Fatalf("batch %d of %d requests, request %d for %s (-memory +redis):\n%s", batch, len(reqs), i, q.id, diff)
					}
					if got.Allowed {
						allowed++
					} else {
						denied++
					}
					if q.call.rank > 0 {
						grouped[b2i(got.Allowed)]++
					}
				}
			}
			if allowed == 0 || denied == 0 || grouped[0] == 0 || grouped[1] == 0 {
				t.Fatalf("%d allowed, %d denied, of which in entries of several calls %d allowed, %d denied: the batches test too little",
					allowed, denied, grouped[1], grouped[0])
			}
		})
	}
}

// batchedRequest is a request sent in a batch, and Memory's decision.
type batchedRequest struct {
	id     string
	limits []Limit
	cost   int64
	guess  int64 // the instant for which its keys are named
	call   *call
	want   Decision
}

// randomBatchStep is mostly 0, often within a second, sometimes a
// window or more.
func randomBatchStep(rng *rand.Rand) time.Duration {
	switch r := rng.IntN(10); {
	case r < 5:
		return 0
	case r < 9:
		return time.Duration(rng.IntN(1500)) * time.Millisecond
	}
	return time.Duration(rng.Int64N(int64(40 * 24 * time.Hour))).Truncate(time.Millisecond)
}

// randomSkew is mostly 0 (keys guessed right), else an error that is
// sometimes too small to matter and sometimes larger than any window.
func randomSkew(rng *rand.Rand) int64 {
	switch rng.IntN(4) {
	case 0:
		return rng.Int64N(3) - 1
	case 1:
		return rng.Int64N(int64(2*MaxWindow/time.Millisecond)) - int64(MaxWindow/time.Millisecond)
	}
	return 0
}

// TestRedisAgreesWhenItsKeysAreGuessedWrong has Redis guess the keys of
// every request wrong, by a millisecond (which matters at the start of a
// fixed window) or by more than any window: allow.lua derives them, and
// the decisions are still Memory's.
func TestRedisAgreesWhenItsKeysAreGuessedWrong(t *testing.T) {
	for _, skew := range []time.Duration{-time.Millisecond, time.Millisecond, 40 * 24 * time.Hour} {
		t.Run(skew.String(), func(t *testing.T) {
			t.Parallel()
			for seed := range uint64(4) {
				checkAgreementSkewed(t, rand.New(rand.NewPCG(seed, 43)), 150, skew)
			}
			for _, tc := range conformanceCases(t) {
				clock := newFakeClock()
				r := newTestRedis(t, clock.Now)
				r.skew = skew.Milliseconds()
				limits := mustLimits(t, tc.limits...)
				for i, s := range tc.steps {
					if diff := cmp.Diff(s.want, run(t, r, clock, limits, s)); diff != "" {
						t.Fatalf("%s, step %d (-want +got):\n%s", tc.name, i, diff)
					}
				}
			}
		})
	}
}

// countingHook records the scripts a client sends. It can hold the first
// until released, run a function before each EVALSHA, and refuse scripts.
type countingHook struct {
	mu       sync.Mutex
	commands []string // the name and number of keys of each, "evalsha 2"
	hold     chan struct{}
	before   func()
	serial   sync.Mutex
	refuse   func(redis.Cmder) error
}

func (h *countingHook) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h *countingHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if !h.record(cmd) {
			return next(ctx, cmd)
		}
		if h.hold != nil {
			<-h.hold
		}
		if h.before != nil {
			// Scripts one at a time, so that no EVAL loads the script
			// between before and an EVALSHA.
			h.serial.Lock()
			defer h.serial.Unlock()
			if cmd.Name() == "evalsha" {
				h.before()
			}
		}
		if h.refuse != nil {
			if err := h.refuse(cmd); err != nil {
				cmd.SetErr(err)
				return err
			}
		}
		return next(ctx, cmd)
	}
}

func (h *countingHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		for _, cmd := range cmds {
			h.record(cmd)
		}
		return next(ctx, cmds)
	}
}

// record records cmd if it is a script.
func (h *countingHook) record(cmd redis.Cmder) bool {
	if cmd.Name() != "evalsha" && cmd.Name() != "eval" {
		return false
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.commands = append(h.commands, fmt.Sprint(cmd.Name(), " ", cmd.Args()[2]))
	return true
}

func (h *countingHook) sent() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.commands)
}

// newHookedRedis returns a Redis limiter whose client has hook, on url.
func newHookedRedis(tb testing.TB, url string, hook redis.Hook) *Redis {
	tb.Helper()
	c, err := NewRedisClient(url)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close() })
	c.AddHook(hook)
	r, err := NewRedis(RedisConfig{Client: c, Prefix: testenv.KeyPrefix(tb), Timeout: 10 * time.Second})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = r.Close() })
	return r
}

// burst sends n requests for ids[i%len(ids)] through r at once while the
// first two, which go at once, are held in flight, then releases them, and
// returns the remaining counts of the first limit, sorted, once r has
// nothing in flight.
func burst(t *testing.T, r *Redis, hook *countingHook, ids []string, n int, limits []Limit) []int64 {
	t.Helper()
	hook.hold = make(chan struct{})
	var wg sync.WaitGroup
	remaining := make([]int64, n)
	for i := range n {
		wg.Go(func() {
			d, err := r.Allow(context.Background(), ids[i%len(ids)], limits, 1)
			if err != nil {
				t.Errorf("Allow: %v", err)
			}
			remaining[i] = d.Windows[0].Remaining
		})
	}
	giveUp := time.Now().Add(10 * time.Second)
	for queued := 0; queued < n-2; { // until the others queue behind the first two
		if time.Now().After(giveUp) {
			close(hook.hold)
			t.Fatalf("%d calls queued, want %d", queued, n-2)
		}
		runtime.Gosched()
		r.pipe.mu.Lock()
		queued = len(r.pipe.queue)
		r.pipe.mu.Unlock()
	}
	close(hook.hold)
	wg.Wait()
	// The goroutine that sent the queued calls may not have seen yet that
	// none is left; a burst after this one must not find it in flight.
	r.pipe.wait()
	hook.hold = nil
	slices.Sort(remaining)
	return remaining
}

// TestRedisSendsConcurrentCallsTogether holds two calls in flight while
// eight others come, and wants these in the next round trip, in one
// script, counted as if one after the other: the calls of one id as one
// entry of the script (its keys sent once), those of two ids as two.
func TestRedisSendsConcurrentCallsTogether(t *testing.T) {
	for _, tc := range []struct {
		ids  []string
		want []int64
		sent []string
	}{
		{[]string{"a"}, []int64{90, 91, 92, 93, 94, 95, 96, 97, 98, 99}, []string{"evalsha 4", "evalsha 4", "evalsha 4"}},
		{[]string{"a", "b"}, []int64{95, 95, 96, 96, 97, 97, 98, 98, 99, 99}, []string{"evalsha 4", "evalsha 4", "evalsha 8"}},
	} {
		t.Run(strings.Join(tc.ids, ","), func(t *testing.T) {
			hook := &countingHook{}
			r := newHookedRedis(t, testenv.RedisURL(t), hook)
			got := burst(t, r, hook, tc.ids, 10, mustLimits(t, "100/1h", "1000/1d"))
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Fatalf("remaining (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.sent, hook.sent()); diff != "" {
				t.Fatalf("scripts sent, with their number of keys (-want +got):\n%s", diff)
			}
		})
	}
}

// TestRedisSendsScriptsWhenRedisLacksThem empties the script cache of a
// server of the test's own before every EVALSHA, of a call alone and of a
// batch (two calls of one id, one entry of the script): each is sent again
// with EVAL.
func TestRedisSendsScriptsWhenRedisLacksThem(t *testing.T) {
	srv := testenv.StartRedis(t)
	admin := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	t.Cleanup(func() { admin.Close() })
	hook := &countingHook{before: func() {
		if err := admin.ScriptFlush(context.Background()).Err(); err != nil {
			t.Error(err)
		}
	}}
	r := newHookedRedis(t, srv.URL(), hook)
	allow(t, r, "a", "100/1h")
	got := burst(t, r, hook, []string{"a"}, 4, mustLimits(t, "100/1h"))
	if diff := cmp.Diff([]int64{95, 96, 97, 98}, got); diff != "" {
		t.Fatalf("remaining (-want +got):\n%s", diff)
	}
	sent := hook.sent()
	slices.Sort(sent) // the two calls sent at once end in any order
	want := []string{"eval 2", "eval 2", "eval 2", "eval 2", "evalsha 2", "evalsha 2", "evalsha 2", "evalsha 2"}
	if diff := cmp.Diff(want, sent); diff != "" {
		t.Fatalf("scripts sent, sorted, with their number of keys (-want +got):\n%s", diff)
	}
}

// crossSlotError is what a proxy in front of shards answers to a script
// whose keys are of several ids.
type crossSlotError struct{}

func (crossSlotError) Error() string { return "CROSSSLOT Keys in request don't hash to the same slot" }
func (crossSlotError) RedisError()   {}

// refuseCrossSlot refuses a script whose keys have several hash tags.
func refuseCrossSlot(cmd redis.Cmder) error {
	args := cmd.Args()
	tags := map[string]bool{}
	for _, a := range args[3 : 3+args[2].(int)] {
		tag, _, _ := strings.Cut(*a.(*string), "}")
		tags[tag] = true
	}
	if len(tags) > 1 {
		return crossSlotError{}
	}
	return nil
}

// TestRedisSendsOneScriptPerIDWhenRedisRefusesThemTogether has Redis
// refuse a script for several ids: the calls are sent again, one script
// per id in one pipeline, and so from then on; the calls of one id still
// go together.
func TestRedisSendsOneScriptPerIDWhenRedisRefusesThemTogether(t *testing.T) {
	hook := &countingHook{refuse: refuseCrossSlot}
	r := newHookedRedis(t, testenv.RedisURL(t), hook)
	limits := mustLimits(t, "100/1h")
	got := append(burst(t, r, hook, []string{"a", "b", "c", "d", "e"}, 5, limits), burst(t, r, hook, []string{"f"}, 5, limits)...)
	if diff := cmp.Diff([]int64{99, 99, 99, 99, 99, 95, 96, 97, 98, 99}, got); diff != "" {
		t.Fatalf("remaining (-want +got):\n%s", diff)
	}
	want := []string{
		"evalsha 2", "evalsha 2", "evalsha 6", "evalsha 2", "evalsha 2", "evalsha 2", // three ids refused together, then sent apart
		"evalsha 2", "evalsha 2", "evalsha 2", // three calls of one id together
	}
	if diff := cmp.Diff(want, hook.sent()); diff != "" {
		t.Fatalf("scripts sent, with their number of keys (-want +got):\n%s\ngot %q", diff, hook.sent())
	}
}

// TestRedisCallsWaitingInLineKeepTheirTimeout has a server that never
// answers and a client whose own timeouts are an hour: the call in flight
// and the calls queued behind it all fail after the limiter's timeout
// (else the test times out).
func TestRedisCallsWaitingInLineKeepTheirTimeout(t *testing.T) {
	r, err := NewRedis(RedisConfig{
		URL:     "redis://" + silentServer(t) + "/0?dial_timeout=1h&read_timeout=1h&write_timeout=1h",
		Timeout: 50 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close() })
	var wg sync.WaitGroup
	errs := make([]bool, 20)
	for i := range errs {
		wg.Go(func() {
			_, err := r.Allow(context.Background(), "a", mustLimits(t, "1/1h"), 1)
			errs[i] = err != nil
		})
	}
	wg.Wait()
	if diff := cmp.Diff(slices.Repeat([]bool{true}, len(errs)), errs); diff != "" {
		t.Fatalf("errors (-want +got):\n%s", diff)
	}
}

// TestSameEntryIgnoresWhatAPooledCallHeldBefore: two calls for one key
// are one entry even when one of them, reused from the pool, still holds
// the arguments of more limits past its own (seen: calls of one busy key
// sent as separate entries after calls with two limits).
func TestSameEntryIgnoresWhatAPooledCallHeldBefore(t *testing.T) {
	limits := mustLimits(t, "100/1h")
	now := time.Now().UnixMilli()
	deadline := time.Now().Add(time.Minute)
	a := getCall(context.Background(), deadline, "p", "id", limits, 1, -1, now)
	b := getCall(context.Background(), deadline, "p", "id", limits, 1, -1, now)
	defer putCall(a)
	defer putCall(b)
	b.argv[8], b.argv[9] = 1000, 86400000
	if !sameEntry(a, b) {
		t.Fatal("calls for one key and limit are not one entry")
	}
	c := getCall(context.Background(), deadline, "p", "id", mustLimits(t, "101/1h"), 1, -1, now)
	defer putCall(c)
	if sameEntry(a, c) {
		t.Fatal("calls with different limits are one entry")
	}
}
