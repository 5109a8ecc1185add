package limiter

import (
	"context"
	"hash/maphash"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultLeaseTTL is RedisConfig.LeaseTTL's default: well under
// DefaultRedisTimeout, since a request denied while another replica holds
// a lease of its id may wait for the lease to end (see doc.go, Leases).
const DefaultLeaseTTL = 10 * time.Millisecond

// spentClosed marks a lease's spent count once the lease has ended: no
// request spends from it any more.
const spentClosed = 1 << 62

// share is a lease of part of an id's limits that Redis counted for this replica
// (doc.go, Leases): size requests of cost, for the limits it was granted
// with, decided here without Redis until expires. Requests spend from it
// by incrementing spent; the one that ends it (close) returns what is left
// with a settlement, and closes settled once that has run.
type share struct {
	id     string
	n      int
	limits [MaxWindows]Limit
	cost   int64
	size   int64
	spent  atomic.Int64
	// counts are those of every limit after the requests of the entry that
	// was granted the lease, before the lease: spending the k-th request
	// sees curr + k*cost, as Redis would without the lease.
	counts  [MaxWindows]counts
	granted int64 // Redis's time at the grant (ms)
	// notBefore and expires bound when the lease may be used, by the local
	// clock (monotonic) or the injected one; see Redis.grant.
	notBefore, expires time.Time
	// renewAt is when, a quarter of its time before expires, one call asks
	// Redis for the next lease while the others still spend this one.
	renewAt         time.Time
	token, deadline int64                    // its record in Redis: token -> deadline (Redis's time)
	keys            [2*MaxWindows + 1]string // those of the entry that was granted it
	timer           *time.Timer
	settled         chan struct{}
	renew           bool // ended spent by a call, which asks for the next lease
}

// matches reports whether the lease is for these limits and cost.
func (l *share) matches(limits []Limit, cost int64) bool {
	return l.cost == cost && len(limits) == l.n && [MaxWindows]Limit(l.limits) == limitArray(limits)
}

func limitArray(limits []Limit) [MaxWindows]Limit {
	var a [MaxWindows]Limit
	copy(a[:], limits)
	return a
}

// spend decides one request from the lease at local time now, whose
// estimate of Redis's time is guess, if the lease can: it is open, not
// spent, valid at now and for these limits and this cost. The decision is
// decide's at guess (kept within the lease's fixed windows) on the counts
// Redis would hold without leases: admitted, by the argument of doc.go;
// if decide ever said otherwise, the request goes to Redis. It decides
// into d, which holds nothing meaningful when it cannot.
func (l *share) spend(d *Decision, now time.Time, guess int64, limits []Limit, cost int64) bool {
	if !l.matches(limits, cost) || now.Before(l.notBefore) || !now.Before(l.expires) {
		return false
	}
	guess = min(max(guess, l.granted), l.deadline-1)
	for {
		v := l.spent.Load()
		if v >= l.size { // spent, or closed
			return false
		}
		c := l.counts
		for i := range l.n {
			c[i].curr += v * cost
		}
		decide(d, guess, limits, cost, &c)
		if !d.Allowed {
			return false
		}
		if l.spent.CompareAndSwap(v, v+1) {
			return true
		}
	}
}

// close ends the lease, if no one else did, and returns the requests left
// unspent.
func (l *share) close() (unspent int64, ok bool) {
	for {
		v := l.spent.Load()
		if v >= spentClosed {
			return 0, false
		}
		if l.spent.CompareAndSwap(v, v+spentClosed) {
			return l.size - min(v, l.size), true
		}
	}
}

// leaseTable holds a replica's leases, at most one per id, in shards so
// that concurrent requests of different ids seldom share a lock.
type leaseTable struct {
	seed   maphash.Seed
	shards [64]leaseShard
}

type leaseShard struct {
	mu sync.RWMutex
	m  map[string]*share
	// last is the hash of the id that last asked Redis in this shard, and
	// at when (ms): see busy.
	last, at atomic.Int64
	// asking holds the ids with a call in flight that asks for a lease,
	// each with a channel closed when it is answered: see ask.
	asking map[string]chan struct{}
}

func newLeaseTable() *leaseTable {
	t := &leaseTable{seed: maphash.MakeSeed()}
	for i := range t.shards {
		t.shards[i].m, t.shards[i].asking = map[string]*share{}, map[string]chan struct{}{}
	}
	return t
}

func (t *leaseTable) shard(id string) *leaseShard {
	return t.shardOf(maphash.String(t.seed, id))
}

func (t *leaseTable) shardOf(h uint64) *leaseShard { return &t.shards[h%uint64(len(t.shards))] }

// busy reports whether id asked Redis at most ttl before now (ms), as far
// as the shard of id remembers (only the last id that asked), and
// remembers that it asks now. A lease is worth its cost (three commands
// to grant, a settlement) only for an id that asks again before it
// expires: one with many requests on the replica. A collision of hashes
// only asks for a lease.
func (t *leaseTable) busy(id string, now, ttl int64) bool {
	h := maphash.String(t.seed, id)
	s := t.shardOf(h)
	again := s.last.Load() == int64(h) && now-s.at.Load() <= ttl
	s.last.Store(int64(h))
	s.at.Store(now)
	return again
}

// ask reports whether a call may ask for a lease of id: none is in flight.
// Concurrent calls of a busy id that go in several round trips would
// otherwise each be granted one, and each grant would end the one before
// it, returning its unspent requests: a grant and a settlement for a few
// requests each. The call that may ask calls asked when it is answered.
func (t *leaseTable) ask(id string) bool {
	s := t.shard(id)
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.asking[id]; ok {
		return false
	}
	s.asking[id] = make(chan struct{})
	return true
}

// asked ends the ask of id, once its lease, if any, is in the table.
func (t *leaseTable) asked(id string) {
	s := t.shard(id)
	s.mu.Lock()
	if ch, ok := s.asking[id]; ok {
		close(ch)
		delete(s.asking, id)
	}
	s.mu.Unlock()
}

// inFlight returns the channel of the ask of id in flight, closed when it
// is answered; nil when none is. A call denied for a lease outstanding in
// Redis may be denied for the lease that a concurrent call of this replica
// was just granted, and not yet put in the table: the denial must not
// stand for it (see awaited).
func (t *leaseTable) inFlight(id string) <-chan struct{} {
	s := t.shard(id)
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.asking[id]
}

// awaited waits until ch is closed (at most until deadline, or ctx's end)
// and reports whether it was; a nil ch is not waited for.
func awaited(ctx context.Context, ch <-chan struct{}, deadline time.Time) bool {
	if ch == nil {
		return false
	}
	wait := time.NewTimer(time.Until(deadline))
	defer wait.Stop()
	select {
	case <-ch:
		return true
	case <-ctx.Done():
	case <-wait.C:
	}
	return false
}

func (t *leaseTable) get(id string) *share {
	s := t.shard(id)
	s.mu.RLock()
	l := s.m[id]
	s.mu.RUnlock()
	return l
}

// put makes l the lease of its id and returns the one it replaces, if any.
func (t *leaseTable) put(l *share) *share {
	s := t.shard(l.id)
	s.mu.Lock()
	old := s.m[l.id]
	s.m[l.id] = l
	s.mu.Unlock()
	return old
}

// drop removes l, if it is still its id's lease.
func (t *leaseTable) drop(l *share) {
	s := t.shard(l.id)
	s.mu.Lock()
	if s.m[l.id] == l {
		delete(s.m, l.id)
	}
	s.mu.Unlock()
}

// all returns every lease held.
func (t *leaseTable) all() []*share {
	var ls []*share
	for i := range t.shards {
		s := &t.shards[i]
		s.mu.RLock()
		for _, l := range s.m {
			ls = append(ls, l)
		}
		s.mu.RUnlock()
	}
	return ls
}

// fromLease decides the request with id's lease if it can. Otherwise, if
// this call ended the lease, it returns it with the settlement to send
// with its call to Redis; if another call is ending it, it waits for that
// settlement to have run (at most until deadline), so that the counts
// Redis answers with no longer hold what the lease did not spend. now is
// the call's time, which allow has just read.
func (r *Redis) fromLease(ctx context.Context, now, deadline time.Time, id string, limits []Limit, cost int64, d *Decision) (ok bool, old *share, settle *call, asking bool) {
	l := r.leases.get(id)
	if l == nil {
		return false, nil, nil, false
	}
	var guess int64
	if r.now != nil {
		now = r.now()
		guess = now.UnixMilli()
	} else {
		guess = now.UnixMilli() + r.offset.Load()
	}
	if !now.Before(l.renewAt) && now.Before(l.expires) && l.matches(limits, cost) && r.leases.ask(id) {
		// The lease's last quarter: this call asks Redis for the next
		// lease, and the others spend this one meanwhile, instead of all
		// going to Redis between its end and the next grant. The next
		// replaces it, and it is settled then (see grant).
		return false, nil, nil, true
	}
	if l.spend(d, now, guess, limits, cost) {
		return true, nil, nil, false
	}
	if unspent, mine := l.close(); mine {
		// A lease spent to the last request: the next is worth asking for.
		l.renew = unspent == 0
		l.timer.Stop()
		return false, l, r.settlement(l, unspent, deadline), false
	}
	awaited(ctx, l.settled, deadline)
	return false, nil, nil, false
}

// settlement returns the call that ends lease l in Redis, returning
// unspent requests.
func (r *Redis) settlement(l *share, unspent int64, deadline time.Time) *call {
	c := callPool.Get().(*call)
	c.ctx, c.deadline, c.prefix, c.id, c.n, c.rank = context.Background(), deadline, r.prefix, l.id, l.n, 0
	c.argv[0], c.argv[1], c.argv[2], c.argv[3], c.argv[4], c.argv[5] = l.deadline, unspent*l.cost, 0, 0, int64(l.n), 0
	for i, lim := range l.limits[:l.n] {
		c.argv[6+2*i], c.argv[7+2*i] = lim.Count, lim.Window.Milliseconds()
	}
	c.lease, c.settling, c.settle, c.keys = l.token, true, nil, l.keys
	return c
}

// ended finishes a lease whose settlement ran (or failed: its unspent
// requests then stay counted until its windows pass, and its record until
// Redis drops it): it leaves the table, and calls waiting for it go on.
func (r *Redis) ended(l *share) {
	r.leases.drop(l)
	close(l.settled)
}

// expire ends lease l when its time is up, if no call did: a lease of an
// id that gets no more requests returns what it did not spend.
func (r *Redis) expire(l *share) {
	unspent, mine := l.close()
	if !mine {
		return
	}
	c := r.settlement(l, unspent, time.Now().Add(r.timeout))
	r.pipe.do(c)
	putCall(c)
	r.ended(l)
}

// grant takes the lease that Redis granted to call c (its lead), sent at
// local time sent, and holds it in place of the id's previous one.
//
// Redis granted it at its time t, and set its deadline t+ttl within the
// fixed windows of every limit. It is used until sent+ttl by the local
// monotonic clock: Redis's clock cannot have advanced more than the local
// one since sent, which came before t, so Redis's time is then still
// before the deadline, whatever the offset between the clocks. With an
// injected clock, the lease is used from t until t+ttl by that clock.
func (r *Redis) grant(c *call, limits []Limit, cost int64, sent time.Time) {
	size, token := c.granted[0], c.granted[1]
	if size == 0 {
		return
	}
	now := c.reply[2*c.n+1]
	l := &share{
		id: strings.Clone(c.id), n: c.n, limits: limitArray(limits), cost: cost, size: size,
		granted: now, token: token, deadline: now + r.leaseTTL.Milliseconds(), keys: c.keys,
		expires: sent.Add(r.leaseTTL), settled: make(chan struct{}),
	}
	m := c.argv[5] // all of the entry's requests fit
	for i := range c.n {
		l.counts[i] = counts{prev: c.reply[2*i], curr: c.reply[2*i+1] + m*cost}
	}
	if r.now != nil {
		l.notBefore, l.expires = time.UnixMilli(now), time.UnixMilli(l.deadline)
	}
	l.renewAt = l.expires.Add(-r.leaseTTL / 4)
	after := time.Until(l.expires)
	if r.now != nil {
		after = r.leaseTTL
	}
	l.timer = time.AfterFunc(after, func() { r.expire(l) })
	if old := r.leases.put(l); old != nil {
		// The next lease, asked for in the last quarter of this one (see
		// fromLease), or two calls of the id with different limits or
		// costs granted leases at once: the older goes, and what it did
		// not spend is returned.
		go r.expire(old)
	}
}
