package main

import (
	"bufio"
	"context"
	"errors"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

const (
	// answerTimeout is how long after the end of the run a request may
	// still be answered; later, it and every request not yet sent count
	// as errors.
	answerTimeout = 10 * time.Second
	dialTimeout   = 5 * time.Second
	readBuffer    = 4096
	// errorPause is how long a closed-loop connection waits after an
	// error, so that a dead target is not dialled in a busy loop.
	errorPause = 10 * time.Millisecond
)

// errStopped ends a connection's loop once the run is interrupted.
var errStopped = errors.New("stopped")

// result is what a run measured.
type result struct {
	lat     histogram // from the due time (open loop) or the send time
	late    histogram // open loop: from the due time to the send, on idle connections
	status  [1000]int64
	errors  int64
	err     error // the first error counted
	elapsed time.Duration
	cpu     time.Duration // of this process, during the run
	cpuOK   bool
}

// worker is one keep-alive connection and what it measured. Only its own
// goroutine uses it, but for conn, which interrupt may reach under mu.
type worker struct {
	l        *load
	stopped  *atomic.Bool
	deadline time.Time // for every read and write: the end plus answerTimeout
	alarm    *alarm

	mu   sync.Mutex
	conn net.Conn // nil after an error or Connection: close, until the next request
	r    *bufio.Reader

	result
}

// run sends the requests of l, closed-loop or open-loop, and returns what
// it measured. Its error ends the whole run: an interruption, or an
// answer that hit cannot read (errUnsupported).
func (l *load) run(ctx context.Context) (*result, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var stopped atomic.Bool
	ws, err := l.newWorkers(&stopped)
	if err != nil {
		return nil, err
	}
	defer func() {
		for _, w := range ws {
			w.close()
		}
	}()
	defer context.AfterFunc(ctx, func() {
		stopped.Store(true)
		for _, w := range ws {
			w.interrupt()
		}
	})()

	cpu0, _ := cpuTime()
	start := time.Now()
	end := start.Add(l.duration)
	var wg sync.WaitGroup
	for i, w := range ws {
		w.setDeadline(end.Add(answerTimeout))
		wg.Go(func() {
			var err error
			if l.rate > 0 {
				err = w.openLoop(i, start, end)
			} else {
				err = w.closedLoop(end)
			}
			if err != nil {
				cancel(err)
			}
		})
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return nil, err
	}
	res := &result{elapsed: time.Since(start)}
	cpu1, ok := cpuTime()
	res.cpu, res.cpuOK = cpu1-cpu0, ok
	for _, w := range ws {
		res.merge(&w.result)
	}
	return res, nil
}

func (r *result) merge(o *result) {
	r.lat.merge(&o.lat)
	r.late.merge(&o.late)
	for code, n := range o.status {
		r.status[code] += n
	}
	r.errors += o.errors
	if r.err == nil {
		r.err = o.err
	}
}

// newWorkers returns l.conns workers, their connections open before the
// run, so that the first requests do not wait for them.
func (l *load) newWorkers(stopped *atomic.Bool) ([]*worker, error) {
	ws := make([]*worker, 0, l.conns)
	for range l.conns {
		w, err := l.newWorker(stopped)
		if err != nil {
			for _, w := range ws {
				w.close()
			}
			return nil, err
		}
		ws = append(ws, w)
	}
	return ws, nil
}

func (l *load) newWorker(stopped *atomic.Bool) (*worker, error) {
	a, err := newAlarm()
	if err != nil {
		return nil, err
	}
	w := &worker{l: l, stopped: stopped, alarm: a}
	if err := w.dial(); err != nil {
		w.close()
		return nil, err
	}
	return w, nil
}

// openLoop sends this connection's share of the rate: its k-th request is
// due at start + (k*conns + i)/rate, as in wrk2. The latency counts from
// the due time, so that a request held up by a slow answer before it on
// this connection shows the wait instead of lowering the rate. Every
// request due before end is sent, late if need be.
func (w *worker) openLoop(i int, start, end time.Time) error {
	conns, rate := int64(w.l.conns), time.Duration(w.l.rate)
	for k := int64(0); ; k++ {
		due := start.Add(time.Duration(k*conns+int64(i)) * time.Second / rate)
		if !due.Before(end) {
			return nil
		}
		if w.stopped.Load() {
			return errStopped
		}
		if wait := time.Until(due); wait > 0 {
			if err := w.alarm.sleep(wait); err != nil {
				return err
			}
			w.late.record(time.Since(due))
		}
		if err := w.do(due); err != nil {
			return err
		}
	}
}

// closedLoop sends the next request as soon as the last one is answered,
// until end; the latency counts from the send.
func (w *worker) closedLoop(end time.Time) error {
	for time.Now().Before(end) {
		if w.stopped.Load() {
			return errStopped
		}
		errs := w.errors
		if err := w.do(time.Now()); err != nil {
			return err
		}
		if w.errors > errs {
			if err := w.alarm.sleep(errorPause); err != nil {
				return err
			}
		}
	}
	return nil
}

// do sends the request and reads its answer, and records the latency
// from the time from, or an error. It returns an error only to end the
// run: for an answer that hit cannot read.
func (w *worker) do(from time.Time) error {
	if w.conn == nil {
		if time.Now().After(w.deadline) {
			w.fail(os.ErrDeadlineExceeded) // without dialling for each request left
			return nil
		}
		if err := w.dial(); err != nil {
			w.fail(err)
			return nil
		}
	}
	_, err := w.conn.Write(w.l.req)
	var status int
	var closing bool
	if err == nil {
		status, closing, err = readResponse(w.r)
	}
	if err != nil {
		w.closeConn()
		if errors.Is(err, errUnsupported) {
			return err
		}
		w.fail(err)
		return nil
	}
	w.lat.record(time.Since(from))
	w.status[status]++
	if closing {
		w.closeConn()
	}
	return nil
}

func (w *worker) fail(err error) {
	w.errors++
	if w.err == nil {
		w.err = err
	}
}

func (w *worker) dial() error {
	c, err := net.DialTimeout("tcp", w.l.addr, dialTimeout)
	if err != nil {
		return err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.stopped.Load() {
		c.Close()
		return errStopped
	}
	if !w.deadline.IsZero() {
		_ = c.SetDeadline(w.deadline)
	}
	w.conn = c
	if w.r == nil {
		w.r = bufio.NewReaderSize(c, readBuffer)
	} else {
		w.r.Reset(c)
	}
	return nil
}

func (w *worker) setDeadline(t time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.deadline = t
	if w.conn != nil {
		_ = w.conn.SetDeadline(t)
	}
}

func (w *worker) closeConn() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.conn != nil {
		w.conn.Close()
		w.conn = nil
	}
}

// interrupt ends the worker's current read, write or sleep, and every
// later one.
func (w *worker) interrupt() {
	w.alarm.interrupt()
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.conn != nil {
		_ = w.conn.SetDeadline(time.Unix(1, 0))
	}
}

func (w *worker) close() {
	w.closeConn()
	_ = w.alarm.close()
}
