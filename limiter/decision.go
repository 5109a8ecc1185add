package limiter

import (
	"errors"
	"fmt"
	"time"
)

// ErrInvalidRequest is wrapped by every error about the arguments of Allow:
// an empty id, no limits or more than MaxWindows, an invalid limit, two
// limits with the same window, a cost below 1 or above a limit's Count.
var ErrInvalidRequest = errors.New("limiter: invalid request")

// WindowState is what one limit looks like after a decision.
type WindowState struct {
	Limit Limit
	// Remaining is the cost that would still be admitted now in this window.
	Remaining int64
	// Reset is the time until every request counted so far has left this
	// window (the RateLimit field's t).
	Reset time.Duration
}

// Decision is the answer to one Allow. A denial is a Decision, not an error.
type Decision struct {
	Allowed bool
	// RetryAfter is zero when Allowed; otherwise the shortest wait, in whole
	// milliseconds, after which the same request is admitted if nothing
	// else is counted meanwhile.
	RetryAfter time.Duration
	// N is the number of limits; Windows[:N] hold their states in the
	// order of the limits given to Allow.
	N       int
	Windows [MaxWindows]WindowState
}

// States returns the states of the limits, d.Windows[:d.N].
func (d *Decision) States() []WindowState { return d.Windows[:d.N] }

// scale is the fixed-point unit of the arithmetic: a weight of scale is 1.
const scale = 1_000_000

// counts are the requests counted in the previous and the current fixed
// window of one limit.
type counts struct{ prev, curr int64 }

// position places an instant in the fixed windows of one limit.
type position struct {
	size    int64 // W, the window in milliseconds
	bucket  int64 // floor(now / W)
	elapsed int64 // now - bucket*W
	weight  int64 // floor((W - elapsed) * scale / W), the previous window's share
}

func positionAt(now int64, w time.Duration) position {
	p := position{size: w.Milliseconds()}
	p.bucket = now / p.size
	p.elapsed = now - p.bucket*p.size
	p.weight = (p.size - p.elapsed) * scale / p.size
	return p
}

// decide applies the sliding-window counter of doc.go to the counts of every
// limit at instant now (milliseconds since the Unix epoch). The caller
// stores the increment when the decision is Allowed. Memory and Redis both
// decide with it: for Redis, allow.lua checks fits (the same arithmetic)
// and counts, and returns the counts and the time for decide.
//
// It fills d in place, and places each window twice rather than keep the
// positions: a Decision and MaxWindows positions on the stack of each
// caller would deepen /auth's stack past the 8 KiB it must stay within
// (see authz's check).
func decide(d *Decision, now int64, limits []Limit, cost int64, c *[MaxWindows]counts) {
	*d = Decision{Allowed: true, N: len(limits)}
	for i, l := range limits {
		if !fits(l.Count, c[i], positionAt(now, l.Window), cost) {
			d.Allowed = false
		}
	}
	for i, l := range limits {
		p := positionAt(now, l.Window)
		if d.Allowed {
			c[i].curr += cost
		} else {
			d.RetryAfter = max(d.RetryAfter, wait(l.Count, c[i], p, cost))
		}
		d.Windows[i] = WindowState{Limit: l, Remaining: remaining(l.Count, c[i], p), Reset: reset(c[i], p)}
	}
}

// fits reports prev*weight + (curr+cost)*scale <= count*scale.
func fits(count int64, c counts, p position, cost int64) bool {
	return c.prev*p.weight+(c.curr+cost)*scale <= count*scale
}

func remaining(count int64, c counts, p position) int64 {
	r := count*scale - c.prev*p.weight - c.curr*scale
	if r <= 0 {
		return 0
	}
	return r / scale
}

func reset(c counts, p position) time.Duration {
	switch {
	case c.curr > 0:
		return ms(2*p.size - p.elapsed)
	case c.prev > 0:
		return ms(p.size - p.elapsed)
	}
	return 0
}

// wait is the time until cost fits, if nothing else is counted: later in
// this fixed window if the previous one's share can shrink enough, else in
// the next, where the current count becomes the previous one.
func wait(count int64, c counts, p position, cost int64) time.Duration {
	if fits(count, c, p, cost) {
		return 0
	}
	if slack := (count - c.curr - cost) * scale; slack >= 0 {
		if e := firstElapsed(slack/c.prev, p.size); e < p.size {
			return ms(e - p.elapsed)
		}
	}
	var e int64
	if c.curr > 0 {
		e = firstElapsed((count-cost)*scale/c.curr, p.size)
	}
	return ms(p.size - p.elapsed + e)
}

// firstElapsed is the smallest elapsed e in [0, w] whose weight
// floor((w-e)*scale/w) is at most wmax.
func firstElapsed(wmax, w int64) int64 {
	if wmax >= scale {
		return 0
	}
	return max(w-ceilDiv((wmax+1)*w, scale)+1, 0)
}

func ceilDiv(a, b int64) int64 { return (a + b - 1) / b }

func ms(n int64) time.Duration { return time.Duration(n) * time.Millisecond }

// checkRequest validates the arguments of Allow without allocating when
// they are valid.
func checkRequest(id string, limits []Limit, cost int64) error {
	if id == "" {
		return fmt.Errorf("%w: empty id", ErrInvalidRequest)
	}
	if len(limits) == 0 || len(limits) > MaxWindows {
		return fmt.Errorf("%w: %d limits, want 1 to %d", ErrInvalidRequest, len(limits), MaxWindows)
	}
	for i, l := range limits {
		if err := checkLimit(l, limits[:i], cost); err != nil {
			return err
		}
	}
	return nil
}

func checkLimit(l Limit, before []Limit, cost int64) error {
	if err := l.Validate(); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidRequest, err)
	}
	for _, m := range before {
		if m.Window == l.Window {
			return fmt.Errorf("%w: %s and %s have the same window", ErrInvalidRequest, m, l)
		}
	}
	if cost < 1 || cost > l.Count {
		return fmt.Errorf("%w: cost %d outside 1 to %d for %s", ErrInvalidRequest, cost, l.Count, l)
	}
	return nil
}
