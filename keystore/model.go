package keystore

import (
	"bytes"
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"time"
)

// keyRow is the api_keys table. Lists and metadata are JSON (jsonb on
// Postgres, TEXT on SQLite), so both dialects share one model.
type keyRow struct {
	ID           string `gorm:"primaryKey"`
	Hash         []byte
	Prefix       string
	Name         string
	Owner        string
	Scopes       jsonList
	RateLimits   jsonList
	IPAllowlist  jsonList `gorm:"column:ip_allowlist"`
	ExpiresAt    *time.Time
	Status       string
	Metadata     jsonObject
	CredentialID *string
	CreatedAt    time.Time `gorm:"autoCreateTime:false"`
	UpdatedAt    time.Time `gorm:"autoUpdateTime:false"`
	LastUsedAt   *time.Time
	RevokedAt    *time.Time
	// Credits (see credits.go).
	CreditsRemaining  *int64
	CreditsRefill     refillColumn
	CreditsRefilledAt int64
	CreditsEpoch      int64
}

func (keyRow) TableName() string { return "api_keys" }

type auditRow struct {
	ID      string `gorm:"primaryKey"`
	At      time.Time
	Actor   string
	Action  string
	KeyID   *string
	Details jsonObject
}

func (auditRow) TableName() string { return "audit_events" }

type usageRow struct {
	KeyID   string    `gorm:"primaryKey"`
	Hour    time.Time `gorm:"primaryKey"`
	Allowed int64
	Denied  int64
	Credits int64
}

func (usageRow) TableName() string { return "key_usage" }

func (r *keyRow) record() *Record {
	return &Record{
		ID: r.ID, Prefix: r.Prefix, Name: r.Name, Owner: r.Owner,
		Scopes: nonNil(r.Scopes), RateLimits: nonNil(r.RateLimits), IPAllowlist: nonNil(r.IPAllowlist),
		ExpiresAt: utcPtr(r.ExpiresAt), Status: Status(r.Status), Metadata: compactJSON(r.Metadata),
		CredentialID: r.CredentialID, CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
		LastUsedAt: utcPtr(r.LastUsedAt), RevokedAt: utcPtr(r.RevokedAt), Credits: r.credits(),
	}
}

func (r *auditRow) event() AuditEvent {
	return AuditEvent{ID: r.ID, At: r.At.UTC(), Actor: r.Actor, Action: r.Action, KeyID: r.KeyID, Details: compactJSON(r.Details)}
}

// compactJSON drops the spaces that Postgres's jsonb adds, so both
// dialects present metadata alike.
func compactJSON(b []byte) json.RawMessage {
	var buf bytes.Buffer
	if json.Compact(&buf, b) != nil {
		return json.RawMessage(b)
	}
	return buf.Bytes()
}

func nonNil(l jsonList) []string {
	if l == nil {
		return []string{}
	}
	return []string(l)
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// jsonList is a []string stored as a JSON array.
type jsonList []string

func (l jsonList) Value() (driver.Value, error) {
	if l == nil {
		return "[]", nil
	}
	b, err := json.Marshal([]string(l))
	return string(b), err
}

func (l *jsonList) Scan(src any) error {
	b, err := scanBytes(src)
	if err != nil || b == nil {
		return err
	}
	return json.Unmarshal(b, (*[]string)(l))
}

// jsonObject is raw JSON stored as text or jsonb.
type jsonObject []byte

func (o jsonObject) Value() (driver.Value, error) {
	if len(o) == 0 {
		return "{}", nil
	}
	return string(o), nil
}

func (o *jsonObject) Scan(src any) error {
	b, err := scanBytes(src)
	*o = append(jsonObject(nil), b...)
	return err
}

func scanBytes(src any) ([]byte, error) {
	switch v := src.(type) {
	case nil:
		return nil, nil
	case []byte:
		return v, nil
	case string:
		return []byte(v), nil
	}
	return nil, fmt.Errorf("keystore: cannot scan %T as JSON", src)
}
