package testenv

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestFreePortCanBeListenedOn(t *testing.T) {
	for name, addr := range map[string]string{
		"FreePort": net.JoinHostPort("127.0.0.1", strconv.Itoa(FreePort(t))),
		"FreeAddr": FreeAddr(t),
	} {
		l, err := net.Listen("tcp", addr)
		if err != nil {
			t.Fatalf("%s: listen on %s: %v", name, addr, err)
		}
		l.Close()
	}
}

func TestClockMovesOnlyWhenTold(t *testing.T) {
	start := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	c := NewClock(start)
	if got := c.Now(); !got.Equal(start) {
		t.Fatalf("Now = %v, want %v", got, start)
	}
	c.Add(90 * time.Second)
	c.Add(-30 * time.Second)
	if got, want := c.Now(), start.Add(time.Minute); !got.Equal(want) {
		t.Fatalf("after Add: Now = %v, want %v", got, want)
	}
	later := start.Add(48 * time.Hour)
	c.Set(later)
	if got := c.Now(); !got.Equal(later) {
		t.Fatalf("after Set: Now = %v, want %v", got, later)
	}
}

// Concurrent Adds all count (and -race finds no race).
func TestClockConcurrentAdd(t *testing.T) {
	start := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	c := NewClock(start)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				c.Add(time.Millisecond)
				_ = c.Now()
			}
		})
	}
	wg.Wait()
	if got, want := c.Now(), start.Add(800*time.Millisecond); !got.Equal(want) {
		t.Fatalf("Now = %v, want %v", got, want)
	}
}

// Concurrent Writes all land whole (and -race finds no race).
func TestLockedBufferConcurrentWrites(t *testing.T) {
	var b LockedBuffer
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for range 100 {
				fmt.Fprintf(&b, "%d\n", i)
				_ = b.String()
			}
		})
	}
	wg.Wait()
	counts := map[string]int{}
	for _, line := range strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n") {
		counts[line]++
	}
	for i := range 8 {
		if got := counts[strconv.Itoa(i)]; got != 100 {
			t.Errorf("line %d written %d times, want 100 (lines: %v)", i, got, counts)
		}
	}
	if got, want := string(b.Bytes()), b.String(); got != want {
		t.Errorf("Bytes = %q, String = %q", got, want)
	}
}

func TestDoReturnsTheWholeBody(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Method", r.Method)
		w.WriteHeader(http.StatusTeapot)
		_, _ = io.WriteString(w, strings.Repeat("x", 100_000))
	}))
	t.Cleanup(srv.Close)
	req, err := http.NewRequest(http.MethodPost, srv.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, body := Do(t, req)
	if res.StatusCode != http.StatusTeapot || res.Header.Get("X-Method") != "POST" || string(body) != strings.Repeat("x", 100_000) {
		t.Fatalf("Do = %d %v, %d bytes", res.StatusCode, res.Header, len(body))
	}
}

func TestRecorderResetForgetsTheLastResponse(t *testing.T) {
	w := NewRecorder()
	h := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("X-A", "1")
		w.WriteHeader(http.StatusCreated)
		_, _ = io.WriteString(w, "body")
	})
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/", nil))
	if w.Code != http.StatusCreated || w.Header().Get("X-A") != "1" {
		t.Fatalf("after a response: %d %v", w.Code, w.Header())
	}
	w.Reset()
	if w.Code != 0 || len(w.Header()) != 0 {
		t.Fatalf("after Reset: %d %v", w.Code, w.Header())
	}
}
