package limiter

import (
	"context"
	"fmt"
	"hash/maphash"
	"runtime"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/keygate/keygate/internal/offheap"
	"github.com/keygate/keygate/internal/testenv"
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

// TestMemoryKeepsCountsAsItsTableChanges: the counts of thousands of ids
// in one shard survive its table's growth, the moves of ids to wide, and
// the sweep's rebuild of the table (an entry read from the table before a
// Put or Delete moved its slots would lose them).
func TestMemoryKeepsCountsAsItsTableChanges(t *testing.T) {
	clock := newFakeClock()
	m := NewMemory(MemoryConfig{Clock: clock.Now, Shards: 1, SweepInterval: -1})
	t.Cleanup(m.Close)
	short, long := mustLimits(t, "1000/1s", "1000/1m"), mustLimits(t, "1000/1s", "1000/1h")
	wider := mustLimits(t, "1000/1s", "1000/1h", "1000/1d")
	const n = 3000
	counted := make([]int64, n)
	// Id i is counted i%4+1 times, one per round, so that the table grows
	// between the requests of an id; even ids expire after two minutes,
	// odd ones after two hours, and those of i%10 == 1 go wide in round 1.
	for round := range 4 {
		for i := range n {
			if i%4 < round {
				continue
			}
			limits := long
			switch {
			case i%2 == 0:
				limits = short
			case i%10 == 1 && round == 1:
				limits = wider
			}
			d, err := m.Allow(context.Background(), fmt.Sprint("id-", i), limits, 1)
			counted[i]++
			if err != nil {
				t.Fatal(err)
			}
			if !d.Allowed || d.Windows[0].Remaining != 1000-counted[i] {
				t.Fatalf("round %d, id %d: allowed %v, %d remaining, want %d", round, i, d.Allowed, d.Windows[0].Remaining, 1000-counted[i])
			}
		}
	}
	s := &m.shards[0]
	if diff := cmp.Diff([2]int{n - n/10, n / 10}, [2]int{s.m.Len(), len(s.wide)}); diff != "" {
		t.Fatalf("[inline, wide] ids (-want +got):\n%s", diff)
	}
	grown := s.m.Cap()
	clock.Add(3 * time.Minute)
	if removed := m.sweep(clock.Now().UnixMilli()); removed != n/2 {
		t.Fatalf("sweep removed %d ids, want %d", removed, n/2)
	}
	hour := time.Hour.Milliseconds()
	for i := 1; i < n; i += 2 {
		slots := s.held(maphash.String(m.seed, fmt.Sprint("id-", i)))
		wide := i%10 == 1
		if (len(slots) == MaxWindows) != wide {
			t.Fatalf("id %d: %d slots, wide: %v", i, len(slots), wide)
		}
		if c := find(slots, hour); c == nil || int64(c.curr) != counted[i] {
			t.Fatalf("id %d: hourly slot %+v, want %d counted", i, c, counted[i])
		}
	}
	// With every id expired, the table shrinks (it does once under a
	// quarter full), and wide is empty.
	clock.Add(3 * 24 * time.Hour) // past the daily windows of the wide ids
	if removed := m.sweep(clock.Now().UnixMilli()); removed != n/2 {
		t.Fatalf("the second sweep removed %d ids, want %d", removed, n/2)
	}
	if s.m.Cap() >= grown || s.m.Len()+len(s.wide) != 0 {
		t.Fatalf("the table kept %d slots for %d ids, as many as for %d", s.m.Cap(), s.m.Len(), n-n/10)
	}
}

// TestMemoryIDsAreOffHeap: the ids a Memory holds leave Go's heap nearly
// as it was, since their entries are in an offheap.Table (the Go maps they
// were in held 63 bytes per id of two limits: 6.3 MB for 100,000 ids, and
// as much again of the collector's headroom).
func TestMemoryIDsAreOffHeap(t *testing.T) {
	if !offheap.Outside {
		t.Skip("no mmap here: the table's slots are on the heap")
	}
	const n = 100_000
	grown, off := holdIDs(t, n)
	if off < 40*n {
		t.Fatalf("the tables took %d bytes for %d ids of 40 each", off, n)
	}
	if grown > 1<<20 {
		t.Fatalf("the heap grew by %d bytes (%.1f per id) for %d ids, want under 1 MiB", grown, float64(grown)/n, n)
	} else {
		t.Logf("the heap grew by %d bytes for %d ids", grown, n)
	}
}

// holdIDs counts n ids (UUID-shaped, as keygate's keys) of two limits
// each once in a new Memory, and returns the growth of Go's heap after a
// GC and of the off-heap tables' memory.
func holdIDs(tb testing.TB, n int) (heap, off int64) {
	tb.Helper()
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("0193%04x-7c1e-7d2a-9f3b-%012x", i%0x10000, i)
	}
	m := NewMemory(MemoryConfig{SweepInterval: -1})
	tb.Cleanup(m.Close)
	before, mapped := heapLive(), offheap.Mapped()
	for _, id := range ids {
		if _, err := m.Allow(context.Background(), id, benchLimits, 1); err != nil {
			tb.Fatal(err)
		}
	}
	after, tables := heapLive(), offheap.Mapped()
	if m.Len() != n {
		tb.Fatalf("%d ids held, want %d", m.Len(), n)
	}
	runtime.KeepAlive(ids)
	return after - before, tables - mapped
}

func heapLive() int64 {
	live, _ := testenv.Heap()
	return live
}
