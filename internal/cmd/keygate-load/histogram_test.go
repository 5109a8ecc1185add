package main

import (
	"testing"
	"time"
)

func TestHistogramPercentilesWithinOnePermille(t *testing.T) {
	var a, b histogram
	for i := 1; i <= 1000; i++ {
		a.record(time.Duration(i) * time.Millisecond)
	}
	b.record(time.Hour) // beyond histMax: counts as histMax
	a.merge(&b)
	a.merge(&histogram{})
	if a.count() != 1001 {
		t.Fatalf("count %d, want 1001", a.count())
	}
	for _, c := range []struct {
		p    float64
		want time.Duration
	}{{0.5, 501 * time.Millisecond}, {0.99, 991 * time.Millisecond}, {1, histMax}} { // ranks 501 and 991 of 1001
		got := a.percentile(c.p)
		if d := got - c.want; d < 0 || d > c.want/1000 {
			t.Errorf("percentile(%v) = %v, want %v to 0.1 %%", c.p, got, c.want)
		}
	}
	if a.max() < histMax || a.max() > histMax+histMax/1000 {
		t.Errorf("max %v, want %v", a.max(), histMax)
	}
	var empty histogram
	if empty.percentile(0.99) != 0 || empty.count() != 0 || empty.max() != 0 {
		t.Error("an empty histogram reports durations")
	}
}
