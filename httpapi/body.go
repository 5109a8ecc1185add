package httpapi

import (
	"errors"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"
)

// ErrBusy is what reading a request body returns when the bytes held by
// requests not yet authenticated would exceed their budget: the handler
// answers 503 with Retry-After (BusyRetryAfter) instead of reading on.
var ErrBusy = errors.New("httpapi: the server holds as many unauthenticated request bytes as it may")

// BusyRetryAfter is the Retry-After, in seconds, of a 503 for ErrBusy.
const BusyRetryAfter = "1"

// Budget bounds the bytes of request bodies read and held by requests
// that are not yet authenticated, across all of them. The zero Budget is
// unusable; a nil *Budget bounds nothing. Safe for concurrent use.
type Budget struct {
	limit int64
	used  atomic.Int64
}

// NewBudget returns a Budget of limit bytes (≤ 0: no bound, nil).
func NewBudget(limit int64) *Budget {
	if limit <= 0 {
		return nil
	}
	return &Budget{limit: limit}
}

// Used is the number of bytes currently charged.
func (b *Budget) Used() int64 {
	if b == nil {
		return 0
	}
	return b.used.Load()
}

func (b *Budget) take(n int64) bool {
	if b == nil || n == 0 {
		return true
	}
	if b.used.Add(n) > b.limit {
		b.used.Add(-n)
		return false
	}
	return true
}

func (b *Budget) give(n int64) {
	if b != nil && n != 0 {
		b.used.Add(-n)
	}
}

// BodyConfig configures GuardBodies. Zero values take the defaults named.
type BodyConfig struct {
	// Budget is charged with every body byte read before the request is
	// marked Authenticated, and credited when it is or when the handler
	// returns. Nil: no bound.
	Budget *Budget
	// ReadTimeout is the time allowed to read a body of MaxBody bytes;
	// a request has MinReadTime plus its share of ReadTimeout in
	// proportion to its Content-Length (all of it when the length is
	// unknown) to send its body. Zero: no per-request deadline.
	ReadTimeout time.Duration
	MaxBody     int64
	// MinReadTime is the least time any body gets (default 10 s).
	MinReadTime time.Duration
	// Grace is how many bytes of each body are read before the budget is
	// charged (default DefaultGrace): enough for a key near the start of
	// a body (Odoo's password parameter) to be found and checked even
	// while strangers hold the whole budget. It costs at most Grace per
	// open connection, as the connection's own buffers do.
	Grace int64
}

// DefaultGrace is BodyConfig.Grace's default.
const DefaultGrace = 8 << 10

// DefaultMinReadTime is BodyConfig.MinReadTime's default.
const DefaultMinReadTime = 10 * time.Second

// GuardBodies bounds what a request with a body can hold: a read
// deadline in proportion to its announced length, and the shared Budget
// of unauthenticated bytes. Requests without a body (GET /auth) pass
// untouched and cost nothing.
func GuardBodies(cfg BodyConfig) echo.MiddlewareFunc {
	g := NewBodyGuard(cfg)
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error { return g.serve(c, next) }
	}
}

// BodyGuard is GuardBodies' work, for Chain.
type BodyGuard struct{ cfg BodyConfig }

// NewBodyGuard fills cfg's defaults.
func NewBodyGuard(cfg BodyConfig) *BodyGuard {
	if cfg.MinReadTime <= 0 {
		cfg.MinReadTime = DefaultMinReadTime
	}
	if cfg.Grace <= 0 {
		cfg.Grace = DefaultGrace
	}
	return &BodyGuard{cfg: cfg}
}

// serve runs next with the body of c's request guarded; a nil guard
// guards nothing.
func (g *BodyGuard) serve(c echo.Context, next echo.HandlerFunc) error {
	r := c.Request()
	if g == nil || r.ContentLength == 0 || r.Body == nil || r.Body == http.NoBody {
		return next(c)
	}
	cfg := &g.cfg
	pb := &pendingBody{ReadCloser: r.Body, budget: cfg.Budget, grace: cfg.Grace}
	if cfg.ReadTimeout > 0 {
		pb.rc = http.NewResponseController(c.Response())
		_ = pb.rc.SetReadDeadline(time.Now().Add(cfg.readTime(r.ContentLength)))
	}
	r.Body = pb
	defer pb.release()
	return next(c)
}

// readTime is how long a body of n bytes (< 0: unknown) may take.
func (cfg BodyConfig) readTime(n int64) time.Duration {
	if n < 0 || cfg.MaxBody <= 0 || n >= cfg.MaxBody {
		return cfg.MinReadTime + cfg.ReadTimeout
	}
	return cfg.MinReadTime + time.Duration(float64(cfg.ReadTimeout)*float64(n)/float64(cfg.MaxBody))
}

// pendingBody charges what it reads to the budget until the request is
// authenticated, and lifts the read deadline once the body is read: the
// server then watches the connection for the client going away, and an
// expiring deadline would cancel the request while its handler works.
type pendingBody struct {
	io.ReadCloser
	budget *Budget // nil: no bound
	grace  int64   // bytes read before charging starts
	rc     *http.ResponseController
	mu     sync.Mutex
	seen   int64 // bytes read
	held   int64 // bytes charged
	free   bool  // authenticated or released: charge nothing more
	busy   bool  // the budget refused a read: every later read fails too
}

func (p *pendingBody) Read(b []byte) (int, error) {
	p.mu.Lock()
	busy := p.busy
	p.mu.Unlock()
	if busy { // the bytes of the refused read are gone: never read on
		return 0, ErrBusy
	}
	n, err := p.ReadCloser.Read(b)
	if errors.Is(err, io.EOF) && p.rc != nil {
		_ = p.rc.SetReadDeadline(time.Time{})
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.free || n == 0 {
		return n, err
	}
	charge := p.seen + int64(n) - max(p.seen, p.grace)
	p.seen += int64(n)
	if charge <= 0 {
		return n, err
	}
	if !p.budget.take(charge) {
		p.busy = true
		return 0, ErrBusy
	}
	p.held += charge
	return n, err
}

// release credits what the request holds and stops charging it.
func (p *pendingBody) release() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.budget.give(p.held)
	p.held, p.free = 0, true
}

// Authenticated tells GuardBodies that r's credential has been verified:
// its body stops counting against the budget of unauthenticated bytes.
// It does nothing for a request that GuardBodies does not guard.
func Authenticated(r *http.Request) {
	if p, ok := r.Body.(*pendingBody); ok {
		p.release()
	}
}

// Busy is the error answer for ErrBusy: 503 with Retry-After.
func Busy(c echo.Context) *Error {
	c.Response().Header().Set("Retry-After", BusyRetryAfter)
	return &Error{Status: http.StatusServiceUnavailable, Message: "server busy: too many unauthenticated request bytes in flight, retry shortly", Cause: ErrBusy}
}
