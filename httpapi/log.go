package httpapi

import (
	"log/slog"
	"time"

	"github.com/labstack/echo/v4"
)

// Context keys that handlers set so the access log can name the caller.
const (
	KeyIDKey    = "key_id"
	OwnerKey    = "owner"
	DecisionKey = "decision"
)

// AccessLog writes one JSON line per request: request id, method, route,
// status, latency, and the key id, owner and decision when a handler set
// them. It never logs headers, query strings or bodies, so no credential can
// reach the log.
func AccessLog(log *slog.Logger) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			start := time.Now()
			err := next(c)
			if err != nil {
				c.Error(err)
			}
			ctx := c.Request().Context()
			if !log.Enabled(ctx, slog.LevelInfo) {
				return nil // the level drops the line: build nothing
			}
			var buf [9]slog.Attr // on the stack: room for every attribute
			attrs := append(buf[:0],
				slog.String("request_id", RequestID(c)),
				slog.String("method", c.Request().Method),
				slog.String("route", c.Path()),
				slog.Int("status", c.Response().Status),
				slog.Float64("latency_ms", float64(time.Since(start).Microseconds())/1000),
				slog.String("remote_ip", c.RealIP()),
			)
			for _, k := range []string{KeyIDKey, OwnerKey, DecisionKey} {
				if v, ok := c.Get(k).(string); ok && v != "" {
					attrs = append(attrs, slog.String(k, v))
				}
			}
			log.LogAttrs(ctx, slog.LevelInfo, "request", attrs...)
			return nil
		}
	}
}
