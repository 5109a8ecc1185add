package keystore

import (
	"encoding/binary"
	"math/rand/v2"
	"sync"
	"sync/atomic"

	"github.com/keygate/keygate/internal/offheap"
)

// cache is the verification cache: by a key's hash, what Verify answers of
// it (active, revoked or with an expiry; for CacheTTL) or the knowledge
// that no key has that hash (for NegativeTTL). It is built for 100,000 keys
// held at once in little memory:
//
//   - A key is a 64-byte slot of an off-heap table (internal/offheap):
//     part of its hash, its expiry, its state, its id (a UUID, as 16
//     bytes) and the number of its profile. Nothing per key is on Go's
//     heap, where the collector would let it take twice its size.
//   - What keys share (owner, credential, compiled policy) is a profile,
//     held once for all the keys that have it (profiles). A key whose id is
//     no UUID in canonical form has a profile of its own, with its id.
//   - A hit makes the caller's Verified anew (two allocations, 64 and 48
//     bytes: the Verified and its id, the 36 characters of the UUID).
//
// BenchmarkCachedKeys (cmd/keygate; 100,000 keys of 5,000 owners): 97 B
// a key off the heap and 29–32 B on it, where the entries on the heap
// before took 206 B, and the collector let the heap grow by as much again
// before it collected (README, Performance).
//
// Bounds and eviction:
//   - At most size keys (plus at most one per shard, when a shard with
//     none must take one while the others hold size). A key cached when
//     size are evicts another of its shard: among a few taken from a random
//     place, the first expired or not read since the last eviction passed
//     it (one bit per key, CLOCK-like), else the first.
//   - Unknown hashes are held apart, at most size/8 of them (as many in
//     each shard, and at least one a shard), and never evict a key: a
//     client sending made-up keys cannot push real keys out (only keys
//     found in storage are ever cached as keys).
//   - Expired entries are never answered; sweep removes them.
//
// A key is looked up by the first 8 bytes of its hash and then compared on
// 24: a made-up key whose hash shares those 24 bytes (192 bits) with one of
// 100,000 cached keys' takes 2^175 hashes to find; any other is a miss,
// never that key.
type cache struct {
	shards   [cacheShards]cacheShard
	profiles profiles
	size     int64 // keys held at most
	unknown  int   // unknown hashes held at most, per shard
	ttl      int64 // ns
	negTTL   int64 // ns

	keys, unknowns atomic.Int64 // held now
}

const (
	cacheShards = 64
	// evictSample is how many keys an eviction looks at.
	evictSample = 8
)

type cacheShard struct {
	mu      sync.RWMutex
	keys    *offheap.Table[cacheSlot] // by the hash's first 8 bytes
	unknown map[Hash]int64            // expiry (Unix ns) of hashes of no key

	hits, misses atomic.Uint64
	_            [8]byte // to 64 bytes, a cache line: shards' counters apart
}

// cacheSlot is a cached key; with its table key, 64 bytes.
type cacheSlot struct {
	rest hash16 // bytes 8 to 24 of the hash
	// stamp is the entry's expiry (Unix ns) with its lowest bit replaced
	// by used: read since an eviction last passed it. Read and written
	// atomically under the shard's read lock.
	stamp   int64
	until   int64    // Verified.until
	id      [16]byte // the key's UUID, unless its profile holds its id
	profile uint32
	_       uint32
}

// hash16 is bytes 8 to 24 of a Hash.
type hash16 [16]byte

func (e *cacheSlot) is(h *Hash) bool { return e.rest == hash16(h[8:24]) }

// expires is when e expires (Unix ns, to the nearest 2 ns below).
func (e *cacheSlot) expires() int64 { return atomic.LoadInt64(&e.stamp) &^ 1 }

func (e *cacheSlot) used() bool { return atomic.LoadInt64(&e.stamp)&1 == 1 }

// touch marks e used, writing only when it was not (a key read on every
// core would otherwise bounce its cache line between them).
func (e *cacheSlot) touch() {
	if !e.used() {
		atomic.OrInt64(&e.stamp, 1)
	}
}

func (e *cacheSlot) untouch() { atomic.AndInt64(&e.stamp, ^1) }

func newCache(cfg Config) *cache {
	c := &cache{
		size:    int64(cfg.CacheSize),
		unknown: max(cfg.CacheSize/8/cacheShards, 1),
		ttl:     int64(cfg.CacheTTL),
		negTTL:  int64(cfg.NegativeTTL),
	}
	c.profiles.init(cfg.CacheSize + cacheShards)
	for i := range c.shards {
		c.shards[i].keys, c.shards[i].unknown = offheap.New[cacheSlot](), map[Hash]int64{}
	}
	return c
}

// shard is the shard of h and h's key in it: two different parts of the
// hash (which is uniformly random for keys that are not made up).
func (c *cache) shard(h *Hash) (*cacheShard, uint64) {
	return &c.shards[h[31]%cacheShards], binary.LittleEndian.Uint64(h[:8])
}

// get returns what the cache holds of h at now (Unix ns): a Verified of
// the caller's own, or nil for a hash of no key; ok is false when it holds
// nothing unexpired.
func (c *cache) get(h *Hash, now int64) (v *Verified, ok bool) {
	s, k := c.shard(h)
	s.mu.RLock()
	if e := s.keys.Get(k); e != nil && e.is(h) {
		if now < e.expires() {
			e.touch()
			until, id, p := e.until, e.id, c.profiles.get(e.profile)
			s.mu.RUnlock()
			s.hits.Add(1)
			return p.verified(until, &id), true
		}
	} else if until, found := s.unknown[*h]; found && now < until {
		s.mu.RUnlock()
		s.hits.Add(1)
		return nil, true
	}
	s.mu.RUnlock()
	s.misses.Add(1)
	return nil, false
}

// set caches v (nil: no key has hash h) at now. It returns v, which is
// the caller's: the cache keeps copies.
func (c *cache) set(h *Hash, v *Verified, now int64) *Verified {
	s, k := c.shard(h)
	if v == nil {
		s.mu.Lock()
		if _, found := s.unknown[*h]; !found {
			if len(s.unknown) >= c.unknown {
				c.evictUnknown(s, now)
			}
			c.unknowns.Add(1)
		}
		s.unknown[*h] = now + c.negTTL
		s.mu.Unlock()
		return nil
	}
	id, isUUID := parseUUID(v.ID)
	p, ok := c.profiles.acquire(v, isUUID)
	if !ok {
		return v // no profile number left (see profiles): not cached
	}
	s.mu.Lock()
	if _, found := s.unknown[*h]; found {
		delete(s.unknown, *h)
		c.unknowns.Add(-1)
	}
	old := s.keys.Get(k)
	if old == nil && c.keys.Load() >= c.size {
		c.evictKey(s, now)
	}
	e, fresh := s.keys.Put(k)
	if fresh {
		c.keys.Add(1)
	} else {
		c.profiles.release(e.profile)
	}
	*e = cacheSlot{rest: hash16(h[8:24]), stamp: (now + c.ttl) &^ 1, until: v.until, id: id, profile: p}
	s.mu.Unlock()
	return v
}

// evictKey removes a key of s (see cache), under s.mu.
func (c *cache) evictKey(s *cacheShard, now int64) {
	var victim, first uint64
	s.keys.RangeFrom(rand.Uint64(), evictSample, func(slot *offheap.Slot[cacheSlot]) bool {
		if first == 0 {
			first = slot.Key()
		}
		if e := &slot.Val; now >= e.expires() || !e.used() {
			victim = slot.Key()
			return false
		}
		slot.Val.untouch()
		return true
	})
	if victim == 0 {
		victim = first
	}
	if e := s.keys.Get(victim); e != nil {
		c.profiles.release(e.profile)
		s.keys.Delete(victim)
		c.keys.Add(-1)
	}
}

// evictUnknown removes an unknown hash of s, the first expired one among
// a few from where Go's map iteration starts (a random place), else the
// first, under s.mu.
func (c *cache) evictUnknown(s *cacheShard, now int64) {
	n, victim, found := 0, Hash{}, false
	for h, until := range s.unknown {
		if n == 0 || now >= until {
			victim, found = h, true
		}
		if n++; now >= until || n == evictSample {
			break
		}
	}
	if found {
		delete(s.unknown, victim)
		c.unknowns.Add(-1)
	}
}

// invalidate drops h.
func (c *cache) invalidate(h *Hash) {
	s, k := c.shard(h)
	s.mu.Lock()
	if e := s.keys.Get(k); e != nil && e.is(h) {
		c.profiles.release(e.profile)
		s.keys.Delete(k)
		c.keys.Add(-1)
	}
	if _, found := s.unknown[*h]; found {
		delete(s.unknown, *h)
		c.unknowns.Add(-1)
	}
	s.mu.Unlock()
}

// invalidateAll drops everything.
func (c *cache) invalidateAll() {
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		s.keys.Range(func(slot *offheap.Slot[cacheSlot]) bool {
			c.profiles.release(slot.Val.profile)
			return true
		})
		c.keys.Add(-int64(s.keys.Len()))
		c.unknowns.Add(-int64(len(s.unknown)))
		s.keys.Clear()
		clear(s.unknown)
		s.mu.Unlock()
	}
}

// sweep removes what expired by now, a shard at a time.
func (c *cache) sweep(now int64) {
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		n := s.keys.DeleteFunc(func(slot *offheap.Slot[cacheSlot]) bool {
			if now < slot.Val.expires() {
				return false
			}
			c.profiles.release(slot.Val.profile)
			return true
		})
		c.keys.Add(-int64(n))
		for h, until := range s.unknown {
			if now >= until {
				delete(s.unknown, h)
				c.unknowns.Add(-1)
			}
		}
		s.mu.Unlock()
	}
}

// len is how many keys and unknown hashes the cache holds.
func (c *cache) len() int { return int(c.keys.Load() + c.unknowns.Load()) }

// counts returns the hits and misses so far.
func (c *cache) counts() (hits, misses uint64) {
	for i := range c.shards {
		hits += c.shards[i].hits.Load()
		misses += c.shards[i].misses.Load()
	}
	return hits, misses
}
