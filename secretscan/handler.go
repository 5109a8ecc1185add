package secretscan

import (
	"context"
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/keygate/keygate/httpapi"
	"github.com/keygate/keygate/keystore"
)

// DefaultKeysURL is GitHub's document of secret-scanning public keys.
const DefaultKeysURL = "https://api.github.com/meta/public_keys/secret_scanning"

// Actor is who the audit log names for revocations made here.
const Actor = "secret-scanning:github"

// Headers GitHub signs its alerts with.
const (
	HeaderKeyIdentifier = "Github-Public-Key-Identifier"
	HeaderKeySignature  = "Github-Public-Key-Signature"
)

// Revoker is what the handler needs of keystore (*keystore.Store).
type Revoker interface {
	RevokeLeaked(ctx context.Context, actor, presented string, details map[string]any) (*keystore.Record, bool, error)
}

// Config configures a Handler. Keys is required; zero values of the rest
// take the documented defaults.
type Config struct {
	Keys Revoker
	// KeysURL is GitHub's keys document (default DefaultKeysURL;
	// KEYGATE_GITHUB_KEYS_URL).
	KeysURL string
	// Client fetches it (default: an http.Client with a 10 s timeout).
	Client *http.Client
	// RefreshInterval is the least time between two fetches of the keys
	// document, whatever identifiers arrive (default 1 minute).
	RefreshInterval time.Duration
	// MaxBody bounds an alert's body (default 4 MiB); larger is 413.
	MaxBody int64
	// Logger (default: discard). Now is the clock (default time.Now).
	Logger *slog.Logger
	Now    func() time.Time
}

// Handler serves POST /secret-scanning/github.
type Handler struct {
	keys    Revoker
	set     *keySet
	maxBody int64
	log     *slog.Logger
	stats   counters
}

// New validates cfg and returns a Handler.
func New(cfg Config) (*Handler, error) {
	if cfg.Keys == nil {
		return nil, errors.New("secretscan: Config.Keys is required")
	}
	if cfg.KeysURL == "" {
		cfg.KeysURL = DefaultKeysURL
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.RefreshInterval <= 0 {
		cfg.RefreshInterval = time.Minute
	}
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = 4 << 20
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	set := &keySet{url: cfg.KeysURL, client: cfg.Client, every: cfg.RefreshInterval, now: cfg.Now, log: cfg.Logger}
	return &Handler{keys: cfg.Keys, set: set, maxBody: cfg.MaxBody, log: cfg.Logger}, nil
}

// Register adds the route to g (mounted at the root of the public
// listener):
//
//	POST /secret-scanning/github   GitHub secret scanning alerts
func (h *Handler) Register(g *echo.Group) {
	g.POST("/secret-scanning/github", h.serve)
}

// serve: read the raw body, verify it, then revoke and answer.
func (h *Handler) serve(c echo.Context) error {
	body, err := h.readBody(c)
	if err != nil {
		return err
	}
	if err := h.verify(c.Request().Context(), c.Request().Header, body); err != nil {
		h.stats.rejected.Add(1)
		return err
	}
	alerts, err := decodeAlerts(body)
	if err != nil {
		h.stats.rejected.Add(1)
		return &httpapi.Error{Status: http.StatusBadRequest, Message: "body must be a JSON array of alerts", Cause: err}
	}
	h.stats.alerts.Add(1)
	results, err := h.process(c.Request().Context(), alerts)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, results)
}

// readBody reads the body whole, as httpapi.Bind does: an alert is a
// stranger's body until its signature verifies, so a full budget of such
// bytes (httpapi.GuardBodies) is 503 with Retry-After, not a bad request.
func (h *Handler) readBody(c echo.Context) ([]byte, error) {
	body, err := io.ReadAll(io.LimitReader(c.Request().Body, h.maxBody+1))
	if errors.Is(err, httpapi.ErrBusy) {
		return nil, httpapi.Busy(c)
	}
	if err != nil {
		return nil, &httpapi.Error{Status: http.StatusBadRequest, Message: "could not read the request body", Cause: err}
	}
	if int64(len(body)) > h.maxBody {
		return nil, httpapi.Errorf(http.StatusRequestEntityTooLarge, "request body is larger than %d bytes", h.maxBody)
	}
	return body, nil
}

// verify checks GitHub's signature over the raw body: 401 when it is
// missing or wrong, 503 when GitHub's keys cannot be fetched.
func (h *Handler) verify(ctx context.Context, hdr http.Header, body []byte) error {
	id, sig64 := hdr.Get(HeaderKeyIdentifier), hdr.Get(HeaderKeySignature)
	if id == "" || sig64 == "" {
		return httpapi.Errorf(http.StatusUnauthorized, "missing %s or %s", HeaderKeyIdentifier, HeaderKeySignature)
	}
	sig, err := base64.StdEncoding.DecodeString(sig64)
	if err != nil {
		return &httpapi.Error{Status: http.StatusUnauthorized, Message: "signature is not base64", Cause: err}
	}
	pub, err := h.set.get(ctx, id)
	switch {
	case errors.Is(err, errKeysUnavailable):
		return &httpapi.Error{Status: http.StatusServiceUnavailable, Message: "GitHub's public keys are unavailable, try again", Cause: err}
	case err != nil:
		return &httpapi.Error{Status: http.StatusUnauthorized, Message: "unknown public key identifier", Cause: err}
	}
	digest := sha256.Sum256(body)
	if !ecdsa.VerifyASN1(pub, digest[:], sig) {
		return httpapi.Errorf(http.StatusUnauthorized, "signature does not match the body")
	}
	return nil
}

// Stats are the handler's counters, for /metrics.
type Stats struct {
	// Alerts are requests whose signature verified; Rejected, those refused
	// (signature or body).
	Alerts, Rejected uint64
	// TruePositives are reported tokens that are keys of this keygate (live
	// or not); FalsePositives the others; Revoked, the keys revoked.
	TruePositives, FalsePositives, Revoked uint64
	// KeyFetches counts attempts to fetch GitHub's keys document.
	KeyFetches uint64
}

type counters struct {
	alerts, rejected, truePos, falsePos, revoked atomic.Uint64
}

// Stats returns the counters now.
func (h *Handler) Stats() Stats {
	return Stats{Alerts: h.stats.alerts.Load(), Rejected: h.stats.rejected.Load(),
		TruePositives: h.stats.truePos.Load(), FalsePositives: h.stats.falsePos.Load(),
		Revoked: h.stats.revoked.Load(), KeyFetches: h.set.fetches.Load()}
}
