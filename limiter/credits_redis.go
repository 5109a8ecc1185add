package limiter

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

//go:embed credits.lua
var creditsLua string

var creditsScript = redis.NewScript(creditsLua)

// RedisCredits spends credits from leases kept in Redis, shared by every
// replica: credits.lua decides each spend atomically, at Redis's time, and
// only the spend that finds the lease empty takes a block from the Pool.
// Its keys are "{<prefix>:<id>}:credits", in the slot of the id's limits.
type RedisCredits struct {
	client  redis.UniversalClient
	prefix  string
	timeout time.Duration
	pool    Pool
	size    int64
	now     func() time.Time
	takes   sync.Map // id → *sync.Mutex: one Take per id at a time in this replica

	tokenBase uint64 // random high bits of this replica's grant tokens
	tokens    atomic.Uint64
	pmu       sync.Mutex
	pending   []pendingGrant
	npending  atomic.Int32
}

// NewRedisCredits returns the credits of the Redis limiter r, with its
// client, prefix and timeout.
func NewRedisCredits(r *Redis, cfg CreditsConfig) (*RedisCredits, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	now := cfg.Clock
	if now == nil {
		now = r.now
	}
	return &RedisCredits{client: r.client, prefix: r.prefix, timeout: r.timeout, pool: cfg.Pool, size: cfg.Lease, now: now,
		tokenBase: rand.Uint64() << 32}, nil
}

func (c *RedisCredits) key(id string) string {
	return "{" + c.prefix + ":" + id + "}:credits"
}

// creditsReply is credits.lua's answer.
type creditsReply struct {
	status, balance, start, next, now int64
}

// run runs credits.lua for id with op and its extra arguments, at the
// injected time, else Redis's (guessed locally for the period bounds,
// asked again with Redis's own time when the guess was off).
func (c *RedisCredits) run(ctx context.Context, id string, r Refill, op string, extra ...any) (creditsReply, error) {
	now := int64(-1)
	guess := time.Now().UnixMilli()
	if c.now != nil {
		now = c.now().UnixMilli()
		guess = now
	}
	for range 2 {
		rep, err := c.eval(ctx, id, r, op, now, guess, extra)
		if err != nil || rep.status != -2 {
			return rep, err
		}
		now, guess = rep.now, rep.now
	}
	return creditsReply{}, fmt.Errorf("%w: time outside the refill periods", errRedisCredits)
}

func (c *RedisCredits) eval(ctx context.Context, id string, r Refill, op string, now, guess int64, extra []any) (creditsReply, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	var b [4]int64
	if r.Interval != NoRefill {
		b[1], b[2] = r.Period(guess)
		b[0], _ = r.Period(b[1] - 1)
		_, b[3] = r.Period(b[2])
	}
	args := make([]any, 0, 12)
	args = append(args, op, now, b[0], b[1], b[2], b[3], recheck.Milliseconds())
	args = append(args, extra...)
	v, err := creditsScript.Run(ctx, c.client, []string{c.key(id)}, args...).Int64Slice()
	if err != nil {
		reloadTopology(c.client)
		return creditsReply{}, fmt.Errorf("%w: %w", errRedisCredits, err)
	}
	if len(v) != 5 {
		return creditsReply{}, fmt.Errorf("%w: %d values in reply, want 5", errRedisCredits, len(v))
	}
	return creditsReply{status: v[0], balance: v[1], start: v[2], next: v[3], now: v[4]}, nil
}

// Spend spends one credit of id from its lease in Redis or, when the lease
// is empty, from a block this replica takes from the Pool and grants to
// the lease in the same script run as its own spend.
func (c *RedisCredits) Spend(ctx context.Context, id string, r Refill) (Spend, error) {
	if c.npending.Load() > 0 {
		c.retryGrants(ctx)
	}
	rep, err := c.run(ctx, id, r, "s")
	if err != nil || rep.status >= 0 {
		return c.spend(rep, r), err
	}
	mu, _ := c.takes.LoadOrStore(id, &sync.Mutex{})
	mu.(*sync.Mutex).Lock()
	defer mu.(*sync.Mutex).Unlock()
	for range 3 {
		if rep, err = c.run(ctx, id, r, "s"); err != nil || rep.status >= 0 {
			return c.spend(rep, r), err
		}
		g, err := c.pool.Take(ctx, id, rep.start, c.size)
		if errors.Is(err, ErrNoCredits) {
			return Spend{Allowed: true, Unlimited: true}, nil
		}
		if err != nil {
			return Spend{}, err
		}
		p := pendingGrant{id: id, r: r, g: g, token: c.token(), period: rep.start}
		if rep, err = c.run(ctx, id, r, "g", p.args()...); err != nil {
			c.keep(p)
			return Spend{}, err
		}
		if rep.status >= 0 {
			return c.spend(rep, r), nil
		}
	}
	return Spend{}, fmt.Errorf("%w: lease changed under three grants", errRedisCredits)
}

// pendingGrant is a block taken from the Pool whose grant to the lease
// failed: it is sent again (with its token, so that it applies once) at the
// next Spend, until Redis answers.
type pendingGrant struct {
	id     string
	r      Refill
	g      Grant
	token  string
	period int64
}

func (p pendingGrant) args() []any {
	return []any{p.g.Block, p.g.Remaining, p.g.Epoch, p.token, p.period}
}

// maxPending bounds the grants kept for retry; beyond, the oldest are
// forgotten (credits lost to their keys, never granted twice).
const maxPending = 1024

func (c *RedisCredits) token() string {
	return strconv.FormatUint(c.tokenBase|c.tokens.Add(1), 36)
}

func (c *RedisCredits) keep(p pendingGrant) {
	c.pmu.Lock()
	defer c.pmu.Unlock()
	c.pending = append(c.pending, p)
	if len(c.pending) > maxPending {
		c.pending = c.pending[len(c.pending)-maxPending:]
	}
	c.npending.Store(int32(len(c.pending)))
}

// retryGrants sends the pending grants again; those Redis does not take
// stay pending.
func (c *RedisCredits) retryGrants(ctx context.Context) {
	c.pmu.Lock()
	todo := c.pending
	c.pending = nil
	c.npending.Store(0)
	c.pmu.Unlock()
	for i, p := range todo {
		if _, err := c.run(ctx, p.id, p.r, "G", p.args()...); err != nil {
			for _, q := range todo[i:] {
				c.keep(q)
			}
			return
		}
	}
}

func (c *RedisCredits) spend(rep creditsReply, r Refill) Spend {
	return answer(rep.status == 1, rep.balance, r, rep.now)
}

// Reclaim empties id's lease for an administrator's change that moves its
// durable balance from epoch to epoch+1, and returns the credits it held
// and the start of the current refill period, by Redis's clock.
func (c *RedisCredits) Reclaim(ctx context.Context, id string, r Refill, epoch int64) (left, period int64, err error) {
	rep, err := c.run(ctx, id, r, "r", epoch)
	return rep.balance, rep.start, err
}
