package keystore

import (
	"crypto/sha256"
	"encoding/binary"
	"strconv"
	"sync"
	"testing"
	"time"
	"unsafe"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/keygate/keygate/internal/offheap"
)

func testCache(size int) *cache {
	return newCache(Config{CacheSize: size, CacheTTL: time.Minute, NegativeTTL: 5 * time.Second})
}

func hashOf(i int) Hash { return sha256.Sum256([]byte(strconv.Itoa(i))) }

// inShard returns a hash of shard 0 with key k.
func inShard(k uint64) Hash {
	var h Hash
	binary.LittleEndian.PutUint64(h[:8], k)
	h[20] = byte(k)
	return h
}

// held counts what c's maps hold, to compare with its counters.
func (c *cache) held() (keys, unknown int) {
	for i := range c.shards {
		keys += c.shards[i].keys.Len()
		unknown += len(c.shards[i].unknown)
	}
	return keys, unknown
}

func TestCacheHoldsAtMostItsSize(t *testing.T) {
	c := testCache(1000)
	for i := range 5000 {
		h := hashOf(i)
		c.set(&h, &Verified{ID: strconv.Itoa(i)}, 0)
	}
	keys, unknown := c.held()
	if keys < 1000 || keys > 1000+cacheShards || unknown != 0 || c.len() != keys {
		t.Fatalf("held %d keys and %d unknown, counted %d; want 1000 to %d keys", keys, unknown, c.len(), 1000+cacheShards)
	}
	h := hashOf(4999)
	if v, ok := c.get(&h, 1); !ok || v.ID != "4999" {
		t.Fatalf("the last key cached: %v, %v", v, ok)
	}
}

// TestCacheUnknownHashesNeverEvictKeys: made-up keys, however many, leave
// every cached key in place, and take at most size/8 entries.
func TestCacheUnknownHashesNeverEvictKeys(t *testing.T) {
	c := testCache(1024)
	for i := range 1024 {
		h := hashOf(i)
		c.set(&h, &Verified{ID: strconv.Itoa(i)}, 0)
	}
	for i := range 100_000 {
		h := hashOf(-1 - i)
		c.set(&h, nil, 0)
	}
	for i := range 1024 {
		h := hashOf(i)
		if v, ok := c.get(&h, 1); !ok || v == nil || v.ID != strconv.Itoa(i) {
			t.Fatalf("key %d after a flood of unknown hashes: %v, %v", i, v, ok)
		}
	}
	keys, unknown := c.held()
	if diff := cmp.Diff([3]int{1024, 128, 1024 + 128}, [3]int{keys, unknown, c.len()}); diff != "" {
		t.Fatalf("[keys, unknown hashes, len] (-want +got):\n%s", diff)
	}
	h := hashOf(-100_000)
	if v, ok := c.get(&h, 1); !ok || v != nil {
		t.Fatalf("the last unknown hash: %v, %v; want nil, true", v, ok)
	}
}

// TestCacheComparesHash: a hash that shares the 8 bytes the table is
// keyed by with a cached key's, but not the 16 after them (24 bytes, 192
// bits, are compared), is a miss, never that key.
func TestCacheComparesHash(t *testing.T) {
	c := testCache(100)
	h := inShard(7)
	c.set(&h, &Verified{ID: "real"}, 0)
	forged := h
	forged[20] ^= 1
	if v, ok := c.get(&forged, 1); ok || v != nil {
		t.Fatalf("a forged hash with the key's first 8 bytes: %v, %v; want a miss", v, ok)
	}
	if v, ok := c.get(&h, 1); !ok || v.ID != "real" {
		t.Fatalf("the real hash: %v, %v", v, ok)
	}
	c.invalidate(&forged)
	if _, ok := c.get(&h, 1); !ok {
		t.Fatal("invalidating the forged hash dropped the real key")
	}
}

func TestCacheExpiry(t *testing.T) {
	c := testCache(100)
	key, unknown := hashOf(1), hashOf(2)
	c.set(&key, &Verified{ID: "k"}, 0)
	c.set(&unknown, nil, 0)
	type seen struct{ Key, Unknown bool }
	at := func(now time.Duration) seen {
		_, k := c.get(&key, int64(now))
		_, u := c.get(&unknown, int64(now))
		return seen{k, u}
	}
	got := []seen{at(5*time.Second - 1), at(5 * time.Second), at(time.Minute - 1), at(time.Minute)}
	want := []seen{{true, true}, {true, false}, {true, false}, {false, false}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("at 5s-1ns, 5s, 1m-1ns, 1m (-want +got):\n%s", diff)
	}
	c.sweep(int64(time.Minute) - 1)
	if c.len() != 1 {
		t.Fatalf("after a sweep at 1m-1ns: %d held, want the key", c.len())
	}
	c.sweep(int64(time.Minute))
	if keys, unknowns := c.held(); keys+unknowns+c.len() != 0 {
		t.Fatalf("after a sweep at 1m: %d keys, %d unknown, counted %d", keys, unknowns, c.len())
	}
}

// TestCacheEvictsKeysNotRead: a full cache makes room by a key not read
// since it was cached, and keeps those read.
func TestCacheEvictsKeysNotRead(t *testing.T) {
	c := testCache(4)
	hs := []Hash{inShard(1), inShard(2), inShard(3), inShard(4), inShard(5)}
	for i := range 4 {
		c.set(&hs[i], &Verified{ID: strconv.Itoa(i)}, 0)
	}
	for _, i := range []int{0, 1, 3} {
		if _, ok := c.get(&hs[i], 1); !ok {
			t.Fatalf("key %d not cached", i)
		}
	}
	c.set(&hs[4], &Verified{ID: "4"}, 1)
	var got []bool
	for i := range hs {
		_, ok := c.get(&hs[i], 2)
		got = append(got, ok)
	}
	if diff := cmp.Diff([]bool{true, true, false, true, true}, got); diff != "" {
		t.Fatalf("cached after the fifth key (-want +got):\n%s", diff)
	}
}

func TestCacheInvalidate(t *testing.T) {
	c := testCache(100)
	for i := range 10 {
		h := hashOf(i)
		var v *Verified
		if i%2 == 0 {
			v = &Verified{ID: strconv.Itoa(i)}
		}
		c.set(&h, v, 0)
	}
	h := hashOf(0)
	c.invalidate(&h)
	h = hashOf(1)
	c.invalidate(&h)
	if _, ok := c.get(&h, 1); ok || c.len() != 8 {
		t.Fatalf("after invalidating a key and an unknown hash: %d held, the unknown one cached: %v", c.len(), ok)
	}
	// A key found after its hash was cached as unknown replaces it.
	h = hashOf(3)
	c.set(&h, &Verified{ID: "3"}, 1)
	if v, ok := c.get(&h, 2); !ok || v == nil || c.len() != 8 {
		t.Fatalf("a key cached over its unknown hash: %v, %v, %d held", v, ok, c.len())
	}
	c.invalidateAll()
	if keys, unknown := c.held(); keys+unknown+c.len() != 0 {
		t.Fatalf("after invalidateAll: %d keys, %d unknown, counted %d", keys, unknown, c.len())
	}
}

func TestCacheCounts(t *testing.T) {
	c := testCache(100)
	h := hashOf(1)
	c.get(&h, 0)
	c.set(&h, &Verified{ID: "1"}, 0)
	c.get(&h, 1)
	c.get(&h, 2)
	hits, misses := c.counts()
	if diff := cmp.Diff([2]uint64{2, 1}, [2]uint64{hits, misses}); diff != "" {
		t.Fatalf("[hits, misses] (-want +got):\n%s", diff)
	}
}

// TestCacheEntrySize: a key's slot is 64 bytes, and a shard fills a cache
// line.
func TestCacheEntrySize(t *testing.T) {
	if n := unsafe.Sizeof(offheap.Slot[cacheSlot]{}); n != 64 {
		t.Fatalf("a key's slot is %d bytes, want 64", n)
	}
	if n := unsafe.Sizeof(cacheShard{}); n != 64 {
		t.Fatalf("cacheShard is %d bytes, want 64 (a cache line)", n)
	}
}

// TestCacheConcurrent runs gets, sets, invalidations, evictions and
// sweeps of one small cache at once (under -race in make test), then
// checks that its counts are those of its tables, that it kept its bound,
// and that its profiles are counted right.
func TestCacheConcurrent(t *testing.T) {
	c := testCache(256)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 5000 {
				h := hashOf((g*7919 + i) % 2000)
				now := int64(i) * int64(time.Millisecond)
				switch i % 5 {
				case 0:
					c.set(&h, nil, now)
				case 1:
					c.invalidate(&h)
				case 2:
					if v, ok := c.get(&h, now); ok && v != nil && v.ID == "" {
						t.Error("a cached key without its id")
					}
				case 3:
					c.set(&h, &Verified{ID: strconv.Itoa(i)}, now) // a profile of its own
				default:
					c.set(&h, &Verified{ID: uuid.NewString(), Owner: "o" + strconv.Itoa(i%7)}, now)
				}
				if i%1000 == 999 {
					c.sweep(now)
				}
			}
		})
	}
	wg.Wait()
	keys, unknown := c.held()
	if c.len() != keys+unknown || int64(keys) != c.keys.Load() || keys > 256+cacheShards || unknown > cacheShards*c.unknown {
		t.Fatalf("held %d keys and %d unknown, counted %d and %d", keys, unknown, c.keys.Load(), c.unknowns.Load())
	}
	checkProfiles(t, c)
}
