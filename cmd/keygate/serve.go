package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/cobra"

	"github.com/keygate/keygate/admin"
	"github.com/keygate/keygate/admin/console"
	"github.com/keygate/keygate/authz"
	"github.com/keygate/keygate/httpapi"
	"github.com/keygate/keygate/internal/gcfloor"
	"github.com/keygate/keygate/keystore"
	"github.com/keygate/keygate/limiter"
	"github.com/keygate/keygate/odoo"
	"github.com/keygate/keygate/proxy"
	"github.com/keygate/keygate/rest"
)

// readyKey carries an optional callback that serve calls with the bound
// addresses once both listeners accept: tests start keygate on :0 with it.
type readyKey struct{}

type readyFunc func(public, admin string)

func withReady(ctx context.Context, fn readyFunc) context.Context {
	return context.WithValue(ctx, readyKey{}, fn)
}

// logFlushInterval is how long serve's log holds access lines before it
// writes them (httpapi.LogWriter): every other record is written at once,
// with the access lines before it.
const logFlushInterval = 100 * time.Millisecond

// serveLogger is serve's log: JSON lines into w through a LogWriter,
// which the caller closes.
func serveLogger(w io.Writer, cfg *config) (*slog.Logger, *httpapi.LogWriter) {
	out := httpapi.NewLogWriter(w, logFlushInterval)
	return slog.New(httpapi.NewHandler(out, cfg.logLevel())), out
}

func serveCommand(cfg *config, stderr io.Writer) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the gateway: public listener (/auth, Odoo gateway, REST) and admin listener",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := cfg.validate(); err != nil {
				return err
			}
			log, out := serveLogger(stderr, cfg)
			defer out.Close()
			return serve(c.Context(), cfg, log)
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.Listen, "listen", cfg.Listen, "public address (KEYGATE_LISTEN)")
	f.StringVar(&cfg.AdminListen, "admin-listen", cfg.AdminListen, "admin address (KEYGATE_ADMIN_LISTEN)")
	f.StringVar(&cfg.RedisURL, "redis-url", cfg.RedisURL, "Redis for shared rate limits; empty: in memory (KEYGATE_REDIS_URL)")
	f.BoolVar(&cfg.AutoMigrate, "auto-migrate", cfg.AutoMigrate, "apply pending migrations at start (KEYGATE_AUTO_MIGRATE)")
	f.StringVar(&cfg.Resources, "resources", cfg.Resources, "YAML file of REST resources replacing the built-in ones (KEYGATE_RESOURCES)")
	return cmd
}

// app is everything serve builds, closed in reverse order.
type app struct {
	cfg     *config
	log     *slog.Logger
	store   *keystore.Store
	limits  *limits
	authz   *authz.Authorizer
	gateway *proxy.Gateway
	public  *echo.Echo
	// publicChain is the public listener's Chain, which its FastServer
	// shares; authHandler serves /auth on both.
	publicChain httpapi.ChainConfig
	authHandler *authz.Handler
	admin       *echo.Echo
	metrics     *metrics

	creditsSpent prometheus.Counter
}

func serve(ctx context.Context, cfg *config, log *slog.Logger) error {
	log.Info("starting", append([]any{"version", versionString()}, cfg.logAttrs()...)...)
	// GOGC in the environment is the operator's: it is left alone.
	if gogc, set := os.LookupEnv("GOGC"); set {
		log.Info("GOGC is set: KEYGATE_GC_FLOOR does not apply", "gogc", gogc)
	} else {
		defer gcfloor.Start(uint64(cfg.GCFloor)).Stop()
	}
	a, err := newApp(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.close()
	return a.run(ctx)
}

func newApp(ctx context.Context, cfg *config, log *slog.Logger) (*app, error) {
	leases := &creditLeases{}
	store, err := openStoreWith(ctx, cfg, log, leases)
	if err != nil {
		return nil, err
	}
	a := &app{cfg: cfg, log: log, store: store}
	if err := a.migrate(ctx); err != nil {
		a.close()
		return nil, err
	}
	if a.limits, err = newLimits(cfg, log); err != nil {
		a.close()
		return nil, err
	}
	if err := a.limits.addCredits(cfg, store, leases, log); err != nil {
		a.close()
		return nil, err
	}
	if err := a.buildServers(); err != nil {
		a.close()
		return nil, err
	}
	return a, nil
}

func (a *app) migrate(ctx context.Context) error {
	if !a.cfg.AutoMigrate {
		return nil
	}
	r, err := migrator(a.store)
	if err != nil {
		return err
	}
	n, err := r.Up(ctx)
	if err != nil {
		return err
	}
	a.log.Info("migrations applied", "count", n)
	return nil
}

// newEcho is one listener's Echo, with keygate's middleware (request id,
// access log, recovery, metrics, body guard) in one httpapi.Chain.
func newEcho(log *slog.Logger, chain httpapi.ChainConfig) *echo.Echo {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.IPExtractor = echo.ExtractIPDirect()
	e.HTTPErrorHandler = httpapi.ErrorHandler(log)
	chain.Log = log
	e.Use(httpapi.Chain(chain))
	return e
}

func (a *app) buildServers() error {
	a.metrics = newMetrics()
	bodies := a.bodyGuard()
	a.publicChain = httpapi.ChainConfig{Log: a.log, Bodies: bodies, Observe: a.metrics.observer("public")}
	a.public = newEcho(a.log, a.publicChain)
	a.admin = newEcho(a.log, httpapi.ChainConfig{Bodies: bodies, Observe: a.metrics.observer("admin")})
	a.admin.GET("/metrics", a.metrics.handler())
	a.metrics.reg.MustRegister(a.limits.collectors()...)
	a.metrics.reg.MustRegister(storeCollectors(a.store)...)
	a.metrics.reg.MustRegister(a.creditCollectors()...)
	vault, err := a.vault()
	if err != nil {
		return err
	}
	if err := a.registerAuth(); err != nil {
		return err
	}
	if err := a.registerAdmin(vault); err != nil {
		return err
	}
	if err := a.registerGateway(vault); err != nil {
		return err
	}
	if err := a.registerSecretScanning(); err != nil {
		return err
	}
	for _, e := range []*echo.Echo{a.public, a.admin} {
		e.GET("/healthz", healthz)
	}
	a.public.GET("/api/health", health)
	a.public.GET("/readyz", a.readyz)
	return nil
}

func (a *app) registerAdmin(vault *keystore.Vault) error {
	api, err := admin.New(admin.Config{Store: a.store, AdminToken: a.cfg.AdminToken, Authorizer: a.authz, Logger: a.log})
	if err != nil {
		return err
	}
	g := a.admin.Group("/admin/v1")
	api.Register(g)
	api.RegisterCredentials(g, vault)
	api.RegisterCredits(g, a.store)
	ui, err := console.New()
	if err != nil {
		return err
	}
	ui.Register(a.admin.Group("/ui"))
	return nil
}

// healthzBody is /healthz's answer, as c.JSON would write it, encoded once;
// healthzType its Content-Type, a value slice shared by every answer (with
// no room to append to) rather than one that Echo's Header().Set makes per
// request.
var (
	healthzBody = []byte(`{"status":"ok"}` + "\n")
	healthzType = []string{echo.MIMEApplicationJSON}[:1:1]
)

func healthz(c echo.Context) error {
	c.Response().Header()[echo.HeaderContentType] = healthzType
	return c.JSONBlob(http.StatusOK, healthzBody)
}

// healthzFast is healthz for httpapi.FastServer.
func healthzFast(x *httpapi.Exchange) {
	x.ResponseHeader()[echo.HeaderContentType] = healthzType
	x.JSONBlob(http.StatusOK, healthzBody)
}

func health(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{
		"status": "ok", "version": versionString(), "timestamp": time.Now().UTC().Format(time.RFC3339),
	})
}

// readyz: ready when the database answers. Redis down is "degraded" (the
// limiter falls back to memory); so is the database down while the key
// cache still holds keys, which this replica goes on verifying; the
// database down with nothing cached is not ready (503).
func (a *app) readyz(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
	defer cancel()
	checks := map[string]string{"database": "ok", "limiter": a.limits.state()}
	status, code := "ok", http.StatusOK
	if checks["limiter"] == "fallback" {
		status = "degraded"
	}
	if err := a.store.Ping(ctx); err != nil {
		checks["database"] = "unavailable"
		status, code = "unavailable", http.StatusServiceUnavailable
		if a.store.Stats().CacheSize > 0 {
			status, code = "degraded", http.StatusOK
		}
	}
	return c.JSON(code, map[string]any{"status": status, "checks": checks})
}

// run serves both listeners until ctx ends, then shuts down gracefully:
// stop accepting, drain in-flight requests within the shutdown timeout.
func (a *app) run(ctx context.Context) error {
	pub, err := net.Listen("tcp", a.cfg.Listen)
	if err != nil {
		return fmt.Errorf("public listener: %w", err)
	}
	adm, err := net.Listen("tcp", a.cfg.AdminListen)
	if err != nil {
		pub.Close()
		return fmt.Errorf("admin listener: %w", err)
	}
	servers := []server{a.publicServer(), newServer(a.admin)}
	listeners := []net.Listener{pub, adm}
	if a.cfg.PprofListen != "" {
		l, err := net.Listen("tcp", a.cfg.PprofListen)
		if err != nil {
			pub.Close()
			adm.Close()
			return fmt.Errorf("pprof listener: %w", err)
		}
		servers, listeners = append(servers, newServer(pprofHandler())), append(listeners, l)
		a.log.Warn("profiling endpoints open", "pprof", l.Addr().String())
	}
	errc := make(chan error, len(servers))
	for i, l := range listeners {
		go func() { errc <- serveOn(servers[i], l) }()
	}
	a.log.Info("listening", "public", pub.Addr().String(), "admin", adm.Addr().String())
	if fn, ok := ctx.Value(readyKey{}).(readyFunc); ok {
		fn(pub.Addr().String(), adm.Addr().String())
	}
	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	return errors.Join(err, a.shutdown(servers))
}

// server is what serves a listener: an http.Server, or the public
// listener's httpapi.FastServer in front of one.
type server interface {
	Serve(net.Listener) error
	Shutdown(context.Context) error
}

// publicHandler is what the public listener serves: Echo behind the
// rewrite of Odoo's path forms (proxy.CanonicalPaths).
func (a *app) publicHandler() http.Handler {
	return httpapi.ReserveStack(proxy.CanonicalPaths(a.public))
}

// publicServer serves the public listener: /auth and /healthz through
// httpapi.FastServer, which hands every other request to net/http
// (KEYGATE_FAST_PATH=false: net/http serves them all).
func (a *app) publicServer() server {
	srv := newServer(a.publicHandler())
	if !a.cfg.FastPath {
		return srv
	}
	fast := httpapi.NewFastServer(srv, httpapi.FastConfig{
		Chain: a.publicChain,
		Routes: map[string]httpapi.FastRoute{
			"/auth":    {Methods: authz.FastMethods, Serve: a.authHandler.Fast},
			"/healthz": {Methods: []string{http.MethodGet}, Serve: healthzFast},
		},
		Headers: authz.RequestHeaders,
	})
	a.metrics.reg.MustRegister(
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "keygate_fast_path_requests_total",
			Help: "Requests of the public listener that the fast path answered (KEYGATE_FAST_PATH).",
		}, func() float64 { return float64(fast.Served()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "keygate_fast_path_handoffs_total",
			Help: "Connections of the public listener that the fast path gave to net/http, at a request it does not answer.",
		}, func() float64 { return float64(fast.HandedOff()) }),
	)
	return fast
}

// newServer: headers within 10 s and maxHeaderBytes; bodies within the
// deadline that GuardBodies sets for each (no server-wide ReadTimeout:
// once a body is read, an expiring read deadline would cancel the
// request's context while its handler waits for Odoo).
func newServer(h http.Handler) *http.Server {
	return &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 120 * time.Second,
		MaxHeaderBytes: maxHeaderBytes}
}

// maxHeaderBytes bounds a request's line and headers, which a connection
// holds in memory until they end: net/http's default, 1 MiB, would let
// each of a stranger's slow connections hold 1 MiB for ReadHeaderTimeout.
// 64 KiB is 8 times what nginx accepts by default (large_client_header_buffers
// 4 8k: 8 KiB a line); a request over it is answered 431 by net/http.
const maxHeaderBytes = 64 << 10

func serveOn(srv server, l net.Listener) error {
	if err := srv.Serve(l); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func (a *app) shutdown(servers []server) error {
	ctx, cancel := context.WithTimeout(context.Background(), a.cfg.ShutdownWait)
	defer cancel()
	a.log.Info("shutting down", "timeout", a.cfg.ShutdownWait.String())
	errs := make([]error, len(servers))
	for i, srv := range servers {
		errs[i] = srv.Shutdown(ctx)
	}
	return errors.Join(errs...)
}

// close releases what newApp opened, in reverse order; the store flushes
// pending usage as it closes.
func (a *app) close() {
	if a.gateway != nil {
		if err := a.gateway.Close(); err != nil {
			a.log.Error("closing the gateway", "error", err)
		}
	}
	if a.limits != nil {
		if err := a.limits.close(); err != nil {
			a.log.Error("closing the limiter", "error", err)
		}
	}
	if err := a.store.Close(); err != nil {
		a.log.Error("closing the store", "error", err)
	}
	a.log.Info("stopped")
}

// registerAuth mounts the forward-auth check on the public listener.
func (a *app) registerAuth() error {
	defaults, _ := limiter.ParseLimits(a.cfg.DefaultLimits) // validated with the config
	failed, _ := limiter.ParseLimit(a.cfg.FailedAuth)
	trusted, _ := a.cfg.trustedProxies()
	az, err := authz.New(authz.Config{
		Keys: a.store, Limiter: a.limits.Limiter, LimiterTook: func(d time.Duration) { a.metrics.limiter.Observe(d.Seconds()) }, FailedAuthLimit: failed, DefaultLimits: defaults,
		TrustedProxies: trusted, Usage: a.store.RecordUse, Logger: a.log,
		Credits: a.limits.credits, Spent: a.spent,
	})
	if err != nil {
		return err
	}
	a.authz = az
	a.authHandler = authz.NewHandler(az)
	a.authHandler.Register(a.public.Group(""))
	return nil
}

// vault keeps service-account secrets sealed under KEYGATE_SECRET_KEY;
// without the key it lists credentials but can neither store nor open them.
func (a *app) vault() (*keystore.Vault, error) {
	sealer, err := a.cfg.sealer()
	if err != nil {
		return nil, err
	}
	return a.store.Vault(sealer), nil
}

// registerGateway mounts the Odoo JSON-RPC and XML-RPC gateway.
func (a *app) registerGateway(vault *keystore.Vault) error {
	accounts, err := proxy.NewAccounts(proxy.AccountsConfig{Default: a.cfg.odooAccount(), Vault: vault})
	if err != nil {
		return err
	}
	a.gateway, err = proxy.New(proxy.Config{Authorizer: a.authz, Accounts: accounts,
		Transport: odooTransport{next: odoo.NewTransport(), m: a.metrics},
		Timeout:   a.cfg.OdooTimeout, MaxBody: a.cfg.MaxBody, Logger: a.log,
		Sessions: a.store.Sessions(a.cfg.sessionConfig())})
	if err != nil {
		return err
	}
	a.store.OnCredentialChange(proxy.ForgetCredential(accounts, a.gateway.Client()))
	a.gateway.Register(a.public.Group(""))
	return a.registerREST(accounts)
}

// registerREST mounts the REST facade (/api/<version>/<resource>,
// /api/openapi.json) on the public listener, sharing the gateway's client
// and so its cache of service-account uids.
func (a *app) registerREST(accounts proxy.AccountResolver) error {
	resources, err := rest.LoadResources(a.cfg.Resources)
	if err != nil {
		return err
	}
	facade, err := rest.New(rest.Config{Authorizer: a.authz, Accounts: accounts,
		Client: a.gateway.Client(), Resources: resources, Logger: a.log})
	if err != nil {
		return err
	}
	facade.Register(a.public.Group(""))
	return nil
}
