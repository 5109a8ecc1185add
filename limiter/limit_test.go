package limiter

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestParseLimit(t *testing.T) {
	tests := []struct {
		in      string
		want    Limit
		wantErr string // a part of the error; "" for none
	}{
		{in: "100/1s", want: Limit{100, time.Second}},
		{in: "5000/1h", want: Limit{5000, time.Hour}},
		{in: "10/1m", want: Limit{10, time.Minute}},
		{in: "10/90s", want: Limit{10, 90 * time.Second}},
		{in: "10/1.5h", want: Limit{10, 90 * time.Minute}},
		{in: "10/1h30m", want: Limit{10, 90 * time.Minute}},
		{in: "10/24h", want: Limit{10, 24 * time.Hour}},
		{in: "10/1d", want: Limit{10, 24 * time.Hour}},
		{in: "10/31d", want: Limit{10, 744 * time.Hour}},
		{in: "10/744h", want: Limit{10, 744 * time.Hour}},
		{in: " 7/1s ", want: Limit{7, time.Second}},
		{in: "1000000000/1s", want: Limit{MaxCount, time.Second}},
		{in: "007/1s", want: Limit{7, time.Second}},
		{in: "", wantErr: "want N/duration"},
		{in: "100", wantErr: "want N/duration"},
		{in: "100/", wantErr: "window must be a duration"},
		{in: "/1s", wantErr: "count must be"},
		{in: "0/1s", wantErr: "count must be"},
		{in: "-1/1s", wantErr: "count must be"},
		{in: "+1/1s", wantErr: "count must be"},
		{in: "1.5/1s", wantErr: "count must be"},
		{in: "1000000001/1s", wantErr: "count must be"},
		{in: "99999999999/1s", wantErr: "count must be"},
		{in: "10/1", wantErr: "window must be a duration"},
		{in: "10/s", wantErr: "window must be a duration"},
		{in: "10/1w", wantErr: "window must be a duration"},
		{in: "10/d", wantErr: "window must be a duration"},
		{in: "10/1.5d", wantErr: "window must be a duration"},
		{in: "10/500ms", wantErr: "from 1s to 31 days"},
		{in: "10/0s", wantErr: "from 1s to 31 days"},
		{in: "10/-1s", wantErr: "from 1s to 31 days"},
		{in: "10/32d", wantErr: "from 1s to 31 days"},
		{in: "10/745h", wantErr: "from 1s to 31 days"},
		{in: "10/1500ms", wantErr: "whole number of seconds"},
		{in: "10/1/1s", wantErr: "window must be a duration"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseLimit(tc.in)
			if diff := cmp.Diff(tc.wantErr, errPart(err, tc.wantErr)); diff != "" {
				t.Fatalf("ParseLimit(%q) error %v (-want +got):\n%s", tc.in, err, diff)
			}
			if err != nil && !errors.Is(err, ErrInvalidLimit) {
				t.Fatalf("ParseLimit(%q) = %v, not ErrInvalidLimit", tc.in, err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Fatalf("ParseLimit(%q) (-want +got):\n%s", tc.in, diff)
			}
		})
	}
}

// errPart returns part if err's message contains it, else the message.
func errPart(err error, part string) string {
	if err == nil {
		return ""
	}
	if part != "" && strings.Contains(err.Error(), part) {
		return part
	}
	return err.Error()
}

func TestLimitString(t *testing.T) {
	tests := []struct {
		in   Limit
		want string
	}{
		{Limit{100, time.Second}, "100/1s"},
		{Limit{5000, time.Hour}, "5000/1h"},
		{Limit{3, 90 * time.Second}, "3/90s"},
		{Limit{3, 90 * time.Minute}, "3/90m"},
		{Limit{3, 24 * time.Hour}, "3/1d"},
		{Limit{3, 36 * time.Hour}, "3/36h"},
		{Limit{3, 744 * time.Hour}, "3/31d"},
		{Limit{3, 1500 * time.Millisecond}, "3/1.5s"},
		{Limit{3, 0}, "3/0s"},
	}
	for _, tc := range tests {
		if diff := cmp.Diff(tc.want, tc.in.String()); diff != "" {
			t.Errorf("%#v.String() (-want +got):\n%s", tc.in, diff)
		}
	}
}

func TestParseLimits(t *testing.T) {
	tests := []struct {
		name     string
		in       []string
		want     []Limit
		wantErrs []string // parts of the error, one a problem
	}{
		{name: "none", in: nil, want: []Limit{}},
		{name: "two", in: []string{"10/1s", "1000/1h"}, want: []Limit{{10, time.Second}, {1000, time.Hour}}},
		{name: "every problem", in: []string{"x", "10/1s", "0/1m", "20/1s"}, wantErrs: []string{`"x"`, `"0/1m"`, "10/1s and 20/1s have the same window"}},
		{name: "too many", in: []string{"1/1s", "1/2s", "1/3s", "1/4s", "1/5s", "1/6s", "1/7s", "1/8s", "1/9s"}, wantErrs: []string{"9 limits, at most 8"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseLimits(tc.in)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("ParseLimits (-want +got):\n%s", diff)
			}
			var gotErrs []string
			for _, part := range tc.wantErrs {
				gotErrs = append(gotErrs, errPart(err, part))
			}
			if diff := cmp.Diff(tc.wantErrs, gotErrs); diff != "" || (err == nil) != (tc.wantErrs == nil) {
				t.Errorf("ParseLimits error %v (-want +got):\n%s", err, diff)
			}
		})
	}
}

// FuzzParseLimit checks that what ParseLimit accepts is valid and comes back
// from its canonical form, and that it never panics.
func FuzzParseLimit(f *testing.F) {
	for _, s := range []string{"100/1s", "5000/1h", "10/1d", "10/31d", "1/1h30m", "7/1.5h", "0/1s", "1/500ms", "x", "1/d", "1//1s"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		l, err := ParseLimit(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidLimit) {
				t.Fatalf("ParseLimit(%q) = %v, not ErrInvalidLimit", s, err)
			}
			return
		}
		if err := l.Validate(); err != nil {
			t.Fatalf("ParseLimit(%q) = %v, which is invalid: %v", s, l, err)
		}
		back, err := ParseLimit(l.String())
		if err != nil || back != l {
			t.Fatalf("ParseLimit(%q) = %v; ParseLimit(%q) = %v, %v", s, l, l.String(), back, err)
		}
	})
}
