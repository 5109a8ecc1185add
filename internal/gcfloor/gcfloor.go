// Package gcfloor keeps Go's garbage collector from running before the
// heap reaches a floor, while the heap holds little.
//
// Go collects when the heap reaches its goal: what was live after the last
// collection, plus GOGC % of it (and of the goroutines' stacks and the
// globals), but at least 4 MiB × GOGC / 100. A keygate with a few keys
// holds about 2 MB live, so under load it collected every 2–4 MB of
// allocation: with about 3 KB allocated per `/auth`, mostly by net/http,
// every ~1,000 requests. Each collection stops every thread twice and
// marks the whole live heap; under wrk, a floor of 16 MiB took keygate's
// CPU per `/auth` down by a tenth (README, Performance).
//
// Start raises GOGC after each collection so that the next goal is the
// floor, for as long as twice the live heap is below it; above, GOGC is
// 100, Go's default, and the collector works as without gcfloor. The heap
// goal is then about max(floor, 2 × live) where Go's default is
// max(4 MiB, 2 × live): a small keygate grows to the floor before it
// collects, and a large one is not changed.
package gcfloor

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
)

// DefaultPercent is GOGC where the floor does not apply: Go's default.
const DefaultPercent = 100

// heapMinimum is the runtime's least heap goal at GOGC=100; it scales with
// GOGC (runtime/mgcpacer.go: defaultHeapMinimum).
const heapMinimum = 4 << 20

// MaxFloor is the largest floor Percent honours (a larger one counts as
// it): 1 TiB, so that floor × 100 cannot overflow and the GOGC it makes
// (at most 26,214,400) fits the int32 the runtime keeps GOGC in, where a
// wrapped, negative value would turn the collector off.
const MaxFloor = 1 << 40

// The runtime's figures that the heap goal is made of (see
// runtime/metrics): what the last collection found live, and the stacks
// and globals it scanned, which GOGC also applies to.
var names = []string{"/gc/heap/live:bytes", "/gc/scan/stack:bytes", "/gc/scan/globals:bytes"}

// Percent is the GOGC that makes the heap goal floor, for a heap of live
// bytes and roots bytes of stacks and globals, or DefaultPercent when
// that goal is the floor or more already. The runtime's goal is the
// larger of live + (live + roots) × GOGC / 100 and heapMinimum × GOGC /
// 100 (runtime/mgcpacer.go): Percent is the largest GOGC for which
// neither exceeds the floor.
func Percent(floor, live, roots uint64) int {
	floor = min(floor, MaxFloor)
	if floor <= live {
		return DefaultPercent
	}
	p := floor * 100 / heapMinimum
	if scanned := live + roots; scanned > 0 {
		p = min(p, (floor-live)*100/scanned)
	}
	return int(max(p, DefaultPercent))
}

// Floor tunes GOGC after each collection; Stop ends it.
type Floor struct {
	floor   uint64
	samples []metrics.Sample

	mu      sync.Mutex
	stopped bool
	percent int // what it set last
}

// sentinel is allocated for each collection to come: its cleanup runs
// after the collection that finds it unreachable. The pointer keeps it out
// of the allocator's tiny blocks, whose cleanups may never run.
type sentinel struct {
	_ *byte
	_ uint64
}

// Start tunes GOGC for a floor of floor bytes from now on, and returns
// what does it. A floor of 0 changes nothing (a stopped Floor).
func Start(floor uint64) *Floor {
	f := &Floor{floor: floor, percent: DefaultPercent, samples: make([]metrics.Sample, len(names))}
	for i, n := range names {
		f.samples[i].Name = n
	}
	if floor == 0 {
		f.stopped = true
		return f
	}
	f.tune()
	f.arm()
	return f
}

func (f *Floor) arm() {
	runtime.AddCleanup(new(sentinel), func(f *Floor) {
		if f.tune() {
			f.arm()
		}
	}, f)
}

// tune sets GOGC for the heap the last collection left; false when
// stopped.
func (f *Floor) tune() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.stopped {
		return false
	}
	metrics.Read(f.samples)
	var v [3]uint64
	for i, s := range f.samples {
		if s.Value.Kind() == metrics.KindUint64 {
			v[i] = s.Value.Uint64()
		}
	}
	if p := Percent(f.floor, v[0], v[1]+v[2]); p != f.percent {
		debug.SetGCPercent(p)
		f.percent = p
	}
	return true
}

// Percent is the GOGC it set last.
func (f *Floor) Percent() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.percent
}

// Stop ends the tuning and sets GOGC back to DefaultPercent.
func (f *Floor) Stop() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.stopped {
		return
	}
	f.stopped = true
	if f.percent != DefaultPercent {
		debug.SetGCPercent(DefaultPercent)
		f.percent = DefaultPercent
	}
}
