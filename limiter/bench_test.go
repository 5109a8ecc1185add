package limiter

import (
	"context"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keygate/keygate/internal/testenv"
	"github.com/redis/go-redis/v9"
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
// trip. Compare with BenchmarkRedisPing, the bare round trip. redis-µs/op
// is the CPU time Redis spent per decision, by INFO CPU: exact only on a
// server of the benchmark's own (KEYGATE_TEST_REDIS_URL).
func BenchmarkRedisAllow(b *testing.B) {
	r := newTestRedis(b, nil)
	ctx := context.Background()
	cpu := startRedisCPU(b, r.client)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Allow(ctx, "key", benchLimits, 1); err != nil {
			b.Fatal(err)
		}
	}
	cpu.report(b)
}

// BenchmarkRedisAllowParallel is many concurrent decisions, as under
// load: 1 or 32 goroutines per CPU (64 on 2 CPUs, as many as
// scripts/load/run.sh's connections), for 1024 ids or for one.
func BenchmarkRedisAllowParallel(b *testing.B) {
	for _, perCPU := range []int{1, 32} {
		b.Run(fmt.Sprintf("goroutines=%d", perCPU*runtime.GOMAXPROCS(0)), func(b *testing.B) {
			for _, n := range []int{1024, 1} {
				b.Run(fmt.Sprintf("ids=%d", n), func(b *testing.B) {
					benchmarkRedisAllowParallel(b, perCPU, n)
				})
			}
		})
	}
}

// BenchmarkRedisAllowParallelLeasing is BenchmarkRedisAllowParallel with
// leases of at most testLease requests: most decisions are a replica's
// own (see doc.go, Leases).
func BenchmarkRedisAllowParallelLeasing(b *testing.B) {
	for _, perCPU := range []int{1, 32} {
		b.Run(fmt.Sprintf("goroutines=%d", perCPU*runtime.GOMAXPROCS(0)), func(b *testing.B) {
			for _, n := range []int{1024, 1} {
				b.Run(fmt.Sprintf("ids=%d", n), func(b *testing.B) {
					benchmarkRedisAllowParallelLeasing(b, perCPU, n, testLease)
				})
			}
		})
	}
}

func benchmarkRedisAllowParallel(b *testing.B, perCPU, n int) {
	benchmarkRedisAllowParallelLeasing(b, perCPU, n, 0)
}

func benchmarkRedisAllowParallelLeasing(b *testing.B, perCPU, n int, lease int64) {
	r := newRedisReplicaLeasing(b, testenv.KeyPrefix(b), nil, lease)
	ctx := context.Background()
	ids := make([]string, n)
	for i := range ids {
		ids[i] = "key-" + strconv.Itoa(i)
	}
	var next atomic.Int64
	cpu := startRedisCPU(b, r.client)
	b.SetParallelism(perCPU)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := int(next.Add(1)) * 97
		for pb.Next() {
			i++
			if _, err := r.Allow(ctx, ids[i%len(ids)], benchLimits, 1); err != nil {
				b.Error(err)
				return
			}
		}
	})
	cpu.report(b)
}

// redisCPU measures the CPU time of a Redis server, user and system, by
// INFO CPU.
type redisCPU struct {
	client redis.UniversalClient
	start  float64
}

func startRedisCPU(b *testing.B, c redis.UniversalClient) *redisCPU {
	b.Helper()
	return &redisCPU{client: c, start: usedCPU(b, c)}
}

// report adds redis-µs/op, Redis's CPU time per iteration.
func (m *redisCPU) report(b *testing.B) {
	b.Helper()
	used := usedCPU(b, m.client) - m.start
	b.ReportMetric(used*1e6/float64(b.N), "redis-µs/op")
}

func usedCPU(b *testing.B, c redis.UniversalClient) float64 {
	b.Helper()
	info, err := c.Info(context.Background(), "cpu").Result()
	if err != nil {
		b.Fatal(err)
	}
	var total float64
	for line := range strings.Lines(info) {
		name, value, _ := strings.Cut(strings.TrimSpace(line), ":")
		if name == "used_cpu_user" || name == "used_cpu_sys" {
			f, err := strconv.ParseFloat(value, 64)
			if err != nil {
				b.Fatalf("INFO CPU %s: %v", line, err)
			}
			total += f
		}
	}
	return total
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

// BenchmarkMemoryIDs counts 100,000 ids (keygate's default cache size) of
// two limits each once, and reports the Go heap they hold, per id, after a
// GC, and the memory of their tables outside the heap. The ids themselves
// are the caller's: the verification cache holds them. One pass, whatever
// b.N.
func BenchmarkMemoryIDs(b *testing.B) {
	const n = 100_000
	heap, off := holdIDs(b, n)
	for b.Loop() {
	}
	b.ReportMetric(float64(heap)/n, "heap-B/id")
	b.ReportMetric(float64(off)/n, "offheap-B/id")
}
