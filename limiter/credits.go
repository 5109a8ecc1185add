package limiter

import (
	"context"
	"errors"
	"sync"
	"time"
)

// ErrNoCredits is what a Pool returns for an id that has no credits (the
// key is unlimited); the spend is then allowed.
var ErrNoCredits = errors.New("limiter: no credits")

// Grant is what a Pool hands out: Block credits taken from the durable
// balance, which keeps Remaining, and the balance's Epoch, which grows at
// every refill and every change made by an administrator, so that a lease
// of an older epoch is never topped up with a newer block (or the reverse).
type Grant struct {
	Block, Remaining, Epoch int64
}

// Pool is the durable balance of every id's credits: the database. Take
// applies the refill due at period (the start, in ms, of the refill period
// the spender is in; one refill per period, however many replicas ask),
// then takes up to max credits, atomically across replicas. It returns
// ErrNoCredits for an id without credits.
type Pool interface {
	Take(ctx context.Context, id string, period, max int64) (Grant, error)
}

// DefaultLease is how many credits a spender takes from the Pool at once:
// the most that a lost lease (Redis losing its data, or a crash of the one
// replica that holds a memory lease) can forget.
const DefaultLease = 100

// recheck is how long an exhausted lease answers "no" before the Pool is
// asked again (an administrator may have added credits while the limiter
// could not be told).
const recheck = time.Second

// Spend is the answer to one request's spend of one credit. A refusal is
// a Spend, not an error.
type Spend struct {
	Allowed bool
	// Unlimited: the id has no credits (any longer); Allowed is true.
	Unlimited bool
	// Remaining is the balance after this spend (for a lease whose pool is
	// unknown, what the lease holds).
	Remaining int64
	// Refill is the schedule the spend was made under; Next is the time
	// until its next refill and Period the length of the current period
	// (both zero when it never refills).
	Refill       Refill
	Next, Period time.Duration
}

// CreditSpender spends one credit of an id: MemoryCredits, RedisCredits
// and FallbackCredits are.
type CreditSpender interface {
	Spend(ctx context.Context, id string, r Refill) (Spend, error)
}

// lease is the part of an id's balance that a spender holds: left credits
// of epoch, for the refill period that starts at per; pool is the durable
// balance after the last Take (-1: unknown), checked at chk (ms).
type lease struct {
	left, per, epoch, pool, chk int64
}

// spend decides from the lease alone when it can: ok is false when the
// Pool must be asked (no lease, an older period, nothing left).
func (l *lease) spend(now, start, rc int64) (allowed, ok bool) {
	switch {
	case l == nil || l.per < start:
		return false, false
	case l.left > 0:
		l.left--
		return true, true
	case l.pool == 0 && now-l.chk < rc:
		return false, true
	}
	return false, false
}

// grant adds a block taken for the period that starts at start.
func (l *lease) grant(g Grant, start, now int64) {
	switch {
	case g.Epoch > l.epoch:
		*l = lease{left: g.Block, per: start, epoch: g.Epoch, pool: g.Remaining, chk: now}
	case g.Epoch == l.epoch:
		l.left, l.per, l.pool, l.chk = l.left+g.Block, max(l.per, start), g.Remaining, now
	}
}

// reclaim empties the lease for an administrator's change that moves the
// durable balance from epoch to epoch+1, and returns what it held of the
// period that starts at start and of epoch (else 0).
func (l *lease) reclaim(epoch, start int64) int64 {
	left := int64(0)
	if l.epoch == epoch && l.per >= start {
		left = l.left
	}
	*l = lease{per: start, epoch: epoch + 1, pool: -1}
	return left
}

func (l *lease) balance() int64 { return l.left + max(l.pool, 0) }

// answer is the Spend of a decision at now under r.
func answer(allowed bool, remaining int64, r Refill, now int64) Spend {
	s := Spend{Allowed: allowed, Remaining: remaining, Refill: r}
	if start, next := r.Period(now); next > 0 {
		s.Next, s.Period = ms(next-now), ms(next-start)
	}
	return s
}

// CreditsConfig configures a MemoryCredits or a RedisCredits.
type CreditsConfig struct {
	// Pool holds the durable balances. Required.
	Pool Pool
	// Lease is how many credits are taken from Pool at once; 0 means
	// DefaultLease.
	Lease int64
	// Clock is the time for MemoryCredits (nil: time.Now). RedisCredits
	// uses Redis's TIME unless Clock is set (tests only).
	Clock func() time.Time
}

func (c *CreditsConfig) defaults() error {
	if c.Pool == nil {
		return errors.New("limiter: CreditsConfig.Pool is required")
	}
	if c.Lease <= 0 {
		c.Lease = DefaultLease
	}
	return nil
}

// MemoryCredits spends credits from leases held in the process: one
// replica alone. Safe for concurrent use.
type MemoryCredits struct {
	pool   Pool
	size   int64
	clock  func() time.Time
	mu     sync.Mutex
	leases map[string]*lease
	takes  sync.Map // id → *sync.Mutex: one Take per id at a time, so that concurrent misses do not each take a block
}

// NewMemoryCredits returns a MemoryCredits.
func NewMemoryCredits(cfg CreditsConfig) (*MemoryCredits, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	return &MemoryCredits{pool: cfg.Pool, size: cfg.Lease, clock: cfg.Clock, leases: map[string]*lease{}}, nil
}

// Spend spends one credit of id, from its lease or, when the lease cannot
// answer, from a block taken from the Pool.
func (m *MemoryCredits) Spend(ctx context.Context, id string, r Refill) (Spend, error) {
	if s, ok := m.fromLease(id, r); ok {
		return s, nil
	}
	mu, _ := m.takes.LoadOrStore(id, &sync.Mutex{})
	mu.(*sync.Mutex).Lock()
	defer mu.(*sync.Mutex).Unlock()
	if s, ok := m.fromLease(id, r); ok { // another spender took a block meanwhile
		return s, nil
	}
	now := m.clock().UnixMilli()
	start, _ := r.Period(now)
	g, err := m.pool.Take(ctx, id, start, m.size)
	if errors.Is(err, ErrNoCredits) {
		return Spend{Allowed: true, Unlimited: true}, nil
	}
	if err != nil {
		return Spend{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	l := m.lease(id)
	l.grant(g, start, now)
	allowed, _ := l.spend(now, start, recheck.Milliseconds())
	return answer(allowed, l.balance(), r, now), nil
}

func (m *MemoryCredits) fromLease(id string, r Refill) (Spend, bool) {
	now := m.clock().UnixMilli()
	start, _ := r.Period(now)
	m.mu.Lock()
	defer m.mu.Unlock()
	l := m.leases[id]
	allowed, ok := l.spend(now, start, recheck.Milliseconds())
	if !ok {
		return Spend{}, false
	}
	return answer(allowed, l.balance(), r, now), true
}

func (m *MemoryCredits) lease(id string) *lease {
	l := m.leases[id]
	if l == nil {
		l = &lease{pool: -1}
		m.leases[id] = l
	}
	return l
}

// Reclaim empties id's lease for an administrator's change that moves its
// durable balance from epoch to epoch+1, and returns the credits it held
// and the start of the current refill period.
func (m *MemoryCredits) Reclaim(_ context.Context, id string, r Refill, epoch int64) (left, period int64, err error) {
	now := m.clock().UnixMilli()
	start, _ := r.Period(now)
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.lease(id).reclaim(epoch, start), start, nil
}

// Returner is a Pool that takes back what a lease held, if the balance is
// still of that epoch (else the credits are dropped: a refill or an
// administrator's change replaced them).
type Returner interface {
	Return(ctx context.Context, id string, epoch, left int64) error
}

// Close returns every lease to the Pool, when it is a Returner, so that a
// clean shutdown forgets no credit. Spends after Close take from the Pool
// again.
func (m *MemoryCredits) Close(ctx context.Context) error {
	r, ok := m.pool.(Returner)
	if !ok {
		return nil
	}
	m.mu.Lock()
	leases := m.leases
	m.leases = map[string]*lease{}
	m.mu.Unlock()
	var errs []error
	for id, l := range leases {
		if l.left > 0 {
			errs = append(errs, r.Return(ctx, id, l.epoch, l.left))
		}
	}
	return errors.Join(errs...)
}

// Leases returns, per id, the credits held in leases (for a test).
func (m *MemoryCredits) Leases() map[string]int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make(map[string]int64, len(m.leases))
	for id, l := range m.leases {
		out[id] = l.left
	}
	return out
}
