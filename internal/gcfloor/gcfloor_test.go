package gcfloor

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"testing"
)

const mib = 1 << 20

func TestPercent(t *testing.T) {
	for _, c := range []struct {
		name              string
		floor, live, root uint64
		want              int
	}{
		{"small heap: the goal is the floor", 16 * mib, 4 * mib, 1 * mib, 240},
		{"without roots", 16 * mib, 4 * mib, 0, 300},
		{"smaller still: the heap minimum bounds it", 16 * mib, 2 * mib, mib / 2, 400},
		{"twice the live heap reaches the floor", 16 * mib, 8 * mib, 0, DefaultPercent},
		{"twice the live heap and its roots reach it", 16 * mib, 7 * mib, 2 * mib, DefaultPercent},
		{"live heap over the floor", 16 * mib, 40 * mib, mib, DefaultPercent},
		{"no floor", 0, 2 * mib, mib, DefaultPercent},
		{"a floor under Go's minimum", 2 * mib, mib / 4, 0, DefaultPercent},
		{"nothing live yet: the roots alone", 64 * mib, 0, 16 * mib, 400},
		{"almost nothing to scan", 64 * mib, 1, 0, 1600},
		{"nothing at all", 64 * mib, 0, 0, 1600},
		{"the largest floor", MaxFloor, 0, 0, MaxFloor * 100 / heapMinimum},
		{"a floor beyond it counts as it", 1 << 62, 0, 0, MaxFloor * 100 / heapMinimum},
		{"the largest uint64", ^uint64(0), 64 * mib, 64 * mib, (MaxFloor - 64*mib) * 100 / (128 * mib)},
	} {
		if got := Percent(c.floor, c.live, c.root); got != c.want {
			t.Errorf("%s: Percent(%d, %d, %d) = %d, want %d", c.name, c.floor, c.live, c.root, got, c.want)
		}
	}
}

// runtimeFigures reads the GOGC and heap goal the runtime works with.
func runtimeFigures() (gogc int, goal uint64) {
	s := []metrics.Sample{{Name: "/gc/gogc:percent"}, {Name: "/gc/heap/goal:bytes"}}
	metrics.Read(s)
	return int(s[0].Value.Uint64()), s[1].Value.Uint64()
}

// collectUntil runs collections until f has set want, or fails: f tunes
// after a collection, on the goroutine that runs cleanups.
func collectUntil(t *testing.T, f *Floor, want func(int) bool) {
	t.Helper()
	for range 1000 {
		runtime.GC()
		runtime.Gosched()
		if want(f.Percent()) {
			return
		}
	}
	t.Fatalf("after 1,000 collections the floor's GOGC is %d", f.Percent())
}

var held []byte

func TestFloor(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(DefaultPercent))
	const floor = 64 * mib
	f := Start(floor)
	defer f.Stop()

	collectUntil(t, f, func(p int) bool { return p > DefaultPercent })
	gogc, goal := runtimeFigures()
	if gogc != f.Percent() {
		t.Errorf("the runtime's GOGC is %d, the floor set %d", gogc, f.Percent())
	}
	// The goal is computed from the same figures the floor read, at the
	// same collection; allocation since can move it a little.
	if goal < floor*9/10 || goal > floor*11/10 {
		t.Errorf("with a small heap the goal is %.1f MiB, want about the floor, %d MiB", float64(goal)/mib, floor/mib)
	}

	// A live heap over half the floor: Go's default applies.
	held = make([]byte, 48*mib)
	for i := range held {
		held[i] = byte(i)
	}
	collectUntil(t, f, func(p int) bool { return p == DefaultPercent })
	if gogc, _ := runtimeFigures(); gogc != DefaultPercent {
		t.Errorf("with 48 MiB live the runtime's GOGC is %d, want %d", gogc, DefaultPercent)
	}

	// And the floor again once it is gone.
	held = nil
	collectUntil(t, f, func(p int) bool { return p > DefaultPercent })

	f.Stop()
	if gogc, _ := runtimeFigures(); gogc != DefaultPercent || f.Percent() != DefaultPercent {
		t.Errorf("after Stop the runtime's GOGC is %d (the floor's %d), want %d", gogc, f.Percent(), DefaultPercent)
	}
	for range 5 {
		runtime.GC()
	}
	if gogc, _ := runtimeFigures(); gogc != DefaultPercent {
		t.Errorf("collections after Stop set GOGC %d", gogc)
	}
}

func TestNoFloor(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(DefaultPercent))
	f := Start(0)
	defer f.Stop()
	for range 5 {
		runtime.GC()
	}
	if gogc, _ := runtimeFigures(); gogc != DefaultPercent || f.Percent() != DefaultPercent {
		t.Errorf("a floor of 0 set GOGC %d (runtime) / %d, want Go's default", gogc, f.Percent())
	}
}
