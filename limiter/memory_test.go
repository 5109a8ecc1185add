package limiter

import (
	"context"
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestMemorySweep(t *testing.T) {
	clock := newFakeClock()
	m := newTestMemory(t, clock.Now)
	allow(t, m, "short", "1/1s")
	allow(t, m, "long", "1/1s", "1/1m")
	tests := []struct {
		name    string
		at      time.Duration // after the start
		removed int
		left    int
	}{
		{"nothing before two windows", 1999 * time.Millisecond, 0, 2},
		{"an id two windows of its longest limit after its last count", 2 * time.Second, 1, 1},
		{"the longest limit keeps the id", 119999 * time.Millisecond, 0, 1},
		{"then it goes too", 2 * time.Minute, 1, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			removed := m.sweep(epoch.Add(tc.at).UnixMilli())
			if diff := cmp.Diff([2]int{tc.removed, tc.left}, [2]int{removed, m.Len()}); diff != "" {
				t.Fatalf("[removed, left] (-want +got):\n%s", diff)
			}
		})
	}
}

func allow(tb testing.TB, l Allower, id string, limits ...string) Decision {
	tb.Helper()
	d, err := l.Allow(context.Background(), id, mustLimits(tb, limits...), 1)
	if err != nil {
		tb.Fatal(err)
	}
	return d
}

// TestMemorySweepShrinksMaps checks that a shard that held many ids gives
// their memory back once they expire.
func TestMemorySweepShrinksMaps(t *testing.T) {
	clock := newFakeClock()
	m := NewMemory(MemoryConfig{Clock: clock.Now, Shards: 1, SweepInterval: -1})
	t.Cleanup(m.Close)
	for i := range 4 * shrinkBelow {
		allow(t, m, fmt.Sprint(i), "1/1s")
	}
	clock.Add(time.Minute)
	allow(t, m, "fresh", "1/1s")
	m.sweep(clock.Now().UnixMilli())
	got := [2]int{m.Len(), m.shards[0].peak}
	if diff := cmp.Diff([2]int{1, 1}, got); diff != "" {
		t.Fatalf("[len, peak] after sweep (-want +got):\n%s", diff)
	}
}

// TestMemorySweeper runs the background sweeper in a synctest bubble, where
// time.Now and the ticker are fake and the test does not wait.
func TestMemorySweeper(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := NewMemory(MemoryConfig{SweepInterval: time.Minute})
		defer m.Close()
		allow(t, m, "a", "1/1s")
		time.Sleep(59 * time.Second)
		synctest.Wait()
		before := m.Len()
		time.Sleep(time.Second)
		synctest.Wait()
		if diff := cmp.Diff([2]int{1, 0}, [2]int{before, m.Len()}); diff != "" {
			t.Fatalf("[ids before the first sweep, after] (-want +got):\n%s", diff)
		}
	})
}

func TestMemoryShards(t *testing.T) {
	tests := []struct{ in, want int }{{0, 64}, {1, 1}, {3, 4}, {64, 64}, {100, 128}}
	for _, tc := range tests {
		m := NewMemory(MemoryConfig{Shards: tc.in, SweepInterval: -1})
		if diff := cmp.Diff(tc.want, len(m.shards)); diff != "" {
			t.Errorf("Shards %d (-want +got):\n%s", tc.in, diff)
		}
		m.Close()
		m.Close() // twice is fine
	}
}

func TestMemoryAllowDoesNotAllocate(t *testing.T) {
	m := newTestMemory(t, nil)
	limits := mustLimits(t, "1000000/1s", "100000000/1h", "1000000000/1d")
	allow(t, m, "key", "1000000/1s", "100000000/1h", "1000000000/1d")
	got := testing.AllocsPerRun(1000, func() {
		_, _ = m.Allow(context.Background(), "key", limits, 1)
	})
	if diff := cmp.Diff(0.0, got); diff != "" {
		t.Fatalf("allocations per Allow (-want +got):\n%s", diff)
	}
}
