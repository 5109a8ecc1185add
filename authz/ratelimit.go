package authz

import (
	"strconv"
	"time"

	"github.com/keygate/keygate/limiter"
)

// The RateLimit-Policy and RateLimit fields of draft-ietf-httpapi-ratelimit-headers-10
// are Structured Field lists with one item per window, named after the
// window ("1s", "1h", "7d", "90s"):
//
//	RateLimit-Policy: "1s";q=10;w=1, "1h";q=5000;w=3600
//	RateLimit: "1s";r=9;t=1, "1h";r=4999;t=3600
//
// q is the quota and w the window in seconds; r is what remains and t the
// seconds until the window holds nothing counted so far.

// appendPolicy appends the RateLimit-Policy value of limits.
func appendPolicy(b []byte, limits []limiter.Limit) []byte {
	for i, l := range limits {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = appendName(b, l.Window)
		b = append(b, ";q="...)
		b = strconv.AppendInt(b, l.Count, 10)
		b = append(b, ";w="...)
		b = strconv.AppendInt(b, int64(l.Window/time.Second), 10)
	}
	return b
}

// appendRateLimit appends the RateLimit value of states.
func appendRateLimit(b []byte, states []limiter.WindowState) []byte {
	for i, s := range states {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = appendName(b, s.Limit.Window)
		b = append(b, ";r="...)
		b = strconv.AppendInt(b, max(s.Remaining, 0), 10)
		b = append(b, ";t="...)
		b = strconv.AppendInt(b, ceilSeconds(s.Reset), 10)
	}
	return b
}

// appendName appends the quoted policy name of a window: its length in the
// largest of d, h, m and s that divides it.
func appendName(b []byte, w time.Duration) []byte {
	b = append(b, '"')
	unit, size := byte('s'), time.Second
	for _, u := range [...]struct {
		c    byte
		size time.Duration
	}{{'d', 24 * time.Hour}, {'h', time.Hour}, {'m', time.Minute}} {
		if w%u.size == 0 {
			unit, size = u.c, u.size
			break
		}
	}
	b = strconv.AppendInt(b, int64(w/size), 10)
	return append(b, unit, '"')
}

// ceilSeconds rounds d up to whole seconds, never below 0.
func ceilSeconds(d time.Duration) int64 {
	if d <= 0 {
		return 0
	}
	return int64((d + time.Second - 1) / time.Second)
}
