package limiter

import (
	"context"
	"testing"
	"time"
)

// benchRefill refills monthly, so every spend computes its period.
var benchRefill = Refill{Interval: Monthly, Amount: MaxCount, Day: 31}

// benchPool holds more credits than a benchmark spends: a Take per lease.
func benchPool(tb testing.TB) *testPool {
	tb.Helper()
	p := newTestPool()
	p.add("key", MaxCount, benchRefill, time.Now())
	return p
}

// BenchmarkMemoryCreditsSpend is the credits check of one request of a key
// with credits on the memory limiter: one lease decision, a Take from the
// pool every DefaultLease spends.
func BenchmarkMemoryCreditsSpend(b *testing.B) {
	m, err := NewMemoryCredits(CreditsConfig{Pool: benchPool(b)})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if s, err := m.Spend(ctx, "key", benchRefill); err != nil || !s.Allowed {
			b.Fatal(s, err)
		}
	}
}

// BenchmarkRedisCreditsSpend is the same on Redis: one EVALSHA of
// credits.lua per request (compare with BenchmarkRedisPing), a Take and a
// second run every DefaultLease spends. redis-µs/op is Redis's CPU per
// spend, as in BenchmarkRedisAllow.
func BenchmarkRedisCreditsSpend(b *testing.B) {
	c := newRedisCredits(b, newTestRedis(b, nil), benchPool(b), 0)
	ctx := context.Background()
	cpu := startRedisCPU(b, c.client)
	b.ReportAllocs()
	for b.Loop() {
		if s, err := c.Spend(ctx, "key", benchRefill); err != nil || !s.Allowed {
			b.Fatal(s, err)
		}
	}
	cpu.report(b)
}
