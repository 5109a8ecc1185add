package keystore

import (
	"context"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// Credits are a key's usage quota, as Unkey's: Remaining uses, refilled
// (set back to Refill.Amount) each day or month. The durable balance lives
// here; the limiter spends it in leases of a few credits taken with
// TakeCredits, so Remaining read from the store is the balance not yet
// leased: the live balance is that plus what the limiter's lease still
// holds, at most one lease more (see README).
type Credits struct {
	Remaining int64   `json:"remaining"`
	Refill    *Refill `json:"refill"`
}

// Refill is when credits refill: "daily" at 00:00 UTC, or "monthly" at
// 00:00 UTC on Day (1 to 31; a month shorter than Day refills on its last
// day).
type Refill struct {
	Interval string `json:"interval"`
	Amount   int64  `json:"amount"`
	Day      int    `json:"day,omitempty"`
}

// Refill intervals.
const (
	RefillDaily   = "daily"
	RefillMonthly = "monthly"
)

// MaxCredits bounds a balance, a refill amount and an operation's value.
const MaxCredits = 1_000_000_000

// Operations of AdjustCredits.
const (
	CreditsSet       = "set"
	CreditsIncrement = "increment"
	CreditsDecrement = "decrement"
)

// ErrNoCredits is returned by TakeCredits for a key without credits
// (unlimited); AdjustCredits refuses such a key with ErrConflict.
var ErrNoCredits = errors.New("keystore: key has no credits")

// CreditLeases are the leases the limiter holds (limiter.RedisCredits or
// MemoryCredits, adapted by cmd). Reclaim empties the lease of key id for
// a change that moves its durable balance from epoch to epoch+1, and
// returns the credits it held and the start (ms) of the current refill
// period by the limiter's clock.
type CreditLeases interface {
	Reclaim(ctx context.Context, id string, r *Refill, epoch int64) (left, period int64, err error)
}

// CreditGrant is what TakeCredits hands the limiter.
type CreditGrant struct {
	Block, Remaining, Epoch int64
}

// creditCols are the credit columns of api_keys.
type creditCols struct {
	Remaining  *int64
	Refill     refillColumn
	RefilledAt int64 // ms: the last refill, or when the credits were set
	Epoch      int64
}

func (r *keyRow) creditCols() creditCols {
	return creditCols{r.CreditsRemaining, r.CreditsRefill, r.CreditsRefilledAt, r.CreditsEpoch}
}

func (r *keyRow) setCredits(c creditCols) {
	r.CreditsRemaining, r.CreditsRefill, r.CreditsRefilledAt, r.CreditsEpoch = c.Remaining, c.Refill, c.RefilledAt, c.Epoch
}

// credits returns the key's credits as callers see them.
func (r *keyRow) credits() *Credits {
	if r.CreditsRemaining == nil {
		return nil
	}
	return &Credits{Remaining: *r.CreditsRemaining, Refill: r.CreditsRefill.Refill}
}

// replaced returns the columns for credits c set at now: a new epoch, and
// the next refill at the first boundary after now.
func (k creditCols) replaced(c *Credits, now time.Time) creditCols {
	out := creditCols{RefilledAt: now.UnixMilli(), Epoch: k.Epoch + 1}
	if c != nil {
		rem := c.Remaining
		out.Remaining, out.Refill = &rem, refillColumn{c.Refill}
	}
	return out
}

// refillDue applies the refill due at period (the start of the current
// refill period, ms): one per period, however often asked.
func (k *creditCols) refillDue(period int64) {
	if k.Refill.Refill == nil || k.Remaining == nil || period <= k.RefilledAt {
		return
	}
	amount := k.Refill.Amount
	k.Remaining, k.RefilledAt, k.Epoch = &amount, period, k.Epoch+1
}

// refillColumn is a *Refill stored as JSON, NULL when nil.
type refillColumn struct{ *Refill }

func (c refillColumn) Value() (driver.Value, error) {
	if c.Refill == nil {
		return nil, nil
	}
	b, err := json.Marshal(c.Refill)
	return string(b), err
}

func (c *refillColumn) Scan(src any) error {
	b, err := scanBytes(src)
	if err != nil || b == nil {
		c.Refill = nil
		return err
	}
	c.Refill = &Refill{}
	return json.Unmarshal(b, c.Refill)
}

// checkCredits validates credits and fills the refill day's default (1).
func checkCredits(v *ValidationError, c *Credits) *Credits {
	if c == nil {
		return nil
	}
	out := *c
	if c.Remaining < 0 || c.Remaining > MaxCredits {
		v.add("credits.remaining", fmt.Sprintf("must be from 0 to %d", MaxCredits))
	}
	if c.Refill == nil {
		return &out
	}
	r := *c.Refill
	switch r.Interval {
	case RefillDaily:
		if r.Day != 0 {
			v.add("credits.refill.day", "applies to a monthly refill only")
		}
	case RefillMonthly:
		if r.Day == 0 {
			r.Day = 1
		}
		if r.Day < 1 || r.Day > 31 {
			v.add("credits.refill.day", "must be from 1 to 31 (a shorter month refills on its last day)")
		}
	default:
		v.add("credits.refill.interval", `must be "daily" or "monthly"`)
	}
	if r.Amount < 0 || r.Amount > MaxCredits {
		v.add("credits.refill.amount", fmt.Sprintf("must be from 0 to %d", MaxCredits))
	}
	out.Refill = &r
	return &out
}

// TakeCredits applies the refill due at period (ms, the start of the
// spender's refill period), then takes up to max credits of key id from
// its durable balance, in one transaction that locks the key's row.
func (s *Store) TakeCredits(ctx context.Context, id string, period, max int64) (CreditGrant, error) {
	var g CreditGrant
	err := s.tx(ctx, func(tx *gorm.DB) error {
		row, err := s.load(tx, id, true)
		if err != nil {
			return err
		}
		k := row.creditCols()
		if k.Remaining == nil {
			return ErrNoCredits
		}
		k.refillDue(period)
		g.Block = min(max, *k.Remaining)
		rem := *k.Remaining - g.Block
		k.Remaining, g.Remaining, g.Epoch = &rem, rem, k.Epoch
		return saveCredits(tx, id, k)
	})
	if errors.Is(err, ErrNoCredits) {
		return g, fmt.Errorf("keystore: key %s: %w", id, ErrNoCredits)
	}
	return g, s.mutationErr("take credits", err)
}

func saveCredits(tx *gorm.DB, id string, k creditCols) error {
	return tx.Model(&keyRow{}).Where("id = ?", id).Updates(map[string]any{
		"credits_remaining": k.Remaining, "credits_refilled_at": k.RefilledAt, "credits_epoch": k.Epoch,
	}).Error
}

// AdjustCredits sets, increments or decrements (never below 0) the
// balance of key id, atomically: the limiter's lease is reclaimed into
// the balance first (a change fails with ErrUnavailable while the
// limiter cannot be reached), the refill due is applied, and the change is
// audited. It returns the key with its new balance.
func (s *Store) AdjustCredits(ctx context.Context, actor, id, op string, value int64) (*Record, error) {
	if err := checkOp(op, value); err != nil {
		return nil, err
	}
	now := s.now()
	var row *keyRow
	err := s.tx(ctx, func(tx *gorm.DB) error {
		var err error
		if row, err = s.load(tx, id, true); err != nil {
			return err
		}
		if row.CreditsRemaining == nil {
			return fmt.Errorf("keystore: key %s has no credits; set them with PATCH first: %w", id, ErrConflict)
		}
		before := *row.CreditsRemaining
		if err := s.reclaim(ctx, row, row.CreditsEpoch); err != nil {
			return err
		}
		k := row.creditCols()
		rem := apply(op, *k.Remaining, value)
		k.Remaining = &rem
		row.setCredits(k)
		row.UpdatedAt = now
		if err := saveCredits(tx, id, k); err != nil {
			return err
		}
		details := map[string]any{"op": op, "value": value, "stored_before": before, "remaining": rem}
		return s.afterChange(tx, actor, ActionKeyCredits, row, now, details)
	})
	if err != nil {
		return nil, s.mutationErr("adjust credits", err)
	}
	s.invalidateLocal(row.Hash)
	return s.present(row), nil
}

// reclaim moves the limiter's lease of row's key back into row's balance
// (as of epoch, the row's before this change), applies the refill due,
// and starts the next epoch. Without CreditLeases, nothing is leased.
func (s *Store) reclaim(ctx context.Context, row *keyRow, epoch int64) error {
	k := row.creditCols()
	if s.cfg.Credits == nil {
		k.Epoch = max(k.Epoch, epoch+1)
		row.setCredits(k)
		return nil
	}
	left, period, err := s.cfg.Credits.Reclaim(ctx, row.ID, k.Refill.Refill, epoch)
	if err != nil {
		return fmt.Errorf("keystore: reclaim credits of %s: %w: %w", row.ID, ErrUnavailable, err)
	}
	if k.Remaining != nil && k.Epoch == epoch {
		k.refillDue(period)
		if k.Epoch == epoch { // the lease belongs to this period
			rem := *k.Remaining + left
			k.Remaining = &rem
		}
	}
	k.Epoch = max(k.Epoch, epoch+1)
	row.setCredits(k)
	return nil
}

func checkOp(op string, value int64) error {
	var v ValidationError
	if op != CreditsSet && op != CreditsIncrement && op != CreditsDecrement {
		v.add("op", `must be "set", "increment" or "decrement"`)
	}
	if value < 0 || value > MaxCredits {
		v.add("value", fmt.Sprintf("must be from 0 to %d", MaxCredits))
	}
	return v.err()
}

func apply(op string, balance, value int64) int64 {
	switch op {
	case CreditsSet:
		return value
	case CreditsIncrement:
		return min(balance+value, MaxCredits)
	}
	return max(balance-value, 0)
}

// ReturnCredits gives back left credits that the limiter leased in epoch,
// if the key's balance is still of that epoch (a clean shutdown of a
// memory limiter).
func (s *Store) ReturnCredits(ctx context.Context, id string, epoch, left int64) error {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.QueryTimeout)
	defer cancel()
	err := s.db.WithContext(ctx).Model(&keyRow{}).
		Where("id = ? AND credits_epoch = ? AND credits_remaining IS NOT NULL", id, epoch).
		Update("credits_remaining", gorm.Expr("credits_remaining + ?", left)).Error
	return dbErr("return credits", err)
}

// moveCredits moves the balance of a key being rotated (its lease
// reclaimed first) to its successor, with the same refill schedule; the
// old key keeps credits of 0 and no refill, so that no credit is spent
// twice during the grace period.
func (s *Store) moveCredits(ctx context.Context, old, fresh *keyRow) error {
	if old.CreditsRemaining == nil {
		return nil
	}
	if err := s.reclaim(ctx, old, old.CreditsEpoch); err != nil {
		return err
	}
	k := old.creditCols()
	rem := *k.Remaining
	fresh.setCredits(creditCols{Remaining: &rem, Refill: k.Refill, RefilledAt: k.RefilledAt, Epoch: 1})
	zero := int64(0)
	old.setCredits(creditCols{Remaining: &zero, RefilledAt: k.RefilledAt, Epoch: k.Epoch})
	return nil
}

// RecordCredit counts one credit spent by key id at time at, for the usage
// endpoint. It does no I/O: counts reach the database at the next flush.
func (s *Store) RecordCredit(id string, at time.Time) {
	s.usage.add(id, at, usageCount{credits: 1}, false)
}
