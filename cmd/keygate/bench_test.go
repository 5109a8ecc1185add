package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/keygate/keygate/internal/offheap"
	"github.com/keygate/keygate/internal/testenv"
	"github.com/keygate/keygate/keystore"
)

// benchApp builds keygate as serve does (newApp: the store, the limiter,
// both Echo servers with their middleware and routes), over SQLite and
// the memory limiter, logging at level to nowhere through serve's logger.
// It returns the app and a key whose limits never deny, already cached.
func benchApp(b *testing.B, level string, env ...string) (*app, string) {
	b.Helper()
	env = append([]string{"KEYGATE_DATABASE_URL=" + sqliteURL(b), "KEYGATE_LOG_LEVEL=" + level}, env...)
	cfg, err := loadConfig(envMap(env))
	if err != nil {
		b.Fatal(err)
	}
	if err := cfg.validate(); err != nil {
		b.Fatal(err)
	}
	log, out := serveLogger(io.Discard, &cfg)
	b.Cleanup(func() { _ = out.Close() })
	a, err := newApp(context.Background(), &cfg, log)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(a.close)
	_, key, err := a.store.Create(context.Background(), "bench", keystore.Spec{
		Name: "bench", Owner: "partner-42", Scopes: []string{"odoo:res.partner:read", "route:GET:/api/**"},
		RateLimits: []string{"1000000000/1s", "1000000000/1h"},
	})
	if err != nil {
		b.Fatal(err)
	}
	return a, key.Reveal()
}

// nginxCheck is /auth as the shipped nginx template asks it.
func nginxCheck(key string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/auth", nil)
	r.RemoteAddr = "127.0.0.1:40000"
	for k, v := range map[string]string{
		"Authorization": "Bearer " + key, "X-Original-Method": "GET", "X-Original-Uri": "/api/v1/partners?limit=10",
		"X-Forwarded-Host": "shop.example", "X-Forwarded-Proto": "https", "X-Forwarded-For": "198.51.100.1",
		"X-Request-Id": "0123456789abcdef0123456789abcdef",
	} {
		r.Header.Set(k, v)
	}
	return r
}

func serveLoop(b *testing.B, h http.Handler, r *http.Request, want int) {
	b.Helper()
	w := testenv.NewRecorder()
	b.ReportAllocs()
	for b.Loop() {
		w.Reset()
		h.ServeHTTP(w, r)
		if w.Code != want {
			b.Fatalf("status %d, want %d", w.Code, want)
		}
	}
}

// BenchmarkServeAuth is one /auth of a cached key through the public
// listener's whole handler chain as serve builds it (request id, access
// log, recover, metrics, the handler, the memory limiter), without the
// network: what keygate itself costs per check. log=info writes the access
// line (to io.Discard); log=warn drops it.
func BenchmarkServeAuth(b *testing.B) {
	for _, level := range []string{"info", "warn"} {
		b.Run("log="+level, func(b *testing.B) {
			a, key := benchApp(b, level)
			serveLoop(b, a.publicHandler(), nginxCheck(key), http.StatusOK)
		})
	}
}

// BenchmarkServeAuthNewGoroutine is BenchmarkServeAuth with each check
// on a goroutine of its own, as net/http serves the first request of each
// connection (and Traefik opens one for most checks): it adds the
// goroutine's start and the growth of its stack, which starts at 2 KiB
// and is copied each time it doubles. Its time over BenchmarkServeAuth's
// is about what a new connection costs keygate beyond the network (net/http's
// own frames, about 1.2 KiB more of stack, are not here). /auth's deepest
// call must fit in 8 KiB (see authz's check): a growth to 16 KiB copies
// the whole deep stack. Slimming the frames took this from 7.6 to 6.3 µs
// (memory) and 8.3 to 7.0 µs (Redis).
func BenchmarkServeAuthNewGoroutine(b *testing.B) {
	for _, lim := range []string{"memory", "redis"} {
		b.Run("limiter="+lim, func(b *testing.B) {
			var env []string
			if lim == "redis" {
				env = append(env, "KEYGATE_REDIS_URL="+testenv.RedisURL(b))
			}
			a, key := benchApp(b, "info", env...)
			h, r := a.publicHandler(), nginxCheck(key)
			done := make(chan int)
			b.ReportAllocs()
			for b.Loop() {
				go func() {
					w := testenv.NewRecorder()
					h.ServeHTTP(w, r)
					done <- w.Code
				}()
				if code := <-done; code != http.StatusOK {
					b.Fatalf("status %d, want 200", code)
				}
			}
		})
	}
}

// BenchmarkServeHealthz is /healthz through the same chain: the
// middleware's own cost, with a handler that does nearly nothing.
func BenchmarkServeHealthz(b *testing.B) {
	a, _ := benchApp(b, "info")
	serveLoop(b, a.publicHandler(), httptest.NewRequest(http.MethodGet, "/healthz", nil), http.StatusOK)
}

// cachedKeys is how many keys BenchmarkCachedKeys creates and verifies:
// keygate's default cache size, the figure.
const cachedKeys = 100_000

// BenchmarkCachedKeys creates cachedKeys keys in a SQLite store (one
// transaction), verifies each once so that all are cached with their
// compiled policies, and reports the Go heap in use after a GC, its
// growth per cached key, the cache's table outside the heap per key
// (internal/offheap), and the process's resident set (VmRSS, after
// returning freed memory to the OS). The figures are of one pass, whatever
// b.N; -short skips it.
func BenchmarkCachedKeys(b *testing.B) {
	if testing.Short() {
		b.Skip("creates 100,000 keys")
	}
	a, _ := benchApp(b, "warn")
	keys := insertKeys(b, a.store, cachedKeys)
	before, mapped := heapInUse(), offheap.Mapped()
	ctx := context.Background()
	for _, k := range keys {
		_, err := a.store.Verify(ctx, k)
		for try := 0; errors.Is(err, keystore.ErrUnavailable) && try < 3; try++ {
			_, err = a.store.Verify(ctx, k) // a query timed out on a busy machine
		}
		if err != nil {
			b.Fatal(err)
		}
	}
	if n := a.store.Stats().CacheSize; n < cachedKeys*99/100 {
		b.Fatalf("%d keys cached, want %d", n, cachedKeys)
	}
	after, tables := heapInUse(), offheap.Mapped()-mapped
	runtime.KeepAlive(keys)
	keys = nil
	resident := rss(b)
	for b.Loop() {
	}
	// After the loop: b.Loop's first call deletes the metrics reported
	// before it.
	b.ReportMetric(float64(after)/(1<<20), "heap-MiB")
	b.ReportMetric(float64(after-before)/cachedKeys, "heap-B/key")
	b.ReportMetric(float64(tables)/cachedKeys, "offheap-B/key")
	b.ReportMetric(float64(resident)/(1<<20), "rss-MiB")
}

// insertKeys writes n active keys straight into api_keys in one
// transaction (keystore.Create writes an audit event per key and takes a
// transaction each), shaped like a typical partner key, and returns their
// plaintexts.
func insertKeys(b *testing.B, s *keystore.Store, n int) []string {
	b.Helper()
	tx, err := s.SQLDB().Begin()
	if err != nil {
		b.Fatal(err)
	}
	stmt, err := tx.Prepare(`INSERT INTO api_keys (id, hash, prefix, name, owner, scopes, rate_limits, ip_allowlist,
		status, metadata, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'active', '{}', ?, ?)`)
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now().UTC()
	keys := make([]string, n)
	for i := range keys {
		k, err := keystore.Generate("kg")
		if err != nil {
			b.Fatal(err)
		}
		h := k.Hash()
		_, err = stmt.Exec(uuid.Must(uuid.NewV7()).String(), h[:], k.Prefix(), "shop "+strconv.Itoa(i), "partner-"+strconv.Itoa(i%5000),
			`["odoo:res.partner:read","odoo:sale.order:*","route:GET:/api/**"]`, `["100/1s","10000/1h"]`, `[]`, now, now)
		if err != nil {
			b.Fatal(err)
		}
		keys[i] = k.Reveal()
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	return keys
}

func heapInUse() uint64 {
	_, inuse := testenv.Heap()
	return uint64(inuse)
}

// rss is the process's resident set in bytes, after the runtime returned
// what it could to the OS.
func rss(b *testing.B) int64 {
	debug.FreeOSMemory()
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		b.Skip("no /proc/self/status")
	}
	for line := range strings.Lines(string(status)) {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				b.Fatal(err)
			}
			return kb << 10
		}
	}
	b.Fatal("no VmRSS in /proc/self/status")
	return 0
}

// BenchmarkServeAuthConn is /auth of a cached key as nginx sends it, on
// one kept-alive loopback connection to the public listener's server as
// serve runs it: its fast path (fast=true), or Echo on net/http
// (KEYGATE_FAST_PATH=false). Each op is one round trip, the client's
// write and read included (the client allocates nothing); the difference
// between the two is what the fast path saves per check.
func BenchmarkServeAuthConn(b *testing.B) {
	for _, fast := range []bool{true, false} {
		b.Run("fast="+strconv.FormatBool(fast), func(b *testing.B) {
			a, key := benchApp(b, "info", "KEYGATE_FAST_PATH="+strconv.FormatBool(fast))
			req := "GET /auth HTTP/1.1\r\nHost: keygate\r\nAuthorization: Bearer " + key +
				"\r\nX-Original-Method: GET\r\nX-Original-Uri: /api/v1/partners?limit=10\r\nX-Forwarded-Host: shop.example" +
				"\r\nX-Forwarded-Proto: https\r\nX-Forwarded-For: 198.51.100.1\r\nX-Request-Id: 0123456789abcdef0123456789abcdef\r\n\r\n"
			roundTrips(b, a.publicServer(), req, "HTTP/1.1 200 ")
		})
	}
}

// roundTrips serves srv on loopback and makes b.N round trips of req on
// one connection, each answer read to its empty line (it has no body) and
// checked to begin with want.
func roundTrips(b *testing.B, srv server, req, want string) {
	b.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go func() { _ = srv.Serve(l) }()
	b.Cleanup(func() { _ = srv.Shutdown(context.Background()) })
	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	out, buf := []byte(req), make([]byte, 4096)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Write(out); err != nil {
			b.Fatal(err)
		}
		n := 0
		for !bytes.HasSuffix(buf[:n], []byte("\r\n\r\n")) {
			m, err := c.Read(buf[n:])
			if err != nil {
				b.Fatal(err)
			}
			n += m
		}
		if !bytes.HasPrefix(buf[:n], []byte(want)) {
			b.Fatalf("answer %q, want %q…", buf[:n], want)
		}
	}
}
