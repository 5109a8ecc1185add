package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// These tests run for real time on loopback: hit measures time and
// sockets, which testing/synctest does not fake. They check counts, never
// latencies.

// countingServer answers 200 to requests that carry the key, 401 to
// others, and counts both.
type countingServer struct {
	*httptest.Server
	ok, bad atomic.Int64
}

func newCountingServer(t testing.TB, h func(w http.ResponseWriter)) *countingServer {
	t.Helper()
	s := &countingServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer test" || r.URL.Path != "/auth" {
			s.bad.Add(1)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		s.ok.Add(1)
		if h != nil {
			h(w)
		}
	}))
	t.Cleanup(s.Close)
	return s
}

// hitLine runs the hit command and returns the fields of its report.
func hitLine(t testing.TB, args ...string) map[string]string {
	t.Helper()
	var out bytes.Buffer
	if err := run(context.Background(), append([]string{"hit"}, args...), &out); err != nil {
		t.Fatalf("hit %v: %v", args, err)
	}
	line, _, _ := strings.Cut(out.String(), "\n")
	fields := map[string]string{}
	var names []string
	for _, f := range strings.Fields(line) {
		name, value, _ := strings.Cut(f, "=")
		fields[name] = value
		names = append(names, name)
	}
	// scripts/load/run.sh reads the first three.
	if len(names) < 3 || !cmp.Equal(names[:3], []string{"rps", "p50_ms", "p99_ms"}) {
		t.Fatalf("hit printed %q, want rps= p50_ms= p99_ms= first", out.String())
	}
	return fields
}

func intField(t testing.TB, fields map[string]string, name string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(fields[name], 10, 64)
	if err != nil {
		t.Fatalf("%s=%q: %v", name, fields[name], err)
	}
	return n
}

func TestOpenLoopSendsTheRate(t *testing.T) {
	s := newCountingServer(t, nil)
	fields := hitLine(t, "-url", s.URL+"/auth", "-header", "Authorization: Bearer test",
		"-c", "4", "-d", "1s", "-rate", "200")
	requests := intField(t, fields, "requests")
	if requests < 160 || requests > 240 {
		t.Errorf("requests=%d in 1 s at 200/s, want 200 ± 20 %%", requests)
	}
	got := map[string]int64{
		"errors": intField(t, fields, "errors"), "non200": intField(t, fields, "non200"),
		"server ok": s.ok.Load(), "server without the header": s.bad.Load(),
	}
	want := map[string]int64{"errors": 0, "non200": 0, "server ok": requests, "server without the header": 0}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	for _, name := range []string{"p90_ms", "p999_ms", "max_ms", "late_p99_ms", "cpu_us_per_req"} {
		if _, ok := fields[name]; !ok {
			t.Errorf("no %s= in the report", name)
		}
	}
}

func TestClosedLoopCountsStatuses(t *testing.T) {
	s := newCountingServer(t, nil)
	fields := hitLine(t, "-url", s.URL+"/auth", "-header", "Authorization: Bearer wrong", "-c", "2", "-d", "200ms")
	requests := intField(t, fields, "requests")
	got := map[string]int64{"errors": intField(t, fields, "errors"), "non200": intField(t, fields, "non200"), "server": s.bad.Load()}
	want := map[string]int64{"errors": 0, "non200": requests, "server": requests}
	if diff := cmp.Diff(want, got); diff != "" || requests == 0 {
		t.Errorf("%d requests (-want +got):\n%s", requests, diff)
	}
}

func TestConnectionCloseReconnects(t *testing.T) {
	s := newCountingServer(t, func(w http.ResponseWriter) { w.Header().Set("Connection", "close") })
	fields := hitLine(t, "-url", s.URL+"/auth", "-header", "Authorization: Bearer test", "-c", "2", "-d", "300ms", "-rate", "100")
	requests := intField(t, fields, "requests")
	if requests < 20 || intField(t, fields, "errors") != 0 || s.ok.Load() != requests {
		t.Errorf("hit: %v; the server answered %d", fields, s.ok.Load())
	}
}

func TestChunkedAnswersStopTheRun(t *testing.T) {
	s := newCountingServer(t, func(w http.ResponseWriter) {
		io.WriteString(w, "part")
		w.(http.Flusher).Flush()
	})
	args := []string{"hit", "-url", s.URL + "/auth", "-header", "Authorization: Bearer test", "-c", "2", "-d", "5s", "-rate", "100"}
	start := time.Now()
	err := run(context.Background(), args, io.Discard)
	if !errors.Is(err, errUnsupported) || !strings.Contains(err.Error(), "chunked") {
		t.Errorf("hit against a chunked answer: %v, want errUnsupported naming chunked", err)
	}
	if time.Since(start) > 4*time.Second {
		t.Errorf("the run went on after the first chunked answer")
	}
}

func TestBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"-url", "http://example.com/auth"},
		{"-url", "https://127.0.0.1/auth"},
		{"-url", "http://127.0.0.1/auth", "-header", "Bad Name: x"},
		{"-url", "http://127.0.0.1/auth", "-header", "X: a\r\nInjected: b"},
		{"-url", "http://127.0.0.1/auth", "-c", "0"},
		{"-url", "http://127.0.0.1/auth", "-rate", "-1"},
	} {
		if _, err := parseHit(args); err == nil {
			t.Errorf("parseHit(%q): no error", args)
		}
	}
}

func TestRequestIsSerializedOnce(t *testing.T) {
	l, err := parseHit([]string{"-url", "http://localhost:8080/auth?x=1", "-header", " Authorization :  Bearer k "})
	if err != nil {
		t.Fatal(err)
	}
	want := "GET /auth?x=1 HTTP/1.1\r\nHost: localhost:8080\r\nAuthorization: Bearer k\r\n\r\n"
	if diff := cmp.Diff(want, string(l.req)); diff != "" || l.addr != "localhost:8080" {
		t.Errorf("addr %q, request (-want +got):\n%s", l.addr, diff)
	}
}

// TestRequestDoesNotAllocate sends requests as the open loop does,
// sleep included, to a server that allocates nothing either.
func TestRequestDoesNotAllocate(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go cannedServer(ln, []byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"))
	l, err := parseHit([]string{"-url", fmt.Sprintf("http://%s/auth", ln.Addr()), "-c", "1"})
	if err != nil {
		t.Fatal(err)
	}
	var stopped atomic.Bool
	w, err := l.newWorker(&stopped)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.close)
	w.setDeadline(time.Now().Add(time.Minute))
	allocs := testing.AllocsPerRun(200, func() {
		if err := w.alarm.sleep(10 * time.Microsecond); err != nil {
			t.Fatal(err)
		}
		if err := w.do(time.Now()); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 || w.errors != 0 {
		t.Errorf("%v allocations per request, %d errors (first %v), want none", allocs, w.errors, w.err)
	}
}

// cannedServer answers every request on its one connection with answer.
func cannedServer(ln net.Listener, answer []byte) {
	c, err := ln.Accept()
	if err != nil {
		return
	}
	defer c.Close()
	r := bufio.NewReader(c)
	for {
		line, err := r.ReadSlice('\n')
		if err != nil {
			return
		}
		if len(bytes.TrimSpace(line)) == 0 {
			if _, err := c.Write(answer); err != nil {
				return
			}
		}
	}
}
