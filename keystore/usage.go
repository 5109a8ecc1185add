package keystore

import (
	"context"
	"fmt"
	"hash/maphash"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

const usageShards = 16

// usage accumulates last-used times and hourly counts in memory until the
// next flush. It is sharded so that concurrent requests rarely contend.
type usage struct {
	seed      maphash.Seed
	shards    [usageShards]usageShard
	lastFlush atomic.Int64 // unix nanoseconds of the last successful write
}

type usageShard struct {
	mu     sync.Mutex
	last   map[string]time.Time
	counts map[usageKey]*usageCount
}

type usageKey struct {
	id   string
	hour int64
}

type usageCount struct{ allowed, denied, credits int64 }

func newUsage() *usage {
	u := &usage{seed: maphash.MakeSeed()}
	for i := range u.shards {
		u.shards[i].reset()
	}
	return u
}

func (sh *usageShard) reset() {
	sh.last = map[string]time.Time{}
	sh.counts = map[usageKey]*usageCount{}
}

// RecordUse counts one request by key id, allowed or denied, at time at. It
// does no I/O: counts reach the database at the next flush.
func (s *Store) RecordUse(id string, allowed bool, at time.Time) {
	if allowed {
		s.usage.add(id, at, usageCount{allowed: 1}, true)
	} else {
		s.usage.add(id, at, usageCount{denied: 1}, false)
	}
}

// add adds d to the count of id in the hour of at, under one lock of its
// shard; used: the key was used (allowed) at at.
func (u *usage) add(id string, at time.Time, d usageCount, used bool) {
	sh := &u.shards[maphash.String(u.seed, id)%usageShards]
	k := usageKey{id: id, hour: at.Unix() / 3600}
	sh.mu.Lock()
	c := sh.counts[k]
	if c == nil {
		c = &usageCount{}
		sh.counts[k] = c
	}
	c.allowed += d.allowed
	c.denied += d.denied
	c.credits += d.credits
	if used && at.After(sh.last[id]) {
		sh.last[id] = at
	}
	sh.mu.Unlock()
}

// UsageHour is what one key did in one hour.
type UsageHour struct {
	Hour    time.Time `json:"hour"`
	Allowed int64     `json:"allowed"`
	Denied  int64     `json:"denied"`
	// Credits is how many credits the key spent.
	Credits int64 `json:"credits"`
}

// Usage returns the key's hourly counts since since, oldest first. Counts
// not yet flushed are not included.
func (s *Store) Usage(ctx context.Context, id string, since time.Time) ([]UsageHour, error) {
	var rows []usageRow
	err := s.db.WithContext(ctx).Where("key_id = ? AND hour >= ?", id, since.UTC().Truncate(time.Hour)).
		Order("hour").Find(&rows).Error
	if err != nil {
		return nil, dbErr("usage", err)
	}
	out := make([]UsageHour, len(rows))
	for i, r := range rows {
		out[i] = UsageHour{Hour: r.Hour.UTC(), Allowed: r.Allowed, Denied: r.Denied, Credits: r.Credits}
	}
	return out, nil
}

func (s *Store) flushLoop(ctx context.Context) {
	t := time.NewTicker(s.cfg.FlushInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			fctx, cancel := context.WithTimeout(ctx, 10*s.cfg.QueryTimeout)
			if err := s.Flush(fctx); err != nil {
				s.log.Warn("usage flush failed; will retry", "error", err)
			}
			cancel()
		}
	}
}

// Flush writes pending last-used times and usage counts in one transaction,
// flushBatch keys a statement. On failure the pending data is kept for the
// next try.
func (s *Store) Flush(ctx context.Context) error {
	last, counts := s.usage.take()
	if len(last) == 0 && len(counts) == 0 {
		return nil
	}
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := s.writeLastUsed(tx, last); err != nil {
			return err
		}
		return writeCounts(tx, counts)
	})
	if err != nil {
		s.usage.putBack(last, counts)
		return dbErr("flush usage", err)
	}
	s.usage.lastFlush.Store(s.cfg.Now().UnixNano())
	return nil
}

// status is when usage was last written and how many keys wait.
func (u *usage) status() (time.Time, int) {
	n := 0
	for i := range u.shards {
		sh := &u.shards[i]
		sh.mu.Lock()
		n += len(sh.last)
		sh.mu.Unlock()
	}
	var t time.Time
	if ns := u.lastFlush.Load(); ns != 0 {
		t = time.Unix(0, ns)
	}
	return t, n
}

func (u *usage) take() (map[string]time.Time, map[usageKey]*usageCount) {
	last, counts := map[string]time.Time{}, map[usageKey]*usageCount{}
	for i := range u.shards {
		sh := &u.shards[i]
		sh.mu.Lock()
		l, c := sh.last, sh.counts
		sh.reset()
		sh.mu.Unlock()
		for k, v := range l {
			last[k] = v
		}
		for k, v := range c {
			counts[k] = v
		}
	}
	return last, counts
}

func (u *usage) putBack(last map[string]time.Time, counts map[usageKey]*usageCount) {
	for id, t := range last {
		sh := &u.shards[maphash.String(u.seed, id)%usageShards]
		sh.mu.Lock()
		if t.After(sh.last[id]) {
			sh.last[id] = t
		}
		sh.mu.Unlock()
	}
	for k, c := range counts {
		sh := &u.shards[maphash.String(u.seed, k.id)%usageShards]
		sh.mu.Lock()
		if cur := sh.counts[k]; cur != nil {
			cur.allowed += c.allowed
			cur.denied += c.denied
			cur.credits += c.credits
		} else {
			sh.counts[k] = c
		}
		sh.mu.Unlock()
	}
}

// flushBatch is how many keys one statement of Flush writes: Postgres
// takes at most 65,535 parameters a statement, and the driver keeps a
// connection's largest statement buffer for good, so that one statement
// for 100,000 keys would fail, and a smaller but still huge one would pin
// megabytes per pooled connection.
const flushBatch = 1000

// writeLastUsed sets last_used_at of every key in last, flushBatch keys a
// statement.
func (s *Store) writeLastUsed(tx *gorm.DB, last map[string]time.Time) error {
	ts := "?"
	if s.dialect == DialectPostgres {
		ts = "CAST(? AS TIMESTAMPTZ)"
	}
	rows := make([]string, 0, min(len(last), flushBatch))
	args := make([]any, 0, 2*cap(rows))
	flush := func() error {
		if len(rows) == 0 {
			return nil
		}
		sql := fmt.Sprintf(`WITH v(id, t) AS (VALUES %s)
UPDATE api_keys SET last_used_at = (SELECT t FROM v WHERE v.id = api_keys.id)
WHERE id IN (SELECT id FROM v)`, strings.Join(rows, ", "))
		err := tx.Exec(sql, args...).Error
		rows, args = rows[:0], args[:0]
		return err
	}
	for id, t := range last {
		rows = append(rows, "(?, "+ts+")")
		args = append(args, id, t.UTC().Truncate(time.Microsecond))
		if len(rows) == flushBatch {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	return flush()
}

func writeCounts(tx *gorm.DB, counts map[usageKey]*usageCount) error {
	if len(counts) == 0 {
		return nil
	}
	rows := make([]usageRow, 0, len(counts))
	for k, c := range counts {
		rows = append(rows, usageRow{KeyID: k.id, Hour: time.Unix(k.hour*3600, 0).UTC(), Allowed: c.allowed, Denied: c.denied, Credits: c.credits})
	}
	return tx.Clauses(clause.OnConflict{
		Columns: []clause.Column{{Name: "key_id"}, {Name: "hour"}},
		DoUpdates: clause.Set{
			{Column: clause.Column{Name: "allowed"}, Value: gorm.Expr("key_usage.allowed + excluded.allowed")},
			{Column: clause.Column{Name: "denied"}, Value: gorm.Expr("key_usage.denied + excluded.denied")},
			{Column: clause.Column{Name: "credits"}, Value: gorm.Expr("key_usage.credits + excluded.credits")},
		},
	}).CreateInBatches(&rows, flushBatch).Error
}
