package limiter

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/keygate/keygate/internal/testenv"
)

// TestMemoryAndRedisAgree sends random sequences of (time, id, limits,
// cost) to Memory and to Redis and wants the same decisions, to the
// millisecond: the Go and the Lua arithmetic are one. Windows go up to 31
// days and counts up to MaxCount, where float64 would first go wrong.
func TestMemoryAndRedisAgree(t *testing.T) {
	for seed := range uint64(12) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			t.Parallel()
			checkAgreement(t, rand.New(rand.NewPCG(seed, 42)), 150)
		})
		t.Run(fmt.Sprint("lease/", seed), func(t *testing.T) {
			t.Parallel()
			checkAgreementLeasing(t, rand.New(rand.NewPCG(seed, 42)), 150, 0, testLease)
		})
	}
}

func checkAgreement(t *testing.T, rng *rand.Rand, n int) { checkAgreementSkewed(t, rng, n, 0) }

// checkAgreementSkewed is checkAgreement with a Redis that guesses the
// keys of each request at the time plus skew.
func checkAgreementSkewed(t *testing.T, rng *rand.Rand, n int, skew time.Duration) {
	checkAgreementLeasing(t, rng, n, skew, 0)
}

// checkAgreementLeasing is checkAgreementSkewed with a Redis that leases
// at most lease requests at once.
func checkAgreementLeasing(t *testing.T, rng *rand.Rand, n int, skew time.Duration, lease int64) {
	clock := newFakeClock()
	clock.Add(time.Duration(rng.Int64N(int64(MaxWindow))).Truncate(time.Millisecond))
	mem, red := newTestMemory(t, clock.Now), newRedisReplicaLeasing(t, testenv.KeyPrefix(t), clock.Now, lease)
	red.skew = skew.Milliseconds()
	sets := randomLimitSets(rng)
	var allowed, denied int
	for i := range n {
		clock.Add(randomStep(rng))
		limits := sets[rng.IntN(len(sets))]
		id, cost := fmt.Sprint("id-", rng.IntN(2)), randomCost(rng, limits)
		md, merr := mem.Allow(context.Background(), id, limits, cost)
		rd, rerr := red.Allow(context.Background(), id, limits, cost)
		if merr != nil || rerr != nil {
			t.Fatalf("op %d: Allow(%s, %v, %d): memory %v, redis %v", i, id, limits, cost, merr, rerr)
		}
		if diff := cmp.Diff(md, rd); diff != "" {
			t.Fatalf("op %d at %v: Allow(%s, %v, %d) (-memory +redis):\n%s", i, clock.Now(), id, limits, cost, diff)
		}
		if md.Allowed {
			allowed++
		} else {
			denied++
		}
	}
	if allowed == 0 || denied == 0 {
		t.Fatalf("%d allowed, %d denied: the sequence tests too little", allowed, denied)
	}
}

// windowPool holds at most MaxWindows windows, so that every id keeps all
// of its windows in Memory, as in Redis.
var windowPool = []time.Duration{time.Second, 2 * time.Second, 7 * time.Second, time.Minute, time.Hour, 24 * time.Hour, MaxWindow}

// randomLimitSets returns three sets of limits over windowPool: small
// counts, to be denied often, and huge ones, to stress the arithmetic.
func randomLimitSets(rng *rand.Rand) [][]Limit {
	sets := make([][]Limit, 3)
	for i := range sets {
		huge := i == 2
		for _, j := range rng.Perm(len(windowPool))[:1+rng.IntN(3)] {
			count := 1 + rng.Int64N(20)
			if huge {
				count = MaxCount - rng.Int64N(1000)
			}
			sets[i] = append(sets[i], Limit{Count: count, Window: windowPool[j]})
		}
	}
	return sets
}

// randomCost is mostly small, sometimes up to the smallest count.
func randomCost(rng *rand.Rand, limits []Limit) int64 {
	most := limits[0].Count
	for _, l := range limits {
		most = min(most, l.Count)
	}
	if rng.IntN(3) == 0 {
		return 1 + rng.Int64N(most)
	}
	return 1 + rng.Int64N(min(most, 3))
}

// randomStep is mostly within a second, sometimes a window or more.
func randomStep(rng *rand.Rand) time.Duration {
	switch r := rng.IntN(20); {
	case r < 6:
		return 0
	case r < 14:
		return time.Duration(1+rng.IntN(1000)) * time.Millisecond
	case r < 19:
		return time.Duration(1+rng.IntN(5000)) * time.Millisecond
	}
	return time.Duration(rng.Int64N(int64(40 * 24 * time.Hour))).Truncate(time.Millisecond)
}
