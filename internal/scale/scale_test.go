//go:build scale

package scale

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/keygate/keygate/authz"
	"github.com/keygate/keygate/internal/testenv"
	"github.com/keygate/keygate/internal/testenv/storetest"
	"github.com/keygate/keygate/keystore"
	"github.com/keygate/keygate/limiter"
)

// The figures these tests hold (README, "Running many replicas").
const (
	// exactAgain is the bound from "healed" (every slot served by a live
	// primary, as the servers say) to "exact again" (every replica decides
	// in Redis): a replica on its memory fallback tries Redis again every
	// limiter.ProbeInterval, and its client may need one failed call to
	// learn the new topology.
	exactAgain = 2 * time.Second
	// failoverWithin bounds the failover itself (detection after
	// testenv.NodeTimeout, then the election).
	failoverWithin = 30 * time.Second
	replicas       = 3
	workers        = 4 // goroutines per replica in the stream
	lease          = 20
	credits        = 1_000_000
)

// quiet keeps go-redis's reconnection messages out of the test output.
type quiet struct{}

func (quiet) Printf(context.Context, string, ...any) {}

func init() { redis.SetLogger(quiet{}) }

// serveLeaseMax is KEYGATE_REDIS_LEASE's default: replicas lease as
// serve's do.
const serveLeaseMax = 512

// replica is one keygate replica's limiter, as serve wires it: the Redis
// limiter with its memory fallback, credits leased in Redis with the
// database as their fallback; its own Redis client and database pool.
type replica struct {
	redis   *limiter.Redis
	limits  *limiter.Fallback
	credits *limiter.FallbackCredits
}

func newReplica(tb testing.TB, redisURL, dbURL string) *replica {
	tb.Helper()
	r, err := limiter.NewRedis(limiter.RedisConfig{URL: redisURL, LeaseMax: serveLeaseMax})
	if err != nil {
		tb.Fatal(err)
	}
	mem := limiter.NewMemory(limiter.MemoryConfig{})
	tb.Cleanup(func() { _ = r.Close(); mem.Close() })
	pool := authz.CreditPool{Store: storetest.Open(tb, keystore.Config{URL: dbURL})}
	rc, err := limiter.NewRedisCredits(r, limiter.CreditsConfig{Pool: pool, Lease: lease})
	if err != nil {
		tb.Fatal(err)
	}
	return &replica{redis: r, limits: limiter.NewFallback(r, mem, nil), credits: limiter.NewFallbackCredits(rc, pool, nil, nil)}
}

// fixture is a database with one key of credits and replicas on one Redis.
type fixture struct {
	replicas []*replica
	store    *keystore.Store
	keyID    string
	client   redis.UniversalClient
}

func newFixture(tb testing.TB, redisURL string) *fixture {
	tb.Helper()
	dbURL := testenv.Postgres(tb)
	store := storetest.Store(tb, dbURL)
	rec, _, err := store.Create(context.Background(), "scale", keystore.Spec{Name: "plan", Credits: &keystore.Credits{Remaining: credits}})
	if err != nil {
		tb.Fatal(err)
	}
	f := &fixture{store: store, keyID: rec.ID}
	for range replicas {
		f.replicas = append(f.replicas, newReplica(tb, redisURL, dbURL))
	}
	if f.client, err = limiter.NewRedisClient(redisURL); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = f.client.Close() })
	return f
}

// hashKey is the Redis key of the fixture's id (its limits share the slot).
func (f *fixture) hashKey() string { return "{" + limiter.DefaultPrefix + ":" + f.keyID + "}:credits" }

// stream is the traffic of every replica: each request is one rate-limit
// decision (a limit that never refuses) and one credit spent, on the key
// whose slot the test kills.
type stream struct {
	stop             chan struct{}
	wg               sync.WaitGroup
	requests, failed atomic.Int64
	spent            atomic.Int64
	backOnRedis      []atomic.Int64 // per replica, unix ms of its last return to Redis
	firstErr         atomic.Pointer[error]
	everInMemory     []atomic.Bool
}

var never = []limiter.Limit{{Count: limiter.MaxCount, Window: time.Second}}

func (f *fixture) startStream() *stream {
	s := &stream{stop: make(chan struct{}), backOnRedis: make([]atomic.Int64, replicas), everInMemory: make([]atomic.Bool, replicas)}
	for i, r := range f.replicas {
		for range workers {
			s.wg.Go(func() { s.work(r, f.keyID) })
		}
		s.wg.Go(func() { s.watch(i, r) })
	}
	return s
}

func (s *stream) work(r *replica, id string) {
	for {
		select {
		case <-s.stop:
			return
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, err := r.limits.Allow(ctx, id, never, 1)
		sp, cerr := r.credits.Spend(ctx, id, limiter.Refill{})
		cancel()
		s.requests.Add(1)
		if err = errors.Join(err, cerr); err != nil {
			s.failed.Add(1)
			s.firstErr.CompareAndSwap(nil, &err)
			continue
		}
		if sp.Allowed {
			s.spent.Add(1)
		}
	}
}

// watch records when replica i returns from memory to Redis.
func (s *stream) watch(i int, r *replica) {
	last := limiter.StateRedis
	for {
		select {
		case <-s.stop:
			return
		case <-time.After(2 * time.Millisecond):
		}
		st := r.limits.State()
		if st == limiter.StateMemory {
			s.everInMemory[i].Store(true)
		}
		if last == limiter.StateMemory && st == limiter.StateRedis {
			s.backOnRedis[i].Store(time.Now().UnixMilli())
		}
		last = st
	}
}

func (s *stream) end() { close(s.stop); s.wg.Wait() }

// exactLimit sends 150 requests for a fresh id limited to 50/1m, from
// every replica at once: the answer is exact when exactly 50 are allowed.
func (f *fixture) exactLimit(tb testing.TB, id string) (allowed, failed int64) {
	tb.Helper()
	limits := []limiter.Limit{{Count: 50, Window: time.Minute}}
	var a, e atomic.Int64
	var wg sync.WaitGroup
	for _, r := range f.replicas {
		for range 10 {
			wg.Go(func() {
				for range 5 {
					d, err := r.limits.Allow(context.Background(), id, limits, 1)
					switch {
					case err != nil:
						e.Add(1)
					case d.Allowed:
						a.Add(1)
					}
				}
			})
		}
	}
	wg.Wait()
	return a.Load(), e.Load()
}

// balance is what remains of the key's credits: the database's and the
// lease's in Redis.
func (f *fixture) balance(tb testing.TB) int64 {
	tb.Helper()
	rec, err := f.store.Get(context.Background(), f.keyID)
	if err != nil {
		tb.Fatal(err)
	}
	left, err := f.client.HGet(context.Background(), f.hashKey(), "l").Int64()
	if err != nil && !errors.Is(err, redis.Nil) {
		tb.Fatal(err)
	}
	return rec.Credits.Remaining + left
}

// failover kills a primary under the stream and waits until the servers
// say the failover is complete; it returns when they first did.
type failover func(ctx context.Context, tb testing.TB) time.Time

func runScale(t *testing.T, f *fixture, kill failover) {
	// Warm up: every replica decides in Redis.
	for _, r := range f.replicas {
		if _, err := r.limits.Allow(context.Background(), "warm", never, 1); err != nil || r.limits.State() != limiter.StateRedis {
			t.Fatalf("warm-up: %v, state %v", err, r.limits.State())
		}
	}
	s := f.startStream()
	time.Sleep(500 * time.Millisecond) // traffic before the kill
	ctx, cancel := context.WithTimeout(context.Background(), failoverWithin)
	killed := time.Now()
	healed := kill(ctx, t)
	cancel()
	time.Sleep(exactAgain) // the stated bound, under the stream
	states := make([]limiter.State, replicas)
	var creditsDown int
	for i, r := range f.replicas {
		states[i] = r.limits.State()
		if r.credits.Down() {
			creditsDown++
		}
	}
	allowed, failedExact := f.exactLimit(t, fmt.Sprintf("exact-%d", time.Now().UnixNano()))
	s.end()
	var worst time.Duration
	for i := range s.backOnRedis {
		if ms := s.backOnRedis[i].Load(); ms != 0 {
			worst = max(worst, time.UnixMilli(ms).Sub(healed))
		}
	}
	balance := f.balance(t)
	t.Logf("failover: healed %v after the kill; back on Redis at most %v after healed (replicas that fell back: %v); "+
		"requests %d, failed %d; credits spent %d, left %d, spent+left-initial %+d",
		healed.Sub(killed).Round(time.Millisecond), worst.Round(time.Millisecond), fellBack(s), s.requests.Load(), s.failed.Load(),
		s.spent.Load(), balance, s.spent.Load()+balance-credits)
	if p := s.firstErr.Load(); p != nil {
		t.Errorf("first failed answer: %v", *p)
	}
	got := fmt.Sprint(s.failed.Load(), states, creditsDown, allowed, failedExact)
	want := fmt.Sprint(0, []limiter.State{limiter.StateRedis, limiter.StateRedis, limiter.StateRedis}, 0, 50, 0)
	if got != want {
		t.Errorf("failed answers, states and credits-down replicas %v after healed, 50/1m allowed of 150, errors:\n got %s\nwant %s", exactAgain, got, want)
	}
	// Credits: nothing is granted twice but what the old primary
	// acknowledged without replicating, nothing forgotten but one lease
	// per replica.
	if d := s.spent.Load() + balance - credits; d > lease || d < -replicas*lease {
		t.Errorf("spent + left - initial = %+d, want within [-%d, %d]", d, replicas*lease, lease)
	}
}

func fellBack(s *stream) []bool {
	out := make([]bool, len(s.everInMemory))
	for i := range out {
		out[i] = s.everInMemory[i].Load()
	}
	return out
}

// TestClusterFailover: a 3-master Redis Cluster with a replica each; the
// master of the key's slot is killed under the stream.
func TestClusterFailover(t *testing.T) {
	c := testenv.StartRedisCluster(t, 3, 1)
	f := newFixture(t, c.URL())
	runScale(t, f, func(ctx context.Context, tb testing.TB) time.Time {
		master, err := c.MasterOf(ctx, f.hashKey())
		if err != nil {
			tb.Fatal(err)
		}
		master.Stop()
		healed, err := c.AwaitHealed(ctx, master)
		if err != nil {
			tb.Fatal(err)
		}
		return healed
	})
}

// TestSentinelFailover: a primary with 2 replicas and 3 sentinels; the
// primary is killed under the stream.
func TestSentinelFailover(t *testing.T) {
	s := testenv.StartRedisSentinel(t, 2, 3)
	f := newFixture(t, s.URL())
	runScale(t, f, func(ctx context.Context, tb testing.TB) time.Time {
		s.Primary.Stop()
		_, healed, err := s.AwaitFailover(ctx, s.Primary)
		if err != nil {
			tb.Fatal(err)
		}
		return healed
	})
}
