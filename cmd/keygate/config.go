package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"time"

	"github.com/caarlos0/env/v11"

	"github.com/keygate/keygate/admin"
	"github.com/keygate/keygate/internal/gcfloor"
	"github.com/keygate/keygate/keystore"
	"github.com/keygate/keygate/limiter"
	"github.com/keygate/keygate/odoo"
)

// config is every setting of keygate. Each has a KEYGATE_* variable; the
// ones a person types also have a flag (see flags.go). Defaults are in the
// tags and in the README's configuration table.
type config struct {
	Listen        string        `env:"LISTEN" envDefault:":8080"`
	AdminListen   string        `env:"ADMIN_LISTEN" envDefault:"127.0.0.1:8081"`
	DatabaseURL   string        `env:"DATABASE_URL" envDefault:"sqlite://keygate.db"`
	AutoMigrate   bool          `env:"AUTO_MIGRATE" envDefault:"true"`
	RedisURL      string        `env:"REDIS_URL"`
	RedisTimeout  time.Duration `env:"REDIS_TIMEOUT" envDefault:"50ms"`
	RedisLease    int64         `env:"REDIS_LEASE" envDefault:"512"`
	CreditsLease  int64         `env:"CREDITS_LEASE" envDefault:"100"`
	KeyPrefix     string        `env:"KEY_PREFIX" envDefault:"kg"`
	DefaultLimits []string      `env:"DEFAULT_RATE_LIMITS" envDefault:"100/1s,10000/1h"`
	FailedAuth    string        `env:"FAILED_AUTH_LIMIT" envDefault:"30/1m"`
	TrustedProxy  []string      `env:"TRUSTED_PROXIES" envDefault:"127.0.0.0/8,::1/128"`
	AdminToken    string        `env:"ADMIN_TOKEN"`
	LogLevel      string        `env:"LOG_LEVEL" envDefault:"info"`
	CacheSize     int           `env:"CACHE_SIZE" envDefault:"100000"`
	CacheTTL      time.Duration `env:"CACHE_TTL" envDefault:"60s"`
	NegativeTTL   time.Duration `env:"NEGATIVE_CACHE_TTL" envDefault:"5s"`
	FlushInterval time.Duration `env:"USAGE_FLUSH_INTERVAL" envDefault:"5s"`
	ShutdownWait  time.Duration `env:"SHUTDOWN_TIMEOUT" envDefault:"15s"`
	OdooURL       string        `env:"ODOO_URL"`
	OdooDB        string        `env:"ODOO_DB"`
	OdooLogin     string        `env:"ODOO_LOGIN"`
	OdooPassword  string        `env:"ODOO_PASSWORD"`
	OdooTimeout   time.Duration `env:"ODOO_TIMEOUT" envDefault:"60s"`
	MaxBody       int64         `env:"MAX_BODY" envDefault:"10485760"`
	ReadTimeout   time.Duration `env:"READ_TIMEOUT" envDefault:"330s"`
	// UnauthBodyBudget bounds the body bytes held by requests not yet
	// authenticated, on both listeners together (0: no bound).
	UnauthBodyBudget int64    `env:"UNAUTH_BODY_BUDGET" envDefault:"16777216"`
	SecretKey        string   `env:"SECRET_KEY"`
	SecretKeyPrev    []string `env:"SECRET_KEY_PREVIOUS"`
	GitHubKeysURL    string   `env:"GITHUB_KEYS_URL" envDefault:"https://api.github.com/meta/public_keys/secret_scanning"`
	Resources        string   `env:"RESOURCES"`
	PprofListen      string   `env:"PPROF_LISTEN"`
	// GCFloor is the heap Go's collector may grow to before it runs, while
	// twice the live heap is less (internal/gcfloor); 0: Go's default.
	GCFloor int64 `env:"GC_FLOOR" envDefault:"16777216"`
	// FastPath: the public listener reads /auth and /healthz requests
	// itself (httpapi.FastServer); false: net/http reads every request.
	FastPath bool `env:"FAST_PATH" envDefault:"true"`

	// CredentialPassword is read by `keygate credentials create|update
	// --password-env` only, never by serve.
	CredentialPassword string        `env:"CREDENTIAL_PASSWORD"`
	SessionIdle        time.Duration `env:"SESSION_IDLE_TIMEOUT" envDefault:"24h"`
	SessionMaxAge      time.Duration `env:"SESSION_MAX_AGE" envDefault:"168h"`
	SessionPerKey      int           `env:"SESSION_MAX_PER_KEY" envDefault:"100"`
	SessionTotal       int           `env:"SESSION_MAX_TOTAL" envDefault:"100000"`
}

// sessionConfig bounds the web sessions of /web/session/authenticate.
func (c *config) sessionConfig() keystore.SessionConfig {
	return keystore.SessionConfig{IdleTimeout: c.SessionIdle, MaxAge: c.SessionMaxAge, MaxPerKey: c.SessionPerKey, MaxTotal: c.SessionTotal}
}

// odooAccount is the default service account, or nil without KEYGATE_ODOO_URL.
func (c *config) odooAccount() *odoo.Account {
	if c.OdooURL == "" {
		return nil
	}
	return &odoo.Account{Name: "default", URL: c.OdooURL, DB: c.OdooDB, Login: c.OdooLogin, Password: odoo.Secret(c.OdooPassword)}
}

// loadConfig reads the KEYGATE_* variables of environ.
func loadConfig(environ map[string]string) (config, error) {
	var c config
	err := env.ParseWithOptions(&c, env.Options{Prefix: "KEYGATE_", Environment: environ})
	if err != nil {
		return c, fmt.Errorf("configuration: %w", err)
	}
	return c, nil
}

// validate reports every problem at once.
func (c *config) validate() error {
	var errs []error
	add := func(name string, err error) {
		if err != nil {
			errs = append(errs, fmt.Errorf("KEYGATE_%s: %w", name, err))
		}
	}
	add("KEY_PREFIX", keystore.ValidatePrefix(c.KeyPrefix))
	_, err := limiter.ParseLimits(c.DefaultLimits)
	add("DEFAULT_RATE_LIMITS", err)
	_, err = limiter.ParseLimit(c.FailedAuth)
	add("FAILED_AUTH_LIMIT", err)
	_, err = c.trustedProxies()
	add("TRUSTED_PROXIES", err)
	add("ADMIN_TOKEN", checkToken(c.AdminToken))
	add("LOG_LEVEL", new(slog.Level).UnmarshalText([]byte(c.LogLevel)))
	add("DATABASE_URL", checkDatabaseURL(c.DatabaseURL))
	if c.SecretKey != "" {
		_, err := keystore.ParseSecretKey(c.SecretKey)
		add("SECRET_KEY", err)
	}
	add("SECRET_KEY_PREVIOUS", c.checkPreviousKeys())
	add("GITHUB_KEYS_URL", checkHTTPURL(c.GitHubKeysURL))
	if acct := c.odooAccount(); acct != nil {
		add("ODOO_*", acct.Validate())
	}
	add("PPROF_LISTEN", checkPprofListen(c.PprofListen))
	if c.RedisLease < 0 || c.RedisLease > limiter.MaxCount {
		add("REDIS_LEASE", fmt.Errorf("must be from 0 to %d requests", limiter.MaxCount))
	}
	if c.CreditsLease < 1 || c.CreditsLease > keystore.MaxCredits {
		add("CREDITS_LEASE", fmt.Errorf("must be from 1 to %d credits", keystore.MaxCredits))
	}
	if c.GCFloor < 0 || c.GCFloor > gcfloor.MaxFloor {
		add("GC_FLOOR", fmt.Errorf("must be 0 (Go's default) or a number of bytes up to %d", int64(gcfloor.MaxFloor)))
	}
	if c.MaxBody < 1 {
		add("MAX_BODY", errors.New("must be a positive number of bytes"))
	}
	for name, bad := range map[string]bool{"SESSION_IDLE_TIMEOUT": c.SessionIdle <= 0, "SESSION_MAX_AGE": c.SessionMaxAge <= 0,
		"SESSION_MAX_PER_KEY": c.SessionPerKey < 1, "SESSION_MAX_TOTAL": c.SessionTotal < 1} {
		if bad {
			add(name, errors.New("must be positive"))
		}
	}
	if c.ReadTimeout <= 0 {
		add("READ_TIMEOUT", errors.New("must be a positive duration"))
	}
	if c.UnauthBodyBudget < 0 {
		add("UNAUTH_BODY_BUDGET", errors.New("must be a number of bytes, 0 for no bound"))
	}
	if c.RedisURL != "" && !strings.HasPrefix(c.RedisURL, "redis") {
		add("REDIS_URL", errors.New("must start with redis://, rediss://, redis+sentinel:// or redis+cluster://"))
	}
	return errors.Join(errs...)
}

func checkToken(t string) error {
	if t != "" && len(t) < admin.MinTokenLen {
		return fmt.Errorf("must be at least %d characters", admin.MinTokenLen)
	}
	return nil
}

func checkDatabaseURL(u string) error {
	if strings.HasPrefix(u, "sqlite://") || strings.HasPrefix(u, "postgres://") || strings.HasPrefix(u, "postgresql://") {
		return nil
	}
	return errors.New("must start with sqlite:// or postgres://")
}

func (c *config) trustedProxies() ([]netip.Prefix, error) {
	out := make([]netip.Prefix, 0, len(c.TrustedProxy))
	for _, s := range c.TrustedProxy {
		p, err := keystore.ParseNetwork(strings.TrimSpace(s))
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

func (c *config) logLevel() slog.Level {
	var l slog.Level
	_ = l.UnmarshalText([]byte(c.LogLevel))
	return l
}

// logAttrs is the effective configuration for the start-up log, with
// secrets redacted.
func (c *config) logAttrs() []any {
	return []any{
		"listen", c.Listen, "admin_listen", c.AdminListen,
		"database_url", keystore.RedactURL(c.DatabaseURL), "auto_migrate", c.AutoMigrate,
		"redis_url", keystore.RedactURL(c.RedisURL), "redis_timeout", c.RedisTimeout.String(), "redis_lease", c.RedisLease,
		"credits_lease", c.CreditsLease,
		"key_prefix", c.KeyPrefix, "default_rate_limits", c.DefaultLimits, "failed_auth_limit", c.FailedAuth,
		"trusted_proxies", c.TrustedProxy, "admin_token", redacted(c.AdminToken), "log_level", c.LogLevel,
		"cache_size", c.CacheSize, "cache_ttl", c.CacheTTL.String(), "negative_cache_ttl", c.NegativeTTL.String(),
		"usage_flush_interval", c.FlushInterval.String(), "shutdown_timeout", c.ShutdownWait.String(),
		"odoo_url", keystore.RedactURL(c.OdooURL), "odoo_db", c.OdooDB, "odoo_login", c.OdooLogin,
		"odoo_password", redacted(c.OdooPassword), "odoo_timeout", c.OdooTimeout.String(),
		"max_body", c.MaxBody, "secret_key", redacted(c.SecretKey), "resources", c.Resources,
		"secret_key_previous", redacted(strings.Join(c.SecretKeyPrev, ",")), "github_keys_url", c.GitHubKeysURL,
		"session_idle_timeout", c.SessionIdle.String(), "session_max_age", c.SessionMaxAge.String(),
		"session_max_per_key", c.SessionPerKey, "session_max_total", c.SessionTotal,
		"read_timeout", c.ReadTimeout.String(), "unauth_body_budget", c.UnauthBodyBudget,
		"pprof_listen", c.PprofListen, "gc_floor", c.GCFloor, "fast_path", c.FastPath,
	}
}

func redacted(s string) string {
	if s == "" {
		return ""
	}
	return "[redacted]"
}
