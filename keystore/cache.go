package keystore

import (
	"encoding/binary"
	"sync"
	"sync/atomic"
)

// cache is the verification cache: by a key's hash, its Verified (active,
// revoked or with an expiry; for CacheTTL) or the knowledge that no key
// has that hash (for NegativeTTL). It is built for 100,000 keys held at
// once in little memory: a key costs its entry (its Verified, the rest of
// its hash, its expiry: 96 bytes), its id and a slot of a map keyed by 8
// bytes of the hash: about 200 bytes (BenchmarkCachedKeys), where a
// general-purpose cache (otter, before) cost about 280.
//
// Bounds and eviction:
//   - At most size keys (plus at most one per shard, when a shard with
//     none must take one while the others hold size). A key cached when
//     size are evicts another of its shard: among a few taken at random,
//     the first expired or not read since the last eviction passed it
//     (one bit per key, CLOCK-like), else the first.
//   - Unknown hashes are held apart, at most size/8 of them (as many in
//     each shard, and at least one a shard), and never evict a key: a
//     client sending made-up keys cannot push real keys out (only keys
//     found in storage are ever cached as keys).
//   - Expired entries are never answered; sweep removes them.
//
// A hash is looked up by its first 8 bytes and then compared whole: a
// made-up key whose hash shares 8 bytes with a cached key's (2^47 hashes
// of work against 100,000 keys) is a miss, never that key.
type cache struct {
	shards  [cacheShards]cacheShard
	size    int64 // keys held at most
	unknown int   // unknown hashes held at most, per shard
	ttl     int64 // ns
	negTTL  int64 // ns

	keys, unknowns atomic.Int64 // held now
}

const (
	cacheShards = 64
	// evictSample is how many keys an eviction looks at.
	evictSample = 8
)

type cacheShard struct {
	mu      sync.RWMutex
	keys    map[uint64]*cacheEntry // by the hash's first 8 bytes
	unknown map[Hash]int64         // expiry (Unix ns) of hashes of no key

	hits, misses atomic.Uint64
	_            [8]byte // to 64 bytes, a cache line: shards' counters apart
}

// cacheEntry is a cached key: 96 bytes, a size class of Go's allocator.
// Verify hands out &Verified, so an entry is never changed once cached
// but for its used bit; an evicted entry lives on while a request holds
// it.
type cacheEntry struct {
	Verified
	rest hash24 // the hash but for the 8 bytes the shard's map keys it by
	// stamp is the entry's expiry (Unix ns) with its lowest bit
	// replaced by used: read since an eviction last passed it.
	stamp atomic.Int64
}

// hash24 is the last 24 bytes of a Hash.
type hash24 [24]byte

func (e *cacheEntry) is(h *Hash) bool { return e.rest == hash24(h[8:]) }

// expires is when e expires (Unix ns, to the nearest 2 ns below).
func (e *cacheEntry) expires() int64 { return e.stamp.Load() &^ 1 }

func (e *cacheEntry) used() bool { return e.stamp.Load()&1 == 1 }

// touch marks e used, writing only when it was not (a key read on every
// core would otherwise bounce its cache line between them).
func (e *cacheEntry) touch() {
	if !e.used() {
		e.stamp.Or(1)
	}
}

func (e *cacheEntry) untouch() { e.stamp.And(^1) }

func newCache(cfg Config) *cache {
	c := &cache{
		size:    int64(cfg.CacheSize),
		unknown: max(cfg.CacheSize/8/cacheShards, 1),
		ttl:     int64(cfg.CacheTTL),
		negTTL:  int64(cfg.NegativeTTL),
	}
	for i := range c.shards {
		c.shards[i].keys, c.shards[i].unknown = map[uint64]*cacheEntry{}, map[Hash]int64{}
	}
	return c
}

// shard is the shard of h and h's key in it: two different parts of the
// hash (which is uniformly random for keys that are not made up).
func (c *cache) shard(h *Hash) (*cacheShard, uint64) {
	return &c.shards[h[31]%cacheShards], binary.LittleEndian.Uint64(h[:8])
}

// get returns what the cache holds of h at now (Unix ns): its Verified, or
// nil for a hash of no key; ok is false when it holds nothing unexpired.
func (c *cache) get(h *Hash, now int64) (v *Verified, ok bool) {
	s, k := c.shard(h)
	s.mu.RLock()
	if e := s.keys[k]; e != nil && e.is(h) {
		if now < e.expires() {
			s.mu.RUnlock()
			e.touch()
			s.hits.Add(1)
			return &e.Verified, true
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

// set caches v (nil: no key has hash h) at now, and returns what get will
// return for it.
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
	e := &cacheEntry{Verified: *v, rest: hash24(h[8:])}
	e.stamp.Store((now + c.ttl) &^ 1)
	s.mu.Lock()
	if _, found := s.unknown[*h]; found {
		delete(s.unknown, *h)
		c.unknowns.Add(-1)
	}
	if _, found := s.keys[k]; !found {
		if c.keys.Load() >= c.size {
			c.evictKey(s, now)
		}
		c.keys.Add(1)
	}
	s.keys[k] = e
	s.mu.Unlock()
	return &e.Verified
}

// evictKey removes a key of s (see cache), under s.mu.
func (c *cache) evictKey(s *cacheShard, now int64) {
	evictable := func(e *cacheEntry) bool { return now >= e.expires() || !e.used() }
	if k, ok := victim(s.keys, evictable, (*cacheEntry).untouch); ok {
		delete(s.keys, k)
		c.keys.Add(-1)
	}
}

// evictUnknown removes an unknown hash of s, the first expired one among
// a few, under s.mu.
func (c *cache) evictUnknown(s *cacheShard, now int64) {
	if h, ok := victim(s.unknown, func(until int64) bool { return now >= until }, nil); ok {
		delete(s.unknown, h)
		c.unknowns.Add(-1)
	}
}

// victim picks the entry of m to evict: among evictSample entries taken
// from a random place (where Go's map iteration starts), the first that
// evictable accepts, else the first; passed, if not nil, is called with
// each one looked at and not taken. ok is false when m is empty.
func victim[K comparable, V any](m map[K]V, evictable func(V) bool, passed func(V)) (k K, ok bool) {
	n := 0
	for key, v := range m {
		if n == 0 {
			k, ok = key, true
		}
		if evictable(v) {
			return key, true
		}
		if passed != nil {
			passed(v)
		}
		if n++; n == evictSample {
			break
		}
	}
	return k, ok
}

// invalidate drops h.
func (c *cache) invalidate(h *Hash) {
	s, k := c.shard(h)
	s.mu.Lock()
	if e := s.keys[k]; e != nil && e.is(h) {
		delete(s.keys, k)
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
		c.keys.Add(-int64(len(s.keys)))
		c.unknowns.Add(-int64(len(s.unknown)))
		clear(s.keys)
		clear(s.unknown)
		s.mu.Unlock()
	}
}

// sweep removes what expired by now, a shard at a time.
func (c *cache) sweep(now int64) {
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		for k, e := range s.keys {
			if now >= e.expires() {
				delete(s.keys, k)
				c.keys.Add(-1)
			}
		}
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
