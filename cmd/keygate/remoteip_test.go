package main

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/keygate/keygate/httpapi"
)

// TestAccessLogIgnoresForwardedAddress: the access line's remote_ip is the
// connection's peer, whatever X-Forwarded-For or X-Real-Ip a client sends
// (newEcho's IPExtractor; Echo's default would believe either header from
// anyone, and a client could log any address it likes). /auth believes
// forwarded headers only from trusted proxies, in authz.FromHTTP.
func TestAccessLogIgnoresForwardedAddress(t *testing.T) {
	var buf bytes.Buffer
	e := newEcho(slog.New(slog.NewJSONHandler(&buf, nil)), httpapi.ChainConfig{})
	e.GET("/healthz", healthz)
	r := httptest.NewRequest(http.MethodGet, "/healthz", nil)
	r.RemoteAddr = "192.0.2.7:40000"
	r.Header.Set("X-Forwarded-For", "203.0.113.9")
	r.Header.Set("X-Real-Ip", "203.0.113.10")
	w := httptest.NewRecorder()
	e.ServeHTTP(w, r)
	if w.Code != http.StatusOK {
		t.Fatalf("status %d", w.Code)
	}
	line := buf.String()
	if !strings.Contains(line, `"remote_ip":"192.0.2.7"`) || strings.Contains(line, "203.0.113.") {
		t.Errorf("access line %q: want remote_ip 192.0.2.7, the peer, and neither forwarded address", line)
	}
}

// TestHealthzAnswer: /healthz answers c.JSON's bytes and Content-Type, on
// every request, although its Content-Type value is shared between them.
func TestHealthzAnswer(t *testing.T) {
	e := newEcho(slog.New(slog.DiscardHandler), httpapi.ChainConfig{})
	e.GET("/healthz", healthz)
	for i := range 2 {
		w := httptest.NewRecorder()
		e.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/healthz", nil))
		if got := w.Header().Values("Content-Type"); w.Code != http.StatusOK || len(got) != 1 || got[0] != "application/json" || w.Body.String() != "{\"status\":\"ok\"}\n" {
			t.Errorf("request %d: %d, Content-Type %q, body %q", i, w.Code, got, w.Body.String())
		}
		w.Header().Add("Content-Type", "text/plain") // must not reach the next answer
	}
}
