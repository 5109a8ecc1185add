package httpapi

import (
	"fmt"
	"log/slog"
	"net/http"
	"runtime"
	"time"

	"github.com/labstack/echo/v4"
)

// Observer is told of every request that a Chain served: its route
// (Echo's pattern; "" when no route matched), status and the time taken.
type Observer func(route string, status int, elapsed time.Duration)

// ChainConfig configures Chain. Nil fields do nothing.
type ChainConfig struct {
	// Log gets the access line of every request at info, and
	// each recovered panic with its stack at error.
	Log *slog.Logger
	// Bodies guards request bodies (GuardBodies).
	Bodies *BodyGuard
	// Observe is told of every request (the metrics).
	Observe Observer
}

// Chain is the middleware of every request of a listener, in order:
// the request id (assignRequestID), the access log, recovery from a panic (answered 500
// through Echo's error handler), the observer, the body guard. Echo builds
// the chain of its Use middleware anew for each request, one allocation per
// middleware; Chain is one. It reads the clock twice per request, for all
// of them. Handlers name the caller and the decision of the access line
// with SetCaller and SetDecision.
func Chain(cfg ChainConfig) echo.MiddlewareFunc {
	access := newAccessLog(cfg.Log)
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			id := assignRequestID(c.Request().Header, c.Response().Header())
			start := time.Now()
			res := c.Response()
			f := fieldsPool.Get().(*fields)
			f.ResponseWriter, res.Writer = res.Writer, f
			if err := cfg.serve(c, next); err != nil {
				c.Error(err)
			}
			elapsed := time.Since(start)
			if cfg.Observe != nil {
				cfg.Observe(c.Path(), res.Status, elapsed)
			}
			access.write(c, id, start, elapsed)
			if res.Writer == f {
				res.Writer = f.ResponseWriter
			}
			*f = fields{}
			fieldsPool.Put(f)
			return nil
		}
	}
}

// serve runs next behind the body guard, and turns a panic into an error,
// logged with its stack. http.ErrAbortHandler, the panic that aborts a
// response on purpose, goes on up to net/http.
func (cfg *ChainConfig) serve(c echo.Context, next echo.HandlerFunc) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = recovered(r, cfg.Log, RequestID(c))
		}
	}()
	return cfg.Bodies.serve(c, next)
}

// recovered turns r, the panic of serving the request requestID, into the
// error it is answered with, logged with its stack (log may be nil).
// http.ErrAbortHandler, the panic that aborts a response on purpose, goes
// on up to net/http (or the fast path's connection), which ends the
// connection.
func recovered(r any, log *slog.Logger, requestID string) error {
	if r == http.ErrAbortHandler {
		panic(r)
	}
	err, _ := r.(error)
	if err == nil {
		err = fmt.Errorf("%v", r)
	}
	err = fmt.Errorf("panic: %w", err)
	if log != nil {
		log.Error("panic recovered", "request_id", requestID, "error", err, "stack", panicStack())
	}
	return err
}

// panicStack is the stack of the goroutine that recovers a panic, up to
// 8 KiB of it, for the log.
func panicStack() string {
	stack := make([]byte, 8<<10)
	return string(stack[:runtime.Stack(stack, false)])
}
