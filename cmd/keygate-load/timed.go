package main

import (
	"fmt"
	"net/http"
	"sync"
	"time"
)

// timed records how long each request spends in its handler, from the
// moment net/http hands it over to the handler's return (net/http then
// flushes the response): the server's own share of a request's latency,
// without the time the request waited for the kernel, the generator or a
// CPU. It costs two clock reads and an uncontended lock per request, the
// same for every target.
type timed struct {
	h    http.Handler
	mu   sync.Mutex
	hist histogram
}

func (t *timed) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	t.h.ServeHTTP(w, r)
	d := time.Since(start)
	t.mu.Lock()
	t.hist.record(d)
	t.mu.Unlock()
}

// take returns what was recorded since the last take.
func (t *timed) take() *histogram {
	h := new(histogram)
	t.mu.Lock()
	*h, t.hist = t.hist, histogram{}
	t.mu.Unlock()
	return h
}

// statsHandler answers GET /stats/{name} with the in-handler times of
// target name since the last such request, on one line:
// requests=… p50_ms=… p99_ms=… p999_ms=… max_ms=…
func statsHandler(timers map[string]*timed) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /stats/{name}", func(w http.ResponseWriter, r *http.Request) {
		t, ok := timers[r.PathValue("name")]
		if !ok {
			http.Error(w, "no such target", http.StatusNotFound)
			return
		}
		h := t.take()
		fmt.Fprintf(w, "requests=%d p50_ms=%.3f p99_ms=%.3f p999_ms=%.3f max_ms=%.3f\n",
			h.n, ms(h.percentile(0.50)), ms(h.percentile(0.99)), ms(h.percentile(0.999)), ms(h.max))
	})
	return mux
}
