package httpapi_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/labstack/echo/v4"

	"github.com/keygate/keygate/httpapi"
	"github.com/keygate/keygate/internal/testenv"
)

// chained is an Echo with Chain over a Handler writing into a LogWriter
// that holds lines until flushed, and routes that set the access line's
// fields, fail, panic and abort.
func chained(t *testing.T, level slog.Level) (*echo.Echo, *httpapi.LogWriter, *testenv.LockedBuffer, *[]observed) {
	t.Helper()
	out := &testenv.LockedBuffer{}
	lw := httpapi.NewLogWriter(out, time.Hour) // flushed by the test, never by the interval
	t.Cleanup(func() { _ = lw.Close() })
	log := slog.New(httpapi.NewHandler(lw, level))
	var mu sync.Mutex
	var seen []observed
	e := echo.New()
	e.HTTPErrorHandler = httpapi.ErrorHandler(log)
	e.Use(httpapi.Chain(httpapi.ChainConfig{Log: log, Observe: func(route string, status int, elapsed time.Duration) {
		mu.Lock()
		defer mu.Unlock()
		if elapsed < 0 {
			t.Errorf("elapsed %v", elapsed)
		}
		seen = append(seen, observed{route, status})
	}}))
	e.GET("/auth", func(c echo.Context) error {
		httpapi.SetCaller(c, "key-1", "partner \"42\"\n")
		return c.NoContent(http.StatusOK)
	})
	e.GET("/fail", func(c echo.Context) error {
		httpapi.SetDecision(c, "refused")
		return echo.NewHTTPError(http.StatusTeapot, "no")
	})
	e.GET("/panic", func(echo.Context) error { panic("boom") })
	e.GET("/abort", func(echo.Context) error { panic(http.ErrAbortHandler) })
	return e, lw, out, &seen
}

type observed struct {
	route  string
	status int
}

func get(e *echo.Echo, path, requestID string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodGet, path, nil)
	r.RemoteAddr = "192.0.2.7:5000"
	if requestID != "" {
		r.Header.Set(echo.HeaderXRequestID, requestID)
	}
	w := httptest.NewRecorder()
	e.ServeHTTP(w, r)
	return w
}

func lines(t *testing.T, s string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for l := range strings.Lines(s) {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line %q: %v", l, err)
		}
		delete(m, "time")
		delete(m, "latency_ms")
		delete(m, "stack")
		out = append(out, m)
	}
	return out
}

func TestChain(t *testing.T) {
	e, lw, out, seen := chained(t, slog.LevelInfo)
	for i, c := range []struct {
		path, id string
		status   int
	}{{"/auth", "req-1", 200}, {"/fail", "bad id!", 418}, {"/panic", "", 500}, {"/nowhere", "req-4", 404}} {
		w := get(e, c.path, c.id)
		if w.Code != c.status {
			t.Errorf("%s: status %d, want %d", c.path, w.Code, c.status)
		}
		got := w.Header().Get(echo.HeaderXRequestID)
		if c.id == "req-1" || c.id == "req-4" {
			if got != c.id {
				t.Errorf("%s: X-Request-Id %q, want the client's %q", c.path, got, c.id)
			}
		} else if !httpapi.ValidRequestID(got) || len(got) != 32 {
			t.Errorf("%s: X-Request-Id %q, want a new one", c.path, got)
		}
		switch logged := out.String(); {
		case i < 2 && logged != "":
			t.Fatalf("after %s, access lines were written at once: %q", c.path, logged)
		case i >= 2 && !strings.Contains(logged, `"route":"/fail"`):
			t.Fatalf("after %s, the error records did not write the access lines held before them: %q", c.path, logged)
		case i == 3 && strings.Contains(logged, `"route":""`):
			t.Fatalf("the access line after the last error record was written at once: %q", logged)
		}
	}
	// The panic's error record flushed the access lines before it: /auth
	// and /fail are there, in order, then the panic, then the 500.
	if err := lw.Flush(); err != nil {
		t.Fatal(err)
	}
	got := lines(t, out.String())
	want := []map[string]any{
		{"level": "INFO", "msg": "request", "request_id": "req-1", "method": "GET", "route": "/auth", "status": float64(200),
			"remote_ip": "192.0.2.7", "key_id": "key-1", "owner": "partner \"42\"\n"},
		{"level": "INFO", "msg": "request", "request_id": got[1]["request_id"], "method": "GET", "route": "/fail", "status": float64(418), "remote_ip": "192.0.2.7",
			"decision": "refused"},
		{"level": "ERROR", "msg": "panic recovered", "request_id": got[2]["request_id"], "error": "panic: boom"},
		{"level": "ERROR", "msg": "request failed", "request_id": got[2]["request_id"], "status": float64(500), "error": "panic: boom"},
		{"level": "INFO", "msg": "request", "request_id": got[2]["request_id"], "method": "GET", "route": "/panic", "status": float64(500), "remote_ip": "192.0.2.7"},
		{"level": "INFO", "msg": "request", "request_id": "req-4", "method": "GET", "route": "", "status": float64(404), "remote_ip": "192.0.2.7"},
	}
	if len(got) != len(want) {
		t.Fatalf("%d log lines, want %d:\n%s", len(got), len(want), out.String())
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("log (-want +got):\n%s", d)
	}
	if !strings.Contains(out.String(), `"stack":"goroutine `) {
		t.Errorf("the panic was logged without its stack:\n%s", out.String())
	}
	wantSeen := []observed{{"/auth", 200}, {"/fail", 418}, {"/panic", 500}, {"", 404}}
	if d := cmp.Diff(wantSeen, *seen, cmp.AllowUnexported(observed{})); d != "" {
		t.Errorf("observed (-want +got):\n%s", d)
	}
}

func TestChainLetsAbortHandlerThrough(t *testing.T) {
	e, _, _, _ := chained(t, slog.LevelInfo)
	defer func() {
		if r := recover(); r != http.ErrAbortHandler {
			t.Errorf("recovered %v, want http.ErrAbortHandler", r)
		}
	}()
	get(e, "/abort", "")
	t.Error("the abort did not reach the caller")
}

func TestChainAtWarnWritesNoAccessLine(t *testing.T) {
	e, lw, out, seen := chained(t, slog.LevelWarn)
	get(e, "/auth", "")
	if err := lw.Flush(); err != nil {
		t.Fatal(err)
	}
	if got := out.String(); got != "" {
		t.Errorf("at warn the log got %q", got)
	}
	if len(*seen) != 1 {
		t.Errorf("observed %d requests, want 1", len(*seen))
	}
}

// TestAccessLineIsSlogs holds the hand-encoded access line equal, byte for
// byte, to what slog's JSONHandler writes for the same request, over
// random values that need every escape (through a logger with an
// attribute of its own, AccessLog takes slog's path).
func TestAccessLineIsSlogs(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []string{"a", "Z", "0", "/", "\"", "\\", "\n", "\r", "\t", "\x00", "\x1f", "\x7f", "<", "&", "é", "\u2028", "\u2029", "\xff", "\xc3", "😀", " "}
	str := func() string {
		var b strings.Builder
		for range rng.IntN(12) {
			b.WriteString(alphabet[rng.IntN(len(alphabet))])
		}
		return b.String()
	}
	zones := []*time.Location{time.UTC, time.FixedZone("", -(4*3600 + 30*60)), time.FixedZone("", 14*3600)}
	for i := range 2000 {
		l := httpapi.AccessLineForTest{
			Time:      time.Unix(rng.Int64N(4e9), rng.Int64N(1e9)).In(zones[rng.IntN(len(zones))]),
			RequestID: str(), Method: str(), Route: str(), Status: rng.IntN(600),
			Latency:  time.Duration(rng.Int64N(int64(10 * time.Second))),
			RemoteIP: str(), KeyID: str(), Owner: str(), Decision: str(),
		}
		if i%7 == 0 {
			l.Latency = time.Duration(rng.IntN(1000)) // under a microsecond: 0
		}
		if got, want := l.Hand(), l.Slog(); got != want {
			t.Fatalf("case %d: hand-encoded\n%q\nslog\n%q", i, got, want)
		}
	}
}

func FuzzAccessLine(f *testing.F) {
	f.Add("req", "GET", "/auth", 200, int64(1234567), "127.0.0.1", "k", "o\n", "allow\u2028")
	f.Fuzz(func(t *testing.T, id, method, route string, status int, latency int64, ip, key, owner, decision string) {
		if latency < 0 {
			latency = -latency
		}
		l := httpapi.AccessLineForTest{Time: time.Unix(1700000000, 123456789).UTC(), RequestID: id, Method: method,
			Route: route, Status: status, Latency: time.Duration(latency), RemoteIP: ip, KeyID: key, Owner: owner, Decision: decision}
		got, want := l.Hand(), l.Slog()
		if got != want {
			t.Fatalf("hand-encoded\n%q\nslog\n%q", got, want)
		}
		if !json.Valid([]byte(got)) {
			t.Fatalf("not JSON: %q", got)
		}
	})
}

func TestLogWriter(t *testing.T) {
	out := &testenv.LockedBuffer{}
	lw := httpapi.NewLogWriter(out, time.Hour)
	var wg sync.WaitGroup
	const writers, each = 8, 2000
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				line := strings.Repeat(string(rune('a'+w)), 1+i%200) + "\n"
				if i%500 == 0 {
					line = strings.Repeat("x", 70<<10) + "\n" // larger than the buffer
				}
				if _, err := lw.Write([]byte(line)); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if err := lw.Close(); err != nil {
		t.Fatal(err)
	}
	n := 0
	for l := range strings.Lines(out.String()) {
		n++
		body := strings.TrimSuffix(l, "\n")
		if body == "" || strings.Trim(body, body[:1]) != "" {
			t.Fatalf("line %d is not one writer's whole line: %.40q", n, l)
		}
	}
	if n != writers*each {
		t.Errorf("%d lines, want %d", n, writers*each)
	}
}

func TestLogWriterWritesEveryInterval(t *testing.T) {
	out := &testenv.LockedBuffer{}
	lw := httpapi.NewLogWriter(out, time.Millisecond)
	defer lw.Close()
	if _, err := lw.Write([]byte("line\n")); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); out.String() == ""; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the line was never written")
		}
	}
	if got := out.String(); got != "line\n" {
		t.Errorf("wrote %q", got)
	}
}

func TestLogWriterWithoutInterval(t *testing.T) {
	out := &testenv.LockedBuffer{}
	lw := httpapi.NewLogWriter(out, 0)
	if _, err := lw.Write([]byte("now\n")); err != nil {
		t.Fatal(err)
	}
	if got := out.String(); got != "now\n" {
		t.Errorf("wrote %q, want the line at once", got)
	}
	if err := lw.Close(); err != nil {
		t.Fatal(err)
	}
}

// errWriter fails every write.
type errWriter struct{}

func (errWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestLogWriterReportsWriteErrors(t *testing.T) {
	lw := httpapi.NewLogWriter(errWriter{}, time.Hour)
	if _, err := lw.Write([]byte("a\n")); err != nil {
		t.Fatal(err) // buffered
	}
	if err := lw.Close(); err == nil || err.Error() != "disk full" {
		t.Errorf("Close: %v, want the write's error", err)
	}
}

// TestChainKeepsTheWritersFeatures: behind Chain, a handler still reaches
// the connection's writer through http.ResponseController (the body
// guard's read deadline, flushing), on a real server.
func TestChainKeepsTheWritersFeatures(t *testing.T) {
	e := echo.New()
	e.Use(httpapi.Chain(httpapi.ChainConfig{}))
	e.GET("/", func(c echo.Context) error {
		rc := http.NewResponseController(c.Response())
		if err := rc.SetReadDeadline(time.Now().Add(time.Minute)); err != nil {
			return err
		}
		c.Response().WriteHeader(http.StatusOK)
		if err := rc.Flush(); err != nil {
			return err
		}
		_, err := c.Response().Write([]byte("ok"))
		return err
	})
	srv := httptest.NewServer(e)
	defer srv.Close()
	res, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var body bytes.Buffer
	_, _ = body.ReadFrom(res.Body)
	if res.StatusCode != http.StatusOK || body.String() != "ok" {
		t.Errorf("got %d %q, want 200 ok", res.StatusCode, body.String())
	}
}

// TestAccessLineCutsLongMethod: a method of 64 KiB, which net/http takes,
// is logged cut to MaxLoggedMethodLen; an ordinary one whole.
func TestAccessLineCutsLongMethod(t *testing.T) {
	e, lw, out, _ := chained(t, slog.LevelInfo)
	long := strings.Repeat("X", 64<<10)
	for _, m := range []string{"PROPFIND", long} {
		e.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(m, "/auth", nil))
	}
	if err := lw.Flush(); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		var l struct{ Method string }
		if err := json.Unmarshal([]byte(line), &l); err != nil {
			t.Fatalf("%v: %.200q", err, line)
		}
		got = append(got, l.Method)
		if len(line) > 1024 {
			t.Errorf("access line of %d bytes", len(line))
		}
	}
	if diff := cmp.Diff([]string{"PROPFIND", long[:httpapi.MaxLoggedMethodLen]}, got); diff != "" {
		t.Errorf("methods (-want +got):\n%s", diff)
	}
}
