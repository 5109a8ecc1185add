package secretscan_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/keygate/keygate/httpapi"
	"github.com/keygate/keygate/internal/testenv"
	"github.com/keygate/keygate/internal/testenv/storetest"
	"github.com/keygate/keygate/keystore"
	"github.com/keygate/keygate/secretscan"
)

// signer is one of GitHub's signing keys, as the keys document names it.
type signer struct {
	id   string
	priv *ecdsa.PrivateKey
	pem  string
}

func newSigner(tb testing.TB, id string) *signer {
	tb.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&priv.PublicKey)
	if err != nil {
		tb.Fatal(err)
	}
	return &signer{id: id, priv: priv, pem: string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))}
}

func (s *signer) sign(tb testing.TB, body []byte) string {
	tb.Helper()
	d := sha256.Sum256(body)
	sig, err := ecdsa.SignASN1(rand.Reader, s.priv, d[:])
	if err != nil {
		tb.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(sig)
}

// github serves the keys document in GitHub's shape, with an ETag, and
// counts the requests.
type github struct {
	mu       sync.Mutex
	signers  []*signer
	requests int
	down     bool
	url      string
}

func newGitHub(tb testing.TB, signers ...*signer) *github {
	tb.Helper()
	g := &github{signers: signers}
	srv := httptest.NewServer(http.HandlerFunc(g.serve))
	tb.Cleanup(srv.Close)
	g.url = srv.URL + "/meta/public_keys/secret_scanning"
	return g
}

func (g *github) serve(w http.ResponseWriter, r *http.Request) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.requests++
	if g.down {
		http.Error(w, "unavailable", http.StatusServiceUnavailable)
		return
	}
	type entry struct {
		KeyIdentifier string `json:"key_identifier"`
		Key           string `json:"key"`
		IsCurrent     bool   `json:"is_current"`
	}
	doc := struct {
		PublicKeys []entry `json:"public_keys"`
	}{PublicKeys: []entry{}}
	var ids []string
	for i, s := range g.signers {
		doc.PublicKeys = append(doc.PublicKeys, entry{s.id, s.pem, i == len(g.signers)-1})
		ids = append(ids, s.id)
	}
	etag := `"` + strings.Join(ids, ",") + `"`
	if r.Header.Get("If-None-Match") == etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Header().Set("ETag", etag)
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(doc)
}

func (g *github) count() int        { g.mu.Lock(); defer g.mu.Unlock(); return g.requests }
func (g *github) setDown(d bool)    { g.mu.Lock(); g.down = d; g.mu.Unlock() }
func (g *github) add(s *signer)     { g.mu.Lock(); g.signers = append(g.signers, s); g.mu.Unlock() }
func (g *github) replace(s *signer) { g.mu.Lock(); g.signers = []*signer{s}; g.mu.Unlock() }

// env is a keystore, a fake GitHub and the handler under test.
type env struct {
	store   *keystore.Store
	gh      *github
	signer  *signer
	clock   *testenv.Clock
	handler *secretscan.Handler
	url     string
	logs    *bytes.Buffer
	echo    *echo.Echo
}

func newEnv(tb testing.TB) *env {
	tb.Helper()
	s := storetest.SQLite(tb)
	e := &env{store: s, signer: newSigner(tb, "90a421169f0a406205f1563a953312f0be898d3c7b6c06b681aa86a874555f4a"),
		clock: testenv.NewClock(time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)), logs: &bytes.Buffer{}}
	e.gh = newGitHub(tb, e.signer)
	var err error
	e.handler, err = secretscan.New(secretscan.Config{Keys: s, KeysURL: e.gh.url, Now: e.clock.Now,
		Logger: slog.New(slog.NewJSONHandler(e.logs, nil)), MaxBody: 64 << 10})
	if err != nil {
		tb.Fatal(err)
	}
	ech := echo.New()
	ech.HTTPErrorHandler = httpapi.ErrorHandler(slog.New(slog.DiscardHandler))
	e.handler.Register(ech.Group(""))
	e.echo = ech
	srv := httptest.NewServer(ech)
	tb.Cleanup(srv.Close)
	e.url = srv.URL + "/secret-scanning/github"
	return e
}

// key creates a key and returns its id and plaintext.
func (e *env) key(tb testing.TB, name string) (string, string) {
	tb.Helper()
	rec, k, err := e.store.Create(context.Background(), "test", keystore.Spec{Name: name, Owner: "partner-42"})
	if err != nil {
		tb.Fatal(err)
	}
	return rec.ID, k.Reveal()
}

// post sends body with the given identifier and signature headers.
func (e *env) post(tb testing.TB, body, id, sig string) (int, string) {
	tb.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if id != "" {
		req.Header.Set(secretscan.HeaderKeyIdentifier, id)
	}
	if sig != "" {
		req.Header.Set(secretscan.HeaderKeySignature, sig)
	}
	resp, b := testenv.Do(tb, req)
	return resp.StatusCode, string(b)
}

// signed posts body signed by s.
func (e *env) signed(tb testing.TB, s *signer, body string) (int, string) {
	tb.Helper()
	return e.post(tb, body, s.id, s.sign(tb, []byte(body)))
}

func alerts(tb testing.TB, tokens ...string) string {
	tb.Helper()
	var a []secretscan.Alert
	for _, t := range tokens {
		a = append(a, secretscan.Alert{Token: t, Type: "keygate_api_key", URL: "https://github.com/octocat/hello/blob/abc/.env", Source: "content"})
	}
	b, err := json.Marshal(a)
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}

func tokenHash(token string) string {
	h := keystore.HashString(token)
	return h.Hex()
}

func (e *env) status(tb testing.TB, id string) keystore.Status {
	tb.Helper()
	rec, err := e.store.Get(context.Background(), id)
	if err != nil {
		tb.Fatal(err)
	}
	return rec.Status
}
