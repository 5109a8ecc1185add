package limiter

import (
	"context"
	"hash/maphash"
	"math/bits"
	"sync"
	"time"
)

// MemoryConfig configures a Memory limiter. The zero value is ready to use.
type MemoryConfig struct {
	// Clock returns the current time; nil means time.Now.
	Clock func() time.Time
	// Shards is the number of independently locked shards, rounded up to a
	// power of two; 0 means 64.
	Shards int
	// SweepInterval is how often ids whose counts have all expired are
	// removed; 0 means one minute, a negative value disables the background
	// sweeper (counts still expire, only the memory is not reclaimed).
	SweepInterval time.Duration
}

// Memory is the limiter of one process: the counts live in its memory.
// It holds, per id, at most MaxWindows windows of two counts each, and
// forgets an id two windows (of its longest limit) after its last admitted
// request.
type Memory struct {
	clock  func() time.Time
	seed   maphash.Seed
	mask   uint64
	shards []shard
	stop   chan struct{}
	done   chan struct{}
	once   sync.Once
}

type shard struct {
	mu   sync.Mutex
	m    map[string]*entry
	peak int // largest len(m) since the map was last rebuilt
	_    [40]byte
}

// NewMemory returns a Memory limiter and starts its sweeper; Close stops it.
func NewMemory(cfg MemoryConfig) *Memory {
	n := 64
	if cfg.Shards > 0 {
		n = 1 << bits.Len(uint(cfg.Shards-1))
	}
	m := &Memory{clock: cfg.Clock, seed: maphash.MakeSeed(), mask: uint64(n - 1), shards: make([]shard, n)}
	if m.clock == nil {
		m.clock = time.Now
	}
	for i := range m.shards {
		m.shards[i].m = make(map[string]*entry)
	}
	m.startSweeper(cfg.SweepInterval)
	return m
}

// Allow decides whether cost more fits every limit of id and, if so,
// counts it in all of them. It never blocks on I/O and ignores ctx. It
// does not allocate for an id it already holds.
//
// Memory keeps id as it is given, not a copy: keygate's callers give the
// key id the verification cache holds, and a copy would cost 48 bytes
// more per key held (100,000 keys are, at once). id must therefore not be
// a view of memory that changes (unsafe.String of a reused buffer), and
// should not be a slice of a much larger string, which it would keep.
func (m *Memory) Allow(_ context.Context, id string, limits []Limit, cost int64) (d Decision, err error) {
	err = m.allow(&d, id, limits, cost)
	return d, err
}

// allow is Allow deciding into d (see decide), for Fallback.
func (m *Memory) allow(d *Decision, id string, limits []Limit, cost int64) error {
	if err := checkRequest(id, limits, cost); err != nil {
		return err
	}
	s := &m.shards[maphash.String(m.seed, id)&m.mask]
	s.mu.Lock()
	defer s.mu.Unlock()
	now := m.clock().UnixMilli()
	e := s.m[id]
	var c [MaxWindows]counts
	e.read(now, limits, &c)
	decide(d, now, limits, cost, &c)
	if d.Allowed {
		s.add(id, e, now, limits, cost)
	}
	return nil
}

// Len returns the number of ids held.
func (m *Memory) Len() int {
	n := 0
	for i := range m.shards {
		s := &m.shards[i]
		s.mu.Lock()
		n += len(s.m)
		s.mu.Unlock()
	}
	return n
}

// Close stops the sweeper. It is safe to call more than once; Allow keeps
// working after Close.
func (m *Memory) Close() {
	m.once.Do(func() {
		close(m.stop)
		<-m.done
	})
}

func (s *shard) add(id string, e *entry, now int64, limits []Limit, cost int64) {
	if e == nil {
		e = &entry{slots: make([]slot, 0, len(limits))}
		s.m[id] = e // as given, see Allow
		s.peak = max(s.peak, len(s.m))
	}
	for _, l := range limits {
		p := positionAt(now, l.Window)
		e.slot(p, now, limits).add(p.bucket, cost)
		e.expires = max(e.expires, (p.bucket+2)*p.size)
	}
}

// entry holds the windows of one id: as many slots as its limits have
// windows (at most MaxWindows), so that an id of two limits costs 64 bytes
// of slots, not MaxWindows' 256 (100,000 keys' ids are held at once).
type entry struct {
	slots   []slot
	expires int64 // ms; from then on every count held is out of its window
}

// slot holds the counts of the two most recent fixed windows of one limit.
type slot struct {
	size   int64 // window in ms; 0 for a free slot
	bucket int64 // number of the newest fixed window held
	curr   int64 // count in bucket
	prev   int64 // count in bucket-1
}

func (e *entry) read(now int64, limits []Limit, c *[MaxWindows]counts) {
	if e == nil {
		return
	}
	for i, l := range limits {
		if s := e.find(l.Window.Milliseconds()); s != nil {
			b := now / s.size
			c[i] = counts{prev: s.count(b - 1), curr: s.count(b)}
		}
	}
}

func (e *entry) find(size int64) *slot {
	for i := range e.slots {
		if e.slots[i].size == size {
			return &e.slots[i]
		}
	}
	return nil
}

// slot returns the slot of p's window, claiming a free or expired slot, or
// else one whose window is not among limits.
func (e *entry) slot(p position, now int64, limits []Limit) *slot {
	s := e.find(p.size)
	if s == nil {
		s = e.claim(now, limits)
		*s = slot{size: p.size, bucket: p.bucket}
	}
	return s
}

// claim finds a slot for a window that has none: an expired one, a new
// one while there are fewer than MaxWindows, or else one unused by limits
// (limits has at most MaxWindows distinct windows, one of which has no
// slot).
func (e *entry) claim(now int64, limits []Limit) *slot {
	for i := range e.slots {
		if s := &e.slots[i]; s.size == 0 || (s.bucket+2)*s.size <= now {
			return s
		}
	}
	if len(e.slots) < MaxWindows {
		e.slots = append(e.slots, slot{})
		return &e.slots[len(e.slots)-1]
	}
	for i := range e.slots {
		if s := &e.slots[i]; !s.usedBy(limits) {
			return s
		}
	}
	return &e.slots[len(e.slots)-1] // unreachable, see above
}

func (s *slot) usedBy(limits []Limit) bool {
	for _, l := range limits {
		if l.Window.Milliseconds() == s.size {
			return true
		}
	}
	return false
}

func (s *slot) count(b int64) int64 {
	switch b {
	case s.bucket:
		return s.curr
	case s.bucket - 1:
		return s.prev
	}
	return 0
}

// add counts cost in fixed window b. Counts for a window older than the two
// held (a clock that went back) are dropped.
func (s *slot) add(b, cost int64) {
	switch {
	case b == s.bucket:
		s.curr += cost
	case b == s.bucket-1:
		s.prev += cost
	case b > s.bucket:
		s.prev = s.count(b - 1)
		s.bucket, s.curr = b, cost
	}
}
