// Command keygate-load is make load's helper (scripts/load/run.sh); it is
// no part of keygate.
//
//	keygate-load serve [-listen 127.0.0.1:PORT]
//	    serves a bare Echo handler answering 200 with no body to every
//	    method and path, without keygate's middleware: the baseline of
//	    /auth, the trivial auth server and the upstream behind nginx.
//
//	keygate-load ports [-n N]
//	    prints N free loopback ports, one a line.
//
//	keygate-load hit -url URL [-header 'Name: value'] [-c 64] [-d 10s] [-rate N]
//	    sends GET requests for a duration on c HTTP/1.1 keep-alive
//	    connections of its own (engine.go), closed-loop, or open-loop at N
//	    requests/s shared out as wrk2 does (latency counted from when each
//	    request was due, so that a stall is not hidden by the requests it
//	    kept from being sent), and prints one line: rps=… p50_ms=… p99_ms=…
//	    requests=… errors=… non200=… p90_ms=… p999_ms=… max_ms=…
//	    [late_p99_ms=…] cpu_us_per_req=…  (latencies in an HdrHistogram)
//
//	keygate-load keys -n 100000 -db POSTGRES_URL -out FILE
//	    inserts n keys shaped like a typical partner key (three scopes, two
//	    rate limits) straight into api_keys of a migrated database, in one
//	    COPY, and writes their plaintexts to FILE, one a line.
//
//	keygate-load verify -url http://127.0.0.1:PORT/auth -keys FILE [-c 4]
//	    sends one /auth per key of FILE (Bearer, X-Original-Method GET,
//	    X-Original-URI /api/v1/partners) on c keep-alive connections, and
//	    fails unless every answer is 200 (scripts/load/rss.sh).
//
// It talks only to loopback addresses (and keys to its database) and stops
// by itself.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "keygate-load:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("usage: keygate-load serve|ports|hit|keys|verify [flags]")
	}
	switch args[0] {
	case "serve":
		return serve(ctx, args[1:])
	case "ports":
		return ports(args[1:], stdout)
	case "hit":
		return hit(ctx, args[1:], stdout)
	case "keys":
		return keys(ctx, args[1:])
	case "verify":
		return verify(ctx, args[1:], stdout)
	}
	return fmt.Errorf("unknown command %q: want serve, ports, hit, keys or verify", args[0])
}
