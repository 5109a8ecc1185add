package httpapi_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/keygate/keygate/httpapi"
)

// deep calls itself n times with a frame of about 256 bytes each, as a
// handler's call chain does, and answers 204 at the bottom.
//
//go:noinline
func deep(w http.ResponseWriter, n int) int {
	var frame [32]int
	frame[n%32] = n
	if n == 0 {
		w.WriteHeader(http.StatusNoContent)
		return frame[0]
	}
	return deep(w, n-1) + frame[(n+1)%32]
}

// BenchmarkReserveStack serves a handler 20 frames deep (about 5 KiB of
// stack) on a new goroutine each time, as net/http serves a new
// connection's first request: with and without ReserveStack.
func BenchmarkReserveStack(b *testing.B) {
	h := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { deep(w, 20) })
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	for _, tc := range []struct {
		name string
		h    http.Handler
	}{{"direct", h}, {"reserved", httpapi.ReserveStack(h)}} {
		b.Run(tc.name, func(b *testing.B) {
			done := make(chan int)
			for b.Loop() {
				go func() {
					w := httptest.NewRecorder()
					tc.h.ServeHTTP(w, r)
					done <- w.Code
				}()
				if code := <-done; code != http.StatusNoContent {
					b.Fatalf("status %d", code)
				}
			}
		})
	}
}

// TestReserveStack: the handler is served, with its request and writer.
func TestReserveStack(t *testing.T) {
	var got *http.Request
	h := httpapi.ReserveStack(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r
		w.WriteHeader(http.StatusTeapot)
	}))
	r := httptest.NewRequest(http.MethodGet, "/x", nil)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if got != r || w.Code != http.StatusTeapot {
		t.Fatalf("served %v with %d, want the request and 418", got, w.Code)
	}
}
