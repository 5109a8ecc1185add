package keystore_test

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/keygate/keygate/internal/testenv/storetest"
	"github.com/keygate/keygate/keystore"
)

// leases is the limiter's side of CreditLeases: it holds left credits and
// reports the period start it is given.
type leases struct {
	mu     sync.Mutex
	left   int64
	period int64
	err    error
	calls  []int64 // the epochs reclaimed
}

func (l *leases) Reclaim(_ context.Context, _ string, _ *keystore.Refill, epoch int64) (int64, int64, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.err != nil {
		return 0, 0, l.err
	}
	l.calls = append(l.calls, epoch)
	left := l.left
	l.left = 0
	return left, l.period, nil
}

func credits(remaining int64, r *keystore.Refill) *keystore.Credits {
	return &keystore.Credits{Remaining: remaining, Refill: r}
}

func TestCreditsValidation(t *testing.T) {
	s := openStore(t, storetest.SQLiteURL(t), keystore.Config{})
	cases := []struct {
		name    string
		credits *keystore.Credits
		want    map[string]string
	}{
		{"negative_remaining", credits(-1, nil), map[string]string{"credits.remaining": "must be from 0 to 1000000000"}},
		{"remaining_too_large", credits(keystore.MaxCredits+1, nil), map[string]string{"credits.remaining": "must be from 0 to 1000000000"}},
		{"negative_amount", credits(1, &keystore.Refill{Interval: "daily", Amount: -1}),
			map[string]string{"credits.refill.amount": "must be from 0 to 1000000000"}},
		{"unknown_interval", credits(1, &keystore.Refill{Interval: "weekly", Amount: 1}),
			map[string]string{"credits.refill.interval": `must be "daily" or "monthly"`}},
		{"day_32", credits(1, &keystore.Refill{Interval: "monthly", Amount: 1, Day: 32}),
			map[string]string{"credits.refill.day": "must be from 1 to 31 (a shorter month refills on its last day)"}},
		{"day_on_a_daily_refill", credits(1, &keystore.Refill{Interval: "daily", Amount: 1, Day: 3}),
			map[string]string{"credits.refill.day": "applies to a monthly refill only"}},
		{"amount_too_large", credits(1, &keystore.Refill{Interval: "daily", Amount: 2e9}),
			map[string]string{"credits.refill.amount": "must be from 0 to 1000000000"}},
		{"negative_day", credits(1, &keystore.Refill{Interval: "monthly", Amount: 1, Day: -1}),
			map[string]string{"credits.refill.day": "must be from 1 to 31 (a shorter month refills on its last day)"}},
		{"missing_interval", credits(1, &keystore.Refill{Amount: 1}),
			map[string]string{"credits.refill.interval": `must be "daily" or "monthly"`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := s.Create(ctx, "test", keystore.Spec{Name: "k", Credits: c.credits})
			var v *keystore.ValidationError
			if !errors.As(err, &v) {
				t.Fatalf("Create = %v, want a ValidationError", err)
			}
			if diff := cmp.Diff(c.want, v.Fields); diff != "" {
				t.Fatalf("fields (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("monthly_day_defaults_to_1", func(t *testing.T) {
		rec, _, err := s.Create(ctx, "test", keystore.Spec{Name: "k", Credits: credits(5, &keystore.Refill{Interval: "monthly", Amount: 9})})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(credits(5, &keystore.Refill{Interval: "monthly", Amount: 9, Day: 1}), rec.Credits); diff != "" {
			t.Fatalf("credits (-want +got):\n%s", diff)
		}
	})
}

func dayStart(t time.Time) int64 { return t.UTC().Truncate(24 * time.Hour).UnixMilli() }

// TestTakeCredits: a take applies the refill due once per period, takes at
// most what is left, and never more than there is under concurrent takes.
func TestTakeCredits(t *testing.T) {
	forEachBackend(t, func(t *testing.T, url string) {
		clk := newClock()
		s := openStore(t, url, keystore.Config{Now: clk.Now})
		rec, _, err := s.Create(ctx, "test", keystore.Spec{Name: "k", Credits: credits(5, &keystore.Refill{Interval: "daily", Amount: 10})})
		if err != nil {
			t.Fatal(err)
		}
		today, tomorrow := dayStart(clk.Now()), dayStart(clk.Now().Add(24*time.Hour))
		var got []keystore.CreditGrant
		for _, period := range []int64{today, today, today, tomorrow, tomorrow} {
			g, err := s.TakeCredits(ctx, rec.ID, period, 3)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, g)
		}
		g := func(block, remaining, epoch int64) keystore.CreditGrant {
			return keystore.CreditGrant{Block: block, Remaining: remaining, Epoch: epoch}
		}
		want := []keystore.CreditGrant{g(3, 2, 1), g(2, 0, 1), g(0, 0, 1), g(3, 7, 2), g(3, 4, 2)}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("grants (-want +got):\n%s", diff)
		}
		plain, _, _ := s.Create(ctx, "test", keystore.Spec{Name: "unlimited"})
		if _, err := s.TakeCredits(ctx, plain.ID, today, 1); !errors.Is(err, keystore.ErrNoCredits) {
			t.Fatalf("take of a key without credits = %v, want ErrNoCredits", err)
		}
	})
}

func TestTakeCreditsConcurrently(t *testing.T) {
	forEachBackend(t, func(t *testing.T, url string) {
		s := openStore(t, url, keystore.Config{})
		rec, _, err := s.Create(ctx, "test", keystore.Spec{Name: "k", Credits: credits(50, nil)})
		if err != nil {
			t.Fatal(err)
		}
		var taken atomic.Int64
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				for range 10 {
					g, err := s.TakeCredits(ctx, rec.ID, 0, 1)
					if err != nil {
						t.Error(err)
						return
					}
					taken.Add(g.Block)
				}
			})
		}
		wg.Wait()
		if taken.Load() != 50 {
			t.Fatalf("taken = %d, want 50", taken.Load())
		}
	})
}

// TestAdjustCredits: each op reclaims the lease into the balance first,
// then applies, is audited, and answers the new balance.
func TestAdjustCredits(t *testing.T) {
	forEachBackend(t, func(t *testing.T, url string) {
		l := &leases{}
		s := openStore(t, url, keystore.Config{Credits: l})
		rec, _, err := s.Create(ctx, "test", keystore.Spec{Name: "k", Credits: credits(100, nil)})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.TakeCredits(ctx, rec.ID, 0, 10); err != nil { // 90 stored, 10 leased
			t.Fatal(err)
		}
		var got []int64
		for _, op := range []struct {
			op    string
			value int64
			lease int64
		}{{"increment", 5, 4}, {"decrement", 20, 0}, {"set", 7, 3}, {"decrement", 50, 0}} {
			l.left = op.lease
			r, err := s.AdjustCredits(ctx, "admin:x", rec.ID, op.op, op.value)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, r.Credits.Remaining)
		}
		if diff := cmp.Diff([]int64{99, 79, 7, 0}, got); diff != "" {
			t.Fatalf("balances (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]int64{1, 2, 3, 4}, l.calls); diff != "" {
			t.Fatalf("epochs reclaimed (-want +got):\n%s", diff)
		}
		events, _, err := s.Audit(ctx, keystore.AuditFilter{KeyID: rec.ID})
		if err != nil {
			t.Fatal(err)
		}
		var details map[string]any
		if err := json.Unmarshal(events[0].Details, &details); err != nil {
			t.Fatal(err)
		}
		wantDetails := map[string]any{"op": "decrement", "remaining": 0.0, "stored_before": 7.0, "value": 50.0}
		if diff := cmp.Diff(wantDetails, details); diff != "" {
			t.Fatalf("newest audit details (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]string{"key.credits", "key.credits", "key.credits", "key.credits", "key.create"}, actions(events)); diff != "" {
			t.Fatalf("audit (-want +got):\n%s", diff)
		}
	})
}

func TestAdjustCreditsRefusals(t *testing.T) {
	l := &leases{}
	s := openStore(t, storetest.SQLiteURL(t), keystore.Config{Credits: l})
	plain, _, _ := s.Create(ctx, "test", keystore.Spec{Name: "unlimited"})
	rec, _, _ := s.Create(ctx, "test", keystore.Spec{Name: "k", Credits: credits(10, nil)})
	t.Run("key_without_credits_is_a_conflict", func(t *testing.T) {
		if _, err := s.AdjustCredits(ctx, "a", plain.ID, "set", 1); !errors.Is(err, keystore.ErrConflict) {
			t.Fatalf("err = %v, want ErrConflict", err)
		}
	})
	t.Run("unknown_op_and_negative_value_are_invalid", func(t *testing.T) {
		_, err := s.AdjustCredits(ctx, "a", rec.ID, "multiply", -1)
		var v *keystore.ValidationError
		if !errors.As(err, &v) {
			t.Fatalf("err = %v, want a ValidationError", err)
		}
		if diff := cmp.Diff([]string{"op", "value"}, keysOf(v.Fields)); diff != "" {
			t.Fatalf("fields (-want +got):\n%s", diff)
		}
	})
	t.Run("value_too_large_is_invalid", func(t *testing.T) {
		_, err := s.AdjustCredits(ctx, "a", rec.ID, "increment", keystore.MaxCredits+1)
		var v *keystore.ValidationError
		if !errors.As(err, &v) {
			t.Fatalf("err = %v, want a ValidationError", err)
		}
		if diff := cmp.Diff([]string{"value"}, keysOf(v.Fields)); diff != "" {
			t.Fatalf("fields (-want +got):\n%s", diff)
		}
		if got, _ := s.Get(ctx, rec.ID); got.Credits.Remaining != 10 {
			t.Fatalf("remaining = %d, want 10", got.Credits.Remaining)
		}
	})
	t.Run("unreachable_limiter_changes_nothing", func(t *testing.T) {
		l.err = errors.New("redis down")
		defer func() { l.err = nil }()
		if _, err := s.AdjustCredits(ctx, "a", rec.ID, "set", 1); !errors.Is(err, keystore.ErrUnavailable) {
			t.Fatalf("err = %v, want ErrUnavailable", err)
		}
		got, _ := s.Get(ctx, rec.ID)
		if got.Credits.Remaining != 10 {
			t.Fatalf("remaining = %d, want 10", got.Credits.Remaining)
		}
	})
	t.Run("unknown_key_is_not_found", func(t *testing.T) {
		if _, err := s.AdjustCredits(ctx, "a", "nope", "set", 1); !errors.Is(err, keystore.ErrNotFound) {
			t.Fatalf("err = %v, want ErrNotFound", err)
		}
	})
}

// TestPatchCredits: PATCH replaces the credits (reclaiming the lease,
// which no longer counts) or clears them; rotation moves them to the new
// key, leaving the old one 0 credits and no refill for its grace period.
func TestPatchCredits(t *testing.T) {
	forEachBackend(t, func(t *testing.T, url string) {
		l := &leases{left: 5}
		s := openStore(t, url, keystore.Config{Credits: l})
		rec, _, err := s.Create(ctx, "test", keystore.Spec{Name: "k", Credits: credits(10, nil)})
		if err != nil {
			t.Fatal(err)
		}
		monthly := credits(300, &keystore.Refill{Interval: "monthly", Amount: 300, Day: 31})
		got, err := s.Update(ctx, "a", rec.ID, keystore.Patch{Credits: keystore.Some(monthly)})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(monthly, got.Credits); diff != "" {
			t.Fatalf("patched credits (-want +got):\n%s", diff)
		}
		rotated, _, err := s.Rotate(ctx, "a", rec.ID, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(monthly, rotated.Credits); diff != "" {
			t.Fatalf("rotated key's credits (-want +got):\n%s", diff)
		}
		old, _ := s.Get(ctx, rec.ID)
		if diff := cmp.Diff(credits(0, nil), old.Credits); diff != "" {
			t.Fatalf("old key's credits in its grace period (-want +got):\n%s", diff)
		}
		cleared, err := s.Update(ctx, "a", rec.ID, keystore.Patch{Credits: keystore.Some[*keystore.Credits](nil)})
		if err != nil {
			t.Fatal(err)
		}
		if cleared.Credits != nil {
			t.Fatalf("credits after PATCH null = %+v, want nil", cleared.Credits)
		}
		if len(l.calls) != 3 {
			t.Fatalf("reclaims = %v, want one per PATCH of credits and one at rotation", l.calls)
		}
	})
}

func TestUsageCountsCredits(t *testing.T) {
	forEachBackend(t, func(t *testing.T, url string) {
		clk := newClock()
		s := openStore(t, url, keystore.Config{Now: clk.Now})
		rec, _, _ := s.Create(ctx, "test", keystore.Spec{Name: "k", Credits: credits(10, nil)})
		for range 3 {
			s.RecordUse(rec.ID, true, clk.Now())
			s.RecordCredit(rec.ID, clk.Now())
		}
		s.RecordUse(rec.ID, false, clk.Now())
		if err := s.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		s.RecordCredit(rec.ID, clk.Now())
		if err := s.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		hours, err := s.Usage(ctx, rec.ID, clk.Now().Add(-time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		want := []keystore.UsageHour{{Hour: clk.Now().Truncate(time.Hour), Allowed: 3, Denied: 1, Credits: 4}}
		if diff := cmp.Diff(want, hours); diff != "" {
			t.Fatalf("usage (-want +got):\n%s", diff)
		}
	})
}

func TestReturnCredits(t *testing.T) {
	forEachBackend(t, func(t *testing.T, url string) {
		s := openStore(t, url, keystore.Config{})
		rec, _, _ := s.Create(ctx, "test", keystore.Spec{Name: "k", Credits: credits(20, nil)})
		g, err := s.TakeCredits(ctx, rec.ID, 0, 10)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.ReturnCredits(ctx, rec.ID, g.Epoch, 4); err != nil {
			t.Fatal(err)
		}
		if err := s.ReturnCredits(ctx, rec.ID, g.Epoch-1, 100); err != nil { // an older epoch: dropped
			t.Fatal(err)
		}
		got, _ := s.Get(ctx, rec.ID)
		if got.Credits.Remaining != 14 {
			t.Fatalf("remaining = %d, want 14", got.Credits.Remaining)
		}
	})
}
