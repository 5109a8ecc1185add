package limiter

import (
	"context"
	"fmt"
	"iter"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// call is one request on its way to allow.lua, with its part of the reply.
// Its arguments are held in arrays of its own, so that a script's
// arguments point into its calls: go-redis writes a pointer in an
// interface without allocating, where a string or an int64 needs one
// allocation each. Calls are reused (see getCall).
//
// Calls equal in all but their context (same keys, limits, cost and time:
// the requests of one busy key) go to allow.lua as one entry of m
// requests: the first of them, the lead, carries the entry's arguments,
// and rank is each one's place in it.
//
// With leasing, a call also asks for a lease (lease > 0) and may carry the
// settlement of a lease of its id (settle), to run before it in the same
// script; a settlement is a call too (settling), of no request.
type call struct {
	ctx      context.Context
	deadline time.Time
	prefix   string                   // of the keys
	id       string                   // whose limits are counted
	n        int                      // limits
	argv     [6 + 2*MaxWindows]int64  // now, cost, from, to, n, m, then count and window per limit
	keys     [2*MaxWindows + 1]string // two per limit, then the lease records with leasing, set for a lead only (see setKeys)
	rank     int                      // place in its entry, 0 for the lead
	reply    []int64                  // prev and curr per limit, allowed, now
	replyBuf [2*MaxWindows + 2]int64
	err      error
	// lease is allow.lua's lease argument: the most requests to lease, 0
	// without leasing; a settlement's token.
	lease    int64
	settling bool  // a settlement (argv[5], m, is 0)
	asking   bool  // it asks for a lease: leaseTable.asked once answered
	settle   *call // a settlement to send with the call, or nil
	// granted is what the script answered about leases: the requests leased
	// to the lead, its token, and for a denied call the earliest deadline
	// of the id's outstanding leases (0 if none).
	granted [3]int64
	done    chan struct{} // receives when reply or err is set, if the call waited in a queue
	one     [1]*call      // the call itself, to send it alone without allocating
}

var callPool = sync.Pool{New: func() any {
	c := &call{done: make(chan struct{}, 1)}
	c.one[0] = c
	return c
}}

// getCall returns the call of a request at instant now (ms, or -1 for
// Redis's time), to be answered by deadline, whose keys are those of
// instant guess: Redis derives its own when guess and now are not in the
// same fixed windows of every limit. putCall takes it back.
func getCall(ctx context.Context, deadline time.Time, prefix, id string, limits []Limit, cost, now, guess int64) *call {
	c := callPool.Get().(*call)
	c.ctx, c.deadline, c.prefix, c.id, c.n, c.rank = ctx, deadline, prefix, id, len(limits), 0
	c.lease, c.settling, c.asking, c.settle, c.granted = 0, false, false, nil, [3]int64{}
	// The keys of guess are those of every instant from, to to: the fixed
	// windows of guess for every limit all hold [from, to).
	from, to := int64(0), int64(1)<<62
	for i, l := range limits {
		size := l.Window.Milliseconds()
		bucket := guess / size
		from, to = max(from, bucket*size), min(to, (bucket+1)*size)
		c.argv[6+2*i], c.argv[7+2*i] = l.Count, size
	}
	c.argv[0], c.argv[1], c.argv[2], c.argv[3], c.argv[4], c.argv[5] = now, cost, from, to, int64(len(limits)), 1
	return c
}

// putCall makes c reusable; it must no longer be referenced.
func putCall(c *call) {
	c.ctx, c.reply, c.err, c.settle = nil, nil, nil, nil
	callPool.Put(c)
}

// setKeys sets the keys of the previous and the current fixed window of
// every limit, "{<prefix>:<id>}:<seconds>:<bucket>", and with leasing the
// lease records, "{<prefix>:<id>}:lease", all in one string.
// The current bucket of a limit of size W is from/W (from is in the fixed
// window of guess for every limit). Only a lead's keys are sent, so only
// a lead's are made.
func (c *call) setKeys() {
	var buf [256]byte
	b := buf[:0]
	var ends [2*MaxWindows + 1]int
	from := c.argv[2]
	for i := range c.n {
		size := c.argv[7+2*i]
		bucket := from / size
		for j, n := range [2]int64{bucket - 1, bucket} {
			b = append(b, '{')
			b = append(b, c.prefix...)
			b = append(b, ':')
			b = append(b, c.id...)
			b = append(b, "}:"...)
			b = strconv.AppendInt(b, size/1000, 10)
			b = append(b, ':')
			b = strconv.AppendInt(b, n, 10)
			ends[2*i+j] = len(b)
		}
	}
	nkeys := c.nkeys()
	if nkeys > 2*c.n {
		b = append(b, '{')
		b = append(b, c.prefix...)
		b = append(b, ':')
		b = append(b, c.id...)
		b = append(b, "}:lease"...)
		ends[2*c.n] = len(b)
	}
	s, start := string(b), 0
	for i, end := range ends[:nkeys] {
		c.keys[i], start = s[start:end], end
	}
}

// nkeys is the number of keys of c's entry: two per limit, and the lease
// records with leasing.
func (c *call) nkeys() int { return 2*c.n + b2i(c.lease > 0) }

// sameEntry reports whether c and d can be one entry of allow.lua: they
// differ at most in their contexts and deadlines. Equal ids, limits and
// from name the same keys. argv[5] is the lead's m; past the limits, argv
// holds what a pooled call was used for before. A settlement is an entry
// of its own.
func sameEntry(c, d *call) bool {
	n := c.n
	return n == d.n && c.id == d.id && c.prefix == d.prefix && [5]int64(c.argv[:5]) == [5]int64(d.argv[:5]) &&
		slices.Equal(c.argv[6:6+2*n], d.argv[6:6+2*n]) && c.lease == d.lease && !c.settling && !d.settling
}

// group orders calls so that equal ones (sameEntry) are together, keeping
// the order of the calls of each id, but for settlements, which go before
// the other calls of their id, so that these see the units they return.
// It ranks calls in their entries and sets the keys of the leads.
// Calls of different ids count in different keys: their order does not
// change any decision.
func group(calls []*call) {
	slices.SortStableFunc(calls, func(c, d *call) int {
		if n := strings.Compare(c.id, d.id); n != 0 {
			return n
		}
		return b2i(d.settling) - b2i(c.settling)
	})
	var lead *call
	for _, c := range calls {
		if c.settling { // its keys are those of the lease's entry
			lead, c.rank = nil, 0
			continue
		}
		if lead != nil && sameEntry(lead, c) {
			c.rank = int(lead.argv[5])
			lead.argv[5]++
			continue
		}
		lead, c.rank, c.argv[5] = c, 0, 1
		c.setKeys()
	}
}

// script is one run of allow.lua for calls, grouped (see group).
type script struct {
	calls []*call
	cmd   *redis.IntSliceCmd
}

// newScript returns the EVALSHA of calls, or the EVAL if eval. keep and
// ttl are allow.lua's ARGV[1] and ARGV[2]. calls must be grouped.
func newScript(ctx context.Context, calls []*call, keep, ttl *int64, eval bool) *script {
	nkeys, nargs := 0, 2
	for _, c := range leads(calls) {
		nkeys += c.nkeys()
		nargs += 7 + 2*c.n
	}
	args := make([]any, 3, 3+nkeys+nargs)
	args[0], args[1], args[2] = "evalsha", &allowHash, nkeys
	if eval {
		args[0], args[1] = "eval", &allowLua
	}
	for _, c := range leads(calls) {
		for i := range c.nkeys() {
			args = append(args, &c.keys[i])
		}
	}
	args = append(args, keep, ttl)
	for _, c := range leads(calls) {
		for i := range 6 {
			args = append(args, &c.argv[i])
		}
		args = append(args, &c.lease)
		for i := 6; i < 6+2*c.n; i++ {
			args = append(args, &c.argv[i])
		}
	}
	s := &script{calls: calls, cmd: redis.NewIntSliceCmd(ctx, args...)}
	s.cmd.SetFirstKeyPos(3)
	return s
}

// leads yields the leads of grouped calls.
func leads(calls []*call) iter.Seq2[int, *call] {
	return func(yield func(int, *call) bool) {
		for i, c := range calls {
			if c.rank == 0 && !yield(i, c) {
				return
			}
		}
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// replyLen is the number of values of c's entry in allow.lua's reply.
func (c *call) replyLen() int {
	switch {
	case c.settling:
		return 0
	case c.lease > 0:
		return 2*c.n + 5
	}
	return 2*c.n + 2
}

// deliver gives each call its part of the reply, or the error. A lead's
// part is its entry's: the counts before it and how many of its requests
// fit; the call of rank j sees the counts after the first min(j, fit), and
// is allowed if j < fit. The lead gets the entry's lease, and a denied
// call the deadline of the outstanding leases that made it pending.
func (s *script) deliver() {
	reply, err := s.cmd.Result()
	want := 0
	for _, c := range leads(s.calls) {
		want += c.replyLen()
	}
	if err == nil && len(reply) != want {
		err = fmt.Errorf("%d values in reply, want %d", len(reply), want)
	}
	var entry []int64
	for _, c := range s.calls {
		if err != nil {
			c.err = err
			continue
		}
		if c.settling {
			continue
		}
		if c.rank == 0 {
			entry, reply = reply[:c.replyLen()], reply[c.replyLen():]
		}
		fit, rank := entry[2*c.n], int64(c.rank)
		c.reply = c.replyBuf[:2*c.n+2]
		copy(c.reply, entry)
		for i := 1; i < 2*c.n; i += 2 {
			c.reply[i] += min(rank, fit) * c.argv[1]
		}
		c.reply[2*c.n] = int64(b2i(rank < fit))
		if c.lease > 0 {
			c.granted = [3]int64{}
			if rank == 0 {
				c.granted[0], c.granted[1] = entry[2*c.n+2], entry[2*c.n+3]
			}
			if rank >= fit {
				c.granted[2] = entry[2*c.n+4]
			}
		}
	}
}
