package keystore

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// Web sessions are what /web/session/authenticate hands a session client
// (OdooRPC, the password mode of JS clients) in exchange for a key: an
// opaque id in a cookie that stands for the key until it is destroyed,
// idle or too old, or until the key is revoked or expires. Only the
// SHA-256 of the id is stored, so the table cannot be replayed.

// Session defaults (SessionConfig's zero values).
const (
	// DefaultSessionIdle ends a session not used for this long.
	DefaultSessionIdle = 24 * time.Hour
	// DefaultSessionMaxAge ends a session this long after it began,
	// however much it is used.
	DefaultSessionMaxAge = 7 * 24 * time.Hour
	// DefaultSessionsPerKey is how many sessions one key may hold; a new
	// one ends the least recently used beyond it.
	DefaultSessionsPerKey = 100
	// DefaultSessionsTotal bounds the table: past it, authenticate is
	// refused until sessions end.
	DefaultSessionsTotal = 100_000
)

// sessionIDBytes gives ids of 84 URL-safe base64 characters, the shape of
// Odoo's own session ids.
const sessionIDBytes = 63

// touchEvery is how stale last_seen_at may be before a use writes it:
// idle expiry needs it, but not one write per request.
const touchEvery = time.Minute

// Errors of web sessions.
var (
	// ErrNoSession: the id names no live session (unknown, malformed,
	// destroyed, idle or too old, or its key is revoked or expired).
	ErrNoSession = errors.New("keystore: no such session")
	// ErrTooManySessions: the store holds SessionConfig.MaxTotal sessions.
	ErrTooManySessions = errors.New("keystore: too many web sessions")
)

// SessionConfig bounds web sessions. Zero values take the defaults above.
type SessionConfig struct {
	IdleTimeout time.Duration
	MaxAge      time.Duration
	MaxPerKey   int
	MaxTotal    int
}

func (c *SessionConfig) setDefaults() {
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = DefaultSessionIdle
	}
	if c.MaxAge <= 0 {
		c.MaxAge = DefaultSessionMaxAge
	}
	if c.MaxPerKey <= 0 {
		c.MaxPerKey = DefaultSessionsPerKey
	}
	if c.MaxTotal <= 0 {
		c.MaxTotal = DefaultSessionsTotal
	}
}

// Sessions keeps web sessions in the store's database, so that every
// replica sees them. It is safe for concurrent use. The bounds are
// checked per creation and may be passed by a few sessions created at the
// same moment on several replicas.
type Sessions struct {
	s   *Store
	cfg SessionConfig
}

// Sessions returns the store's web sessions, bounded by cfg.
func (s *Store) Sessions(cfg SessionConfig) *Sessions {
	cfg.setDefaults()
	return &Sessions{s: s, cfg: cfg}
}

type sessionRow struct {
	Hash       []byte `gorm:"primaryKey"`
	KeyID      string
	CreatedAt  time.Time `gorm:"autoCreateTime:false"`
	LastSeenAt time.Time
	ExpiresAt  time.Time
}

func (sessionRow) TableName() string { return "web_sessions" }

func sessionHash(id string) []byte {
	h := sha256.Sum256([]byte(id))
	return h[:]
}

// wellFormedSession checks an id's shape without storage.
func wellFormedSession(id string) bool {
	if len(id) != base64.RawURLEncoding.EncodedLen(sessionIDBytes) {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(id)
	return err == nil
}

// Create opens a session for the key keyID and returns its id, which is
// shown only here, and when it ends at the latest (MaxAge). It first drops
// ended sessions, then the key's least recently used ones beyond
// MaxPerKey-1; it returns ErrTooManySessions when the table is full.
func (ss *Sessions) Create(ctx context.Context, keyID string) (string, time.Time, error) {
	raw := make([]byte, sessionIDBytes)
	if _, err := rand.Read(raw); err != nil {
		return "", time.Time{}, fmt.Errorf("keystore: session id: %w", err)
	}
	id := base64.RawURLEncoding.EncodeToString(raw)
	now := ss.s.now()
	row := sessionRow{Hash: sessionHash(id), KeyID: keyID, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(ss.cfg.MaxAge)}
	err := ss.s.tx(ctx, func(tx *gorm.DB) error {
		if err := tx.Where("expires_at <= ? OR last_seen_at <= ?", now, now.Add(-ss.cfg.IdleTimeout)).Delete(&sessionRow{}).Error; err != nil {
			return err
		}
		if err := ss.evict(tx, keyID); err != nil {
			return err
		}
		var total int64
		if err := tx.Model(&sessionRow{}).Count(&total).Error; err != nil {
			return err
		}
		if total >= int64(ss.cfg.MaxTotal) {
			return ErrTooManySessions
		}
		return tx.Create(&row).Error
	})
	if errors.Is(err, ErrTooManySessions) {
		return "", time.Time{}, err
	}
	if err != nil {
		return "", time.Time{}, dbErr("create session", err)
	}
	return id, row.ExpiresAt, nil
}

// evict ends the key's least recently used sessions so that one more fits.
func (ss *Sessions) evict(tx *gorm.DB, keyID string) error {
	var n int64
	if err := tx.Model(&sessionRow{}).Where("key_id = ?", keyID).Count(&n).Error; err != nil {
		return err
	}
	extra := int(n) - ss.cfg.MaxPerKey + 1
	if extra <= 0 {
		return nil
	}
	var old [][]byte
	if err := tx.Model(&sessionRow{}).Where("key_id = ?", keyID).Order("last_seen_at, created_at").
		Limit(extra).Pluck("hash", &old).Error; err != nil {
		return err
	}
	return tx.Where("hash IN ?", old).Delete(&sessionRow{}).Error
}

// Key returns the record of the session's key, read from storage now, so
// that a revoked or expired key ends its sessions on every replica at
// once. It returns ErrNoSession for an id that names no live session (a
// session found dead is deleted), ErrUnavailable when storage could not
// answer. Each use pushes the idle expiry back.
func (ss *Sessions) Key(ctx context.Context, id string) (*Record, error) {
	if !wellFormedSession(id) {
		return nil, ErrNoSession
	}
	h := sessionHash(id)
	qctx, cancel := context.WithTimeout(ctx, ss.s.cfg.QueryTimeout)
	defer cancel()
	var sess sessionRow
	err := ss.s.db.WithContext(qctx).Where("hash = ?", h).Take(&sess).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNoSession
	}
	if err != nil {
		return nil, dbErr("session", err)
	}
	var key keyRow
	err = ss.s.db.WithContext(qctx).Where("id = ?", sess.KeyID).Take(&key).Error
	if err != nil && !errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, dbErr("session key", err)
	}
	now := ss.s.now()
	rec := key.record()
	if err != nil || !now.Before(sess.ExpiresAt) || !now.Before(sess.LastSeenAt.Add(ss.cfg.IdleTimeout)) || rec.statusAt(now) != StatusActive {
		if err := ss.s.db.WithContext(qctx).Where("hash = ?", h).Delete(&sessionRow{}).Error; err != nil {
			return nil, dbErr("end session", err)
		}
		return nil, ErrNoSession
	}
	if now.Sub(sess.LastSeenAt) >= touchEvery {
		err := ss.s.db.WithContext(qctx).Model(&sessionRow{}).Where("hash = ?", h).Update("last_seen_at", now).Error
		if err != nil {
			return nil, dbErr("touch session", err)
		}
	}
	return rec, nil
}

// KeyName returns the name of key id, read now: what a session's info
// shows, which the verified key does not hold. ErrNotFound when no key has
// that id.
func (ss *Sessions) KeyName(ctx context.Context, keyID string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, ss.s.cfg.QueryTimeout)
	defer cancel()
	var names []string
	err := ss.s.db.WithContext(ctx).Model(&keyRow{}).Where("id = ?", keyID).Limit(1).Pluck("name", &names).Error
	switch {
	case err != nil:
		return "", dbErr("key name", err)
	case len(names) == 0:
		return "", fmt.Errorf("keystore: key %s: %w", keyID, ErrNotFound)
	}
	return names[0], nil
}

// Delete ends the session; an id that names none is not an error.
func (ss *Sessions) Delete(ctx context.Context, id string) error {
	if !wellFormedSession(id) {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, ss.s.cfg.QueryTimeout)
	defer cancel()
	return dbErr("delete session", ss.s.db.WithContext(ctx).Where("hash = ?", sessionHash(id)).Delete(&sessionRow{}).Error)
}

// Count returns how many sessions the key holds, ended ones included
// until the next Create drops them.
func (ss *Sessions) Count(ctx context.Context, keyID string) (int64, error) {
	ctx, cancel := context.WithTimeout(ctx, ss.s.cfg.QueryTimeout)
	defer cancel()
	var n int64
	err := ss.s.db.WithContext(ctx).Model(&sessionRow{}).Where("key_id = ?", keyID).Count(&n).Error
	return n, dbErr("count sessions", err)
}
