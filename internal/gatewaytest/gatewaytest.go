// Package gatewaytest is keygate's gateway in front of an Odoo double,
// for the black-box tests of proxy and rest (package proxy_test and
// rest_test): wired as cmd wires it, with a real SQLite keystore and
// vault, a real Authorizer over an in-memory limiter and credits, the
// access log and the service's error handler. It imports proxy, so the
// in-package tests of proxy and rest cannot use it (the import would be a
// cycle).
package gatewaytest

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/keygate/keygate/authz"
	"github.com/keygate/keygate/httpapi"
	"github.com/keygate/keygate/internal/odootest"
	"github.com/keygate/keygate/internal/testenv"
	"github.com/keygate/keygate/internal/testenv/storetest"
	"github.com/keygate/keygate/keystore"
	"github.com/keygate/keygate/limiter"
	"github.com/keygate/keygate/odoo"
	"github.com/keygate/keygate/proxy"
)

var ctx = context.Background()

// FixedNow is the doubles' clock, so that two doubles write the same
// write_date.
func FixedNow() time.Time { return time.Date(2026, 11, 28, 9, 0, 43, 0, time.UTC) }

// Harness is the gateway in front of an Odoo double.
type Harness struct {
	Store   *keystore.Store
	Vault   *keystore.Vault
	Odoo    *odootest.Server
	OdooURL string
	Gateway *proxy.Gateway
	URL     string                  // the gateway's test server
	Logs    *testenv.LockedBuffer   // every log line, for the secrets checks
	Accts   map[string]odoo.Account // by name: default, demo, portal
	CredIDs map[string]*string      // credential id of each account
}

// Options changes what New builds.
type Options struct {
	Transport     http.RoundTripper
	Timeout       time.Duration
	MaxBody       int64
	DefaultLimits []limiter.Limit
	OdooURL       string // another upstream than the double
	Version       string // the double's Odoo version (default 18.0)
	Sessions      proxy.SessionStore
}

// New starts a double of opts.Version and serves a gateway in front of it.
func New(tb testing.TB, opts Options) *Harness {
	tb.Helper()
	h := &Harness{Logs: &testenv.LockedBuffer{}}
	log := NewLogger(h.Logs)
	h.Odoo, h.OdooURL = StartDouble(tb, opts.Version)
	if opts.OdooURL != "" {
		h.OdooURL = opts.OdooURL
	}
	h.Store = OpenStore(tb, log)
	sealer, err := keystore.NewSealer(bytes.Repeat([]byte{9}, keystore.SecretKeySize))
	if err != nil {
		tb.Fatal(err)
	}
	h.Vault = h.Store.Vault(sealer)
	h.addAccounts(tb, opts.Version)
	if opts.Sessions == nil {
		opts.Sessions = h.Store.Sessions(keystore.SessionConfig{})
	}
	az := NewAuthorizer(tb, h.Store, log, opts.DefaultLimits)
	h.Gateway = NewGateway(tb, az, h.Accounts(tb), log, opts)
	h.URL = Serve(tb, h.Gateway.Register, log)
	return h
}

// NewLogger logs every level, as JSON, to w.
func NewLogger(w *testenv.LockedBuffer) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// StartDouble starts an Odoo double of version ("": 18.0) and returns it
// with its URL.
func StartDouble(tb testing.TB, version string) (*odootest.Server, string) {
	tb.Helper()
	if version == "" {
		version = "18.0"
	}
	s, ts := odootest.NewServer(tb, odootest.Config{Version: version, Now: FixedNow})
	return s, ts.URL
}

// OpenStore opens a migrated SQLite keystore that validates and compiles
// scopes as authz does.
func OpenStore(tb testing.TB, log *slog.Logger) *keystore.Store {
	tb.Helper()
	return storetest.Open(tb, keystore.Config{URL: storetest.SQLiteURL(tb), Logger: log,
		ValidateScope: authz.ValidateScope, Compile: authz.Compile})
}

// NewAuthorizer is an Authorizer over an in-memory limiter, with credits
// kept in store.
func NewAuthorizer(tb testing.TB, store *keystore.Store, log *slog.Logger, limits []limiter.Limit) *authz.Authorizer {
	tb.Helper()
	lim := limiter.NewMemory(limiter.MemoryConfig{})
	tb.Cleanup(lim.Close)
	// Credits lease one at a time, so that the store's balance is exact.
	credits, err := limiter.NewMemoryCredits(limiter.CreditsConfig{Pool: authz.CreditPool{Store: store}, Lease: 1})
	if err != nil {
		tb.Fatal(err)
	}
	az, err := authz.New(authz.Config{Keys: store, Limiter: lim, DefaultLimits: limits, Logger: log, Credits: credits})
	if err != nil {
		tb.Fatal(err)
	}
	return az
}

// addAccounts makes the three service accounts of the fixtures: the
// default (admin, with the global API key) and two vault credentials,
// demo and portal, logging in with their passwords.
func (h *Harness) addAccounts(tb testing.TB, version string) {
	tb.Helper()
	h.Accts = map[string]odoo.Account{
		"default": {Name: "default", URL: h.OdooURL, DB: "odoo_test", Login: "admin", Password: odootest.KeyGlobal},
	}
	h.CredIDs = map[string]*string{"default": nil}
	for _, login := range []string{"demo", "portal"} {
		password := login
		if login == "demo" && version == "19.0" {
			password = odootest.KeyDemo // JSON-2 takes API keys only
		}
		if login == "portal" && version == "19.0" {
			continue // no API key on the 19.0 double
		}
		c, err := h.Vault.CreateCredential(ctx, "test", keystore.CredentialSpec{Name: login, URL: h.OdooURL, DB: "odoo_test", Login: login}, password)
		if err != nil {
			tb.Fatal(err)
		}
		h.CredIDs[login] = &c.ID
		h.Accts[login] = odoo.Account{Name: "credential:" + c.ID, URL: h.OdooURL, DB: "odoo_test", Login: login, Password: odoo.Secret(password)}
	}
}

// Accounts resolves the harness's default account and its vault's
// credentials.
func (h *Harness) Accounts(tb testing.TB) *proxy.Accounts {
	tb.Helper()
	def := h.Accts["default"]
	a, err := proxy.NewAccounts(proxy.AccountsConfig{Default: &def, Vault: h.Vault})
	if err != nil {
		tb.Fatal(err)
	}
	return a
}

// NewGateway is a gateway with opts, closed when the test ends.
func NewGateway(tb testing.TB, az proxy.Authorizer, accts proxy.AccountResolver, log *slog.Logger, opts Options) *proxy.Gateway {
	tb.Helper()
	gw, err := proxy.New(proxy.Config{Authorizer: az, Accounts: accts, Logger: log,
		Transport: opts.Transport, Timeout: opts.Timeout, MaxBody: opts.MaxBody, Sessions: opts.Sessions})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = gw.Close() })
	return gw
}

// NewEcho is the public listener's Echo as cmd builds it; serve it behind
// proxy.CanonicalPaths, as cmd does.
func NewEcho(log *slog.Logger) *echo.Echo {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = httpapi.ErrorHandler(log)
	e.Use(httpapi.Chain(httpapi.ChainConfig{Log: log}))
	return e
}

// Serve serves the routes that register adds to NewEcho's root group on a
// test server, closed when the test ends, and returns its URL.
func Serve(tb testing.TB, register func(*echo.Group), log *slog.Logger) string {
	tb.Helper()
	e := NewEcho(log)
	register(e.Group(""))
	ts := httptest.NewServer(proxy.CanonicalPaths(e))
	tb.Cleanup(ts.Close)
	return ts.URL
}

// Key creates a key with scopes for the named service account and
// returns its plaintext.
func (h *Harness) Key(tb testing.TB, account string, scopes ...string) string {
	tb.Helper()
	_, k, err := h.Store.Create(ctx, "test", keystore.Spec{Name: "partner", Owner: "partner-42", Scopes: scopes, CredentialID: h.CredIDs[account]})
	if err != nil {
		tb.Fatal(err)
	}
	return k.Reveal()
}

// Balance is the credits balance in the store of the key with id; tb
// fails if the key has no credits.
func (h *Harness) Balance(tb testing.TB, id string) int64 {
	tb.Helper()
	r, err := h.Store.Get(ctx, id)
	if err != nil || r.Credits == nil {
		tb.Fatalf("key: %+v, %v", r, err)
	}
	return r.Credits.Remaining
}

// UnknownKey is a well-formed key that no store knows.
func UnknownKey(tb testing.TB) string {
	tb.Helper()
	k, err := keystore.Generate(keystore.DefaultPrefix)
	if err != nil {
		tb.Fatal(err)
	}
	return k.Reveal()
}

// Warm resolves every account's uid, then puts the double back as new,
// so that the calls it sees afterwards are the partners' only.
func (h *Harness) Warm(tb testing.TB) {
	tb.Helper()
	for name, a := range h.Accts {
		if _, err := h.Gateway.Client().UID(ctx, a); err != nil {
			tb.Fatalf("uid of %s: %v", name, err)
		}
	}
	h.Odoo.Reset()
}

// Direct calls Odoo as the default service account (admin), past
// keygate, and returns the decoded result.
func (h *Harness) Direct(tb testing.TB, model, method string, args []any, kwargs map[string]any) any {
	tb.Helper()
	if kwargs == nil {
		kwargs = map[string]any{}
	}
	raw, err := h.Gateway.Client().ExecuteKW(ctx, h.Accts["default"], model, method, args, kwargs)
	if err != nil {
		tb.Fatalf("%s.%s: %v", model, method, err)
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		tb.Fatalf("%s.%s answered %s: %v", model, method, raw, err)
	}
	return v
}

// Exchange is one HTTP answer.
type Exchange struct {
	Status int
	Header http.Header
	Body   []byte
}

// Post sends body to url; header holds name, value pairs.
func Post(tb testing.TB, url, contentType string, body []byte, header ...string) Exchange {
	tb.Helper()
	return Send(tb, http.MethodPost, url, contentType, body, header...)
}

// Send makes one request; header holds name, value pairs.
func Send(tb testing.TB, method, url, contentType string, body []byte, header ...string) Exchange {
	tb.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, b := testenv.Do(tb, req)
	return Exchange{Status: resp.StatusCode, Header: resp.Header, Body: b}
}
