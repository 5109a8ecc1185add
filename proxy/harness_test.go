package proxy_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/keygate/keygate/authz"
	"github.com/keygate/keygate/httpapi"
	"github.com/keygate/keygate/internal/odootest"
	"github.com/keygate/keygate/keystore"
	"github.com/keygate/keygate/limiter"
	"github.com/keygate/keygate/migrations"
	"github.com/keygate/keygate/odoo"
	"github.com/keygate/keygate/proxy"
)

var ctx = context.Background()

// fixedNow is the doubles' clock, so that two doubles write the same
// write_date.
func fixedNow() time.Time { return time.Date(2026, 11, 28, 9, 0, 43, 0, time.UTC) }

// logBuffer collects every log line of a test, for the secrets checks.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// harness is keygate's gateway in front of an Odoo double, wired as cmd
// wires it: a real SQLite keystore and vault, a real Authorizer over an
// in-memory limiter, the access log and the service's error handler.
type harness struct {
	store   *keystore.Store
	vault   *keystore.Vault
	odoo    *odootest.Server
	odooURL string
	gw      *proxy.Gateway
	url     string
	logs    *logBuffer
	accts   map[string]odoo.Account // by name: default, demo, portal
	credIDs map[string]*string      // credential id of each account
}

// options changes what newHarness builds.
type options struct {
	transport     http.RoundTripper
	timeout       time.Duration
	maxBody       int64
	defaultLimits []limiter.Limit
	odooURL       string // another upstream than the double
	version       string // the double's Odoo version (default 18.0)
	sessions      proxy.SessionStore
}

func newHarness(tb testing.TB, opts options) *harness {
	tb.Helper()
	h := &harness{logs: &logBuffer{}}
	log := slog.New(slog.NewJSONHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	h.odoo, h.odooURL = startDoubleVersion(tb, opts.version)
	if opts.odooURL != "" {
		h.odooURL = opts.odooURL
	}
	h.store = openStore(tb, log)
	sealer, err := keystore.NewSealer(bytes.Repeat([]byte{9}, keystore.SecretKeySize))
	if err != nil {
		tb.Fatal(err)
	}
	h.vault = h.store.Vault(sealer)
	h.addAccounts(tb, opts.version)
	if opts.sessions == nil {
		opts.sessions = h.store.Sessions(keystore.SessionConfig{})
	}
	az := newAuthorizer(tb, h.store, log, opts.defaultLimits)
	h.gw = newGateway(tb, az, h.accounts(tb), log, opts)
	h.url = serveGateway(tb, h.gw, log)
	return h
}

func startDouble(tb testing.TB) (*odootest.Server, string) {
	tb.Helper()
	return startDoubleVersion(tb, "18.0")
}

func startDoubleVersion(tb testing.TB, version string) (*odootest.Server, string) {
	tb.Helper()
	if version == "" {
		version = "18.0"
	}
	s, ts := odootest.NewServer(tb, odootest.Config{Version: version, Now: fixedNow})
	return s, ts.URL
}

func openStore(tb testing.TB, log *slog.Logger) *keystore.Store {
	tb.Helper()
	s, err := keystore.Open(ctx, keystore.Config{
		URL: "sqlite://" + filepath.Join(tb.TempDir(), "keygate.db"), Logger: log,
		ValidateScope: authz.ValidateScope, Compile: authz.Compile,
	})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = s.Close() })
	r, err := migrations.New(s.SQLDB(), s.Dialect())
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := r.Up(ctx); err != nil {
		tb.Fatal(err)
	}
	return s
}

func newAuthorizer(tb testing.TB, store *keystore.Store, log *slog.Logger, limits []limiter.Limit) *authz.Authorizer {
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
func (h *harness) addAccounts(tb testing.TB, version string) {
	tb.Helper()
	h.accts = map[string]odoo.Account{
		"default": {Name: "default", URL: h.odooURL, DB: "odoo_test", Login: "admin", Password: odootest.KeyGlobal},
	}
	h.credIDs = map[string]*string{"default": nil}
	for _, login := range []string{"demo", "portal"} {
		password := login
		if login == "demo" && version == "19.0" {
			password = odootest.KeyDemo // JSON-2 takes API keys only
		}
		if login == "portal" && version == "19.0" {
			continue // no API key on the 19.0 double
		}
		c, err := h.vault.CreateCredential(ctx, "test", keystore.CredentialSpec{Name: login, URL: h.odooURL, DB: "odoo_test", Login: login}, password)
		if err != nil {
			tb.Fatal(err)
		}
		h.credIDs[login] = &c.ID
		h.accts[login] = odoo.Account{Name: "credential:" + c.ID, URL: h.odooURL, DB: "odoo_test", Login: login, Password: odoo.Secret(password)}
	}
}

func (h *harness) accounts(tb testing.TB) *proxy.Accounts {
	tb.Helper()
	def := h.accts["default"]
	a, err := proxy.NewAccounts(proxy.AccountsConfig{Default: &def, Vault: h.vault})
	if err != nil {
		tb.Fatal(err)
	}
	return a
}

func newGateway(tb testing.TB, az proxy.Authorizer, accts proxy.AccountResolver, log *slog.Logger, opts options) *proxy.Gateway {
	tb.Helper()
	gw, err := proxy.New(proxy.Config{Authorizer: az, Accounts: accts, Logger: log,
		Transport: opts.transport, Timeout: opts.timeout, MaxBody: opts.maxBody, Sessions: opts.sessions})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = gw.Close() })
	return gw
}

// newEcho is the public listener's Echo as cmd builds it.
func newEcho(log *slog.Logger) *echo.Echo {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = httpapi.ErrorHandler(log)
	e.Pre(proxy.CanonicalPaths)
	e.Use(middleware.RequestID(), httpapi.AccessLog(log), middleware.Recover())
	return e
}

func serveGateway(tb testing.TB, gw *proxy.Gateway, log *slog.Logger) string {
	tb.Helper()
	e := newEcho(log)
	gw.Register(e.Group(""))
	ts := httptest.NewServer(e)
	tb.Cleanup(ts.Close)
	return ts.URL
}

// key creates a key with scopes for the named service account and
// returns its plaintext.
func (h *harness) key(tb testing.TB, account string, scopes ...string) string {
	tb.Helper()
	_, k, err := h.store.Create(ctx, "test", keystore.Spec{Name: "partner", Owner: "partner-42", Scopes: scopes, CredentialID: h.credIDs[account]})
	if err != nil {
		tb.Fatal(err)
	}
	return k.Reveal()
}

// warm resolves every account's uid, then puts the double back as new,
// so that the calls it sees afterwards are the partners' only.
func (h *harness) warm(tb testing.TB) {
	tb.Helper()
	for name, a := range h.accts {
		if _, err := h.gw.Client().UID(ctx, a); err != nil {
			tb.Fatalf("uid of %s: %v", name, err)
		}
	}
	h.odoo.Reset()
}

// exchange is one HTTP answer.
type exchange struct {
	status int
	header http.Header
	body   []byte
}

func post(tb testing.TB, url, contentType string, body []byte, header ...string) exchange {
	tb.Helper()
	return send(tb, http.MethodPost, url, contentType, body, header...)
}

// send makes one request; header holds name, value pairs.
func send(tb testing.TB, method, url, contentType string, body []byte, header ...string) exchange {
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
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatal(err)
	}
	return exchange{status: resp.StatusCode, header: resp.Header, body: b}
}
