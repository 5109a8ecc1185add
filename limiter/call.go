package limiter

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// call is one request on its way to allow.lua, with its part of the reply.
// Its arguments are held in arrays of its own, so that a script's
// arguments point into its calls: go-redis writes a pointer in an
// interface without allocating, where a string or an int64 needs one
// allocation each. Calls are reused (see getCall).
type call struct {
	ctx      context.Context
	deadline time.Time
	n        int                     // limits
	keys     [2 * MaxWindows]string  // two per limit
	argv     [5 + 2*MaxWindows]int64 // now, cost, from, to, n, then count and window per limit
	reply    []int64                 // prev and curr per limit, allowed, now
	err      error
	done     chan struct{} // receives when reply or err is set, if the call waited in a queue
	one      [1]*call      // the call itself, to send it alone without allocating
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
	c.ctx, c.deadline, c.n = ctx, deadline, len(limits)
	from, to := c.setKeys(prefix, id, limits, guess)
	c.argv[0], c.argv[1], c.argv[2], c.argv[3], c.argv[4] = now, cost, from, to, int64(len(limits))
	for i, l := range limits {
		c.argv[5+2*i], c.argv[6+2*i] = l.Count, l.Window.Milliseconds()
	}
	return c
}

// putCall makes c reusable; it must no longer be referenced.
func putCall(c *call) {
	c.ctx, c.reply, c.err = nil, nil, nil
	callPool.Put(c)
}

// setKeys sets the keys of the previous and the current fixed window of
// every limit at instant t, "{<prefix>:<id>}:<seconds>:<bucket>", all in
// one string, and returns the instants from which and until which they
// are the keys.
func (c *call) setKeys(prefix, id string, limits []Limit, t int64) (from, to int64) {
	var buf [256]byte
	b := buf[:0]
	var ends [2 * MaxWindows]int
	from, to = 0, 1<<62
	for i, l := range limits {
		size := l.Window.Milliseconds()
		bucket := t / size
		from, to = max(from, bucket*size), min(to, (bucket+1)*size)
		for j, n := range [2]int64{bucket - 1, bucket} {
			b = append(b, '{')
			b = append(b, prefix...)
			b = append(b, ':')
			b = append(b, id...)
			b = append(b, "}:"...)
			b = strconv.AppendInt(b, int64(l.Window/time.Second), 10)
			b = append(b, ':')
			b = strconv.AppendInt(b, n, 10)
			ends[2*i+j] = len(b)
		}
	}
	s, start := string(b), 0
	for i, end := range ends[:2*len(limits)] {
		c.keys[i], start = s[start:end], end
	}
	return from, to
}

// script is one run of allow.lua for calls, in order.
type script struct {
	calls []*call
	cmd   *redis.IntSliceCmd
}

// newScript returns the EVALSHA of calls, or the EVAL if eval. keep is
// allow.lua's ARGV[1].
func newScript(ctx context.Context, calls []*call, keep *int64, eval bool) *script {
	nkeys, nargs := 0, 1
	for _, c := range calls {
		nkeys += 2 * c.n
		nargs += 5 + 2*c.n
	}
	args := make([]any, 3, 3+nkeys+nargs)
	args[0], args[1], args[2] = "evalsha", &allowHash, nkeys
	if eval {
		args[0], args[1] = "eval", &allowLua
	}
	for _, c := range calls {
		for i := range 2 * c.n {
			args = append(args, &c.keys[i])
		}
	}
	args = append(args, keep)
	for _, c := range calls {
		for i := range 5 + 2*c.n {
			args = append(args, &c.argv[i])
		}
	}
	s := &script{calls: calls, cmd: redis.NewIntSliceCmd(ctx, args...)}
	s.cmd.SetFirstKeyPos(3)
	return s
}

// deliver gives each call its part of the reply, or the error.
func (s *script) deliver() {
	reply, err := s.cmd.Result()
	want := 0
	for _, c := range s.calls {
		want += 2*c.n + 2
	}
	if err == nil && len(reply) != want {
		err = fmt.Errorf("%d values in reply, want %d", len(reply), want)
	}
	for _, c := range s.calls {
		if err != nil {
			c.err = err
			continue
		}
		c.reply, reply = reply[:2*c.n+2:2*c.n+2], reply[2*c.n+2:]
	}
}
