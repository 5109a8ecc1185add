package keystore

import (
	"encoding/json"
	"time"
)

// Status is a key's state as callers see it. The database stores only active
// and revoked; expired is derived from expires_at at read time, so a key
// expires on time without a background job.
type Status string

const (
	StatusActive  Status = "active"
	StatusRevoked Status = "revoked"
	StatusExpired Status = "expired"
)

// Valid reports whether s is one of the three statuses.
func (s Status) Valid() bool {
	return s == StatusActive || s == StatusRevoked || s == StatusExpired
}

// Record is a stored key without its secret or hash. Its JSON form is the
// key object of the admin API.
type Record struct {
	ID           string          `json:"id"`
	Prefix       string          `json:"prefix"`
	Name         string          `json:"name"`
	Owner        string          `json:"owner"`
	Scopes       []string        `json:"scopes"`
	RateLimits   []string        `json:"rate_limits"`
	IPAllowlist  []string        `json:"ip_allowlist"`
	ExpiresAt    *time.Time      `json:"expires_at"`
	Status       Status          `json:"status"`
	Metadata     json.RawMessage `json:"metadata"`
	CredentialID *string         `json:"credential_id"`
	CreatedAt    time.Time       `json:"created_at"`
	UpdatedAt    time.Time       `json:"updated_at"`
	LastUsedAt   *time.Time      `json:"last_used_at"`
	RevokedAt    *time.Time      `json:"revoked_at"`
	// Credits are the key's usage quota; nil: unlimited. Remaining is the
	// balance that the limiter has not leased (see Credits).
	Credits *Credits `json:"credits"`
}

// statusAt derives the visible status at time now.
func (r *Record) statusAt(now time.Time) Status {
	if r.Status == StatusActive && r.ExpiresAt != nil && !now.Before(*r.ExpiresAt) {
		return StatusExpired
	}
	return r.Status
}

// Spec is what a caller chooses for a new key.
type Spec struct {
	Name         string
	Owner        string
	Scopes       []string
	RateLimits   []string
	IPAllowlist  []string
	ExpiresAt    *time.Time
	Metadata     json.RawMessage
	CredentialID *string
	Credits      *Credits
}

// Optional is a field of a Patch: Set says whether the caller sent it, so a
// patch can tell "leave alone" from "set to null".
type Optional[T any] struct {
	Set   bool
	Value T
}

// Some returns a set Optional.
func Some[T any](v T) Optional[T] { return Optional[T]{Set: true, Value: v} }

// Patch changes some fields of a key; unset fields stay as they are.
type Patch struct {
	Name         Optional[string]
	Owner        Optional[string]
	Scopes       Optional[[]string]
	RateLimits   Optional[[]string]
	IPAllowlist  Optional[[]string]
	ExpiresAt    Optional[*time.Time]
	Metadata     Optional[json.RawMessage]
	CredentialID Optional[*string]
	Credits      Optional[*Credits]
}

// Filter selects keys for List. Page counts from 1.
type Filter struct {
	Owner  string
	Status Status
	// Query, when set, keeps the keys whose name or owner contains it,
	// ignoring ASCII case.
	Query string
	Page  int
	Limit int
}

// AuditEvent is one entry of the audit log.
type AuditEvent struct {
	ID      string          `json:"id"`
	At      time.Time       `json:"at"`
	Actor   string          `json:"actor"`
	Action  string          `json:"action"`
	KeyID   *string         `json:"key_id"`
	Details json.RawMessage `json:"details"`
}

// AuditFilter selects audit events. Page counts from 1.
type AuditFilter struct {
	KeyID string
	Page  int
	Limit int
}

// Audit actions.
const (
	ActionKeyCreate        = "key.create"
	ActionKeyUpdate        = "key.update"
	ActionKeyRevoke        = "key.revoke"
	ActionKeyRotate        = "key.rotate"
	ActionCredentialCreate = "credential.create"
	ActionKeyCredits       = "key.credits"
)
