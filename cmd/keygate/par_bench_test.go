package main

import (
	"net/http"
	"testing"

	"github.com/keygate/keygate/internal/testenv"
)

// BenchmarkServeAuthParallel is BenchmarkServeAuth (log=info) from
// GOMAXPROCS goroutines at once, one key: what the cores cost each other
// (the key's limiter shard, its usage counts, the metrics' series, the
// log's buffer), as wrk on one key does to keygate serve.
func BenchmarkServeAuthParallel(b *testing.B) {
	a, key := benchApp(b, "info")
	h := a.publicHandler()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		r := nginxCheck(key)
		w := testenv.NewRecorder()
		for pb.Next() {
			w.Reset()
			h.ServeHTTP(w, r)
			if w.Code != http.StatusOK {
				b.Fatalf("status %d", w.Code)
			}
		}
	})
}
