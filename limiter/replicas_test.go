package limiter

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/keygate/keygate/internal/testenv"
)

const (
	replicaCount = 4
	workers      = 200
)

// TestRedisReplicasShareOneLimit has four limiters with clients of their
// own, as four keygate replicas would, and 200 goroutines sending to one id
// through them. Time is injected and still during each round, so the
// outcome is exact whatever the interleaving: at one instant, requests of
// cost 1 are admitted until the limit is reached.
//
// With leasing, replicas decide most requests alone, and the outcome is
// still exact.
func TestRedisReplicasShareOneLimit(t *testing.T) {
	for _, lease := range []int64{0, testLease} {
		t.Run(fmt.Sprint("lease=", lease), func(t *testing.T) { testReplicasShareOneLimit(t, lease) })
	}
}

func testReplicasShareOneLimit(t *testing.T, lease int64) {
	prefix := testenv.KeyPrefix(t)
	clock := newFakeClock()
	var replicas []Allower
	for range replicaCount {
		replicas = append(replicas, newRedisReplicaLeasing(t, prefix, clock.Now, lease))
	}

	t.Run("a burst admits exactly the limit", func(t *testing.T) {
		limits := mustLimits(t, "500/1h")
		got := hammer(t, replicas, "burst", limits, 5)
		if diff := cmp.Diff(int64(500), got); diff != "" {
			t.Fatalf("admitted of %d (-want +got):\n%s", workers*5, diff)
		}
	})

	t.Run("twice the rate for several windows admits what the formula allows", func(t *testing.T) {
		// 1000/1s at 2000/s: a round of one request per worker every
		// 100ms, 60 rounds from 0.1s to 6.0s. By the formula, rounds at
		// 0.1s to 0.5s fill the first second (1000); in each next second
		// round k (elapsed k*100ms) fills up to 1000 - prev*(1-k/10):
		// 900, then 910, then floor(1000 - 909*0.1) = 909 three times;
		// the round at 6.0s admits 1000 - 909 = 91. In all 5628: the
		// sliding window holds the rate near 1000/s, less when rounds are
		// this coarse. Memory, applying the formula in sequence, is the
		// reference for the replicas, so that a miscount of any size fails.
		limits := mustLimits(t, "1000/1s")
		model := NewMemory(MemoryConfig{Clock: clock.Now, SweepInterval: -1})
		t.Cleanup(model.Close)
		var got, want int64
		for range 60 {
			clock.Add(100 * time.Millisecond)
			got += hammer(t, replicas, "rate", limits, 1)
			want += hammer(t, []Allower{model}, "rate", limits, 1)
		}
		if diff := cmp.Diff(int64(5628), want); diff != "" {
			t.Fatalf("memory admitted of %d (-derived +got):\n%s", workers*60, diff)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("replicas admitted of %d (-formula +replicas):\n%s", workers*60, diff)
		}
	})
}

// hammer has each of the workers send n requests for id through the
// limiters in turn, all at once, and returns how many were admitted.
func hammer(t *testing.T, limiters []Allower, id string, limits []Limit, n int) int64 {
	t.Helper()
	var admitted atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Go(func() {
			l := limiters[w%len(limiters)]
			for range n {
				d, err := l.Allow(context.Background(), id, limits, 1)
				if err != nil {
					errs <- err
					return
				}
				if d.Allowed {
					admitted.Add(1)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("Allow: %v", err)
	}
	return admitted.Load()
}

// TestMemoryIsExactUnderConcurrency is the burst for one process.
func TestMemoryIsExactUnderConcurrency(t *testing.T) {
	m := newTestMemory(t, newFakeClock().Now)
	got := hammer(t, []Allower{m}, "burst", mustLimits(t, "500/1h", "700/1d"), 5)
	if diff := cmp.Diff(int64(500), got); diff != "" {
		t.Fatalf("admitted of %d (-want +got):\n%s", workers*5, diff)
	}
}
