package limiter

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"
)

// FallbackCredits spends with RedisCredits and, while Redis fails, straight
// from the Pool, one credit per request: the database decides each spend
// atomically, so credits stay exact across replicas with Redis down, at
// the cost of one transaction per credited request. What the lease in
// Redis holds meanwhile waits there (it is spent when Redis answers again,
// or forgotten if Redis lost it). Like Fallback, it lets one request every
// ProbeInterval try Redis again, and returns to it as soon as one succeeds.
type FallbackCredits struct {
	primary *RedisCredits
	pool    Pool
	logger  *slog.Logger
	clock   func() time.Time
	redisSwitch
	exhausted sync.Map // id → ms until which a direct spend is refused without asking the Pool
}

// NewFallbackCredits returns a FallbackCredits that starts on primary and
// falls back to pool. A nil logger discards; a nil clock is time.Now.
func NewFallbackCredits(primary *RedisCredits, pool Pool, logger *slog.Logger, clock func() time.Time) *FallbackCredits {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if clock == nil {
		clock = time.Now
	}
	return &FallbackCredits{primary: primary, pool: pool, logger: logger, clock: clock}
}

// Down reports whether spends go to the Pool now.
func (f *FallbackCredits) Down() bool { return f.down.Load() }

// Fallbacks returns how many times spends switched to the Pool.
func (f *FallbackCredits) Fallbacks() uint64 { return f.fallbacks.Load() }

// Spend spends one credit with Redis or, while Redis fails, from the Pool.
func (f *FallbackCredits) Spend(ctx context.Context, id string, r Refill) (Spend, error) {
	redis, probe := f.try(f.clock)
	if !redis {
		return f.direct(ctx, id, r)
	}
	s, err := f.primary.Spend(ctx, id, r)
	if err == nil || ctx.Err() != nil || !isRedisFailure(err) {
		if f.answered(probe, err == nil) {
			f.logger.Info("credits back on redis")
		}
		return s, err
	}
	if f.failed(probe, f.clock().UnixMilli()) > 0 {
		f.logger.Warn("credits falling back to the database", "error", err)
	}
	return f.direct(ctx, id, r)
}

// direct spends one credit in the Pool. An id found exhausted is refused
// without asking the Pool again for the recheck interval, as a lease is.
func (f *FallbackCredits) direct(ctx context.Context, id string, r Refill) (Spend, error) {
	now := f.clock().UnixMilli()
	start, _ := r.Period(now)
	if until, ok := f.exhausted.Load(id); ok && now < until.(int64) && start <= until.(int64)-recheck.Milliseconds() {
		return answer(false, 0, r, now), nil
	}
	g, err := f.pool.Take(ctx, id, start, 1)
	if errors.Is(err, ErrNoCredits) {
		return Spend{Allowed: true, Unlimited: true}, nil
	}
	if err != nil {
		return Spend{}, err
	}
	if g.Block == 0 {
		f.exhausted.Store(id, now+recheck.Milliseconds())
	} else {
		f.exhausted.Delete(id)
	}
	return answer(g.Block == 1, g.Remaining, r, now), nil
}

// Reclaim reclaims id's lease in Redis; it fails while Redis does, so that
// an administrator's change never leaves a lease it did not count.
func (f *FallbackCredits) Reclaim(ctx context.Context, id string, r Refill, epoch int64) (left, period int64, err error) {
	return f.primary.Reclaim(ctx, id, r, epoch)
}

// errRedisCredits marks errors of RedisCredits's own calls to Redis.
var errRedisCredits = errors.New("limiter: redis credits")

func isRedisFailure(err error) bool { return errors.Is(err, errRedisCredits) }
