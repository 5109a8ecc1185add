package limiter

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestRefillPeriod(t *testing.T) {
	at := func(s string) time.Time {
		t.Helper()
		v, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	daily := Refill{Interval: Daily, Amount: 10}
	monthly := func(day int) Refill { return Refill{Interval: Monthly, Amount: 10, Day: day} }
	cases := []struct {
		name              string
		refill            Refill
		now               string
		wantStart, wantNx string
	}{
		{"daily_starts_at_midnight_utc", daily, "2030-04-10T00:00:00Z", "2030-04-10T00:00:00Z", "2030-04-11T00:00:00Z"},
		{"daily_last_millisecond_is_the_old_day", daily, "2030-04-10T23:59:59.999Z", "2030-04-10T00:00:00Z", "2030-04-11T00:00:00Z"},
		{"daily_across_the_year", daily, "2030-12-31T12:00:00Z", "2030-12-31T00:00:00Z", "2031-01-01T00:00:00Z"},
		{"monthly_day_1", monthly(1), "2030-04-10T08:00:00Z", "2030-04-01T00:00:00Z", "2030-05-01T00:00:00Z"},
		{"monthly_before_its_day_is_last_months_period", monthly(15), "2030-04-14T23:59:59.999Z", "2030-03-15T00:00:00Z", "2030-04-15T00:00:00Z"},
		{"monthly_on_its_day", monthly(15), "2030-04-15T00:00:00Z", "2030-04-15T00:00:00Z", "2030-05-15T00:00:00Z"},
		{"day_31_in_a_30_day_month_refills_on_the_30th", monthly(31), "2030-04-30T00:00:00Z", "2030-04-30T00:00:00Z", "2030-05-31T00:00:00Z"},
		{"day_31_on_the_29th_of_a_30_day_month", monthly(31), "2030-04-29T23:59:59Z", "2030-03-31T00:00:00Z", "2030-04-30T00:00:00Z"},
		{"day_31_in_february", monthly(31), "2030-02-27T10:00:00Z", "2030-01-31T00:00:00Z", "2030-02-28T00:00:00Z"},
		{"day_30_in_a_leap_february", monthly(30), "2032-02-29T00:00:00Z", "2032-02-29T00:00:00Z", "2032-03-30T00:00:00Z"},
		{"monthly_across_the_year", monthly(31), "2030-12-31T00:00:01Z", "2030-12-31T00:00:00Z", "2031-01-31T00:00:00Z"},
		{"monthly_before_its_day_in_january", monthly(5), "2031-01-02T00:00:00Z", "2030-12-05T00:00:00Z", "2031-01-05T00:00:00Z"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			start, next := c.refill.Period(at(c.now).UnixMilli())
			got := [2]time.Time{time.UnixMilli(start).UTC(), time.UnixMilli(next).UTC()}
			want := [2]time.Time{at(c.wantStart), at(c.wantNx)}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Fatalf("period (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("no_refill_is_one_endless_period", func(t *testing.T) {
		start, next := Refill{}.Period(at("2030-04-10T00:00:00Z").UnixMilli())
		if diff := cmp.Diff([2]int64{0, 0}, [2]int64{start, next}); diff != "" {
			t.Fatal(diff)
		}
	})
}

func TestRefillValidate(t *testing.T) {
	cases := []struct {
		name   string
		refill Refill
		ok     bool
	}{
		{"none", Refill{}, true},
		{"daily", Refill{Interval: Daily, Amount: 5}, true},
		{"monthly_day_31", Refill{Interval: Monthly, Amount: 5, Day: 31}, true},
		{"monthly_day_0_is_invalid", Refill{Interval: Monthly, Amount: 5}, false},
		{"monthly_day_32_is_invalid", Refill{Interval: Monthly, Amount: 5, Day: 32}, false},
		{"negative_amount_is_invalid", Refill{Interval: Daily, Amount: -1}, false},
		{"unknown_interval_is_invalid", Refill{Interval: 9, Amount: 1}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := c.refill.Validate() == nil; got != c.ok {
				t.Fatalf("Validate ok = %t, want %t", got, c.ok)
			}
		})
	}
}
