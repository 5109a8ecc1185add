package limiter

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

//go:embed allow.lua
var allowLua string

var allowScript = redis.NewScript(allowLua)

// Defaults of RedisConfig.
const (
	DefaultPrefix       = "kg"
	DefaultRedisTimeout = 50 * time.Millisecond
)

// Key lifetimes beyond the two windows they count in: a little, to absorb
// clock steps; an hour when time is injected, since injected time does not
// follow the clock by which Redis expires keys.
const (
	keepAfter         = time.Second
	keepAfterInjected = time.Hour
)

// RedisConfig configures a Redis limiter.
type RedisConfig struct {
	// Client is used as is and not closed by Close. It should have
	// ContextTimeoutEnabled, as NewRedisClient's clients do, or Timeout
	// will not bound the wait for a reply.
	Client redis.UniversalClient
	// URL is used when Client is nil; see NewRedisClient. Close closes the
	// client made from it.
	URL string
	// Prefix starts every key, inside the hash tag: "{<prefix>:<id>}:...".
	// Empty means DefaultPrefix. It must not contain '{' or '}'.
	Prefix string
	// Timeout bounds each Allow; 0 means DefaultRedisTimeout.
	Timeout time.Duration
	// Now replaces Redis's clock. For tests only: with it, replicas no longer
	// agree on the time, which is what Redis TIME is for.
	Now func() time.Time
}

// Redis is the limiter shared by every replica: the counts live in Redis,
// and one Lua script checks and counts all the windows of a request
// atomically, at Redis's time.
type Redis struct {
	client  redis.UniversalClient
	owned   bool
	prefix  string
	timeout time.Duration
	now     func() time.Time
}

// NewRedis validates cfg, fills its defaults and returns a Redis limiter.
// It does not connect: a Redis that is down shows in Allow's errors.
func NewRedis(cfg RedisConfig) (*Redis, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	r := &Redis{client: cfg.Client, prefix: cfg.Prefix, timeout: cfg.Timeout, now: cfg.Now}
	if r.prefix == "" {
		r.prefix = DefaultPrefix
	}
	if r.timeout == 0 {
		r.timeout = DefaultRedisTimeout
	}
	if r.client == nil {
		c, err := NewRedisClient(cfg.URL)
		if err != nil {
			return nil, err
		}
		r.client, r.owned = c, true
	}
	return r, nil
}

func (cfg RedisConfig) check() error {
	var errs []error
	if (cfg.Client == nil) == (cfg.URL == "") {
		errs = append(errs, errors.New("limiter: set one of RedisConfig.Client and RedisConfig.URL"))
	}
	if strings.ContainsAny(cfg.Prefix, "{}") {
		errs = append(errs, fmt.Errorf("limiter: redis prefix %q contains { or }", cfg.Prefix))
	}
	if cfg.Timeout < 0 {
		errs = append(errs, fmt.Errorf("limiter: negative redis timeout %s", cfg.Timeout))
	}
	return errors.Join(errs...)
}

// Allow decides whether cost more fits every limit of id and, if so,
// counts it in all of them, in one round trip bounded by the timeout. An
// error means Redis did not answer in time or answered unexpectedly.
func (r *Redis) Allow(ctx context.Context, id string, limits []Limit, cost int64) (Decision, error) {
	if err := checkRequest(id, limits, cost); err != nil {
		return Decision{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	key := "{" + r.prefix + ":" + id + "}"
	reply, err := allowScript.Run(ctx, r.client, []string{key}, r.args(limits, cost)...).Int64Slice()
	if err != nil {
		return Decision{}, fmt.Errorf("limiter: redis allow: %w", err)
	}
	return decision(limits, reply)
}

// args are allow.lua's ARGV.
func (r *Redis) args(limits []Limit, cost int64) []any {
	args := make([]any, 3, 3+2*len(limits))
	args[0], args[1], args[2] = int64(-1), cost, keepAfter.Milliseconds()
	if r.now != nil {
		args[0], args[2] = r.now().UnixMilli(), keepAfterInjected.Milliseconds()
	}
	for _, l := range limits {
		args = append(args, l.Count, int64(l.Window/time.Second))
	}
	return args
}

func decision(limits []Limit, reply []int64) (Decision, error) {
	if len(reply) != 2+2*len(limits) {
		return Decision{}, fmt.Errorf("limiter: redis allow: %d values in reply, want %d", len(reply), 2+2*len(limits))
	}
	d := Decision{Allowed: reply[0] == 1, RetryAfter: ms(reply[1]), N: len(limits)}
	for i, l := range limits {
		d.Windows[i] = WindowState{Limit: l, Remaining: reply[2+2*i], Reset: ms(reply[3+2*i])}
	}
	return d, nil
}

// Close closes the client that NewRedis made from RedisConfig.URL.
func (r *Redis) Close() error {
	if !r.owned {
		return nil
	}
	return r.client.Close()
}
