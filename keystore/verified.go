package keystore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"time"
	"unsafe"
)

// Verified is a key as Verify answers it: what deciding a request and
// calling Odoo for it need, and nothing that only the admin API reads
// (name, prefix, lists, metadata, timestamps: Get returns those). A cache
// hit makes one for its caller from what the cache holds apart
// (keystore/cache.go); its Owner, CredentialID and Policy are shared with
// other keys, so it is read-only.
type Verified struct {
	ID    string
	Owner string // shared between keys of one owner
	// CredentialID names the vault credential the key calls Odoo as; nil:
	// the default account. Shared between keys of one credential.
	CredentialID *string
	// Policy is what Config.Compile made of the key when it was verified;
	// nil without Compile.
	Policy any
	// until is the key's state in one word: revoked, never expiring, or
	// its expiry in Unix nanoseconds (see untilOf).
	until int64
}

// IDValue and OwnerValue are ID and Owner as header field values (one
// value each, as http.Header holds them), without allocating: views of
// v's own fields, with no room to append to. Like v, they are read-only.
func (v *Verified) IDValue() []string    { return unsafe.Slice(&v.ID, 1) }
func (v *Verified) OwnerValue() []string { return unsafe.Slice(&v.Owner, 1) }

// The states of Verified.until that are not an expiry.
const (
	untilRevoked = math.MinInt64
	untilNever   = math.MaxInt64
)

// untilOf is the state of a key with status s and expiry exp. An expiry
// beyond what Unix nanoseconds hold (the years before 1678 or after 2262)
// is the nearest one they do.
func untilOf(s Status, exp *time.Time) int64 {
	switch {
	case s == StatusRevoked:
		return untilRevoked
	case exp == nil:
		return untilNever
	case exp.Before(minUnixNano):
		return untilRevoked + 1
	case exp.After(maxUnixNano):
		return untilNever - 1
	}
	return exp.UnixNano()
}

var (
	minUnixNano = time.Unix(0, untilRevoked+1)
	maxUnixNano = time.Unix(0, untilNever-1)
)

// Status is the key's status at now, as Record.Status reads then.
func (v *Verified) Status(now time.Time) Status {
	switch {
	case v.until == untilRevoked:
		return StatusRevoked
	case v.until != untilNever && now.UnixNano() >= v.until:
		return StatusExpired
	}
	return StatusActive
}

// Verified returns what Verify would make of r, with policy p: for a key
// read another way (a web session's), to be decided as a verified one.
func (r *Record) Verified(p any) *Verified {
	return &Verified{ID: r.ID, Owner: r.Owner, CredentialID: r.CredentialID, Policy: p, until: untilOf(r.Status, r.ExpiresAt)}
}

// verifyColumns are the columns of api_keys that verification reads:
// what a Verified holds and what its policy is compiled from.
const verifyColumns = "id, owner, status, expires_at, credential_id, scopes, rate_limits, ip_allowlist, credits_remaining, credits_refill"

// readVerified reads the key with hash h and makes its Verified, compiled
// and with its owner and credential shared; nil, nil when no key has
// that hash. It scans the few columns it needs into locals instead of a
// whole keyRow and Record through GORM's reflection: a miss then leaves
// little garbage between the values it caches, which would otherwise keep
// half-empty pages of the heap in use once 100,000 keys are cached.
func (s *Store) readVerified(ctx context.Context, h Hash) (*Verified, error) {
	var (
		rec                      Record
		status                   string
		expires                  sql.NullTime
		credential               sql.NullString
		scopes, limits, networks jsonList
		remaining                sql.NullInt64
		refill                   refillColumn
	)
	err := s.db.WithContext(ctx).Raw("SELECT "+verifyColumns+" FROM api_keys WHERE hash = ?", h[:]).Row().
		Scan(&rec.ID, &rec.Owner, &status, &expires, &credential, &scopes, &limits, &networks, &remaining, &refill)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("keystore: verify: %w: %w", ErrUnavailable, err)
	}
	rec.Status, rec.Scopes, rec.RateLimits, rec.IPAllowlist = Status(status), nonNil(scopes), nonNil(limits), nonNil(networks)
	if expires.Valid {
		rec.ExpiresAt = &expires.Time
	}
	if credential.Valid {
		rec.CredentialID = &credential.String
	}
	if remaining.Valid {
		rec.Credits = &Credits{Remaining: remaining.Int64, Refill: refill.Refill}
	}
	s.shared.share(&rec)
	var p any
	if s.cfg.Compile != nil {
		if p, err = s.cfg.Compile(&rec); err != nil {
			return nil, fmt.Errorf("keystore: key %s: stored policy does not compile: %w", rec.ID, err)
		}
	}
	return rec.Verified(p), nil
}
