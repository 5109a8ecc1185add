// Command odoo-double serves the Odoo test double of package odootest
// (POST /jsonrpc, /xmlrpc/2/<service>, /xmlrpc/<service>, the web session
// API /web/session/..., /web/dataset/call_kw, and with -version 19.0 the
// JSON-2 API /json/2/<model>/<method>) so that people can curl it and
// end-to-end tests can run it as a process:
//
//	odoo-double -listen 127.0.0.1:8069 -version 18.0
//	odoo-double -listen 127.0.0.1:8070 -version 19.0 -database odoo19_test
//
// Once it accepts connections it prints "listening on http://ADDR" on
// standard output (with -listen 127.0.0.1:0, a test reads the port from
// there). It logs one JSON line to standard error when it starts, and
// stops on SIGINT or SIGTERM. Its data starts pristine every time.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/keygate/keygate/internal/odootest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "odoo-double:", err)
		os.Exit(1)
	}
}

// options are the command's flags.
type options struct {
	listen   string
	version  string
	database string
	delay    time.Duration
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("odoo-double", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.listen, "listen", "127.0.0.1:8069", "address to listen on (port 0: any free port)")
	fs.StringVar(&o.version, "version", "18.0", "Odoo version to answer as: 18.0 or 19.0")
	fs.StringVar(&o.database, "database", "odoo_test", "name of the database the double serves")
	fs.DurationVar(&o.delay, "delay", 0, "wait this long before answering each request (timeout tests)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	return o, nil
}

// run is the whole program: tests call it with their own arguments and
// streams, and cancel ctx to stop it.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	double, err := odootest.New(odootest.Config{Version: o.version, Database: o.database})
	if err != nil {
		return err
	}
	double.SetDelay(o.delay)
	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: double, ReadHeaderTimeout: 10 * time.Second}
	slog.New(slog.NewJSONHandler(stderr, nil)).Info("odoo double listening",
		"addr", ln.Addr().String(), "version", o.version, "database", o.database, "delay", o.delay.String())
	fmt.Fprintf(stdout, "listening on http://%s\n", ln.Addr())
	return serve(ctx, srv, ln)
}

// serve serves until ctx is done, then shuts down with a fresh timeout.
func serve(ctx context.Context, srv *http.Server, ln net.Listener) error {
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
