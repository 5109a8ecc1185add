package keystore

import (
	"context"
	"encoding/hex"
	"time"

	"github.com/jackc/pgx/v5"
	"gorm.io/gorm"
)

// notifyChannel carries the hex hash of every changed key between replicas.
const notifyChannel = "keygate_keys"

// Verify checks a presented credential. It returns the verified key, or
// ErrMalformed (checked without storage), ErrUnknown, ErrRevoked or
// ErrExpired (these two with the key), or ErrUnavailable when storage
// could not answer. A cached key costs no I/O and one allocation: the
// Verified is the caller's own (the cache keeps its fields apart).
func (s *Store) Verify(ctx context.Context, presented string) (*Verified, error) {
	now := s.cfg.Now().UnixNano()
	h, v, ok, err := s.cached(presented, now)
	if err != nil {
		return nil, err
	}
	if !ok {
		if v, now, err = s.fill(ctx, h); err != nil {
			return nil, err
		}
	}
	if v == nil {
		return nil, ErrUnknown
	}
	return v, verdict(v, now)
}

// cached looks presented up in the verification cache at now (Unix ns):
// its hash, and what the cache holds of it when ok; ErrMalformed for a credential that is no
// key. Only a well-formed key is ever looked up in storage, so only one is
// ever cached: a hash the cache holds is a well-formed key's (SHA-256 does
// not collide), and is not checked again (the digits and the CRC-32 were
// 7 % of a cached /auth's CPU). The length and prefix are checked first,
// which bounds what is hashed; the rest only on a miss.
func (s *Store) cached(presented string, now int64) (h Hash, v *Verified, ok bool, err error) {
	if !plausible(presented) {
		return h, nil, false, ErrMalformed
	}
	h = HashString(presented)
	if v, ok = s.cache.get(&h, now); !ok && !wellFormed(presented) {
		return h, nil, false, ErrMalformed
	}
	return h, v, ok, nil
}

// verdict is the state of v at now (Unix ns): revoked, expired or valid.
// The cache's expiry and the key's are read on one clock read.
func verdict(v *Verified, now int64) error {
	switch {
	case v.until == untilRevoked:
		return ErrRevoked
	case v.until == untilNever:
		return nil
	case now >= v.until:
		return ErrExpired
	}
	return nil
}

// fill reads a key by hash and caches what it found, unless a change to any
// key was announced meanwhile (the epoch moved): then the answer is used
// once and not cached, so a stale key never outlives its invalidation.
// now is the time after the lookup (Unix ns), which the entry's expiry and
// the key's verdict are reckoned from.
func (s *Store) fill(ctx context.Context, h Hash) (v *Verified, now int64, err error) {
	epoch := s.epoch.Load()
	ctx, cancel := context.WithTimeout(ctx, s.cfg.QueryTimeout)
	defer cancel()
	v, err = s.readVerified(ctx, h) // nil: no such key
	if err != nil {
		return nil, 0, err
	}
	now = s.cfg.Now().UnixNano()
	if s.epoch.Load() == epoch {
		v = s.cache.set(&h, v, now)
	}
	return v, now, nil
}

// invalidateLocal drops one key from this replica's cache.
func (s *Store) invalidateLocal(hash []byte) {
	s.epoch.Add(1)
	var h Hash
	copy(h[:], hash)
	s.cache.invalidate(&h)
}

// notify announces a change to every replica when tx commits (Postgres).
func (s *Store) notify(tx *gorm.DB, hash []byte) error {
	if s.dialect != DialectPostgres {
		return nil
	}
	return tx.Exec("SELECT pg_notify(?, ?)", notifyChannel, hex.EncodeToString(hash)).Error
}

// listen keeps a LISTEN connection open and drops announced keys from the
// cache. When the connection is lost the cache stays: with the database
// down, cached keys go on verifying (and nothing can be revoked meanwhile);
// when it comes back, the whole cache is dropped, since notifications sent
// in between are gone. A replica cut off from a database that others still
// write to serves its cached keys for at most CacheTTL.
//
// ready is closed once LISTEN first takes effect.
func (s *Store) listen(ctx context.Context, ready chan<- struct{}) {
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		connected := false
		err := s.listenOnce(ctx, &connected, ready)
		if ctx.Err() != nil {
			return
		}
		if connected {
			ready, backoff = nil, 100*time.Millisecond
		}
		s.log.Warn("keystore listener lost; retrying", "error", err, "retry_in", backoff)
		select {
		case <-ctx.Done():
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 10*time.Second)
	}
}

func (s *Store) listenOnce(ctx context.Context, connected *bool, ready chan<- struct{}) error {
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	conn, err := pgx.Connect(cctx, s.dsn)
	cancel()
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "LISTEN "+notifyChannel+"; LISTEN "+credentialChannel); err != nil {
		return err
	}
	s.epoch.Add(1)
	s.cache.invalidateAll() // whatever was announced before LISTEN took effect
	s.credentialChanged(AllCredentials)
	*connected = true
	if ready != nil {
		close(ready)
	}
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		if n.Channel == credentialChannel {
			s.credentialChanged(n.Payload)
			continue
		}
		if b, err := hex.DecodeString(n.Payload); err == nil && len(b) == len(Hash{}) {
			s.invalidateLocal(b)
		}
	}
}

// watchSQLite notices changes that another process (such as the keys CLI)
// commits to the SQLite file, through PRAGMA data_version, and then drops
// the whole cache: SQLite has no LISTEN/NOTIFY, and this costs one tiny
// query a second instead of one per request.
func (s *Store) watchSQLite(ctx context.Context, ready chan<- struct{}) {
	t := time.NewTicker(s.cfg.WatchInterval)
	defer t.Stop()
	last, err := s.dataVersion(ctx)
	if err != nil {
		last = -1
	}
	close(ready)
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		v, err := s.dataVersion(ctx)
		if err != nil {
			continue
		}
		if v != last {
			s.epoch.Add(1)
			s.cache.invalidateAll()
			s.credentialChanged(AllCredentials)
		}
		last = v
	}
}

func (s *Store) dataVersion(ctx context.Context) (int64, error) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.QueryTimeout)
	defer cancel()
	var v int64
	err := s.sqlDB.QueryRowContext(ctx, "PRAGMA data_version").Scan(&v)
	return v, err
}
