package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/keygate/keygate/authz"
	"github.com/keygate/keygate/keystore"
	"github.com/keygate/keygate/limiter"
	"github.com/keygate/keygate/migrations"
)

// targets are what serve runs; closers stop them in reverse order.
type targets struct {
	key     string
	urls    map[string]string // by target name, and STATS: see statsHandler
	closers []func() error
}

func (t *targets) close() error {
	var errs []error
	for i := len(t.closers) - 1; i >= 0; i-- {
		errs = append(errs, t.closers[i]())
	}
	return errors.Join(errs...)
}

func serve(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	ready := fs.String("ready", "", "file to write the targets to, as shell variables")
	redisURL := fs.String("redis", "redis://127.0.0.1:6379/0", "Redis for the Redis target")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *cpuProfile != "" {
		stop, err := startProfile(*cpuProfile)
		if err != nil {
			return err
		}
		defer stop()
	}
	if *ready == "" {
		return errors.New("serve: -ready is required")
	}
	t := &targets{urls: map[string]string{}}
	defer t.close()
	if err := t.start(ctx, *redisURL); err != nil {
		return err
	}
	if err := writeReady(*ready, t); err != nil {
		return err
	}
	<-ctx.Done()
	return nil
}

func (t *targets) start(ctx context.Context, redisURL string) error {
	dir, err := os.MkdirTemp("", "keygate-load-")
	if err != nil {
		return err
	}
	t.closers = append(t.closers, func() error { return os.RemoveAll(dir) })
	store, err := openStore(ctx, filepath.Join(dir, "keygate.db"))
	if err != nil {
		return err
	}
	t.closers = append(t.closers, store.Close)
	if t.key, err = createKey(ctx, store); err != nil {
		return err
	}
	mem := limiter.NewMemory(limiter.MemoryConfig{})
	t.closers = append(t.closers, func() error { mem.Close(); return nil })
	red, err := newRedis(ctx, redisURL)
	if err != nil {
		return err
	}
	t.closers = append(t.closers, red.Close)
	bare := echo.New()
	bare.GET("/bare", func(c echo.Context) error { return c.NoContent(http.StatusOK) })
	err = t.listenAll(map[string]http.Handler{
		"BARE": bare, "MEMORY": authServer(store, mem), "REDIS": authServer(store, red),
	})
	if err != nil {
		return err
	}
	return t.warmUp(ctx)
}

// warmUp sends one request to each target, so that the key is in the
// cache and every connection pool is open before the measurements.
func (t *targets) warmUp(ctx context.Context) error {
	for name, u := range t.urls {
		if name == "STATS" {
			continue
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+t.key)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			return fmt.Errorf("warm up %s: %w", name, err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			return fmt.Errorf("warm up %s: status %d", name, res.StatusCode)
		}
	}
	return nil
}

func openStore(ctx context.Context, path string) (*keystore.Store, error) {
	s, err := keystore.Open(ctx, keystore.Config{
		URL: "sqlite://" + path, Compile: authz.Compile, ValidateScope: authz.ValidateScope,
	})
	if err != nil {
		return nil, err
	}
	r, err := migrations.New(s.SQLDB(), s.Dialect())
	if err == nil {
		_, err = r.Up(ctx)
	}
	if err != nil {
		return nil, errors.Join(err, s.Close())
	}
	return s, nil
}

// createKey makes the one key of the run: every route, limits far above
// what the run can send, so that every answer is a 200 that counted.
func createKey(ctx context.Context, s *keystore.Store) (string, error) {
	_, k, err := s.Create(ctx, "load", keystore.Spec{
		Name: "load", Owner: "load-test", Scopes: []string{"route:*:/**"},
		RateLimits: []string{"1000000000/1s", "1000000000/1h"},
	})
	return k.Reveal(), err
}

func newRedis(ctx context.Context, url string) (*limiter.Redis, error) {
	var b [6]byte
	_, _ = rand.Read(b[:])
	// A long timeout: every answer is Redis's, however loaded the machine,
	// where keygate's default (50 ms, then Fallback's memory) would hide
	// an overloaded Redis.
	r, err := limiter.NewRedis(limiter.RedisConfig{URL: url, Prefix: "kgload" + hex.EncodeToString(b[:]), Timeout: time.Second})
	if err != nil {
		return nil, err
	}
	lim := []limiter.Limit{{Count: 1, Window: time.Second}}
	if _, err := r.Allow(ctx, "probe", lim, 1); err != nil {
		return nil, errors.Join(fmt.Errorf("redis at %s: %w", url, err), r.Close())
	}
	return r, nil
}

func authServer(store *keystore.Store, lim authz.Limiter) http.Handler {
	a, err := authz.New(authz.Config{Keys: store, Limiter: lim, Usage: store.RecordUse})
	if err != nil {
		panic(err) // the configuration above is fixed and valid
	}
	e := echo.New()
	authz.NewHandler(a).Register(e.Group(""))
	return e
}

// listenAll serves each handler on a loopback port of its own, timed
// (see timed), and the handlers' times on one more port.
func (t *targets) listenAll(handlers map[string]http.Handler) error {
	timers := map[string]*timed{}
	for name, h := range handlers {
		timers[name] = &timed{h: h}
		path := "/auth"
		if name == "BARE" {
			path = "/bare"
		}
		if err := t.listen(name, timers[name], path); err != nil {
			return err
		}
	}
	return t.listen("STATS", statsHandler(timers), "/stats/")
}

func (t *targets) listen(name string, h http.Handler, path string) error {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(l) }()
	t.closers = append(t.closers, srv.Close)
	t.urls[name] = "http://" + l.Addr().String() + path
	return nil
}

func startProfile(path string) (stop func(), err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

func writeReady(path string, t *targets) error {
	content := fmt.Sprintf("BARE_URL=%s\nMEMORY_URL=%s\nREDIS_URL=%s\nSTATS_URL=%s\nKEY=%s\nSERVER_GOMAXPROCS=%d\n",
		t.urls["BARE"], t.urls["MEMORY"], t.urls["REDIS"], t.urls["STATS"], t.key, runtime.GOMAXPROCS(0))
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(content), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
