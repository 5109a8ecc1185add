package limiter

import (
	"fmt"
	"time"
)

// Interval is how often a key's credits refill.
type Interval uint8

// Intervals of a Refill.
const (
	NoRefill Interval = iota
	Daily
	Monthly
)

// Refill is when and to what a key's credits are refilled: each day at
// 00:00 UTC, or each month at 00:00 UTC on Day (1 to 31, the month's last
// day when it has fewer: day 31 refills on the 30th of a 30-day month and
// on the 28th or 29th of February). A refill sets the balance to Amount,
// whatever was left. The zero Refill never refills.
type Refill struct {
	Interval Interval
	Amount   int64
	Day      int
}

// Validate reports whether r can be computed.
func (r Refill) Validate() error {
	switch r.Interval {
	case NoRefill:
		return nil
	case Daily:
	case Monthly:
		if r.Day < 1 || r.Day > 31 {
			return fmt.Errorf("%w: refill day %d outside 1 to 31", ErrInvalidRequest, r.Day)
		}
	default:
		return fmt.Errorf("%w: unknown refill interval %d", ErrInvalidRequest, r.Interval)
	}
	if r.Amount < 0 || r.Amount > MaxCount {
		return fmt.Errorf("%w: refill amount %d outside 0 to %d", ErrInvalidRequest, r.Amount, int64(MaxCount))
	}
	return nil
}

const dayMillis = 24 * 60 * 60 * 1000

// Period returns the start of the refill period that holds instant now (ms
// since the Unix epoch, UTC) and the start of the next one, when the next
// refill happens. Both are 0 for NoRefill: one period that never ends.
func (r Refill) Period(now int64) (start, next int64) {
	switch r.Interval {
	case Daily:
		start = floorDiv(now, dayMillis) * dayMillis
		return start, start + dayMillis
	case Monthly:
		t := time.UnixMilli(now).UTC()
		y, m := t.Year(), t.Month()
		s := monthRefill(y, m, r.Day)
		if now < s {
			return monthRefill(y, m-1, r.Day), s
		}
		return s, monthRefill(y, m+1, r.Day)
	}
	return 0, 0
}

// monthRefill is 00:00 UTC of day in month m of year y, clamped to the
// month's last day. time.Date normalizes m outside 1 to 12.
func monthRefill(y int, m time.Month, day int) int64 {
	last := time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
	return time.Date(y, m, min(day, last), 0, 0, 0, 0, time.UTC).UnixMilli()
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}
