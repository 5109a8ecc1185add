package limiter

import (
	"context"
	"errors"
	"log/slog"
	"time"
)

// ProbeInterval is how long a Fallback answers from memory before it tries
// Redis again: once Redis answers, a replica is back on it within this
// (and, on a Cluster, the 200ms a topology reload may wait). One request
// per replica and interval pays the failed call's timeout meanwhile.
const ProbeInterval = 250 * time.Millisecond

// State is the limiter a Fallback is answering with.
type State uint8

// The states of a Fallback.
const (
	StateRedis State = iota
	StateMemory
)

// String returns "redis" or "memory", for logs and metric labels.
func (s State) String() string {
	if s == StateMemory {
		return "memory"
	}
	return "redis"
}

// Fallback answers with a Redis limiter and, while Redis fails, with a
// Memory limiter instead: each replica then limits alone. Once in memory,
// it lets one request every ProbeInterval (by the Memory's clock) try Redis,
// and returns to Redis as soon as one succeeds. Counts are not carried from
// one limiter to the other. It logs each switch once.
type Fallback struct {
	primary     *Redis
	secondary   *Memory
	logger      *slog.Logger
	redisSwitch // by secondary's clock
}

// NewFallback returns a Fallback that starts on primary. It closes neither
// limiter. A nil logger discards.
func NewFallback(primary *Redis, secondary *Memory, logger *slog.Logger) *Fallback {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Fallback{primary: primary, secondary: secondary, logger: logger}
}

// State returns the limiter answering now.
func (f *Fallback) State() State {
	if f.down.Load() {
		return StateMemory
	}
	return StateRedis
}

// Fallbacks returns how many times the Fallback has switched to memory.
func (f *Fallback) Fallbacks() uint64 { return f.fallbacks.Load() }

// Allow asks Redis or, while Redis fails, Memory. It returns an error only
// for invalid arguments (ErrInvalidRequest) or when ctx itself is done:
// whatever else goes wrong with Redis, Memory decides.
func (f *Fallback) Allow(ctx context.Context, id string, limits []Limit, cost int64) (d Decision, err error) {
	if redis, probe := f.try(f.secondary.clock); redis {
		err = f.primary.allow(ctx, &d, id, limits, cost)
		if !f.fallsBack(ctx, probe, err) {
			return d, err
		}
	}
	err = f.secondary.allow(&d, id, limits, cost)
	return d, err
}

// fallsBack reports whether Redis's answer err (to a probe or not) sends
// the decision to memory, and notes the answer. It is Allow's own (its
// logging out of Allow's frame, which /auth's stack holds).
func (f *Fallback) fallsBack(ctx context.Context, probe bool, err error) bool {
	if err == nil || errors.Is(err, ErrInvalidRequest) || ctx.Err() != nil {
		if f.answered(probe, err == nil) {
			f.logger.Info("limiter back on redis", "fallbacks", f.fallbacks.Load())
		}
		return false
	}
	if n := f.failed(probe, f.now()); n > 0 {
		f.logger.Warn("limiter falling back to memory", "error", err, "fallbacks", n)
	}
	return true
}

func (f *Fallback) now() int64 { return f.secondary.clock().UnixMilli() }
