package limiter

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Bounds of a Limit. MaxCount keeps every intermediate value of the
// arithmetic below 2^52, so that Redis's Lua (whose numbers are float64)
// computes exactly what Go does; see doc.go.
const (
	MinWindow = time.Second
	MaxWindow = 744 * time.Hour // 31 days
	MaxCount  = 1_000_000_000
)

// MaxWindows is the largest number of limits checked together for one id.
const MaxWindows = 8

// ErrInvalidLimit is wrapped by every error about the syntax or the range of
// a limit.
var ErrInvalidLimit = errors.New("limiter: invalid limit")

// Limit admits at most Count units of cost in any sliding Window.
type Limit struct {
	Count  int64
	Window time.Duration
}

// ParseLimit parses "N/duration": N is a decimal count from 1 to MaxCount;
// duration is a Go duration ("1s", "90s", "1m", "1h", "24h", "1.5h") or a
// whole number of days ("1d", "7d"), and must be a whole number of seconds
// from 1s to 31 days. Surrounding spaces are ignored.
func ParseLimit(s string) (Limit, error) {
	count, window, ok := strings.Cut(strings.TrimSpace(s), "/")
	if !ok {
		return Limit{}, invalid(s, "want N/duration such as 100/1s or 5000/1h")
	}
	n, err := parseCount(count)
	if err != nil {
		return Limit{}, invalid(s, err.Error())
	}
	w, err := parseWindow(window)
	if err != nil {
		return Limit{}, invalid(s, err.Error())
	}
	return Limit{Count: n, Window: w}, nil
}

// ParseLimits parses each string with ParseLimit and checks that the set can
// be used together: at most MaxWindows limits, no two with the same window.
// It reports every problem at once, joined with errors.Join.
func ParseLimits(ss []string) ([]Limit, error) {
	limits := make([]Limit, 0, len(ss))
	var errs []error
	for _, s := range ss {
		l, err := ParseLimit(s)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		limits = append(limits, l)
	}
	errs = append(errs, checkSet(limits))
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return limits, nil
}

// Validate reports whether l is within the bounds that ParseLimit enforces.
func (l Limit) Validate() error {
	if err := checkCount(l.Count); err != nil {
		return invalid(l.String(), err.Error())
	}
	if err := checkWindow(l.Window); err != nil {
		return invalid(l.String(), err.Error())
	}
	return nil
}

// String returns the canonical form "N/<n><unit>", with the largest unit of
// d, h, m, s that divides the window: "100/1s", "5000/1h", "10/7d", "3/90s".
// ParseLimit(l.String()) returns l for every valid l.
func (l Limit) String() string {
	return strconv.FormatInt(l.Count, 10) + "/" + formatWindow(l.Window)
}

func formatWindow(w time.Duration) string {
	if w <= 0 || w%time.Second != 0 {
		return w.String()
	}
	units := []struct {
		size time.Duration
		name string
	}{{24 * time.Hour, "d"}, {time.Hour, "h"}, {time.Minute, "m"}, {time.Second, "s"}}
	for _, u := range units {
		if w%u.size == 0 {
			return strconv.FormatInt(int64(w/u.size), 10) + u.name
		}
	}
	return w.String() // unreachable: w is a whole number of seconds
}

func parseCount(s string) (int64, error) {
	if s == "" || len(s) > 10 || strings.Trim(s, "0123456789") != "" {
		return 0, errors.New("count must be a whole number from 1 to 1000000000")
	}
	n, _ := strconv.ParseInt(s, 10, 64) // at most 10 digits: cannot fail
	return n, checkCount(n)
}

func checkCount(n int64) error {
	if n < 1 || n > MaxCount {
		return errors.New("count must be a whole number from 1 to 1000000000")
	}
	return nil
}

func parseWindow(s string) (time.Duration, error) {
	w, err := parseDuration(s)
	if err != nil {
		return 0, errors.New("window must be a duration such as 1s, 1m, 1h or 1d")
	}
	return w, checkWindow(w)
}

// parseDuration is time.ParseDuration plus a whole number of days ("7d").
func parseDuration(s string) (time.Duration, error) {
	days, ok := strings.CutSuffix(s, "d")
	if !ok {
		return time.ParseDuration(s)
	}
	if days == "" || len(days) > 3 || strings.Trim(days, "0123456789") != "" {
		return 0, errors.New("bad number of days")
	}
	n, _ := strconv.Atoi(days)
	return time.Duration(n) * 24 * time.Hour, nil
}

func checkWindow(w time.Duration) error {
	if w < MinWindow || w > MaxWindow {
		return errors.New("window must be from 1s to 31 days (744h)")
	}
	if w%time.Second != 0 {
		return errors.New("window must be a whole number of seconds")
	}
	return nil
}

// checkSet reports limits that cannot be checked together.
func checkSet(limits []Limit) error {
	var errs []error
	if len(limits) > MaxWindows {
		errs = append(errs, fmt.Errorf("%w: %d limits, at most %d", ErrInvalidLimit, len(limits), MaxWindows))
	}
	for i, l := range limits {
		for _, m := range limits[:i] {
			if l.Window == m.Window {
				errs = append(errs, fmt.Errorf("%w: %s and %s have the same window", ErrInvalidLimit, m, l))
			}
		}
	}
	return errors.Join(errs...)
}

func invalid(s, reason string) error {
	return fmt.Errorf("%w %q: %s", ErrInvalidLimit, s, reason)
}
