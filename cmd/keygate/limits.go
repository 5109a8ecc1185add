package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/keygate/keygate/authz"
	"github.com/keygate/keygate/keystore"
	"github.com/keygate/keygate/limiter"
)

// limits is the rate limiter serve uses: in memory for one instance, or
// Redis with a per-replica memory fallback when KEYGATE_REDIS_URL is set.
type limits struct {
	authz.Limiter
	mem      *limiter.Memory
	redis    *limiter.Redis
	fallback *limiter.Fallback

	credits    authz.CreditSpender // see addCredits
	fbCredits  *limiter.FallbackCredits
	memCredits *limiter.MemoryCredits
}

// addCredits makes the credit spender: leases in Redis, with the database
// as the fallback, when Redis is configured; else leases in memory.
func (l *limits) addCredits(cfg *config, store *keystore.Store, leases *creditLeases, log *slog.Logger) error {
	ccfg := limiter.CreditsConfig{Pool: authz.CreditPool{Store: store}, Lease: cfg.CreditsLease}
	if l.redis == nil {
		m, err := limiter.NewMemoryCredits(ccfg)
		if err != nil {
			return err
		}
		l.credits, l.memCredits = m, m
		leases.set(m)
		return nil
	}
	r, err := limiter.NewRedisCredits(l.redis, ccfg)
	if err != nil {
		return err
	}
	l.fbCredits = limiter.NewFallbackCredits(r, ccfg.Pool, log, nil)
	l.credits = l.fbCredits
	leases.set(l.fbCredits)
	return nil
}

func newLimits(cfg *config, log *slog.Logger) (*limits, error) {
	l := &limits{mem: limiter.NewMemory(limiter.MemoryConfig{})}
	l.Limiter = l.mem
	if cfg.RedisURL == "" {
		return l, nil
	}
	r, err := limiter.NewRedis(limiter.RedisConfig{URL: cfg.RedisURL, Timeout: cfg.RedisTimeout, LeaseMax: cfg.RedisLease})
	if err != nil {
		l.mem.Close()
		return nil, err
	}
	l.redis, l.fallback = r, limiter.NewFallback(r, l.mem, log)
	l.Limiter = l.fallback
	return l, nil
}

// state is "memory" (no Redis configured), "redis", or "fallback" (Redis
// configured but not answering: each replica limits alone).
func (l *limits) state() string {
	switch {
	case l.fallback == nil:
		return "memory"
	case l.fallback.State() == limiter.StateRedis:
		return "redis"
	}
	return "fallback"
}

func (l *limits) collectors() []prometheus.Collector {
	out := []prometheus.Collector{prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "keygate_limiter_redis_up", Help: "1 when rate limits are decided in Redis, 0 on the memory fallback or without Redis.",
	}, func() float64 {
		if l.state() == "redis" {
			return 1
		}
		return 0
	})}
	if l.fallback != nil {
		out = append(out, prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "keygate_limiter_fallbacks_total", Help: "Times the limiter fell back from Redis to memory.",
		}, func() float64 { return float64(l.fallback.Fallbacks()) }))
	}
	return out
}

func (l *limits) close() error {
	l.mem.Close()
	if l.memCredits != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := l.memCredits.Close(ctx); err != nil {
			return fmt.Errorf("returning credit leases: %w", err)
		}
	}
	if l.redis != nil {
		return l.redis.Close()
	}
	return errors.Join()
}
