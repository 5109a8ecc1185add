package limiter

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keygate/keygate/internal/testenv"
)

// benchLimits are two windows that never deny, so that every iteration
// takes the path of an admitted request.
var benchLimits = []Limit{{Count: MaxCount, Window: time.Second}, {Count: MaxCount, Window: time.Hour}}

func BenchmarkMemoryAllow(b *testing.B) {
	ctx := context.Background()
	b.Run("serial", func(b *testing.B) {
		m := newTestMemory(b, nil)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := m.Allow(ctx, "key", benchLimits, 1); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		m := newTestMemory(b, nil)
		ids := make([]string, 1024)
		for i := range ids {
			ids[i] = "key-" + strconv.Itoa(i)
		}
		var next atomic.Int64
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			i := int(next.Add(1)) * 97
			for pb.Next() {
				i++
				if _, err := m.Allow(ctx, ids[i%len(ids)], benchLimits, 1); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}

// BenchmarkRedisAllow is one decision on Redis's clock: one EVALSHA round
// trip. Compare with BenchmarkRedisPing, the bare round trip.
func BenchmarkRedisAllow(b *testing.B) {
	r := newTestRedis(b, nil)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Allow(ctx, "key", benchLimits, 1); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRedisPing(b *testing.B) {
	c, err := NewRedisClient(testenv.RedisURL(b))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close() })
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := c.Ping(ctx).Err(); err != nil {
			b.Fatal(err)
		}
	}
}
