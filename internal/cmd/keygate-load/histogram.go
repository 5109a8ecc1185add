package main

import (
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Latencies are counted in an HdrHistogram of microseconds, from 1 µs to
// histMax, to 3 significant digits; longer ones count as histMax.
const histMax = time.Minute

// histogram is the latencies of one worker or one run. The zero
// histogram is empty; it allocates its HdrHistogram on the first record.
type histogram struct {
	h *hdrhistogram.Histogram
}

func (h *histogram) init() {
	if h.h == nil {
		h.h = hdrhistogram.New(1, histMax.Microseconds(), 3)
	}
}

func (h *histogram) record(d time.Duration) {
	h.init()
	us := min(max(d.Microseconds(), 1), histMax.Microseconds())
	_ = h.h.RecordValue(us) // within the range above: cannot fail
}

func (h *histogram) merge(o *histogram) {
	if o.h == nil {
		return
	}
	h.init()
	h.h.Merge(o.h)
}

// count is how many durations were recorded.
func (h *histogram) count() int64 {
	if h.h == nil {
		return 0
	}
	return h.h.TotalCount()
}

// percentile returns the duration under which a fraction p of the
// recorded ones fall; 0 when none was.
func (h *histogram) percentile(p float64) time.Duration {
	if h.h == nil {
		return 0
	}
	return time.Duration(h.h.ValueAtQuantile(100*p)) * time.Microsecond
}

func (h *histogram) max() time.Duration {
	if h.h == nil {
		return 0
	}
	return time.Duration(h.h.Max()) * time.Microsecond
}
