package limiter

import (
	"context"
	"hash/maphash"
	"math/bits"
	"sync"
	"time"

	"github.com/keygate/keygate/internal/offheap"
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
// request. The ids of at most two limits, nearly all of them, are held
// outside Go's heap (see shard).
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
	mu sync.Mutex
	// m holds the ids of at most inlineWindows limits, wide the others, by
	// their hash. m's entries are in memory of its own (offheap.Table),
	// outside Go's heap: 100,000 keys' ids are held at once, 47 to 67
	// bytes each with the table's free slots, and on the heap each byte
	// cost another of the collector's headroom (Go lets the heap grow by
	// as much as is live before it collects; see internal/offheap). An
	// entry of m (a *entry, or slots held returned) is valid until m's
	// next Put or Delete: use it under mu, never across them. wide, on
	// the heap, is for the rare id of more limits.
	m    *offheap.Table[entry]
	wide map[uint64]*[MaxWindows]slot
	peak int // largest number of ids (in m and wide) since wide was last rebuilt
	_    [32]byte
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
		m.shards[i].m, m.shards[i].wide = offheap.New[entry](), map[uint64]*[MaxWindows]slot{}
	}
	m.startSweeper(cfg.SweepInterval)
	return m
}

// Allow decides whether cost more fits every limit of id and, if so,
// counts it in all of them. It never blocks on I/O and ignores ctx. It
// does not allocate for an id it already holds.
//
// Memory holds an id's counts by its 64-bit hash (maphash, seeded anew
// for each Memory), not by the id: two ids share counts only if their
// hashes collide, which for 100,000 ids has a chance below 10^-9 that
// nobody can raise without knowing the seed.
func (m *Memory) Allow(_ context.Context, id string, limits []Limit, cost int64) (d Decision, err error) {
	err = m.allow(&d, id, limits, cost)
	return d, err
}

// allow is Allow deciding into d (see decide), for Fallback.
func (m *Memory) allow(d *Decision, id string, limits []Limit, cost int64) error {
	if err := checkRequest(id, limits, cost); err != nil {
		return err
	}
	h := maphash.String(m.seed, id)
	s := &m.shards[h&m.mask]
	s.mu.Lock()
	defer s.mu.Unlock()
	now := m.clock().UnixMilli()
	slots := s.held(h)
	var c [MaxWindows]counts
	read(slots, now, limits, &c)
	decide(d, now, limits, cost, &c)
	if d.Allowed {
		s.add(h, slots, now, limits, cost)
	}
	return nil
}

// Len returns the number of ids held.
func (m *Memory) Len() int {
	n := 0
	for i := range m.shards {
		s := &m.shards[i]
		s.mu.Lock()
		n += s.m.Len() + len(s.wide)
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

// inlineWindows is how many windows an id's entry holds in the table
// itself: most keys have one or two limits.
const inlineWindows = 2

// entry holds the windows of an id of at most inlineWindows limits.
type entry [inlineWindows]slot

// slot holds the counts of the two most recent fixed windows of one limit.
// A count never exceeds its limit's Count (at most MaxCount, below 2^32),
// a window is at most 31 days (below 2^32 ms), and a fixed window's number
// (milliseconds since the Unix epoch over the window) fits 32 bits until
// the year 2106.
type slot struct {
	size   uint32 // window in ms; 0 for a free slot
	bucket uint32 // number of the newest fixed window held
	curr   uint32 // count in bucket
	prev   uint32 // count in bucket-1
}

// held returns the slots of id hash h: those of its entry in m (valid
// until m's next Put or Delete) or of its wide entry; nil when h holds
// none.
func (s *shard) held(h uint64) []slot {
	if e := s.m.Get(h); e != nil {
		return e[:]
	}
	if w := s.wide[h]; w != nil {
		return w[:]
	}
	return nil
}

// add counts cost in every limit of h, whose slots held returned (with no
// Put or Delete of m since). An id whose windows outgrow its entry (more
// than inlineWindows of them, in one call or across calls with other
// limits) moves to wide and stays there: like Redis, Memory keeps every
// window an id was counted in until it expires, up to MaxWindows.
func (s *shard) add(h uint64, slots []slot, now int64, limits []Limit, cost int64) {
	switch {
	case slots == nil && len(limits) <= inlineWindows:
		e, _ := s.m.Put(h)
		slots = e[:]
	case slots == nil || (len(slots) == inlineWindows && !fitsInline(slots, now, limits)):
		w := new([MaxWindows]slot)
		copy(w[:], slots)
		if slots != nil {
			s.m.Delete(h) // slots is gone: w holds its copy
		}
		s.wide[h] = w
		slots = w[:]
	}
	for _, l := range limits {
		p := positionAt(now, l.Window)
		slotFor(slots, p, now, limits).add(p.bucket, cost)
	}
	s.peak = max(s.peak, s.m.Len()+len(s.wide))
}

// fitsInline reports whether the windows of limits fit in slots with no
// live window of another limit given up.
func fitsInline(slots []slot, now int64, limits []Limit) bool {
	if len(limits) > len(slots) {
		return false
	}
	free := 0
	for i := range slots {
		if s := &slots[i]; s.size == 0 || s.expires() <= now || s.usedBy(limits) {
			free++
		}
	}
	return free >= len(limits)
}

// read puts the counts held in slots for each limit into c.
func read(slots []slot, now int64, limits []Limit, c *[MaxWindows]counts) {
	for i, l := range limits {
		if s := find(slots, l.Window.Milliseconds()); s != nil {
			b := now / s.ms()
			c[i] = counts{prev: s.count(b - 1), curr: s.count(b)}
		}
	}
}

func find(slots []slot, size int64) *slot {
	for i := range slots {
		if slots[i].ms() == size {
			return &slots[i]
		}
	}
	return nil
}

// slotFor returns the slot of p's window, claiming a free or expired slot,
// or else one whose window is not among limits (limits has at most
// len(slots) distinct windows, one of which has no slot).
func slotFor(slots []slot, p position, now int64, limits []Limit) *slot {
	if s := find(slots, p.size); s != nil {
		return s
	}
	c := claim(slots, now, limits)
	*c = slot{size: uint32(p.size), bucket: uint32(p.bucket)}
	return c
}

func claim(slots []slot, now int64, limits []Limit) *slot {
	for i := range slots {
		if s := &slots[i]; s.size == 0 || s.expires() <= now {
			return s
		}
	}
	for i := range slots {
		if s := &slots[i]; !s.usedBy(limits) {
			return s
		}
	}
	return &slots[len(slots)-1] // unreachable, see above
}

// ms is the slot's window in milliseconds.
func (s *slot) ms() int64 { return int64(s.size) }

// expires is when every count of s is out of its window (ms); 0 for a free
// slot.
func (s *slot) expires() int64 { return (int64(s.bucket) + 2) * int64(s.size) }

// expiresAll is when every count of slots is out of its window.
func expiresAll(slots []slot) int64 {
	var t int64
	for i := range slots {
		t = max(t, slots[i].expires())
	}
	return t
}

func (s *slot) usedBy(limits []Limit) bool {
	for _, l := range limits {
		if l.Window.Milliseconds() == s.ms() {
			return true
		}
	}
	return false
}

func (s *slot) count(b int64) int64 {
	switch b {
	case int64(s.bucket):
		return int64(s.curr)
	case int64(s.bucket) - 1:
		return int64(s.prev)
	}
	return 0
}

// add counts cost in fixed window b. Counts for a window older than the two
// held (a clock that went back) are dropped.
func (s *slot) add(b, cost int64) {
	switch held := int64(s.bucket); {
	case b == held:
		s.curr += uint32(cost)
	case b == held-1:
		s.prev += uint32(cost)
	case b > held:
		s.prev = uint32(s.count(b - 1))
		s.bucket, s.curr = uint32(b), uint32(cost)
	}
}
