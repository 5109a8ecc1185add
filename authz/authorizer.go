package authz

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/netip"
	"time"

	"github.com/keygate/keygate/keystore"
	"github.com/keygate/keygate/limiter"
)

// KeyVerifier checks a presented credential: *keystore.Store is one.
type KeyVerifier interface {
	Verify(ctx context.Context, presented string) (*keystore.Verified, error)
}

// Limiter decides whether a request fits its limits: *limiter.Memory,
// *limiter.Redis and *limiter.Fallback are.
type Limiter interface {
	Allow(ctx context.Context, id string, limits []limiter.Limit, cost int64) (limiter.Decision, error)
}

// DefaultFailedAuthLimit is Config.FailedAuthLimit's default: 30 failed
// authentications per minute and client address.
var DefaultFailedAuthLimit = limiter.Limit{Count: 30, Window: time.Minute}

// Config configures an Authorizer. Keys and Limiter are required; every
// other zero value takes the default its comment names.
type Config struct {
	// Keys verifies credentials (a *keystore.Store, opened with
	// Config.Compile set to Compile: a key verified without its policy is
	// answered 500).
	Keys KeyVerifier
	// Limiter counts requests against each key's limits, by key id.
	Limiter Limiter
	// FailedAuth counts failed authentications per client address
	// (default: Limiter), against FailedAuthLimit (default
	// DefaultFailedAuthLimit).
	FailedAuth      Limiter
	FailedAuthLimit limiter.Limit
	// LimiterTook, when set, is told how long each decision of Limiter and
	// FailedAuth took (the metrics). Timed here rather than by wrapping the
	// limiter: a wrapper's frame, holding a copy of each limiter.Decision,
	// deepens /auth's stack (see check).
	LimiterTook func(time.Duration)
	// DefaultLimits apply to keys that name no rate limits. Nil: such keys
	// are not rate-limited (and their answers carry no RateLimit fields).
	DefaultLimits []limiter.Limit
	// TrustedProxies are the peers whose forwarded headers are believed.
	// Nil means DefaultTrustedProxies (loopback); an empty non-nil slice
	// trusts no one.
	TrustedProxies []netip.Prefix
	// Usage, when set, is told of every decision about a known key (*
	// keystore.Store's RecordUse fits). It must not block.
	Usage func(id string, allowed bool, at time.Time)
	// Credits spends the credits of keys that have them; nil: such keys
	// are refused with 503 (credits unavailable). Spent, when set, is told
	// of every credit spent (keystore.Store's RecordCredit fits).
	Credits CreditSpender
	Spent   func(id string, at time.Time)
	// Now is the clock for Usage (default time.Now).
	Now func() time.Time
	// Logger receives the causes of 500 and 503 answers (default: discard).
	Logger *slog.Logger
}

// Authorizer decides requests. It is safe for concurrent use and starts
// no goroutine.
type Authorizer struct {
	keys       KeyVerifier
	limiter    Limiter
	failedAuth Limiter
	failLimit  []limiter.Limit
	took       func(time.Duration)
	defaults   LimitSet
	trusted    []netip.Prefix
	usage      func(id string, allowed bool, at time.Time)
	credits    CreditSpender
	spent      func(id string, at time.Time)
	now        func() time.Time
	log        *slog.Logger
	blocked    blocklist
}

// New validates cfg, fills its defaults and returns an Authorizer.
func New(cfg Config) (*Authorizer, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	a := &Authorizer{
		keys: cfg.Keys, limiter: cfg.Limiter, failedAuth: cfg.FailedAuth,
		failLimit: []limiter.Limit{cfg.FailedAuthLimit}, defaults: NewLimitSet(cfg.DefaultLimits),
		trusted: cfg.TrustedProxies, usage: cfg.Usage, now: cfg.Now, log: cfg.Logger,
		credits: cfg.Credits, spent: cfg.Spent, took: cfg.LimiterTook,
	}
	if a.credits == nil {
		a.credits = noCredits{}
	}
	if a.failedAuth == nil {
		a.failedAuth = a.limiter
	}
	if a.failLimit[0] == (limiter.Limit{}) {
		a.failLimit[0] = DefaultFailedAuthLimit
	}
	if a.trusted == nil {
		a.trusted = DefaultTrustedProxies
	}
	if a.now == nil {
		a.now = time.Now
	}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	return a, nil
}

func (cfg *Config) check() error {
	var errs []error
	if cfg.Keys == nil {
		errs = append(errs, errors.New("authz: Config.Keys is required"))
	}
	if cfg.Limiter == nil {
		errs = append(errs, errors.New("authz: Config.Limiter is required"))
	}
	if cfg.FailedAuthLimit != (limiter.Limit{}) {
		errs = append(errs, cfg.FailedAuthLimit.Validate())
	}
	if _, err := limiter.ParseLimits(limitStrings(cfg.DefaultLimits)); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func limitStrings(limits []limiter.Limit) []string {
	out := make([]string, len(limits))
	for i, l := range limits {
		out[i] = l.String()
	}
	return out
}

// Request extracts the Request from r, believing the forwarded headers of
// the trusted proxies (see FromHTTP).
func (a *Authorizer) Request(r *http.Request) Request { return FromHTTP(r, a.trusted) }

// Check decides whether req may do need: it verifies the credential,
// checks the key's policy, and counts the request in the limiters as
// Decide asks. It records the decision with Config.Usage when the key is
// known, and logs the causes of 500 and 503 answers. A cached key costs no
// I/O but the limiter's. A client over its failed-auth limit is refused
// (429) before its credential is looked up, unless the credential is a
// valid key that the cache holds.
func (a *Authorizer) Check(ctx context.Context, req Request, need Need) (d Decision) {
	a.check(ctx, &req, need, &d)
	return d
}

// check is Check deciding into d. /auth keeps d in its own frame: Facts
// and Decision are large (limiter.Decision holds every window's state),
// and each copy of them, and each function that returns one, adds to the
// stack. A connection's goroutine starts with 2 KiB of stack and doubles
// it, copying the whole stack, each time a call needs more: /auth's
// deepest call (about 6 KiB with the memory limiter, 7 with Redis, net/http's
// frames included) must stay within 8 KiB, or each new connection copies
// its deep stack once more (and Traefik opens one for most checks).
// BenchmarkServeAuthNewGoroutine (cmd/keygate) shows the cost.
func (a *Authorizer) check(ctx context.Context, req *Request, need Need, d *Decision) {
	var f Facts // not a composite literal, which the compiler builds in a second Facts
	f.Request, f.Need, f.Defaults = *req, need, &a.defaults
	if req.Credential != "" && !need.malformed {
		if a.refuseBlocked(req, d) {
			a.finish(ctx, d, req)
			return
		}
		f.Key, f.VerifyErr = a.keys.Verify(ctx, req.Credential)
		if f.Key != nil && f.VerifyErr == nil {
			f.Policy, f.PolicyErr = policyOf(f.Key)
		}
	}
	a.decideCounting(ctx, &f, d)
}

// decideCounting decides f into d, making each count decide asks for
// (Check and CheckKey), and finishes the decision.
func (a *Authorizer) decideCounting(ctx context.Context, f *Facts, d *Decision) {
	for {
		*d = Decision{}
		switch decide(f, d) {
		case CountFailure:
			a.countFailure(ctx, f.Request.ClientIP, &f.Failure)
			a.noteFailure(f.Request.ClientIP, &f.Failure)
		case CountRequest:
			a.countRequest(ctx, f.Key.ID, f.Limits().limits, &f.Rate)
		case CountCredits:
			a.spendCredit(ctx, f.Key.ID, f.Policy.credits, &f.Credit)
		default:
			a.finish(ctx, d, &f.Request)
			return
		}
	}
}

// countFailure counts a failed authentication of ip into c.
func (a *Authorizer) countFailure(ctx context.Context, ip netip.Addr, c *Count) {
	c.Done = true
	id, err := limiter.FailureID(ip)
	if err != nil {
		c.Err = err
		return
	}
	start := a.started()
	c.Decision, c.Err = a.failedAuth.Allow(ctx, id, a.failLimit, 1)
	a.finished(start)
}

// countRequest counts a request of key id into c.
func (a *Authorizer) countRequest(ctx context.Context, id string, limits []limiter.Limit, c *Count) {
	c.Done = true
	start := a.started()
	c.Decision, c.Err = a.limiter.Allow(ctx, id, limits, 1)
	a.finished(start)
}

// started and finished time a limiter's decision for LimiterTook, on the
// monotonic clock alone: time.Now reads the wall clock too, and the
// memory limiter's decision costs about as much as a clock read.
func (a *Authorizer) started() time.Duration {
	if a.took == nil {
		return 0
	}
	return time.Since(epoch)
}

func (a *Authorizer) finished(start time.Duration) {
	if a.took != nil {
		a.took(time.Since(epoch) - start)
	}
}

// epoch is the origin of started and finished.
var epoch = time.Now()

// finish records usage and logs what went wrong.
func (a *Authorizer) finish(ctx context.Context, d *Decision, req *Request) {
	if d.Key != nil && a.usage != nil {
		a.usage(d.Key.ID, d.Allowed(), a.now())
	}
	if d.Err != nil {
		a.log.LogAttrs(ctx, slog.LevelWarn, "authorization failed to decide",
			slog.Int("status", d.Status), slog.Any("error", d.Err), slog.Any("request", *req))
	}
}
