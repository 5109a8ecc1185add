package keystore

import (
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/keygate/keygate/internal/offheap"
)

// checkProfiles fails unless c's profile counts are what its slots hold:
// each number held by as many slots as it counts, free numbers by none,
// and the index naming exactly the shared profiles held.
func checkProfiles(t *testing.T, c *cache) {
	t.Helper()
	held := map[uint32]int32{}
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.RLock()
		s.keys.Range(func(slot *offheap.Slot[cacheSlot]) bool { held[slot.Val.profile]++; return true })
		s.mu.RUnlock()
	}
	ps := &c.profiles
	ps.mu.Lock()
	defer ps.mu.Unlock()
	free := map[uint32]bool{}
	for _, n := range ps.free {
		free[n] = true
	}
	shared := 0
	for n := range uint32(len(ps.refs)) {
		p := ps.chunks[n/profileChunkSize].Load()[n%profileChunkSize].Load()
		switch {
		case free[n] && (p != nil || held[n] != 0):
			t.Fatalf("free profile %d: %v, held by %d slots", n, p, held[n])
		case !free[n] && (p == nil || ps.refs[n] != held[n]):
			t.Fatalf("profile %d counts %d, held by %d slots", n, ps.refs[n], held[n])
		case !free[n] && p.key.shared():
			shared++
			if ps.index[p.key] != n {
				t.Fatalf("shared profile %d is not in the index", n)
			}
		}
	}
	if shared != len(ps.index) {
		t.Fatalf("%d shared profiles, the index holds %d", shared, len(ps.index))
	}
}

// held is the number of profiles held.
func (ps *profiles) held() int {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	return len(ps.refs) - len(ps.free)
}

type testPolicy struct{ name string }

// TestCacheSharesProfiles: keys of one owner, credential and policy share
// one profile, whatever their ids; a key answers with its own id and the
// same owner, credential and policy it was cached with; and every way a key
// leaves the cache lets go of its profile.
func TestCacheSharesProfiles(t *testing.T) {
	c := testCache(1000)
	cred := "cred-1"
	policies := []*testPolicy{{"a"}, {"b"}}
	var want []Verified
	for i := range 300 {
		v := Verified{ID: uuid.Must(uuid.NewV7()).String(), Owner: "owner-" + strconv.Itoa(i%10), Policy: policies[i%2], until: int64(i)}
		if i%3 == 0 {
			v.CredentialID = &cred
		}
		if i%50 == 0 {
			v.ID = "key-" + strconv.Itoa(i) // no UUID: a profile of its own
		}
		h := hashOf(i)
		if got := c.set(&h, &v, 0); got != &v {
			t.Fatalf("set returned %p, want the caller's %p", got, &v)
		}
		want = append(want, v)
	}
	// 10 owners (each with one policy: i%2 follows i%10), with and without
	// the credential: 20 profiles, plus the 6 of ids of their own.
	if n := c.profiles.held(); n != 20+6 {
		t.Fatalf("%d profiles held, want 26", n)
	}
	checkProfiles(t, c)
	for i, w := range want {
		h := hashOf(i)
		v, ok := c.get(&h, 1)
		if !ok || v == nil {
			t.Fatalf("key %d not cached", i)
		}
		if diff := cmp.Diff(w, *v, cmp.AllowUnexported(Verified{}), cmp.Comparer(func(a, b *string) bool { return a == b }),
			cmp.Comparer(func(a, b *testPolicy) bool { return a == b })); diff != "" {
			t.Fatalf("key %d (-cached +got):\n%s", i, diff)
		}
	}
	for i := range 100 { // invalidated
		h := hashOf(i)
		c.invalidate(&h)
	}
	checkProfiles(t, c)
	for i := 100; i < 200; i++ { // cached anew, over themselves
		h := hashOf(i)
		c.set(&h, &Verified{ID: want[i].ID, Owner: "other"}, 0)
	}
	checkProfiles(t, c)
	c.sweep(int64(time.Minute))
	if n := c.profiles.held(); n != 0 || c.len() != 0 {
		t.Fatalf("after every key expired: %d profiles, %d keys", n, c.len())
	}
	checkProfiles(t, c)
}

// TestCacheEvictionReleasesProfiles: a full cache evicting keys of ids of
// their own keeps as many profiles as keys.
func TestCacheEvictionReleasesProfiles(t *testing.T) {
	c := testCache(64)
	for i := range 5000 {
		h := hashOf(i)
		c.set(&h, &Verified{ID: "id-" + strconv.Itoa(i)}, 0)
	}
	if keys, _ := c.held(); c.profiles.held() != keys {
		t.Fatalf("%d profiles for %d keys", c.profiles.held(), keys)
	}
	checkProfiles(t, c)
	c.invalidateAll()
	if n := c.profiles.held(); n != 0 {
		t.Fatalf("after invalidateAll: %d profiles", n)
	}
	checkProfiles(t, c)
}

// TestCacheRunsOutOfProfiles: with every profile number taken, a key is
// answered but not cached.
func TestCacheRunsOutOfProfiles(t *testing.T) {
	c := testCache(1)
	limit := len(c.profiles.chunks) * profileChunkSize
	for i := range limit {
		if _, ok := c.profiles.acquire(&Verified{ID: "x" + strconv.Itoa(i)}, false); !ok {
			t.Fatalf("number %d of %d refused", i, limit)
		}
	}
	h := hashOf(1)
	v := &Verified{ID: "late"}
	if got := c.set(&h, v, 0); got != v {
		t.Fatal("set did not return the key")
	}
	if _, ok := c.get(&h, 1); ok {
		t.Fatal("a key cached with no profile number left")
	}
}

// TestCachedIDIsItsOwn: the id of a Verified a hit makes is a string of
// its own, not a view of the Verified: what keeps the id past the request
// (pending usage, a credit lease, by Verified.ID) lets the Verified go.
func TestCachedIDIsItsOwn(t *testing.T) {
	c := testCache(10)
	h, want := hashOf(1), uuid.NewString()
	c.set(&h, &Verified{ID: want, Owner: "o"}, 0)
	v, ok := c.get(&h, 1)
	if !ok || v.ID != want {
		t.Fatalf("cached: %v, %v", v, ok)
	}
	freed := make(chan struct{})
	runtime.AddCleanup(v, func(ch chan struct{}) { close(ch) }, freed)
	id := v.ID
	v = nil
	for range 100 { // cleanups run on a goroutine of their own, after a collection
		runtime.GC()
		select {
		case <-freed:
			if id != want {
				t.Fatalf("the id kept: %q, want %q", id, want)
			}
			return
		case <-time.After(10 * time.Millisecond):
		}
	}
	t.Fatal("the Verified is still reachable through its id")
}

func TestUUIDRoundTrip(t *testing.T) {
	for _, s := range []string{uuid.Must(uuid.NewV7()).String(), "00000000-0000-0000-0000-000000000000", "ffffffff-ffff-ffff-ffff-ffffffffffff"} {
		b, ok := parseUUID(s)
		var out [36]byte
		formatUUID(&out, &b)
		if !ok || string(out[:]) != s {
			t.Fatalf("%s: ok %v, back %s", s, ok, out[:])
		}
	}
	for _, s := range []string{"", "key-1", strings.ToUpper(uuid.NewString()), "{" + uuid.NewString()[1:] + "}",
		strings.ReplaceAll(uuid.NewString(), "-", "") + "abcd", uuid.NewString()[:35] + "g", uuid.NewString()[:8] + "x" + uuid.NewString()[9:]} {
		if _, ok := parseUUID(s); ok {
			t.Fatalf("%q taken for a canonical UUID", s)
		}
	}
}

// FuzzUUID: whatever parseUUID takes, formatUUID gives back exactly, and
// it takes every UUID that package uuid writes.
func FuzzUUID(f *testing.F) {
	f.Add("0190a6b4-1c7e-7a55-9d5b-4c1b2f0e8a61")
	f.Add("0190A6B4-1C7E-7A55-9D5B-4C1B2F0E8A61")
	f.Add("key-1")
	f.Fuzz(func(t *testing.T, s string) {
		b, ok := parseUUID(s)
		if u, err := uuid.Parse(s); err == nil && u.String() == s && !ok {
			t.Fatalf("%q refused", s)
		}
		if !ok {
			return
		}
		var out [36]byte
		formatUUID(&out, &b)
		if string(out[:]) != s {
			t.Fatalf("%q came back as %q", s, out[:])
		}
	})
}

// TestCacheKeysAreOffHeap holds the cache to its memory: 100,000 keys of
// 5,000 owners, shaped as keygate issues them (UUID ids, one policy per
// set of lists), take less than 16 bytes each of Go's heap (their
// profiles) and less than 128 bytes each outside it. The cache of
// 2026-12-05, with a Verified per key on the heap, took about 200 bytes a
// key there, and the collector let the heap grow by as much again.
func TestCacheKeysAreOffHeap(t *testing.T) {
	if !offheap.Outside {
		t.Skip("no mmap here: the table's slots are on the heap")
	}
	const n = 100_000
	policies := []*testPolicy{{"read"}, {"write"}}
	owners := make([]string, 5000)
	for i := range owners {
		owners[i] = "partner-" + strconv.Itoa(i)
	}
	hashes, ids := make([]Hash, n), make([]string, n)
	for i := range n {
		hashes[i], ids[i] = hashOf(i), uuid.Must(uuid.NewV7()).String()
	}
	before, mapped := heapAlloc(), offheap.Mapped()
	c := testCache(n)
	for i := range n {
		c.set(&hashes[i], &Verified{ID: ids[i], Owner: owners[i%len(owners)], Policy: policies[i%2], until: untilNever}, 0)
	}
	heap, tables := heapAlloc()-before, offheap.Mapped()-mapped
	if c.len() != n {
		t.Fatalf("%d keys cached, want %d", c.len(), n)
	}
	t.Logf("per key: %.1f B of heap, %.1f B outside it", float64(heap)/n, float64(tables)/n)
	if heap > 16*n || tables > 128*n {
		t.Fatalf("per key: %.1f B of heap (want < 16), %.1f B outside it (want < 128)", float64(heap)/n, float64(tables)/n)
	}
	h := hashes[n-1]
	if v, ok := c.get(&h, 1); !ok || v.ID != ids[n-1] {
		t.Fatalf("the last key: %v, %v", v, ok)
	}
	runtime.KeepAlive(c)
}

func heapAlloc() int64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}
