package authz_test

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keygate/keygate/authz"
	"github.com/keygate/keygate/internal/testenv"
	"github.com/keygate/keygate/internal/testenv/storetest"
	"github.com/keygate/keygate/keystore"
	"github.com/keygate/keygate/limiter"
)

var ctx = context.Background()

// newClock returns a settable test clock.
func newClock() *testenv.Clock {
	return testenv.NewClock(time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC))
}

// env is an Authorizer over a real SQLite keystore and a real Memory
// limiter, both on a test clock.
type env struct {
	clock   *testenv.Clock
	store   *keystore.Store
	limiter *limiter.Memory
	auth    *authz.Authorizer
	queries *atomic.Int64
	uses    *usageLog
}

type envOption func(*authz.Config)

func newEnv(t testing.TB, opts ...envOption) *env {
	t.Helper()
	e := &env{clock: newClock(), queries: new(atomic.Int64), uses: &usageLog{}}
	e.store = storetest.Open(t, keystore.Config{
		URL: storetest.SQLiteURL(t), Now: e.clock.Now,
		Compile: authz.Compile, ValidateScope: authz.ValidateScope,
		OnQuery: func() { e.queries.Add(1) },
	})
	e.limiter = limiter.NewMemory(limiter.MemoryConfig{Clock: e.clock.Now, SweepInterval: -1})
	t.Cleanup(e.limiter.Close)
	cfg := authz.Config{
		Keys: e.store, Limiter: e.limiter, FailedAuthLimit: limiter.Limit{Count: 3, Window: time.Minute},
		DefaultLimits: []limiter.Limit{{Count: 100, Window: time.Second}},
		Usage:         e.uses.record, Now: e.clock.Now,
	}
	for _, o := range opts {
		o(&cfg)
	}
	a, err := authz.New(cfg)
	if err != nil {
		t.Fatalf("authz.New: %v", err)
	}
	e.auth = a
	return e
}

// key creates a key and returns its record and plaintext.
func (e *env) key(t testing.TB, spec keystore.Spec) (*keystore.Record, string) {
	t.Helper()
	if spec.Name == "" {
		spec.Name = "test"
	}
	rec, k, err := e.store.Create(ctx, "test", spec)
	if err != nil {
		t.Fatalf("create key: %v", err)
	}
	return rec, k.Reveal()
}

// usageLog collects what Config.Usage is told.
type usageLog struct {
	mu   sync.Mutex
	uses []use
}

type use struct {
	ID      string
	Allowed bool
}

func (u *usageLog) record(id string, allowed bool, _ time.Time) {
	u.mu.Lock()
	u.uses = append(u.uses, use{id, allowed})
	u.mu.Unlock()
}

func (u *usageLog) take() []use {
	u.mu.Lock()
	defer u.mu.Unlock()
	out := u.uses
	u.uses = nil
	return out
}

// answer is what a client sees of a decision.
type answer struct {
	Status int
	Header http.Header
	Body   map[string]any
}

// answerOf writes d as the handler does.
func answerOf(t testing.TB, d authz.Decision) answer {
	t.Helper()
	a := answer{Status: d.Status, Header: http.Header{}}
	d.WriteHeaders(a.Header)
	if d.Status != http.StatusOK {
		a.Body = decodeBody(t, d.Body(""))
	}
	return a
}

func decodeBody(t testing.TB, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("body %q is not a JSON object: %v", b, err)
	}
	return m
}

// errBody is the JSON body of a denial, as decoded into a map.
func errBody(status int, msg string) map[string]any {
	return map[string]any{"error": msg, "code": float64(status)}
}

// hdr builds an http.Header from name, value pairs.
func hdr(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i < len(kv); i += 2 {
		h.Add(kv[i], kv[i+1])
	}
	return h
}
