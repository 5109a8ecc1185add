package httpapi

import (
	"io"
	"sync"
	"time"
)

// logBuffer is the size at which a LogWriter writes what it holds without
// waiting for its interval: a few hundred access lines.
const logBuffer = 64 << 10

// LogWriter buffers log lines in memory and writes them to its writer every
// interval, when the buffer fills, on Flush and on Close. An access line
// per request, each written with a write(2) of its own, was a fifth of
// keygate's CPU per /auth under load; buffered, hundreds of lines share one.
// The price: a process killed without Close (SIGKILL, a crash of the
// runtime) loses the lines of at most the last interval. Handler flushes
// after every other record, so that warnings and errors are never held
// back, and lines keep their order. Safe for concurrent use.
type LogWriter struct {
	w        io.Writer
	interval time.Duration

	mu  sync.Mutex // guards buf
	buf []byte

	out   sync.Mutex // serializes writes to w; guards spare
	spare []byte

	stop chan struct{}
	done chan struct{}
	once sync.Once
}

// NewLogWriter returns a LogWriter onto w that writes what it holds every
// interval (≤ 0: it holds nothing and writes each line at once).
func NewLogWriter(w io.Writer, interval time.Duration) *LogWriter {
	l := &LogWriter{w: w, interval: interval, stop: make(chan struct{}), done: make(chan struct{})}
	if interval <= 0 {
		close(l.done)
		return l
	}
	l.buf, l.spare = make([]byte, 0, logBuffer), make([]byte, 0, logBuffer)
	go l.tick()
	return l
}

func (l *LogWriter) tick() {
	defer close(l.done)
	t := time.NewTicker(l.interval)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
			_ = l.Flush()
		}
	}
}

// Write appends p, one or more whole lines, to the buffer; it writes the
// buffer first if p does not fit, and p itself at once if it is larger
// than the buffer.
func (l *LogWriter) Write(p []byte) (int, error) {
	if l.interval <= 0 {
		l.out.Lock()
		defer l.out.Unlock()
		return l.w.Write(p)
	}
	if l.buffer(p) {
		return len(p), nil
	}
	if err := l.Flush(); err != nil {
		return 0, err
	}
	if l.buffer(p) {
		return len(p), nil
	}
	// Larger than the buffer (or others filled it meanwhile): what was
	// buffered before p is written, so p goes straight after it.
	l.out.Lock()
	defer l.out.Unlock()
	return l.w.Write(p)
}

// buffer appends p to the buffer if it fits.
func (l *LogWriter) buffer(p []byte) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.buf)+len(p) > cap(l.buf) {
		return false
	}
	l.buf = append(l.buf, p...)
	return true
}

// Flush writes what the buffer holds. Lines appended while it writes wait
// for the next flush, in the other buffer: appending never waits for w.
func (l *LogWriter) Flush() error {
	if l.interval <= 0 {
		return nil
	}
	l.out.Lock()
	defer l.out.Unlock()
	l.mu.Lock()
	b := l.buf
	l.buf = l.spare[:0]
	l.mu.Unlock()
	l.spare = b
	if len(b) == 0 {
		return nil
	}
	_, err := l.w.Write(b)
	return err
}

// Close stops the interval's writes and writes what the buffer holds.
// Lines written after Close are written at the next Flush, if any.
func (l *LogWriter) Close() error {
	l.once.Do(func() {
		if l.interval > 0 {
			close(l.stop)
		}
	})
	<-l.done
	return l.Flush()
}
