package keystore

import (
	"fmt"
	"hash/maphash"
	"runtime"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
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
	again := u.take(i)
	if len(again) != 1 || again[0].id != "k" {
		t.Fatalf("taken after the put back: %+v, want k's", again)
	}
	e := again[0].u
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

// TestUsageEntriesOutliveAFlush: a key's entry is emptied, not removed, by
// a take, so that a key used in every interval keeps one entry; one unused
// for a whole interval is removed at the next take, and a shard's map is
// rebuilt once it holds a quarter of its peak.
func TestUsageEntriesOutliveAFlush(t *testing.T) {
	u := newUsage()
	at := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
	i := shardOf(u, "busy")
	var idle []string
	for n := 0; len(idle) < 4*usageShrinkBelow; n++ {
		if id := fmt.Sprint("idle-", n); shardOf(u, id) == i {
			idle = append(idle, id)
		}
	}
	for _, id := range idle {
		u.add(id, at, usageCount{denied: 1}, false)
	}
	u.add("busy", at, usageCount{allowed: 1}, true)
	busy := u.shards[i].keys["busy"]
	type state struct{ Taken, Held, Pending int }
	now := func(taken []takenKey) state {
		_, pending := u.status()
		return state{len(taken), len(u.shards[i].keys), pending}
	}
	var got []state
	got = append(got, now(u.take(i))) // everything written; the entries stay
	u.add("busy", at.Add(time.Second), usageCount{allowed: 1}, true)
	got = append(got, now(nil))
	got = append(got, now(u.take(i))) // the idle keys went unused: removed
	want := []state{{1 + len(idle), 1 + len(idle), 0}, {0, 1 + len(idle), 1}, {1, 1, 0}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("[taken, held, pending] after a take, a use, a take (-want +got):\n%s", diff)
	}
	if u.shards[i].keys["busy"] != busy {
		t.Error("the busy key's entry was made anew")
	}
	if u.shards[i].peak != 1 {
		t.Errorf("peak %d after the idle keys left, want the map rebuilt (1)", u.shards[i].peak)
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
	before := heapAlloc()
	for _, id := range ids {
		u.add(id, at, usageCount{allowed: 1}, true)
	}
	after := heapAlloc()
	if _, pending := u.status(); pending != n {
		b.Fatalf("%d keys pending, want %d", pending, n)
	}
	runtime.KeepAlive(ids)
	runtime.KeepAlive(u)
	for b.Loop() {
	}
	b.ReportMetric(float64(after-before)/n, "heap-B/key")
}

func heapAlloc() int64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc)
}
