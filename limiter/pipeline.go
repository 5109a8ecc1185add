package limiter

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// maxBatch is the most calls sent in one round trip.
const maxBatch = 128

// pipeliner sends concurrent calls to Redis together. A call goes at once,
// from its caller's goroutine, when no round trip is in flight, or one
// is and no call is waiting: alone or with one other, it waits for
// nothing. Otherwise it queues. Queued calls go together in the next round
// trip of the one goroutine that sends them, started when a round trip
// ends, and so on while calls keep queueing: under load, a round trip
// carries the calls that arrived during the previous one.
//
// Calls sent together run in one allow.lua, each as if alone and in turn,
// so that Redis parses one command, reads its clock once and answers once
// for all of them. That needs their keys in one cluster slot: with a
// Cluster or Ring client, or a server that refuses them (a proxy in front
// of shards answers CROSSSLOT), each entry (see group) has a script of its
// own, and the scripts go in one pipeline.
type pipeliner struct {
	client   redis.UniversalClient
	keep     int64       // allow.lua's ARGV[1]
	ttl      int64       // allow.lua's ARGV[2], the leases' time to live (ms)
	leaseMax int64       // RedisConfig.LeaseMax
	leases   *leaseTable // Redis.leases: one call of an id asks for a lease at a time
	separate atomic.Bool // one script per entry

	mu       sync.Mutex
	inFlight int     // round trips, at most 2
	flushing bool    // the goroutine sending queued calls runs
	queue    []*call // calls for its next round trip
	wg       sync.WaitGroup
}

func newPipeliner(c redis.UniversalClient, keep, ttl int64) *pipeliner {
	p := &pipeliner{client: c, keep: keep, ttl: ttl}
	_, single := c.(*redis.Client)
	p.separate.Store(!single)
	return p
}

// do sends c and waits for its reply, which comes by c's deadline.
func (p *pipeliner) do(c *call) {
	p.mu.Lock()
	if p.inFlight == 2 || p.inFlight == 1 && len(p.queue) > 0 {
		p.queue = append(p.queue, c)
		p.mu.Unlock()
		<-c.done
		return
	}
	p.inFlight++
	p.mu.Unlock()
	ctx, cancel := context.WithDeadline(c.ctx, c.deadline)
	p.send(ctx, c.one[:])
	cancel()
	p.mu.Lock()
	p.inFlight--
	var batch []*call
	if !p.flushing {
		batch = p.take()
	}
	p.mu.Unlock()
	if batch != nil {
		p.wg.Add(1)
		go p.flush(batch)
	}
}

// take takes the queued calls, at most maxBatch, for a round trip of the
// goroutine sending them, which it starts or ends. p.mu is held.
func (p *pipeliner) take() []*call {
	n := min(len(p.queue), maxBatch)
	p.flushing = n > 0
	if n == 0 {
		return nil
	}
	p.inFlight++
	batch := make([]*call, n)
	copy(batch, p.queue)
	p.queue = append(p.queue[:0], p.queue[n:]...)
	return batch
}

// next ends a round trip of the goroutine sending queued calls, and takes
// the calls for the next.
func (p *pipeliner) next() []*call {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.inFlight--
	return p.take()
}

// flush sends queued calls until none is left.
func (p *pipeliner) flush(batch []*call) {
	defer p.wg.Done()
	for ; batch != nil; batch = p.next() {
		ctx, cancel, live := batchContext(batch)
		p.send(ctx, live)
		cancel()
		for _, c := range batch {
			c.done <- struct{}{}
		}
	}
}

// batchContext returns the calls of batch still awaited, and a context
// done at the first of their deadlines, so that none waits past its own.
// The others fail.
func batchContext(batch []*call) (context.Context, context.CancelFunc, []*call) {
	var first time.Time
	now := time.Now()
	live := make([]*call, 0, len(batch))
	for _, c := range batch {
		if c.err = c.ctx.Err(); c.err == nil && !now.Before(c.deadline) {
			c.err = context.DeadlineExceeded
		}
		if c.err != nil {
			continue
		}
		live = append(live, c)
		if first.IsZero() || c.deadline.Before(first) {
			first = c.deadline
		}
	}
	ctx, cancel := context.WithDeadline(context.Background(), first)
	return ctx, cancel, live
}

// send runs allow.lua for calls, and the settlements they carry, and
// gives each its reply or error: with EVAL when Redis lacks the script,
// and one script per entry (see group) when Redis refuses keys of several
// ids together; a settlement's script then goes before those of its id's
// calls in one pipeline, which Redis runs in order.
// It reorders calls.
func (p *pipeliner) send(ctx context.Context, calls []*call) {
	if len(calls) == 0 {
		return
	}
	calls = withSettlements(calls)
	group(calls)
	for _, c := range leads(calls) {
		if c.lease == 1 && c.argv[5] > 1 && p.leases.ask(c.id) { // a busy id (see Redis.ask)
			c.lease, c.asking = p.leaseMax, true
		}
	}
	oneEntry := calls[0].argv[5] == int64(len(calls))
	if oneEntry || !p.separate.Load() {
		s := p.run(ctx, []*script{newScript(ctx, calls, &p.keep, &p.ttl, false)})[0]
		if oneEntry || !isRedisError(s.cmd.Err(), "CROSSSLOT") {
			s.deliver()
			return
		}
		p.separate.Store(true)
	}
	var scripts []*script
	for i, c := range leads(calls) {
		scripts = append(scripts, newScript(ctx, calls[i:i+max(int(c.argv[5]), 1)], &p.keep, &p.ttl, false))
	}
	for _, s := range p.run(ctx, scripts) {
		s.deliver()
	}
}

// run sends scripts, alone or in a pipeline, then with EVAL those that
// Redis lacked, and returns them as they ended.
func (p *pipeliner) run(ctx context.Context, scripts []*script) []*script {
	if len(scripts) == 1 {
		_ = p.client.Process(ctx, scripts[0].cmd)
	} else {
		pipe := p.client.Pipeline()
		for _, s := range scripts {
			_ = pipe.Process(ctx, s.cmd)
		}
		_, _ = pipe.Exec(ctx)
	}
	var missing []*script
	for i, s := range scripts {
		if isRedisError(s.cmd.Err(), "NOSCRIPT") {
			scripts[i] = newScript(ctx, s.calls, &p.keep, &p.ttl, true)
			missing = append(missing, scripts[i])
		}
	}
	if missing != nil {
		p.run(ctx, missing)
	}
	return scripts
}

// withSettlements returns calls and the settlements they carry, if any.
func withSettlements(calls []*call) []*call {
	n := 0
	for _, c := range calls {
		n += b2i(c.settle != nil)
	}
	if n == 0 {
		return calls
	}
	all := make([]*call, 0, len(calls)+n)
	for _, c := range calls {
		if c.settle != nil {
			all = append(all, c.settle)
		}
	}
	return append(all, calls...)
}

// isRedisError reports whether err is Redis's error of that kind.
func isRedisError(err error, kind string) bool {
	return err != nil && redis.HasErrorPrefix(err, kind)
}

// wait waits until no goroutine of the pipeliner is sending calls.
func (p *pipeliner) wait() { p.wg.Wait() }
