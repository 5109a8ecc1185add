package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a log sink that tests can read while keygate writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// instance is a keygate started by run on loopback ports.
type instance struct {
	public, admin string
	logs          *syncBuffer
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
	inst := &instance{logs: &syncBuffer{}, env: env}
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
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatalf("%s %s: answer is not a JSON object: %q", method, url, raw)
		}
	}
	return resp.StatusCode, m, resp.Header
}
