package keystore

import (
	"context"
	"fmt"
	"hash/maphash"
	"math"
	"math/bits"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

const usageShards = 16

// usage accumulates last-used times and hourly counts in memory until the
// next flush. It is sharded so that concurrent requests rarely contend,
// and holds one entry per key: a request costs one map lookup.
type usage struct {
	seed      maphash.Seed
	shards    [usageShards]usageShard
	lastFlush atomic.Int64 // unix nanoseconds of the last successful write
}

type usageShard struct {
	mu   sync.Mutex
	keys usageMap
}

// usageMap is the pending usage of keys, by key id.
type usageMap map[string]*keyUsage

// keyUsage is one key's usage not yet written: when it was last used and
// its counts by hour. A key's counts are almost always of one hour (the
// flush interval is far shorter); hours before it, when a flush's
// interval spans an hour's end or a failed flush is put back, wait in
// earlier.
type keyUsage struct {
	last    int64 // Unix nanoseconds of the last allowed request; unused: none
	hour    int64 // Unix hours of count
	count   usageCount
	earlier []hourCount
}

// unused is keyUsage.last of a key not used (only denied) since the last
// flush.
const unused = math.MinInt64

type hourCount struct {
	hour  int64
	count usageCount
}

type usageCount struct{ allowed, denied, credits int64 }

func (c *usageCount) add(d usageCount) {
	c.allowed += d.allowed
	c.denied += d.denied
	c.credits += d.credits
}

func newUsage() *usage {
	u := &usage{seed: maphash.MakeSeed()}
	for i := range u.shards {
		u.shards[i].keys = usageMap{}
	}
	return u
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
	hour, ns := at.Unix()/3600, at.UnixNano()
	sh.mu.Lock()
	e := sh.keys[id]
	if e == nil {
		e = &keyUsage{last: unused, hour: hour}
		sh.keys[id] = e
	}
	e.addHour(hour, d)
	if used && ns > e.last {
		e.last = ns
	}
	sh.mu.Unlock()
}

// addHour adds d to the count of hour.
func (e *keyUsage) addHour(hour int64, d usageCount) {
	switch {
	case hour == e.hour:
		e.count.add(d)
		return
	case hour > e.hour: // the next hour began: it becomes the current one
		e.earlier = append(e.earlier, hourCount{e.hour, e.count})
		e.hour, e.count = hour, d
		return
	}
	for i := range e.earlier {
		if e.earlier[i].hour == hour {
			e.earlier[i].count.add(d)
			return
		}
	}
	e.earlier = append(e.earlier, hourCount{hour, d})
}

// merge adds o's usage to e's.
func (e *keyUsage) merge(o *keyUsage) {
	e.last = max(e.last, o.last)
	e.addHour(o.hour, o.count)
	for _, h := range o.earlier {
		e.addHour(h.hour, h.count)
	}
}

// hours calls f with each hour of e's counts.
func (e *keyUsage) hours(f func(hour int64, c usageCount)) {
	f(e.hour, e.count)
	for _, h := range e.earlier {
		f(h.hour, h.count)
	}
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
	every(ctx, s.cfg.FlushInterval, func() {
		fctx, cancel := context.WithTimeout(ctx, 10*s.cfg.QueryTimeout)
		defer cancel()
		if err := s.Flush(fctx); err != nil {
			s.log.Warn("usage flush failed; will retry", "error", err)
		}
	})
}

// every calls f every interval until ctx is done.
func every(ctx context.Context, interval time.Duration, f func()) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			f()
		}
	}
}

// Flush writes pending last-used times and usage counts, a shard of keys
// (a sixteenth) a transaction, at most flushBatch keys a statement (see
// batch). It takes a shard's pending usage just before writing it, so that
// only that shard's is held beside what is counted meanwhile: with every
// key used in every interval (100,000 can be), taking all shards first held
// all of their usage twice while the next interval's filled new maps. A shard whose
// write fails keeps its usage for the next try, and Flush stops there.
func (s *Store) Flush(ctx context.Context) error {
	wrote := false
	for i := range s.usage.shards {
		taken := s.usage.take(i)
		if len(taken) == 0 {
			continue
		}
		err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			if err := s.writeLastUsed(tx, taken); err != nil {
				return err
			}
			return writeCounts(tx, taken)
		})
		if err != nil {
			s.usage.putBack(i, taken)
			return dbErr("flush usage", err)
		}
		wrote = true
	}
	if wrote {
		s.usage.lastFlush.Store(s.cfg.Now().UnixNano())
	}
	return nil
}

// status is when usage was last written and how many keys wait.
func (u *usage) status() (time.Time, int) {
	n := 0
	for i := range u.shards {
		sh := &u.shards[i]
		sh.mu.Lock()
		n += len(sh.keys)
		sh.mu.Unlock()
	}
	var t time.Time
	if ns := u.lastFlush.Load(); ns != 0 {
		t = time.Unix(0, ns)
	}
	return t, n
}

// take takes the pending usage of shard i for a flush: its map itself.
func (u *usage) take(i int) usageMap {
	sh := &u.shards[i]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	m := sh.keys
	sh.keys = usageMap{}
	return m
}

// putBack adds what take took from shard i, and a flush did not write, to
// what was counted since.
func (u *usage) putBack(i int, m usageMap) {
	sh := &u.shards[i]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	for id, e := range m {
		if cur := sh.keys[id]; cur != nil {
			cur.merge(e)
		} else {
			sh.keys[id] = e
		}
	}
}

// flushBatch is how many keys one statement of Flush writes at most:
// Postgres takes at most 65,535 parameters a statement, and the driver
// keeps a connection's largest statement buffer for good, so that one
// statement for 100,000 keys would fail, and a smaller but still huge one
// would pin megabytes per pooled connection.
const flushBatch = 1024

// batch is how many of n rows the next statement of a flush writes:
// flushBatch, or the largest power of two up to n. pgx prepares and keeps
// each statement text it runs (up to 512 a connection, and Postgres keeps
// them in its session too), and a statement's text grows with its rows:
// a flush of any number of keys uses at most 11 texts of each kind (1 to
// 1,024 rows) instead of one per number of keys.
func batch(n int) int {
	if n >= flushBatch {
		return flushBatch
	}
	return 1 << (bits.Len(uint(n)) - 1)
}

// writeLastUsed sets last_used_at of every key used in t, in batches.
func (s *Store) writeLastUsed(tx *gorm.DB, t usageMap) error {
	ts := "?"
	if s.dialect == DialectPostgres {
		ts = "CAST(? AS TIMESTAMPTZ)"
	}
	args := make([]any, 0, 2*len(t))
	for id, e := range t {
		if e.last != unused {
			args = append(args, id, time.Unix(0, e.last).UTC().Truncate(time.Microsecond))
		}
	}
	row := "(?, " + ts + ")"
	for len(args) > 0 {
		n := batch(len(args) / 2)
		sql := fmt.Sprintf(`WITH v(id, t) AS (VALUES %s)
UPDATE api_keys SET last_used_at = (SELECT t FROM v WHERE v.id = api_keys.id)
WHERE id IN (SELECT id FROM v)`, strings.TrimSuffix(strings.Repeat(row+", ", n), ", "))
		if err := tx.Exec(sql, args[:2*n]...).Error; err != nil {
			return err
		}
		args = args[2*n:]
	}
	return nil
}

func writeCounts(tx *gorm.DB, t usageMap) error {
	rows := make([]usageRow, 0, len(t))
	for id, e := range t {
		e.hours(func(hour int64, c usageCount) {
			if c != (usageCount{}) {
				rows = append(rows, usageRow{KeyID: id, Hour: time.Unix(hour*3600, 0).UTC(), Allowed: c.allowed, Denied: c.denied, Credits: c.credits})
			}
		})
	}
	upsert := clause.OnConflict{
		Columns: []clause.Column{{Name: "key_id"}, {Name: "hour"}},
		DoUpdates: clause.Set{
			{Column: clause.Column{Name: "allowed"}, Value: gorm.Expr("key_usage.allowed + excluded.allowed")},
			{Column: clause.Column{Name: "denied"}, Value: gorm.Expr("key_usage.denied + excluded.denied")},
			{Column: clause.Column{Name: "credits"}, Value: gorm.Expr("key_usage.credits + excluded.credits")},
		},
	}
	for len(rows) > 0 {
		n := batch(len(rows))
		part := rows[:n]
		if err := tx.Clauses(upsert).Create(&part).Error; err != nil {
			return err
		}
		rows = rows[n:]
	}
	return nil
}
