package main

import (
	"context"
	"errors"
	"maps"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/keygate/keygate/httpapi"
	"github.com/keygate/keygate/internal/offheap"
	"github.com/keygate/keygate/keystore"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics is keygate's Prometheus registry, served on the admin listener.
type metrics struct {
	reg       *prometheus.Registry
	requests  *prometheus.CounterVec
	latency   *prometheus.HistogramVec
	decisions *prometheus.CounterVec
	limiter   prometheus.Histogram
	odoo      *prometheus.HistogramVec
	odooErrs  *prometheus.CounterVec
}

// fast are latency buckets for in-process and loopback work; slow, for Odoo.
var (
	fast = []float64{.00005, .0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1}
	slow = []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60}
)

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "keygate_http_requests_total", Help: "HTTP requests by listener, route and status.",
		}, []string{"listener", "route", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "keygate_http_request_duration_seconds", Help: "HTTP request latency by listener and route.",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"listener", "route"}),
	}
	m.decisions = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "keygate_auth_decisions_total", Help: "Forward-auth (/auth) decisions by outcome.",
	}, []string{"outcome"})
	m.limiter = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "keygate_limiter_duration_seconds", Help: "Time to decide one rate-limit check.", Buckets: fast,
	})
	m.odoo = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "keygate_odoo_request_duration_seconds", Help: "Calls to Odoo by HTTP status (0: no answer).", Buckets: slow,
	}, []string{"status"})
	m.odooErrs = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "keygate_odoo_errors_total", Help: "Calls to Odoo that failed: unreachable, timeout, or a 5xx.",
	}, []string{"kind"})
	offheapBytes := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "keygate_offheap_bytes",
		Help: "Memory of the key cache's and the memory limiter's tables, outside Go's heap (not in go_memstats_*).",
	}, func() float64 { return float64(offheap.Mapped()) })
	m.reg.MustRegister(m.requests, m.latency, m.decisions, m.limiter, m.odoo, m.odooErrs, offheapBytes,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// observer counts every request of one listener by route and status
// (httpapi.Chain's Observer).
func (m *metrics) observer(listener string) httpapi.Observer {
	series := &routeSeries{m: m, listener: listener}
	return func(route string, status int, elapsed time.Duration) {
		s := series.of(route, status)
		s.requests.Inc()
		if s.decisions != nil {
			s.decisions.Inc()
		}
		s.latency.Observe(elapsed.Seconds())
	}
}

// routeSeries holds one listener's series by route and status, looked up
// once each: WithLabelValues hashes its labels and formats the status on
// every call, the hot path's allocations. The map is copied on write, so
// that reads take no lock; routes and statuses are few.
type routeSeries struct {
	m        *metrics
	listener string
	mu       sync.Mutex // serializes writers
	byKey    atomic.Pointer[map[routeStatus]*series]
}

type routeStatus struct {
	route  string
	status int
}

type series struct {
	requests  prometheus.Counter
	latency   prometheus.Observer
	decisions prometheus.Counter // /auth only
}

func (r *routeSeries) of(route string, status int) *series {
	k := routeStatus{route, status}
	if p := r.byKey.Load(); p != nil {
		if s, ok := (*p)[k]; ok {
			return s
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	old := r.byKey.Load()
	if old != nil {
		if s, ok := (*old)[k]; ok {
			return s
		}
	}
	s := &series{
		requests: r.m.requests.WithLabelValues(r.listener, route, strconv.Itoa(status)),
		latency:  r.m.latency.WithLabelValues(r.listener, route),
	}
	if route == "/auth" {
		s.decisions = r.m.decisions.WithLabelValues(outcome(status))
	}
	next := make(map[routeStatus]*series, 1)
	if old != nil {
		maps.Copy(next, *old)
	}
	next[k] = s
	r.byKey.Store(&next)
	return s
}

func (m *metrics) handler() echo.HandlerFunc {
	return echo.WrapHandler(promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg}))
}

// outcome names an /auth answer for keygate_auth_decisions_total.
func outcome(status int) string {
	switch status {
	case http.StatusOK:
		return "allowed"
	case http.StatusUnauthorized:
		return "unauthorized"
	case http.StatusForbidden:
		return "forbidden"
	case http.StatusTooManyRequests:
		return "rate_limited"
	case http.StatusServiceUnavailable:
		return "unavailable"
	}
	return "error"
}

// storeCollectors expose the key store's cache, batched writes and pool.
func storeCollectors(s *keystore.Store) []prometheus.Collector {
	gauge := func(name, help string, f func(keystore.Stats) float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, func() float64 { return f(s.Stats()) })
	}
	counter := func(name, help string, f func(keystore.Stats) float64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, func() float64 { return f(s.Stats()) })
	}
	return []prometheus.Collector{
		counter("keygate_key_cache_hits_total", "Key verifications answered from the cache.", func(st keystore.Stats) float64 { return float64(st.CacheHits) }),
		counter("keygate_key_cache_misses_total", "Key verifications that read the database.", func(st keystore.Stats) float64 { return float64(st.CacheMisses) }),
		gauge("keygate_key_cache_entries", "Keys (and unknown hashes) in the cache.", func(st keystore.Stats) float64 { return float64(st.CacheSize) }),
		gauge("keygate_usage_pending_keys", "Keys whose usage waits for the next batched write.", func(st keystore.Stats) float64 { return float64(st.Pending) }),
		gauge("keygate_usage_last_flush_timestamp_seconds", "When usage was last written (0: not yet).", func(st keystore.Stats) float64 {
			if st.LastFlush.IsZero() {
				return 0
			}
			return float64(st.LastFlush.UnixNano()) / 1e9
		}),
		collectors.NewDBStatsCollector(s.SQLDB(), "keygate"),
	}
}

// odooTransport observes every call to Odoo.
type odooTransport struct {
	next http.RoundTripper
	m    *metrics
}

func (t odooTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	start := time.Now()
	resp, err := t.next.RoundTrip(r)
	status := 0
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		t.m.odooErrs.WithLabelValues("timeout").Inc()
	case err != nil:
		t.m.odooErrs.WithLabelValues("unreachable").Inc()
	default:
		status = resp.StatusCode
		if status >= 500 {
			t.m.odooErrs.WithLabelValues("server_error").Inc()
		}
	}
	t.m.odoo.WithLabelValues(strconv.Itoa(status)).Observe(time.Since(start).Seconds())
	return resp, err
}
