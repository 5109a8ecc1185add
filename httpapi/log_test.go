package httpapi_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/labstack/echo/v4"

	"github.com/keygate/keygate/httpapi"
)

// served runs one GET /auth through Chain's access log, through slog at
// level, and returns what the log got.
func served(t testing.TB, level slog.Level) string {
	t.Helper()
	var buf bytes.Buffer
	e := echo.New()
	e.Use(httpapi.Chain(httpapi.ChainConfig{Log: slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: level}))}))
	e.GET("/auth", func(c echo.Context) error {
		httpapi.SetCaller(c, "key-1", "partner-42")
		return c.NoContent(http.StatusOK)
	})
	r := httptest.NewRequest(http.MethodGet, "/auth", nil)
	r.RemoteAddr = "192.0.2.7:5000"
	r.Header.Set(echo.HeaderXRequestID, "req-1")
	e.ServeHTTP(httptest.NewRecorder(), r)
	return buf.String()
}

func TestAccessLogNamesTheCaller(t *testing.T) {
	var line map[string]any
	if err := json.Unmarshal([]byte(served(t, slog.LevelInfo)), &line); err != nil {
		t.Fatal(err)
	}
	delete(line, "time")
	delete(line, "latency_ms")
	want := map[string]any{
		"level": "INFO", "msg": "request", "request_id": "req-1", "method": "GET", "route": "/auth",
		"status": float64(200), "remote_ip": "192.0.2.7", "key_id": "key-1", "owner": "partner-42",
	}
	if d := cmp.Diff(want, line); d != "" {
		t.Errorf("access line (-want +got):\n%s", d)
	}
}

func TestAccessLogSilentBelowItsLevel(t *testing.T) {
	if got := served(t, slog.LevelWarn); got != "" {
		t.Errorf("at level warn the access log wrote %q", got)
	}
}

// TestAppendRFC3339Nano: the access line's time is what time.RFC3339Nano
// makes of it, in any zone, with or without a fraction, across seconds.
func TestAppendRFC3339Nano(t *testing.T) {
	zones := []*time.Location{time.UTC, time.FixedZone("", 3600+1800), time.FixedZone("X", -7*3600)}
	if ny, err := time.LoadLocation("America/New_York"); err == nil {
		zones = append(zones, ny)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	base := time.Date(2026, 3, 8, 6, 59, 58, 0, time.UTC) // New York's clocks go forward at 7:00 UTC
	for i := range 20_000 {
		at := base.Add(time.Duration(i) * 37 * time.Microsecond)
		switch i % 4 {
		case 0:
			at = at.Truncate(time.Second)
		case 1:
			at = at.Add(time.Duration(rng.Int64N(int64(time.Second))))
		case 2:
			at = time.Unix(rng.Int64N(1<<36)-1<<35, rng.Int64N(1e9))
		}
		at = at.In(zones[i%len(zones)])
		want := at.AppendFormat([]byte("x"), time.RFC3339Nano)
		if got := httpapi.AppendRFC3339Nano([]byte("x"), at); string(got) != string(want) {
			t.Fatalf("%v: got %s, want %s", at, got, want)
		}
	}
}

func BenchmarkAppendRFC3339Nano(b *testing.B) {
	buf := make([]byte, 0, 64)
	now := time.Now()
	for b.Loop() {
		buf = httpapi.AppendRFC3339Nano(buf[:0], now)
	}
}
