package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"golang.org/x/net/http/httpguts"
)

// load is one run of requests against one URL.
type load struct {
	url      string
	conns    int
	duration time.Duration
	rate     int // requests/s over all connections; 0: closed loop

	addr string // host:port to dial
	req  []byte // the request, serialized once
}

const (
	maxConns = 1000
	maxRate  = 10_000_000
)

func hit(ctx context.Context, args []string, stdout io.Writer) error {
	l, err := parseHit(args)
	if err != nil {
		return err
	}
	res, err := l.run(ctx)
	if err != nil {
		return fmt.Errorf("hit %s: %w", l.url, err)
	}
	res.report(stdout, l.rate > 0)
	return nil
}

func parseHit(args []string) (*load, error) {
	fs := flag.NewFlagSet("hit", flag.ContinueOnError)
	l := &load{}
	var header string
	fs.StringVar(&l.url, "url", "", "URL to GET (loopback http only)")
	fs.StringVar(&header, "header", "", "one request header, 'Name: value'")
	fs.IntVar(&l.conns, "c", 64, "connections")
	fs.DurationVar(&l.duration, "d", 10*time.Second, "duration (at most 5m)")
	fs.IntVar(&l.rate, "rate", 0, "requests per second (0: as fast as the connections go)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if l.conns < 1 || l.conns > maxConns || l.duration <= 0 || l.duration > 5*time.Minute || l.rate < 0 || l.rate > maxRate {
		return nil, fmt.Errorf("hit: want 1 <= -c <= %d, 0 < -d <= 5m, 0 <= -rate <= %d", maxConns, maxRate)
	}
	return l, l.prepare(header)
}

// prepare checks the URL and the header and serializes the request: GET,
// Host, the header, no body.
func (l *load) prepare(header string) error {
	u, err := loopbackURL("hit", l.url)
	if err != nil {
		return err
	}
	port := u.Port()
	if port == "" {
		port = "80"
	}
	l.addr = net.JoinHostPort(u.Hostname(), port)
	var b strings.Builder
	fmt.Fprintf(&b, "GET %s HTTP/1.1\r\nHost: %s\r\n", u.RequestURI(), u.Host)
	if header != "" {
		name, value, ok := strings.Cut(header, ":")
		name, value = strings.TrimSpace(name), strings.TrimSpace(value)
		if !ok || !httpguts.ValidHeaderFieldName(name) || !httpguts.ValidHeaderFieldValue(value) {
			return fmt.Errorf("hit: -header %q: want 'Name: value'", header)
		}
		fmt.Fprintf(&b, "%s: %s\r\n", name, value)
	}
	b.WriteString("\r\n")
	l.req = []byte(b.String())
	return nil
}

// report prints one line, rps= p50_ms= p99_ms= first (scripts/load/run.sh
// reads them there), then a line for each status other than 200 and the
// first error, if any. late_p99_ms (open loop) is how late the generator
// itself sent the requests due on an idle connection: its part of the
// latencies.
func (r *result) report(w io.Writer, open bool) {
	requests := r.lat.count()
	fmt.Fprintf(w, "rps=%.0f p50_ms=%.3f p99_ms=%.3f requests=%d errors=%d non200=%d p90_ms=%.3f p999_ms=%.3f max_ms=%.3f",
		float64(requests)/r.elapsed.Seconds(), ms(r.lat.percentile(0.50)), ms(r.lat.percentile(0.99)),
		requests, r.errors, int64(requests)-r.status[200],
		ms(r.lat.percentile(0.90)), ms(r.lat.percentile(0.999)), ms(r.lat.max()))
	if open {
		fmt.Fprintf(w, " late_p99_ms=%.3f", ms(r.late.percentile(0.99)))
	}
	if r.cpuOK && requests > 0 {
		fmt.Fprintf(w, " cpu_us_per_req=%.1f\n", float64(r.cpu.Microseconds())/float64(requests))
	} else {
		fmt.Fprintf(w, " cpu_us_per_req=-\n")
	}
	for code, n := range r.status {
		if code != 200 && n > 0 {
			fmt.Fprintf(w, "status %d: %d answers\n", code, n)
		}
	}
	if r.err != nil {
		fmt.Fprintf(w, "first error: %v\n", r.err)
	}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
