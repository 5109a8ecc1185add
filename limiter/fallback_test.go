package limiter

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/keygate/keygate/internal/testenv"
)

// fallbackRun is what a sequence of requests through a Fallback showed.
type fallbackRun struct {
	Allowed   []bool
	States    []State
	Fallbacks uint64
	Logs      []string
}

// fallbackFixture is a Fallback with a fake clock and captured logs.
type fallbackFixture struct {
	f     *Fallback
	clock *testenv.Clock
	logs  *testenv.LockedBuffer
	run   fallbackRun
}

func newFallbackFixture(tb testing.TB, url string) *fallbackFixture {
	tb.Helper()
	clock := newFakeClock()
	r, err := NewRedis(RedisConfig{URL: url, Prefix: testenv.KeyPrefix(tb), Now: clock.Now})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = r.Close() })
	logs := &testenv.LockedBuffer{}
	f := NewFallback(r, newTestMemory(tb, clock.Now), slog.New(slog.NewJSONHandler(logs, nil)))
	return &fallbackFixture{f: f, clock: clock, logs: logs}
}

// allow sends one request for 2/1h and records what happened.
func (x *fallbackFixture) allow(tb testing.TB) {
	tb.Helper()
	d, err := x.f.Allow(context.Background(), "a", mustLimits(tb, "2/1h"), 1)
	if err != nil {
		tb.Fatalf("Allow: %v", err)
	}
	x.run.Allowed = append(x.run.Allowed, d.Allowed)
	x.run.States = append(x.run.States, x.f.State())
}

func (x *fallbackFixture) result(tb testing.TB) fallbackRun {
	tb.Helper()
	x.run.Fallbacks = x.f.Fallbacks()
	x.run.Logs = messages(tb, x.logs)
	return x.run
}

func TestFallbackToMemoryWhenRedisIsUnreachable(t *testing.T) {
	x := newFallbackFixture(t, "redis://"+testenv.FreeAddr(t)+"/0")
	for range 3 {
		x.allow(t)
	}
	x.clock.Add(ProbeInterval)
	x.allow(t) // tries Redis again, fails, answers from memory
	want := fallbackRun{
		Allowed:   []bool{true, true, false, false},
		States:    []State{StateMemory, StateMemory, StateMemory, StateMemory},
		Fallbacks: 1,
		Logs:      []string{"limiter falling back to memory"},
	}
	if diff := cmp.Diff(want, x.result(t)); diff != "" {
		t.Fatalf("(-want +got):\n%s", diff)
	}
}

// TestFallbackWhenRedisDoesNotAnswer has a server that accepts connections
// and never answers, and a client whose own timeouts are an hour: only the
// limiter's Timeout lets the decisions come (else the test times out).
func TestFallbackWhenRedisDoesNotAnswer(t *testing.T) {
	x := newFallbackFixture(t, "redis://"+silentServer(t)+"/0?dial_timeout=1h&read_timeout=1h&write_timeout=1h")
	x.allow(t)
	x.allow(t)
	x.clock.Add(ProbeInterval)
	x.allow(t) // tries Redis again, which again does not answer
	want := fallbackRun{
		Allowed:   []bool{true, true, false},
		States:    []State{StateMemory, StateMemory, StateMemory},
		Fallbacks: 1,
		Logs:      []string{"limiter falling back to memory"},
	}
	if diff := cmp.Diff(want, x.result(t)); diff != "" {
		t.Fatalf("(-want +got):\n%s", diff)
	}
}

func TestFallbackFollowsRedisDownAndUp(t *testing.T) {
	srv := testenv.StartRedis(t)
	x := newFallbackFixture(t, srv.URL())
	x.allow(t) // Redis counts 1
	srv.Stop()
	x.allow(t) // memory counts 1
	x.allow(t) // memory counts 2
	srv.Start()
	x.allow(t) // too early to try Redis: memory denies
	x.clock.Add(ProbeInterval)
	x.allow(t) // Redis (restarted empty) counts 1
	x.allow(t) // Redis counts 2
	x.allow(t) // Redis denies
	want := fallbackRun{
		Allowed:   []bool{true, true, true, false, true, true, false},
		States:    []State{StateRedis, StateMemory, StateMemory, StateMemory, StateRedis, StateRedis, StateRedis},
		Fallbacks: 1,
		Logs:      []string{"limiter falling back to memory", "limiter back on redis"},
	}
	if diff := cmp.Diff(want, x.result(t)); diff != "" {
		t.Fatalf("(-want +got):\n%s", diff)
	}
}

func TestFallbackPassesOnInvalidRequestsAndDoneContexts(t *testing.T) {
	x := newFallbackFixture(t, "redis://"+testenv.FreeAddr(t)+"/0")
	limits := mustLimits(t, "2/1h")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, invalid := x.f.Allow(context.Background(), "", limits, 1)
	_, done := x.f.Allow(ctx, "a", limits, 1)
	got := []bool{errors.Is(invalid, ErrInvalidRequest), errors.Is(done, context.Canceled), x.f.State() == StateRedis}
	if diff := cmp.Diff([]bool{true, true, true}, got); diff != "" {
		t.Fatalf("[invalid request error, canceled error, still on redis] (-want +got):\n%s", diff)
	}
}

func TestStateString(t *testing.T) {
	got := []string{StateRedis.String(), StateMemory.String()}
	if diff := cmp.Diff([]string{"redis", "memory"}, got); diff != "" {
		t.Fatalf("(-want +got):\n%s", diff)
	}
}

// silentServer returns the address of a TCP server that reads everything
// and answers nothing, until the test ends.
func silentServer(tb testing.TB) string {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		conns []net.Conn
	)
	tb.Cleanup(func() {
		l.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	wg.Go(func() {
		for c, err := l.Accept(); err == nil; c, err = l.Accept() {
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Go(func() { _, _ = io.Copy(io.Discard, c) })
		}
	})
	return l.Addr().String()
}

// messages returns the msg of every JSON log line written to b so far.
func messages(tb testing.TB, b *testenv.LockedBuffer) []string {
	tb.Helper()
	var msgs []string
	dec := json.NewDecoder(bytes.NewReader(b.Bytes()))
	for dec.More() {
		var line struct{ Msg string }
		if err := dec.Decode(&line); err != nil {
			tb.Fatal(err)
		}
		msgs = append(msgs, line.Msg)
	}
	return msgs
}
