package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// load is one run of requests against one URL.
type load struct {
	url      string
	header   http.Header
	conns    int
	duration time.Duration
	rate     int // requests/s; 0: closed loop
	client   *http.Client

	errors atomic.Int64
	non200 atomic.Int64
	other  sync.Map // status code → *atomic.Int64, for the answers not 200
}

func hit(ctx context.Context, args []string, stdout io.Writer) error {
	l, err := parseHit(args)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, l.duration)
	defer cancel()
	start := time.Now()
	var lat []time.Duration
	if l.rate > 0 {
		lat = l.openLoop(ctx)
	} else {
		lat = l.closedLoop(ctx)
	}
	l.report(stdout, lat, time.Since(start))
	return nil
}

func parseHit(args []string) (*load, error) {
	fs := flag.NewFlagSet("hit", flag.ContinueOnError)
	l := &load{header: http.Header{}}
	var header string
	fs.StringVar(&l.url, "url", "", "URL to GET (loopback only)")
	fs.StringVar(&header, "header", "", "one request header, 'Name: value'")
	fs.IntVar(&l.conns, "c", 64, "connections")
	fs.DurationVar(&l.duration, "d", 10*time.Second, "duration (at most 5m)")
	fs.IntVar(&l.rate, "rate", 0, "requests per second (0: as fast as the connections go)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if err := l.check(header); err != nil {
		return nil, err
	}
	l.client = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		MaxIdleConnsPerHost: l.conns, MaxConnsPerHost: l.conns, DisableCompression: true,
	}}
	return l, nil
}

func (l *load) check(header string) error {
	u, err := url.Parse(l.url)
	if err != nil || u.Hostname() != "127.0.0.1" && u.Hostname() != "localhost" && u.Hostname() != "::1" {
		return fmt.Errorf("hit: -url must be a loopback http URL, got %q", l.url)
	}
	if l.conns < 1 || l.duration <= 0 || l.duration > 5*time.Minute || l.rate < 0 {
		return errors.New("hit: want -c >= 1, 0 < -d <= 5m, -rate >= 0")
	}
	if header != "" {
		name, value, ok := strings.Cut(header, ":")
		if !ok {
			return fmt.Errorf("hit: -header %q: want 'Name: value'", header)
		}
		l.header.Set(strings.TrimSpace(name), strings.TrimSpace(value))
	}
	return nil
}

// closedLoop runs conns workers that each send the next request as soon
// as the last one is answered.
func (l *load) closedLoop(ctx context.Context) []time.Duration {
	results := make([][]time.Duration, l.conns)
	var wg sync.WaitGroup
	for i := range l.conns {
		wg.Go(func() {
			for ctx.Err() == nil {
				t := time.Now()
				if l.do(ctx) {
					results[i] = append(results[i], time.Since(t))
				}
			}
		})
	}
	wg.Wait()
	return slices.Concat(results...)
}

// openLoop sends rate requests per second whatever the answers take; a
// request's latency counts from when it was due, so that a stall shows
// in the percentiles instead of lowering the rate.
func (l *load) openLoop(ctx context.Context) []time.Duration {
	due := make(chan time.Time, l.rate)
	results := make([][]time.Duration, l.conns)
	var wg sync.WaitGroup
	for i := range l.conns {
		wg.Go(func() {
			for t := range due {
				if l.do(ctx) {
					results[i] = append(results[i], time.Since(t))
				}
			}
		})
	}
	l.schedule(ctx, due)
	close(due)
	wg.Wait()
	return slices.Concat(results...)
}

// schedule puts the due time of each request on due, rate per second.
func (l *load) schedule(ctx context.Context, due chan<- time.Time) {
	start, sent := time.Now(), 0
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-tick.C:
			for n := int(now.Sub(start).Seconds() * float64(l.rate)); sent < n; sent++ {
				select {
				case due <- start.Add(time.Duration(sent) * time.Second / time.Duration(l.rate)):
				case <-ctx.Done():
					return
				}
			}
		}
	}
}

// do sends one request and reports whether it was answered in time.
func (l *load) do(ctx context.Context) bool {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, l.url, nil)
	if err != nil {
		l.errors.Add(1)
		return false
	}
	req.Header = l.header
	res, err := l.client.Do(req)
	if err != nil {
		if ctx.Err() == nil {
			l.errors.Add(1)
		}
		return false
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		l.non200.Add(1)
		n, _ := l.other.LoadOrStore(res.StatusCode, new(atomic.Int64))
		n.(*atomic.Int64).Add(1)
	}
	return true
}

func (l *load) report(w io.Writer, lat []time.Duration, elapsed time.Duration) {
	slices.Sort(lat)
	fmt.Fprintf(w, "rps=%.0f p50_ms=%.3f p99_ms=%.3f requests=%d errors=%d non200=%d\n",
		float64(len(lat))/elapsed.Seconds(), ms(percentile(lat, 0.50)), ms(percentile(lat, 0.99)),
		len(lat), l.errors.Load(), l.non200.Load())
	l.other.Range(func(code, n any) bool {
		fmt.Fprintf(w, "status %d: %d answers\n", code, n.(*atomic.Int64).Load())
		return true
	})
}

func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[min(int(p*float64(len(sorted))), len(sorted)-1)]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
