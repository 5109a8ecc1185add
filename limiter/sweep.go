package limiter

import (
	"maps"
	"time"
)

// shrinkBelow is the map size under which a shard never rebuilds its map.
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
	n := 0
	for h, e := range s.m {
		if expiresAll(e[:]) <= now {
			delete(s.m, h)
			n++
		}
	}
	for h, w := range s.wide {
		if expiresAll(w[:]) <= now {
			delete(s.wide, h)
			n++
		}
	}
	s.shrink()
	return n
}

// shrink rebuilds the maps once they hold a quarter of their peak, since Go
// maps never give back the memory of deleted entries.
func (s *shard) shrink() {
	n := len(s.m) + len(s.wide)
	if s.peak < shrinkBelow || n > s.peak/4 {
		return
	}
	s.m, s.wide = maps.Clone(s.m), maps.Clone(s.wide)
	s.peak = n
}
