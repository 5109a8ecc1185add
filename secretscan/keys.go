package secretscan

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Errors of the key set.
var (
	// errUnknownKey: the identifier is not in GitHub's current document.
	errUnknownKey = errors.New("secretscan: unknown GitHub key identifier")
	// errKeysUnavailable: the document could not be fetched (recently).
	errKeysUnavailable = errors.New("secretscan: GitHub's public keys are unavailable")
)

// maxKeysDocument bounds the keys document read from GitHub; fetchTimeout
// bounds its fetch whatever the client's own timeout.
const (
	maxKeysDocument = 1 << 20
	fetchTimeout    = 10 * time.Second
)

// keysDocument is GitHub's document of secret-scanning public keys.
type keysDocument struct {
	PublicKeys []struct {
		KeyIdentifier string `json:"key_identifier"`
		Key           string `json:"key"`
		IsCurrent     bool   `json:"is_current"`
	} `json:"public_keys"`
}

// keySet caches GitHub's public keys by identifier. It fetches the
// document when asked for an identifier it does not hold, at most once per
// every (successful or not), and sends the ETag of the last answer, so an
// unchanged document costs GitHub's rate limit nothing.
type keySet struct {
	url    string
	client *http.Client
	every  time.Duration
	now    func() time.Time
	log    *slog.Logger

	mu      sync.RWMutex
	keys    map[string]*ecdsa.PublicKey
	tried   time.Time // last fetch attempt; zero before the first
	lastErr error     // of that attempt
	etag    string
	// fetches counts attempts, for Stats: atomic, so that /metrics does
	// not wait behind a fetch that holds mu.
	fetches atomic.Uint64
}

// get returns the public key named id.
func (k *keySet) get(ctx context.Context, id string) (*ecdsa.PublicKey, error) {
	k.mu.RLock()
	pub, ok := k.keys[id]
	k.mu.RUnlock()
	if ok {
		return pub, nil
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if pub, ok := k.keys[id]; ok { // another request fetched meanwhile
		return pub, nil
	}
	if !k.tried.IsZero() && k.now().Sub(k.tried) < k.every {
		if k.lastErr != nil {
			return nil, fmt.Errorf("%w: %w", errKeysUnavailable, k.lastErr)
		}
		return nil, errUnknownKey
	}
	k.tried, k.lastErr = k.now(), nil
	k.fetches.Add(1)
	// The fetch outlives the request that asked for it: a caller that hangs
	// up must not leave a failed attempt that blocks the next minute.
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), fetchTimeout)
	defer cancel()
	if err := k.refresh(fctx); err != nil {
		k.lastErr = err
		k.log.Warn("github secret scanning keys unavailable", "url", k.url, "error", err)
		return nil, fmt.Errorf("%w: %w", errKeysUnavailable, err)
	}
	if pub, ok := k.keys[id]; ok {
		return pub, nil
	}
	return nil, errUnknownKey
}

// refresh fetches the document and replaces the cached keys (keys GitHub
// withdrew are forgotten). Called with mu held.
func (k *keySet) refresh(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, k.url, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "keygate")
	if k.etag != "" && k.keys != nil {
		req.Header.Set("If-None-Match", k.etag)
	}
	resp, err := k.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusNotModified:
		return nil
	case http.StatusOK:
	default:
		return fmt.Errorf("GET %s: %s", k.url, resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxKeysDocument+1))
	if err != nil {
		return fmt.Errorf("GET %s: %w", k.url, err)
	}
	if len(body) > maxKeysDocument {
		return fmt.Errorf("GET %s: document larger than %d bytes", k.url, maxKeysDocument)
	}
	keys, err := parseKeys(body)
	if err != nil {
		return fmt.Errorf("GET %s: %w", k.url, err)
	}
	k.keys, k.etag = keys, resp.Header.Get("ETag")
	return nil
}

// parseKeys reads the keys document. An entry whose key is not a PEM
// ECDSA P-256 public key is skipped; a document with no usable key is an
// error, and the cached keys stay.
func parseKeys(body []byte) (map[string]*ecdsa.PublicKey, error) {
	var doc keysDocument
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, fmt.Errorf("keys document: %w", err)
	}
	keys := map[string]*ecdsa.PublicKey{}
	for _, e := range doc.PublicKeys {
		if pub, err := parsePublicKey(e.Key); err == nil && e.KeyIdentifier != "" {
			keys[e.KeyIdentifier] = pub
		}
	}
	if len(keys) == 0 {
		return nil, errors.New("keys document: no ECDSA P-256 public key")
	}
	return keys, nil
}

func parsePublicKey(s string) (*ecdsa.PublicKey, error) {
	block, _ := pem.Decode([]byte(s))
	if block == nil {
		return nil, errors.New("not PEM")
	}
	key, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return nil, err
	}
	pub, ok := key.(*ecdsa.PublicKey)
	if !ok || pub.Curve != elliptic.P256() {
		return nil, errors.New("not an ECDSA P-256 key")
	}
	return pub, nil
}
