package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keygate/keygate/internal/testenv"
)

// instance is a keygate started by run on loopback ports.
type instance struct {
	public, admin string
	logs          *testenv.LockedBuffer
	env           []string
}

const testToken = "test-admin-token-0123456789abcdef0123"

func sqliteURL(t testing.TB) string { return "sqlite://" + filepath.Join(t.TempDir(), "keygate.db") }

// start runs `keygate serve` with env until the test ends, and checks that
// it stops cleanly.
func start(t testing.TB, env ...string) *instance {
	t.Helper()
	env = append([]string{"KEYGATE_LISTEN=127.0.0.1:0", "KEYGATE_ADMIN_LISTEN=127.0.0.1:0",
		"KEYGATE_ADMIN_TOKEN=" + testToken}, env...)
	inst := &instance{logs: &testenv.LockedBuffer{}, env: env}
	audit.logs(inst.logs)
	for _, kv := range env {
		if k, v, _ := strings.Cut(kv, "="); strings.Contains(k, "PASSWORD") || strings.Contains(k, "SECRET") || strings.Contains(k, "TOKEN") {
			audit.secret(v)
		}
	}
	ready := make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	ctx = withReady(ctx, func(pub, adm string) { inst.public, inst.admin = "http://"+pub, "http://"+adm; close(ready) })
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"serve"}, env, nil, io.Discard, inst.logs) }()
	select {
	case <-ready:
	case err := <-done:
		t.Fatalf("keygate stopped before it was ready: %v\n%s", err, inst.logs)
	case <-time.After(30 * time.Second):
		t.Fatalf("keygate not ready after 30s\n%s", inst.logs)
	}
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("keygate exited with %v", err)
		}
	})
	return inst
}

// logHas reports whether the instance's log holds s within a few seconds:
// serve writes access lines every logFlushInterval, not at once.
func (k *instance) logHas(s string) bool {
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if strings.Contains(k.logs.String(), s) {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
	}
}

// call sends a request and decodes a JSON answer into a map (or nil).
func call(t testing.TB, method, url, token, body string) (int, map[string]any, http.Header) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, raw := testenv.Do(t, req)
	audit.secretsIn(raw)
	var m map[string]any
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatalf("%s %s: answer is not a JSON object: %q", method, url, raw)
		}
	}
	return resp.StatusCode, m, resp.Header
}

// audit collects every secret the tests hand keygate or receive from it,
// and every log keygate writes, so that TestMain can check at the end that
// no log of any scenario holds one.
var audit secretAudit

type secretAudit struct {
	mu      sync.Mutex
	secrets map[string]bool
	sinks   []*testenv.LockedBuffer
}

func (a *secretAudit) secret(s string) {
	if len(s) < 8 {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.secrets == nil {
		a.secrets = map[string]bool{}
	}
	a.secrets[s] = true
}

func (a *secretAudit) logs(b *testenv.LockedBuffer) {
	a.mu.Lock()
	a.sinks = append(a.sinks, b)
	a.mu.Unlock()
}

// secretsIn records the plaintext keys of create and rotate answers.
func (a *secretAudit) secretsIn(raw []byte) {
	var m struct {
		Key string `json:"key"`
	}
	if json.Unmarshal(raw, &m) == nil && m.Key != "" {
		a.secret(m.Key)
	}
}

// leaks lists the secrets that some log holds.
func (a *secretAudit) leaks() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []string
	for _, sink := range a.sinks {
		text := sink.String()
		for s := range a.secrets {
			if strings.Contains(text, s) {
				out = append(out, s[:min(6, len(s))]+"…")
			}
		}
		for _, h := range []string{"Bearer ", "ApiKey ", `"authorization":`, `"Authorization":`, `"x-api-key":`, `"X-Api-Key":`} {
			if strings.Contains(text, h) {
				out = append(out, "an Authorization or X-API-Key header ("+h+")")
			}
		}
	}
	return out
}

func TestMain(m *testing.M) {
	code := m.Run()
	audit.secret(testToken)
	if leaks := audit.leaks(); len(leaks) > 0 {
		fmt.Fprintf(os.Stderr, "FAIL: keygate logs hold secrets: %v\n", leaks)
		code = 1
	} else if code == 0 && len(audit.sinks) > 0 {
		fmt.Printf("secret audit: %d secrets, %d logs of every scenario: none leaked\n", len(audit.secrets), len(audit.sinks))
	}
	os.Exit(code)
}
