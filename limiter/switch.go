package limiter

import (
	"sync/atomic"
	"time"
)

// redisSwitch is what Fallback and FallbackCredits share: whether Redis is
// bypassed now, and which one request per ProbeInterval tries it again.
// Safe for concurrent use.
type redisSwitch struct {
	down      atomic.Bool
	probing   atomic.Bool
	nextProbe atomic.Int64 // ms
	fallbacks atomic.Uint64
}

// try reports whether a request asks Redis, and whether it is the probe
// that must then end with answered or failed. The clock is read only
// while Redis is bypassed.
func (s *redisSwitch) try(clock func() time.Time) (redis, probe bool) {
	if !s.down.Load() {
		return true, false
	}
	if clock().UnixMilli() < s.nextProbe.Load() || !s.probing.CompareAndSwap(false, true) {
		return false, false
	}
	return true, true
}

// answered ends a request that Redis answered (ok) or that failed for its
// own reasons: only the former brings the switch back to Redis, and
// reports so.
func (s *redisSwitch) answered(probe, ok bool) (back bool) {
	back = ok && s.down.CompareAndSwap(true, false)
	if probe {
		s.probing.Store(false)
	}
	return back
}

// failed ends a request whose Redis call failed at now (ms): Redis is
// bypassed until the next probe. n > 0 is the count of fallbacks when
// this failure switched away from Redis.
func (s *redisSwitch) failed(probe bool, now int64) (n uint64) {
	s.nextProbe.Store(now + ProbeInterval.Milliseconds())
	if probe {
		s.probing.Store(false)
	}
	if s.down.CompareAndSwap(false, true) {
		return s.fallbacks.Add(1)
	}
	return 0
}
