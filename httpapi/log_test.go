package httpapi_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

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
