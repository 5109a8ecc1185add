package keystore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// DefaultGrace is how long a rotated key keeps working when the caller
// names no grace period; MaxGrace is the longest grace allowed.
const (
	DefaultGrace = 24 * time.Hour
	MaxGrace     = 30 * 24 * time.Hour
)

// Create stores a new key and returns it with its plaintext, which exists
// nowhere else: the store keeps only its hash.
func (s *Store) Create(ctx context.Context, actor string, spec Spec) (*Record, Key, error) {
	now := s.now()
	c := checked(spec)
	if err := s.check(&c, now, true); err != nil {
		return nil, Key{}, err
	}
	key, err := Generate(s.cfg.KeyPrefix)
	if err != nil {
		return nil, Key{}, err
	}
	row := newRow(key, &c, now)
	err = s.tx(ctx, func(tx *gorm.DB) error {
		if err := credentialExists(tx, c.CredentialID); err != nil {
			return err
		}
		if err := tx.Create(row).Error; err != nil {
			return err
		}
		return s.audit(tx, actor, ActionKeyCreate, &row.ID, now, map[string]any{"name": row.Name, "owner": row.Owner, "scopes": c.Scopes})
	})
	if err != nil {
		return nil, Key{}, dbErr("create key", err)
	}
	return row.record(), key, nil
}

func newRow(key Key, c *checked, now time.Time) *keyRow {
	h := key.Hash()
	row := &keyRow{
		ID: newID(), Hash: h[:], Prefix: key.Prefix(), Name: c.Name, Owner: c.Owner,
		Scopes: c.Scopes, RateLimits: c.RateLimits, IPAllowlist: c.IPAllowlist,
		ExpiresAt: utcPtr(c.ExpiresAt), Status: string(StatusActive), Metadata: jsonObject(c.Metadata),
		CredentialID: c.CredentialID, CreatedAt: now, UpdatedAt: now,
	}
	row.setCredits(creditCols{}.replaced(c.Credits, now))
	return row
}

// Get returns the key with this id, or ErrNotFound.
func (s *Store) Get(ctx context.Context, id string) (*Record, error) {
	row, err := s.load(s.db.WithContext(ctx), id, false)
	if err != nil {
		return nil, err
	}
	return s.present(row), nil
}

// present turns a row into a record with its status as of now.
func (s *Store) present(row *keyRow) *Record {
	r := row.record()
	r.Status = r.statusAt(s.now())
	return r
}

func (s *Store) load(db *gorm.DB, id string, forUpdate bool) (*keyRow, error) {
	var row keyRow
	q := db
	if forUpdate && s.dialect == DialectPostgres {
		q = q.Clauses(clause.Locking{Strength: "UPDATE"})
	}
	err := q.Where("id = ?", id).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, fmt.Errorf("keystore: key %s: %w", id, ErrNotFound)
	}
	return &row, dbErr("load key", err)
}

// List returns one page of keys, newest first, and how many match in all.
func (s *Store) List(ctx context.Context, f Filter) ([]*Record, int64, error) {
	q := s.db.WithContext(ctx).Model(&keyRow{})
	if f.Owner != "" {
		q = q.Where("owner = ?", f.Owner)
	}
	if f.Query != "" {
		like := "%" + escapeLike(strings.ToLower(f.Query)) + "%"
		q = q.Where(`(LOWER(name) LIKE ? ESCAPE '\' OR LOWER(owner) LIKE ? ESCAPE '\')`, like, like)
	}
	q = s.whereStatus(q, f.Status)
	var total int64
	if err := q.Count(&total).Error; err != nil {
		return nil, 0, dbErr("count keys", err)
	}
	var rows []keyRow
	page, limit := pageOf(f.Page, f.Limit)
	err := q.Order("created_at DESC, id DESC").Offset((page - 1) * limit).Limit(limit).Find(&rows).Error
	if err != nil {
		return nil, 0, dbErr("list keys", err)
	}
	out := make([]*Record, len(rows))
	for i := range rows {
		out[i] = s.present(&rows[i])
	}
	return out, total, nil
}

// escapeLike makes the LIKE wildcards of s (and the escape itself) literal.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace(s)
}

func (s *Store) whereStatus(q *gorm.DB, st Status) *gorm.DB {
	now := s.now()
	switch st {
	case StatusActive:
		return q.Where("status = ? AND (expires_at IS NULL OR expires_at > ?)", StatusActive, now)
	case StatusExpired:
		return q.Where("status = ? AND expires_at <= ?", StatusActive, now)
	case StatusRevoked:
		return q.Where("status = ?", StatusRevoked)
	}
	return q
}

// pageOf applies the paging defaults: page from 1, limit 20, at most 100.
func pageOf(page, limit int) (int, int) {
	if page < 1 {
		page = 1
	}
	if limit < 1 {
		limit = 20
	}
	return page, min(limit, 100)
}

// Update applies p to the key and returns it as it now is. A revoked key
// cannot be changed (ErrConflict).
func (s *Store) Update(ctx context.Context, actor, id string, p Patch) (*Record, error) {
	now := s.now()
	var row *keyRow
	err := s.tx(ctx, func(tx *gorm.DB) error {
		var err error
		if row, err = s.load(tx, id, true); err != nil {
			return err
		}
		if row.Status == string(StatusRevoked) {
			return fmt.Errorf("keystore: key %s is revoked: %w", id, ErrConflict)
		}
		epoch := row.CreditsEpoch
		changed, err := s.applyPatch(row, p, now)
		if err != nil || len(changed) == 0 {
			return err
		}
		if p.Credits.Set {
			if err := s.reclaim(ctx, row, epoch); err != nil {
				return err
			}
		}
		if err := credentialExists(tx, row.CredentialID); err != nil {
			return err
		}
		if err := tx.Save(row).Error; err != nil {
			return err
		}
		return s.afterChange(tx, actor, ActionKeyUpdate, row, now, map[string]any{"fields": changed})
	})
	if err != nil {
		return nil, s.mutationErr("update key", err)
	}
	s.invalidateLocal(row.Hash)
	return s.present(row), nil
}

func (s *Store) applyPatch(row *keyRow, p Patch, now time.Time) ([]string, error) {
	c := checked{Name: row.Name, Owner: row.Owner, Scopes: row.Scopes, RateLimits: row.RateLimits,
		IPAllowlist: row.IPAllowlist, ExpiresAt: row.ExpiresAt, Metadata: json.RawMessage(row.Metadata), CredentialID: row.CredentialID,
		Credits: row.credits()}
	var changed []string
	set(&changed, "name", p.Name, &c.Name)
	set(&changed, "owner", p.Owner, &c.Owner)
	set(&changed, "scopes", p.Scopes, &c.Scopes)
	set(&changed, "rate_limits", p.RateLimits, &c.RateLimits)
	set(&changed, "ip_allowlist", p.IPAllowlist, &c.IPAllowlist)
	set(&changed, "expires_at", p.ExpiresAt, &c.ExpiresAt)
	set(&changed, "metadata", p.Metadata, &c.Metadata)
	set(&changed, "credential_id", p.CredentialID, &c.CredentialID)
	set(&changed, "credits", p.Credits, &c.Credits)
	if err := s.check(&c, now, false); err != nil {
		return nil, err
	}
	kc := row.creditCols()
	if p.Credits.Set {
		kc = kc.replaced(c.Credits, now)
	}
	*row = keyRow{ID: row.ID, Hash: row.Hash, Prefix: row.Prefix, Name: c.Name, Owner: c.Owner,
		Scopes: c.Scopes, RateLimits: c.RateLimits, IPAllowlist: c.IPAllowlist, ExpiresAt: utcPtr(c.ExpiresAt),
		Status: row.Status, Metadata: jsonObject(c.Metadata), CredentialID: c.CredentialID, CreatedAt: row.CreatedAt,
		UpdatedAt: now, LastUsedAt: row.LastUsedAt, RevokedAt: row.RevokedAt}
	row.setCredits(kc)
	return changed, nil
}

func set[T any](changed *[]string, name string, o Optional[T], dst *T) {
	if o.Set {
		*dst = o.Value
		*changed = append(*changed, name)
	}
}

// Revoke stops the key everywhere. Revoking a revoked key changes nothing
// and returns it as it is.
func (s *Store) Revoke(ctx context.Context, actor, id string) (*Record, error) {
	rec, _, err := s.revoke(ctx, actor, id, nil)
	return rec, err
}

// revoke is Revoke with details for the audit event; it also says whether
// this call revoked the key (false: it was revoked before).
func (s *Store) revoke(ctx context.Context, actor, id string, details map[string]any) (*Record, bool, error) {
	now := s.now()
	var (
		row     *keyRow
		revoked bool
	)
	err := s.tx(ctx, func(tx *gorm.DB) error {
		var err error
		if row, err = s.load(tx, id, true); err != nil || row.Status == string(StatusRevoked) {
			return err
		}
		row.Status, row.RevokedAt, row.UpdatedAt = string(StatusRevoked), &now, now
		res := tx.Model(&keyRow{}).Where("id = ? AND status = ?", id, StatusActive).
			Updates(map[string]any{"status": row.Status, "revoked_at": now, "updated_at": now})
		if res.Error != nil || res.RowsAffected == 0 {
			return res.Error
		}
		revoked = true
		return s.afterChange(tx, actor, ActionKeyRevoke, row, now, details)
	})
	if err != nil {
		return nil, false, s.mutationErr("revoke key", err)
	}
	s.invalidateLocal(row.Hash)
	rec, err := s.Get(ctx, id)
	return rec, revoked, err
}

// Rotate issues a new key with the same settings and lets the old one work
// for grace more (never longer than it had). A key that expired before
// carries its lifetime over: the new key lasts as long as the old one did.
func (s *Store) Rotate(ctx context.Context, actor, id string, grace time.Duration) (*Record, Key, error) {
	if grace < 0 || grace > MaxGrace {
		return nil, Key{}, &ValidationError{Fields: map[string]string{"grace": fmt.Sprintf("must be between 0s and %s", MaxGrace)}}
	}
	key, err := Generate(s.cfg.KeyPrefix)
	if err != nil {
		return nil, Key{}, err
	}
	now := s.now()
	var old, fresh *keyRow
	err = s.tx(ctx, func(tx *gorm.DB) error {
		if old, err = s.load(tx, id, true); err != nil {
			return err
		}
		if st := old.record().statusAt(now); st != StatusActive {
			return fmt.Errorf("keystore: key %s is %s: %w", id, st, ErrConflict)
		}
		fresh = successor(key, old, now)
		if err := s.moveCredits(ctx, old, fresh); err != nil {
			return err
		}
		return s.rotateTx(tx, actor, old, fresh, now, grace)
	})
	if err != nil {
		return nil, Key{}, s.mutationErr("rotate key", err)
	}
	s.invalidateLocal(old.Hash)
	return fresh.record(), key, nil
}

func successor(key Key, old *keyRow, now time.Time) *keyRow {
	c := checked{Name: old.Name, Owner: old.Owner, Scopes: old.Scopes, RateLimits: old.RateLimits,
		IPAllowlist: old.IPAllowlist, Metadata: json.RawMessage(old.Metadata), CredentialID: old.CredentialID,
		Credits: old.credits()}
	if old.ExpiresAt != nil {
		exp := now.Add(old.ExpiresAt.Sub(old.CreatedAt))
		c.ExpiresAt = &exp
	}
	return newRow(key, &c, now)
}

func (s *Store) rotateTx(tx *gorm.DB, actor string, old, fresh *keyRow, now time.Time, grace time.Duration) error {
	if err := tx.Create(fresh).Error; err != nil {
		return err
	}
	end := now.Add(grace)
	if old.ExpiresAt == nil || end.Before(*old.ExpiresAt) {
		old.ExpiresAt = &end
	}
	old.UpdatedAt = now
	if err := tx.Model(&keyRow{}).Where("id = ?", old.ID).
		Updates(map[string]any{"expires_at": old.ExpiresAt, "updated_at": now, "credits_remaining": old.CreditsRemaining,
			"credits_refill": old.CreditsRefill, "credits_epoch": old.CreditsEpoch}).Error; err != nil {
		return err
	}
	details := map[string]any{"new_key_id": fresh.ID, "grace": grace.String(), "old_expires_at": old.ExpiresAt}
	if err := s.afterChange(tx, actor, ActionKeyRotate, old, now, details); err != nil {
		return err
	}
	return s.audit(tx, actor, ActionKeyCreate, &fresh.ID, now, map[string]any{"rotated_from": old.ID})
}

// afterChange records the audit event of a change to row and, on Postgres,
// tells every replica to drop the key from its cache once the change commits.
func (s *Store) afterChange(tx *gorm.DB, actor, action string, row *keyRow, now time.Time, details map[string]any) error {
	if err := s.audit(tx, actor, action, &row.ID, now, details); err != nil {
		return err
	}
	return s.notify(tx, row.Hash)
}

func (s *Store) tx(ctx context.Context, fn func(tx *gorm.DB) error) error {
	ctx, cancel := context.WithTimeout(ctx, 10*s.cfg.QueryTimeout)
	defer cancel()
	return s.db.WithContext(ctx).Transaction(fn)
}

func (s *Store) mutationErr(op string, err error) error {
	var v *ValidationError
	if errors.As(err, &v) || errors.Is(err, ErrNotFound) || errors.Is(err, ErrConflict) || errors.Is(err, ErrUnavailable) {
		return err
	}
	return dbErr(op, err)
}

// credentialExists refuses a credential_id that names no service account:
// the gateway could not call Odoo for such a key. On Postgres it holds a
// share lock on the credential until the transaction ends, so that
// DeleteCredential (which locks it for update) cannot remove it between
// this check and the key's commit.
func credentialExists(tx *gorm.DB, id *string) error {
	if id == nil {
		return nil
	}
	q := tx.Model(&credentialRow{}).Select("id").Where("id = ?", *id)
	if tx.Dialector.Name() == DialectPostgres {
		q = q.Clauses(clause.Locking{Strength: "SHARE"})
	}
	var found []string
	if err := q.Pluck("id", &found).Error; err != nil {
		return err
	}
	if len(found) == 0 {
		return &ValidationError{Fields: map[string]string{"credential_id": "names no service account (see /admin/v1/credentials)"}}
	}
	return nil
}
