package limiter

import "time"

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
	for id, e := range s.m {
		if e.expires <= now {
			delete(s.m, id)
			n++
		}
	}
	s.shrink()
	return n
}

// shrink rebuilds the map once it holds a quarter of its peak, since Go maps
// never give back the memory of deleted entries.
func (s *shard) shrink() {
	if s.peak < shrinkBelow || len(s.m) > s.peak/4 {
		return
	}
	m := make(map[string]*entry, len(s.m))
	for id, e := range s.m {
		m[id] = e
	}
	s.m, s.peak = m, len(m)
}
