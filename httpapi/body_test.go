package httpapi

import (
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/labstack/echo/v4"
)

// guarded is an echo with GuardBodies over budget, whose POST / reads the
// body (after marking the request authenticated when auth is set) and
// reports the budget's use at the end of the read.
func guarded(budget *Budget, auth bool, usedAfterRead *int64) *echo.Echo {
	e := echo.New()
	e.HTTPErrorHandler = ErrorHandler(slog.New(slog.DiscardHandler))
	e.Use(GuardBodies(BodyConfig{Budget: budget, Grace: testGrace}))
	e.POST("/", func(c echo.Context) error {
		if auth {
			Authenticated(c.Request())
		}
		var v map[string]any
		err := Bind(c, &v, 1<<20)
		*usedAfterRead = budget.Used()
		if err != nil {
			return err
		}
		return c.NoContent(http.StatusOK)
	})
	return e
}

// testGrace: the first 100 bytes of each body are not charged.
const testGrace = 100

func TestGuardBodies(t *testing.T) {
	large := `{"a":"` + strings.Repeat("x", 1000) + `"}`
	small := `{"a":"x"}`
	for _, tc := range []struct {
		name                string
		budget, heldByOther int64
		body                string
		auth                bool
		status              int
		usedAfterRead       int64 // by this request, at the end of its read
	}{
		{"a_body_within_the_budget_is_charged_past_its_grace_while_read_then_credited", 4096, 0, large, false, 200, int64(len(large)) - testGrace},
		{"a_body_over_the_budget_is_503_once_the_budget_is_spent_then_credited", 512, 0, large, false, 503, 512 - testGrace},
		{"an_authenticated_body_is_never_charged", 512, 0, large, true, 200, 0},
		{"a_body_within_its_grace_is_read_even_when_the_budget_is_spent", 512, 512, small, false, 200, 0},
		{"a_body_past_its_grace_is_503_when_the_budget_is_spent", 512, 512, large, false, 503, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := NewBudget(tc.budget)
			b.take(tc.heldByOther)
			var usedAfterRead int64
			e := guarded(b, tc.auth, &usedAfterRead)
			req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(tc.body))
			req.Header.Set(echo.HeaderContentType, echo.MIMEApplicationJSON)
			rec := httptest.NewRecorder()
			e.ServeHTTP(rec, req)
			got := []any{rec.Code, usedAfterRead - tc.heldByOther, b.Used() - tc.heldByOther}
			if diff := cmp.Diff([]any{tc.status, tc.usedAfterRead, int64(0)}, got); diff != "" {
				t.Fatalf("status, charged at the end of the read, charged after the request (-want +got):\n%s", diff)
			}
			if tc.status == 503 && rec.Header().Get("Retry-After") != BusyRetryAfter {
				t.Fatalf("503 without Retry-After: %v", rec.Header())
			}
		})
	}
}

// TestBudgetIsShared: bytes held by one request count against another.
func TestBudgetIsShared(t *testing.T) {
	b := NewBudget(100)
	first := &pendingBody{ReadCloser: io.NopCloser(strings.NewReader(strings.Repeat("a", 80))), budget: b}
	if _, err := io.ReadAll(first); err != nil {
		t.Fatal(err)
	}
	second := &pendingBody{ReadCloser: io.NopCloser(strings.NewReader(strings.Repeat("b", 30))), budget: b}
	if _, err := io.ReadAll(second); !errors.Is(err, ErrBusy) {
		t.Fatalf("second body: %v, want ErrBusy", err)
	}
	first.release()
	second = &pendingBody{ReadCloser: io.NopCloser(strings.NewReader(strings.Repeat("b", 30))), budget: b}
	if _, err := io.ReadAll(second); err != nil {
		t.Fatalf("after the first was released: %v", err)
	}
}

// TestBusyBodyStaysBusy: after the budget refused a read, the body never
// reads on, even once the budget has room again: the refused bytes are
// gone, and a reader that retried would see a body with a hole in it.
func TestBusyBodyStaysBusy(t *testing.T) {
	b := NewBudget(100)
	p := &pendingBody{ReadCloser: io.NopCloser(strings.NewReader(strings.Repeat("a", 150))), budget: b}
	if _, err := p.Read(make([]byte, 120)); !errors.Is(err, ErrBusy) {
		t.Fatalf("read of 120 bytes over a budget of 100: %v, want ErrBusy", err)
	}
	if n, err := p.Read(make([]byte, 10)); n != 0 || !errors.Is(err, ErrBusy) {
		t.Fatalf("read after ErrBusy: %d bytes, %v; want 0, ErrBusy", n, err)
	}
}

// TestBodyOfUnknownLengthIsGuarded: a chunked body (no Content-Length)
// is charged like any other.
func TestBodyOfUnknownLengthIsGuarded(t *testing.T) {
	b := NewBudget(512)
	var usedAfterRead int64
	e := guarded(b, false, &usedAfterRead)
	req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(`{"a":"`+strings.Repeat("x", 1000)+`"}`))
	req.ContentLength = -1
	req.Header.Set(echo.HeaderContentType, echo.MIMEApplicationJSON)
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	if diff := cmp.Diff([]any{503, int64(512 - testGrace), int64(0)}, []any{rec.Code, usedAfterRead, b.Used()}); diff != "" {
		t.Fatalf("status, charged at the end of the read, charged after the request (-want +got):\n%s", diff)
	}
}

func TestReadTime(t *testing.T) {
	cfg := BodyConfig{ReadTimeout: 330 * time.Second, MaxBody: 10 << 20, MinReadTime: 10 * time.Second}
	got := []time.Duration{cfg.readTime(0), cfg.readTime(5 << 20), cfg.readTime(10 << 20), cfg.readTime(20 << 20), cfg.readTime(-1)}
	want := []time.Duration{10 * time.Second, 175 * time.Second, 340 * time.Second, 340 * time.Second, 340 * time.Second}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("read time of 0, 5 MiB, 10 MiB, 20 MiB, unknown (-want +got):\n%s", diff)
	}
}

// TestSlowBodyIsCutAtItsDeadline: over a real connection, a body that
// stops coming is cut at its deadline (here MinReadTime, shrunk), and the
// handler sees a read error instead of waiting for ever.
func TestSlowBodyIsCutAtItsDeadline(t *testing.T) {
	e := echo.New()
	e.Use(GuardBodies(BodyConfig{ReadTimeout: time.Millisecond, MaxBody: 1 << 20, MinReadTime: 50 * time.Millisecond}))
	readErr := make(chan error, 1)
	e.POST("/", func(c echo.Context) error {
		_, err := io.ReadAll(c.Request().Body)
		readErr <- err
		return c.NoContent(http.StatusBadRequest)
	})
	srv := httptest.NewServer(e)
	defer srv.Close()
	c, err := net.Dial("tcp", strings.TrimPrefix(srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n{")
	select {
	case err := <-readErr:
		var ne net.Error
		if !errors.As(err, &ne) || !ne.Timeout() {
			t.Fatalf("read error %v, want a timeout", err)
		}
	case <-time.After(30 * time.Second): // a bound on a hang, not a timed assert
		t.Fatal("the slow body was never cut")
	}
}
