package keystore

import (
	"fmt"
	"hash/maphash"
	"runtime"
	"testing"
	"time"

	"github.com/keygate/keygate/internal/testenv"
)

// TestUsagePutBackMerges: usage put back after a failed flush adds to
// what was counted while the flush ran, hour by hour, and keeps the later
// last use.
func TestUsagePutBackMerges(t *testing.T) {
	u := newUsage()
	h := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
	i := shardOf(u, "k")
	u.add("k", h.Add(10*time.Minute), usageCount{allowed: 1}, true)
	u.add("k", h.Add(70*time.Minute), usageCount{denied: 1}, false)
	taken := u.take(i)
	u.add("k", h.Add(20*time.Minute), usageCount{allowed: 1}, true) // while the flush ran
	u.add("k", h.Add(130*time.Minute), usageCount{credits: 1}, false)
	u.putBack(i, taken)
	if _, n := u.status(); n != 1 {
		t.Fatalf("%d keys pending, want 1", n)
	}
	e := u.take(i)["k"]
	got := map[int64]usageCount{}
	e.hours(func(hour int64, c usageCount) {
		sum := got[hour-h.Unix()/3600]
		sum.add(c)
		got[hour-h.Unix()/3600] = sum
	})
	want := map[int64]usageCount{0: {allowed: 2}, 1: {denied: 1}, 2: {credits: 1}}
	if len(got) != len(want) {
		t.Errorf("hours %v, want %v", got, want)
	}
	for hour, c := range want {
		if got[hour] != c {
			t.Errorf("hour %d: %+v, want %+v", hour, got[hour], c)
		}
	}
	if e.last != h.Add(20*time.Minute).UnixNano() {
		t.Errorf("last use %v, want %v", time.Unix(0, e.last).UTC(), h.Add(20*time.Minute))
	}
}

func shardOf(u *usage, id string) int { return int(maphash.String(u.seed, id) % usageShards) }

// BenchmarkUsageKeys counts one request of each of 100,000 keys (every
// key used within a flush interval) and reports the heap their pending
// usage holds, per key, after a GC. The ids are the caller's (the
// verification cache's). One pass, whatever b.N.
func BenchmarkUsageKeys(b *testing.B) {
	const n = 100_000
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("0193%04x-7c1e-7d2a-9f3b-%012x", i%0x10000, i)
	}
	u := newUsage()
	at := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
	before, _ := testenv.Heap()
	for _, id := range ids {
		u.add(id, at, usageCount{allowed: 1}, true)
	}
	after, _ := testenv.Heap()
	if _, pending := u.status(); pending != n {
		b.Fatalf("%d keys pending, want %d", pending, n)
	}
	runtime.KeepAlive(ids)
	runtime.KeepAlive(u)
	for b.Loop() {
	}
	b.ReportMetric(float64(after-before)/n, "heap-B/key")
}
