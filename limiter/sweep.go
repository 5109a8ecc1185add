package limiter

import (
	"maps"
	"time"

	"github.com/keygate/keygate/internal/offheap"
)

// shrinkBelow is the number of ids under which a shard never rebuilds its
// wide map.
const shrinkBelow = 1024

func (m *Memory) startSweeper(interval time.Duration) {
	m.stop, m.done = make(chan struct{}), make(chan struct{})
	if interval < 0 {
		close(m.done)
		return
	}
	if interval == 0 {
		interval = time.Minute
	}
	go m.sweepEvery(interval)
}

func (m *Memory) sweepEvery(interval time.Duration) {
	defer close(m.done)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-m.stop:
			return
		case <-t.C:
			m.sweep(m.clock().UnixMilli())
		}
	}
}

// sweep removes the ids whose counts have all expired at now and returns
// how many it removed.
func (m *Memory) sweep(now int64) int {
	n := 0
	for i := range m.shards {
		n += m.shards[i].sweep(now)
	}
	return n
}

func (s *shard) sweep(now int64) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	// DeleteFunc shrinks m, giving back memory, once under a quarter full.
	n := s.m.DeleteFunc(func(e *offheap.Slot[entry]) bool { return expiresAll(e.Val[:]) <= now })
	for h, w := range s.wide {
		if expiresAll(w[:]) <= now {
			delete(s.wide, h)
			n++
		}
	}
	s.shrink()
	return n
}

// shrink rebuilds wide once the shard holds a quarter of its peak of ids,
// since Go maps never give back the memory of deleted entries (m, an
// offheap.Table, shrinks itself).
func (s *shard) shrink() {
	n := s.m.Len() + len(s.wide)
	if s.peak < shrinkBelow || n > s.peak/4 {
		return
	}
	s.wide = maps.Clone(s.wide)
	s.peak = n
}
