package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/labstack/echo/v4"
)

// bare is the baseline of make load: a bare Echo handler answering 200
// with no body to any method and path, with none of keygate's middleware.
// It is also the trivial auth server and the upstream behind nginx.
func bare() *echo.Echo {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.Any("/*", func(c echo.Context) error { return c.NoContent(http.StatusOK) })
	return e
}

// serve runs bare on -listen (a loopback address) until ctx ends.
func serve(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	addr := fs.String("listen", "127.0.0.1:0", "loopback address to serve on")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := loopback(*addr); err != nil {
		return err
	}
	l, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: bare(), ReadHeaderTimeout: 5 * time.Second}
	defer context.AfterFunc(ctx, func() { _ = srv.Close() })()
	if err := srv.Serve(l); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// ports prints n free loopback TCP ports, one a line. They are free when
// printed; make load starts its servers on them at once.
func ports(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("ports", flag.ContinueOnError)
	n := fs.Int("n", 1, "how many ports")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *n < 1 || *n > 100 {
		return fmt.Errorf("ports: want 1 <= -n <= 100")
	}
	ls := make([]net.Listener, 0, *n)
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	for range *n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		ls = append(ls, l)
		fmt.Fprintln(stdout, l.Addr().(*net.TCPAddr).Port)
	}
	return nil
}

// loopbackURL parses s, which must be a loopback http URL (-url of
// command cmd).
func loopbackURL(cmd, s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "http" || u.User != nil ||
		u.Hostname() != "127.0.0.1" && u.Hostname() != "localhost" && u.Hostname() != "::1" {
		return nil, fmt.Errorf("%s: -url must be a loopback http URL, got %q", cmd, s)
	}
	return u, nil
}

func loopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("serve: -listen must be a loopback address, got %q", addr)
	}
	return nil
}
