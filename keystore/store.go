package keystore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/glebarez/sqlite"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// Dialects, as Store.Dialect reports them.
const (
	DialectPostgres = "postgres"
	DialectSQLite   = "sqlite"
)

// Config configures a Store. Zero values take the documented defaults.
type Config struct {
	// URL is "sqlite://<path>" (default "sqlite://keygate.db") or
	// "postgres://…" / "postgresql://…".
	URL string
	// Logger receives the store's own logs (default: discard).
	Logger *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
	// KeyPrefix starts every new key (default "kg").
	KeyPrefix string
	// ValidateScope and ValidateRateLimit check one entry of a key's scopes
	// and rate limits; they belong to authz and limiter, which cmd wires in.
	// Nil accepts any non-empty entry without spaces.
	ValidateScope     func(string) error
	ValidateRateLimit func(string) error
	// Compile, when set, turns a key into a policy once, when it enters
	// the verification cache (Verified.Policy). It is given the record's
	// id, owner, status, expiry, credential, lists and credits, nothing
	// else. An error makes Verify fail.
	Compile func(*Record) (any, error)
	// CacheSize bounds the verification cache (default 100000 entries).
	CacheSize int
	// CacheTTL is how long a verified key stays cached: the safety net
	// behind invalidation (default 60s). NegativeTTL is how long an unknown
	// hash is remembered (default 5s).
	CacheTTL    time.Duration
	NegativeTTL time.Duration
	// FlushInterval is how often last-used times and usage counts are
	// written (default 5s).
	FlushInterval time.Duration
	// QueryTimeout bounds each database call made on the request path
	// (default 2s).
	QueryTimeout time.Duration
	// WatchInterval is how often a SQLite store checks whether another
	// process changed the file, to drop its cache (default 1s).
	WatchInterval time.Duration
	// Credits are the limiter's credit leases, reclaimed by a change of a
	// key's credits (nil: nothing is leased, as for the CLI).
	Credits CreditLeases
	// OnQuery, when set, is called for every SQL statement run (for tests
	// and metrics).
	OnQuery func()
}

func (c *Config) setDefaults() {
	if c.URL == "" {
		c.URL = "sqlite://keygate.db"
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.KeyPrefix == "" {
		c.KeyPrefix = DefaultPrefix
	}
	if c.CacheSize <= 0 {
		c.CacheSize = 100_000
	}
	if c.CacheTTL <= 0 {
		c.CacheTTL = time.Minute
	}
	if c.NegativeTTL <= 0 {
		c.NegativeTTL = 5 * time.Second
	}
	if c.FlushInterval <= 0 {
		c.FlushInterval = 5 * time.Second
	}
	if c.WatchInterval <= 0 {
		c.WatchInterval = time.Second
	}
	if c.QueryTimeout <= 0 {
		c.QueryTimeout = 2 * time.Second
	}
}

// Store keeps API keys, their audit log and usage. It is safe for
// concurrent use. Close stops its goroutines and flushes pending usage.
type Store struct {
	cfg     Config
	log     *slog.Logger
	db      *gorm.DB
	sqlDB   *sql.DB
	dialect string
	dsn     string

	cache     *cache
	shared    interner // values the cached keys share
	epoch     atomic.Uint64
	usage     *usage
	credWatch credentialWatchers

	stop      context.CancelFunc
	wg        sync.WaitGroup
	closeOnce sync.Once
}

// Open connects to the database that cfg.URL names. It does not migrate:
// run migrations with the migrations package first.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	cfg.setDefaults()
	if err := ValidatePrefix(cfg.KeyPrefix); err != nil {
		return nil, err
	}
	dialect, dsn, err := parseURL(cfg.URL)
	if err != nil {
		return nil, err
	}
	s := &Store{cfg: cfg, log: cfg.Logger, dialect: dialect, dsn: dsn, usage: newUsage()}
	if err := s.connect(ctx); err != nil {
		return nil, err
	}
	s.cache = newCache(cfg)
	s.start()
	return s, nil
}

func parseURL(u string) (dialect, dsn string, err error) {
	switch {
	case strings.HasPrefix(u, "postgres://"), strings.HasPrefix(u, "postgresql://"):
		return DialectPostgres, u, nil
	case strings.HasPrefix(u, "sqlite://"):
		path := strings.TrimPrefix(u, "sqlite://")
		if path == "" {
			return "", "", fmt.Errorf("keystore: database URL %q names no file", u)
		}
		return DialectSQLite, sqliteDSN(path), nil
	}
	return "", "", fmt.Errorf("keystore: database URL must start with sqlite:// or postgres://, got %q", RedactURL(u))
}

func sqliteDSN(path string) string {
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	return path + sep + "_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_txlock=immediate"
}

// RedactURL returns s with its password hidden, as url.URL.Redacted does,
// for logs and error messages; a string that does not parse as a URL is
// hidden whole, since no one can tell which part of it is secret. The one
// redaction of URLs in keygate.
func RedactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}

func (s *Store) connect(ctx context.Context) error {
	var dial gorm.Dialector
	if s.dialect == DialectPostgres {
		dial = postgres.Open(s.dsn)
	} else {
		dial = sqlite.Open(s.dsn)
	}
	db, err := gorm.Open(dial, &gorm.Config{
		Logger:                 logger.Discard,
		NowFunc:                func() time.Time { return s.now() },
		SkipDefaultTransaction: true,
		TranslateError:         true,
	})
	if err != nil {
		return fmt.Errorf("keystore: open %s: %w", s.dialect, err)
	}
	s.db = db
	if s.sqlDB, err = db.DB(); err != nil {
		return fmt.Errorf("keystore: open %s: %w", s.dialect, err)
	}
	s.tunePool()
	if s.cfg.OnQuery != nil {
		s.registerQueryHook()
	}
	return s.Ping(ctx)
}

func (s *Store) tunePool() {
	if s.dialect == DialectSQLite {
		// One writer at a time is what SQLite allows; one connection makes
		// that explicit instead of a busy-wait.
		s.sqlDB.SetMaxOpenConns(1)
		return
	}
	s.sqlDB.SetMaxOpenConns(20)
	s.sqlDB.SetMaxIdleConns(10)
	s.sqlDB.SetConnMaxIdleTime(5 * time.Minute)
}

func (s *Store) registerQueryHook() {
	cb := func(*gorm.DB) { s.cfg.OnQuery() }
	_ = s.db.Callback().Query().After("gorm:query").Register("keygate:count_query", cb)
	_ = s.db.Callback().Create().After("gorm:create").Register("keygate:count_create", cb)
	_ = s.db.Callback().Update().After("gorm:update").Register("keygate:count_update", cb)
	_ = s.db.Callback().Delete().After("gorm:delete").Register("keygate:count_delete", cb)
	_ = s.db.Callback().Raw().After("gorm:raw").Register("keygate:count_raw", cb)
	_ = s.db.Callback().Row().After("gorm:row").Register("keygate:count_row", cb)
}

// listenWait is how long Open waits for the first LISTEN on Postgres.
const listenWait = 5 * time.Second

func (s *Store) start() {
	ctx, cancel := context.WithCancel(context.Background())
	s.stop = cancel
	s.wg.Add(1)
	go func() { defer s.wg.Done(); s.flushLoop(ctx) }()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		every(ctx, max(s.cfg.CacheTTL, time.Second), func() { s.cache.sweep(s.cfg.Now().UnixNano()) })
	}()
	s.wg.Add(1)
	if s.dialect == DialectPostgres {
		// Wait, a little, for LISTEN to take effect, so that keys are not
		// cached before it: its first connection drops the whole cache.
		ready := make(chan struct{})
		go func() { defer s.wg.Done(); s.listen(ctx, ready) }()
		select {
		case <-ready:
		case <-time.After(listenWait):
			s.log.Warn("keystore listener not connected yet; keys cached until it is will be dropped then", "waited", listenWait)
		}
	} else {
		ready := make(chan struct{})
		go func() { defer s.wg.Done(); s.watchSQLite(ctx, ready) }()
		<-ready // the first data_version is read before any key is cached
	}
}

// Close stops the background work, writes pending usage and closes the
// database. It is safe to call more than once.
func (s *Store) Close() error {
	var err error
	s.closeOnce.Do(func() {
		s.stop()
		s.wg.Wait()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		err = errors.Join(s.Flush(ctx), s.sqlDB.Close())
	})
	return err
}

// Dialect is DialectPostgres or DialectSQLite.
func (s *Store) Dialect() string { return s.dialect }

// SQLDB is the underlying pool, for migrations. Do not close it.
func (s *Store) SQLDB() *sql.DB { return s.sqlDB }

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.QueryTimeout)
	defer cancel()
	if err := s.sqlDB.PingContext(ctx); err != nil {
		return fmt.Errorf("%w: ping %s: %w", ErrUnavailable, s.dialect, err)
	}
	return nil
}

func (s *Store) now() time.Time { return s.cfg.Now().UTC().Truncate(time.Microsecond) }

func newID() string { return uuid.Must(uuid.NewV7()).String() }

// dbErr classifies a database error: a connection failure or timeout is
// ErrUnavailable, anything else is returned wrapped as it is.
func dbErr(op string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) || isConnErr(err) {
		return fmt.Errorf("keystore: %s: %w: %w", op, ErrUnavailable, err)
	}
	return fmt.Errorf("keystore: %s: %w", op, err)
}

func isConnErr(err error) bool {
	var (
		opErr   *net.OpError
		connErr *pgconn.ConnectError
	)
	return errors.As(err, &opErr) || errors.As(err, &connErr) || pgconn.Timeout(err) ||
		errors.Is(err, driver.ErrBadConn) || errors.Is(err, sql.ErrConnDone) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
}

// Stats is what a Store reports for metrics.
type Stats struct {
	CacheHits, CacheMisses uint64
	CacheSize              int
	// LastFlush is when usage was last written (zero before the first
	// write); Pending is how many keys have usage waiting for the next.
	LastFlush time.Time
	Pending   int
	DB        sql.DBStats
}

// Stats returns the store's counters now.
func (s *Store) Stats() Stats {
	hits, misses := s.cache.counts()
	last, pending := s.usage.status()
	return Stats{CacheHits: hits, CacheMisses: misses, CacheSize: s.cache.len(),
		LastFlush: last, Pending: pending, DB: s.sqlDB.Stats()}
}
