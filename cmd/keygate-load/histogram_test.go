package main

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestBuckets checks that the buckets tile the durations, each holding
// values within 0.4 % of its top.
func TestBuckets(t *testing.T) {
	next := uint64(0) // the first value of bucket i
	for i := range histBuckets {
		top := bucketTop(i)
		for _, v := range []uint64{next, (next + top) / 2, top} {
			if got := bucket(v); got != i {
				t.Fatalf("bucket(%d) = %d, want %d", v, got, i)
			}
		}
		if float64(top-next) > float64(next)/256 {
			t.Fatalf("bucket %d holds %d to %d: wider than 0.4 %%", i, next, top)
		}
		next = top + 1
	}
	if next != histMax+1 {
		t.Fatalf("the buckets end at %d, want %d", next-1, uint64(histMax))
	}
}

func TestPercentiles(t *testing.T) {
	var a, b histogram
	for i := 1; i <= 500; i++ {
		a.record(time.Duration(i) * time.Microsecond)
		b.record(time.Duration(500+i) * time.Microsecond)
	}
	b.record(time.Hour) // beyond histMax
	a.merge(&b)
	got := map[string]time.Duration{
		"p50": a.percentile(0.5), "p99": a.percentile(0.99), "p100": a.percentile(1), "max": a.max,
	}
	want := map[string]time.Duration{
		"p50": 500 * time.Microsecond, "p99": 990 * time.Microsecond, "p100": time.Hour, "max": time.Hour,
	}
	// Within a bucket: 0.4 %.
	approx := cmp.Comparer(func(x, y time.Duration) bool { return float64(max(x-y, y-x)) <= float64(max(x, y))/256 })
	if diff := cmp.Diff(want, got, approx); diff != "" || a.n != 1001 {
		t.Errorf("%d durations, percentiles (-want +got):\n%s", a.n, diff)
	}
}
