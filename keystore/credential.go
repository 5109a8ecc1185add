package keystore

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/chacha20poly1305"
	"gorm.io/gorm"
)

// SecretKeySize is the length of KEYGATE_SECRET_KEY once decoded.
const SecretKeySize = chacha20poly1305.KeySize

// sealVersion starts every sealed secret, so that another scheme or key
// can be told apart later.
const sealVersion = 1

// Errors of the credential vault.
var (
	// ErrNoSecretKey reports a vault built without a secret key: it lists
	// credentials but cannot store or open a secret.
	ErrNoSecretKey = errors.New("keystore: no secret key configured (KEYGATE_SECRET_KEY)")
	// ErrSealed reports a secret that does not open: a wrong secret key, or
	// a row that was changed or moved.
	ErrSealed = errors.New("keystore: credential secret does not open with this secret key")
)

// Credential is an upstream service account (an Odoo user and API key)
// that keys may be mapped to. Its JSON form is the admin API's credential
// object; the secret is never part of it.
type Credential struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	URL       string    `json:"url"`
	DB        string    `json:"db"`
	Login     string    `json:"login"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// CredentialSpec is what a caller chooses for a new credential.
type CredentialSpec struct {
	Name  string
	URL   string
	DB    string
	Login string
}

// CredentialFilter selects a page of credentials. Page counts from 1.
type CredentialFilter struct {
	Page  int
	Limit int
}

// Sealer encrypts secrets with XChaCha20-Poly1305 under one 32-byte key,
// the current one, and opens what that key or a previous one sealed (key
// rotation: KEYGATE_SECRET_KEY_PREVIOUS). It is safe for concurrent use.
type Sealer struct {
	keys [][]byte // keys[0] seals; every key opens
}

// NewSealer returns a Sealer that seals under key and opens what key or
// any of previous sealed. Each key is SecretKeySize bytes.
func NewSealer(key []byte, previous ...[]byte) (*Sealer, error) {
	s := &Sealer{}
	for _, k := range append([][]byte{key}, previous...) {
		if len(k) != SecretKeySize {
			return nil, fmt.Errorf("keystore: secret key is %d bytes, want %d", len(k), SecretKeySize)
		}
		s.keys = append(s.keys, bytes.Clone(k))
	}
	return s, nil
}

// ParseSecretKey decodes KEYGATE_SECRET_KEY: 32 bytes in standard or URL
// base64, padded or not.
func ParseSecretKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			if len(b) != SecretKeySize {
				return nil, fmt.Errorf("keystore: secret key is %d bytes, want %d", len(b), SecretKeySize)
			}
			return b, nil
		}
	}
	return nil, errors.New("keystore: secret key must be base64 (openssl rand -base64 32)")
}

// Seal encrypts plaintext bound to ad (additional data that Open must be
// given again): version byte, 24-byte random nonce, ciphertext and tag.
func (s *Sealer) Seal(plaintext, ad []byte) ([]byte, error) {
	aead, err := chacha20poly1305.NewX(s.keys[0])
	if err != nil {
		return nil, fmt.Errorf("keystore: seal: %w", err)
	}
	out := make([]byte, 1+aead.NonceSize(), 1+aead.NonceSize()+len(plaintext)+aead.Overhead())
	out[0] = sealVersion
	if _, err := rand.Read(out[1:]); err != nil {
		return nil, fmt.Errorf("keystore: seal: %w", err)
	}
	return aead.Seal(out, out[1:], plaintext, ad), nil
}

// Open decrypts what Seal returned for the same ad, under the current or a
// previous key, or returns ErrSealed.
func (s *Sealer) Open(sealed, ad []byte) ([]byte, error) {
	plain, _, err := s.open(sealed, ad)
	return plain, err
}

// open also says which key opened the secret: 0 is the current one. The
// sealed format does not name its key (version 1 is XChaCha20-Poly1305
// under some key): each key is tried, the current one first; a wrong key
// fails the tag check.
func (s *Sealer) open(sealed, ad []byte) ([]byte, int, error) {
	for i, key := range s.keys {
		aead, err := chacha20poly1305.NewX(key)
		if err != nil {
			return nil, 0, fmt.Errorf("keystore: open: %w", err)
		}
		n := 1 + aead.NonceSize()
		if len(sealed) < n+aead.Overhead() || sealed[0] != sealVersion {
			return nil, 0, ErrSealed
		}
		if plain, err := aead.Open(nil, sealed[1:n], sealed[n:], ad); err == nil {
			return plain, i, nil
		}
	}
	return nil, 0, ErrSealed
}

// credentialRow is the credentials table.
type credentialRow struct {
	ID        string `gorm:"primaryKey"`
	Name      string
	URL       string `gorm:"column:url"`
	DB        string `gorm:"column:db"`
	Login     string
	Secret    []byte
	CreatedAt time.Time `gorm:"autoCreateTime:false"`
	UpdatedAt time.Time `gorm:"autoUpdateTime:false"`
}

func (credentialRow) TableName() string { return "credentials" }

func (r *credentialRow) credential() *Credential {
	return &Credential{ID: r.ID, Name: r.Name, URL: r.URL, DB: r.DB, Login: r.Login,
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC()}
}

// Vault keeps upstream credentials in the store's database, their secrets
// sealed by a Sealer. It is safe for concurrent use and needs no Close: it
// lives as long as its Store.
type Vault struct {
	s      *Store
	sealer *Sealer
}

// Vault returns the store's credential vault. A nil sealer (no
// KEYGATE_SECRET_KEY) gives a vault that lists credentials but answers
// ErrNoSecretKey when asked to store or open a secret.
func (s *Store) Vault(sealer *Sealer) *Vault { return &Vault{s: s, sealer: sealer} }

// CreateCredential validates and stores a credential with its secret
// sealed under the vault's key, the credential id as additional data.
func (v *Vault) CreateCredential(ctx context.Context, actor string, spec CredentialSpec, secret string) (*Credential, error) {
	if err := checkCredential(&spec, secret); err != nil {
		return nil, err
	}
	if v.sealer == nil {
		return nil, ErrNoSecretKey
	}
	now := v.s.now()
	row := &credentialRow{ID: newID(), Name: spec.Name, URL: spec.URL, DB: spec.DB, Login: spec.Login, CreatedAt: now, UpdatedAt: now}
	var err error
	if row.Secret, err = v.sealer.Seal([]byte(secret), []byte(row.ID)); err != nil {
		return nil, err
	}
	err = v.s.tx(ctx, func(tx *gorm.DB) error {
		if err := tx.Create(row).Error; err != nil {
			return err
		}
		return v.s.audit(tx, actor, ActionCredentialCreate, nil, now, map[string]any{
			"credential_id": row.ID, "name": row.Name, "url": row.URL, "db": row.DB, "login": row.Login})
	})
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		return nil, &ValidationError{Fields: map[string]string{"name": "is already used by another credential"}}
	}
	if err != nil {
		return nil, dbErr("create credential", err)
	}
	return row.credential(), nil
}

// ListCredentials returns one page of credentials, oldest first, and how
// many there are.
func (v *Vault) ListCredentials(ctx context.Context, f CredentialFilter) ([]*Credential, int64, error) {
	ctx, cancel := context.WithTimeout(ctx, v.s.cfg.QueryTimeout)
	defer cancel()
	q := v.s.db.WithContext(ctx).Model(&credentialRow{})
	var total int64
	if err := q.Count(&total).Error; err != nil {
		return nil, 0, dbErr("count credentials", err)
	}
	page, limit := pageOf(f.Page, f.Limit)
	var rows []credentialRow
	if err := q.Omit("secret").Order("created_at, id").Offset((page - 1) * limit).Limit(limit).Find(&rows).Error; err != nil {
		return nil, 0, dbErr("list credentials", err)
	}
	out := make([]*Credential, len(rows))
	for i := range rows {
		out[i] = rows[i].credential()
	}
	return out, total, nil
}

// GetCredential returns the credential with this id, or ErrNotFound.
func (v *Vault) GetCredential(ctx context.Context, id string) (*Credential, error) {
	row, err := v.load(ctx, id)
	if err != nil {
		return nil, err
	}
	return row.credential(), nil
}

// CredentialSecret opens the secret of credential id, for the gateway's
// calls upstream. It returns ErrNotFound, ErrNoSecretKey or ErrSealed.
func (v *Vault) CredentialSecret(ctx context.Context, id string) (string, error) {
	if v.sealer == nil {
		return "", ErrNoSecretKey
	}
	row, err := v.load(ctx, id)
	if err != nil {
		return "", err
	}
	plain, err := v.sealer.Open(row.Secret, []byte(row.ID))
	if err != nil {
		return "", fmt.Errorf("keystore: credential %s: %w", id, err)
	}
	return string(plain), nil
}

func (v *Vault) load(ctx context.Context, id string) (*credentialRow, error) {
	ctx, cancel := context.WithTimeout(ctx, v.s.cfg.QueryTimeout)
	defer cancel()
	var row credentialRow
	err := v.s.db.WithContext(ctx).Where("id = ?", id).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, fmt.Errorf("keystore: credential %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, dbErr("load credential", err)
	}
	return &row, nil
}

// checkCredential validates spec and secret and normalizes the URL (no
// trailing slash).
func checkCredential(spec *CredentialSpec, secret string) error {
	var v ValidationError
	checkCredentialFields(&v, spec)
	checkSecret(&v, secret)
	return v.err()
}

func checkCredentialFields(v *ValidationError, spec *CredentialSpec) {
	checkText(v, "name", spec.Name, true)
	checkText(v, "db", spec.DB, true)
	checkText(v, "login", spec.Login, true)
	spec.URL = strings.TrimRight(strings.TrimSpace(spec.URL), "/")
	if msg := checkUpstreamURL(spec.URL); msg != "" {
		v.add("url", msg)
	}
}

func checkSecret(v *ValidationError, secret string) {
	switch {
	case secret == "":
		v.add("password", "is required")
	case !utf8.ValidString(secret) || len(secret) > 1024:
		v.add("password", "must be valid UTF-8 of at most 1024 bytes")
	}
}

// checkUpstreamURL accepts an absolute http or https URL with a host and no
// credentials, query or fragment; it returns what is wrong, or "".
func checkUpstreamURL(s string) string {
	u, err := url.Parse(s)
	switch {
	case s == "":
		return "is required"
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		return "must be an absolute http:// or https:// URL"
	case u.User != nil || u.RawQuery != "" || u.Fragment != "":
		return "must not hold credentials, a query or a fragment"
	case len(s) > maxTextLen*5:
		return fmt.Sprintf("must be at most %d characters", maxTextLen*5)
	}
	return ""
}
