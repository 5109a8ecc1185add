//go:build !linux

package main

import (
	"errors"
	"sync"
	"time"
)

// An alarm puts its goroutine to sleep until a set time on a Go timer,
// which may oversleep by a millisecond (clock_linux.go has a precise one).
// One goroutine sleeps on an alarm at a time; interrupt may come from any.
type alarm struct {
	t    *time.Timer
	stop chan struct{}
	once sync.Once
}

func newAlarm() (*alarm, error) {
	t := time.NewTimer(time.Hour)
	t.Stop()
	return &alarm{t: t, stop: make(chan struct{})}, nil
}

// sleep returns after d, or at once if d <= 0; it returns an error once
// the alarm is interrupted.
func (a *alarm) sleep(d time.Duration) error {
	if d <= 0 {
		return nil
	}
	a.t.Reset(d)
	select {
	case <-a.t.C:
		return nil
	case <-a.stop:
		a.t.Stop()
		return errors.New("alarm interrupted")
	}
}

// interrupt ends the current sleep and every later one.
func (a *alarm) interrupt() { a.once.Do(func() { close(a.stop) }) }

func (a *alarm) close() error { a.t.Stop(); return nil }

// cpuTime returns the CPU time of the process so far: unknown here.
func cpuTime() (time.Duration, bool) { return 0, false }
