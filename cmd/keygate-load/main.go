// Command keygate-load measures /auth under load (scripts/load/run.sh runs
// it for make load).
//
//	keygate-load serve -ready FILE [-redis URL]
//	    starts three targets on loopback ports, each its own Echo server:
//	    a bare handler answering 200, /auth on the memory limiter and /auth
//	    on the Redis limiter, over a SQLite keystore in a temporary folder
//	    with one key; writes their URLs, the key and its GOMAXPROCS to
//	    FILE as shell variables, and serves until interrupted. It times
//	    every request in its handler; GET $STATS_URL<TARGET> (BARE, MEMORY
//	    or REDIS) answers requests=… p50_ms=… p99_ms=… p999_ms=… max_ms=…
//	    of those times since the last such GET.
//
//	keygate-load hit -url URL [-header 'Name: value'] [-c 64] [-d 10s] [-rate N]
//	    sends GET requests for a duration on c HTTP/1.1 keep-alive
//	    connections of its own (engine.go), closed-loop, or open-loop at N
//	    requests/s shared out as wrk2 does (latency counted from when each
//	    request was due), and prints one line: rps=… p50_ms=… p99_ms=…
//	    requests=… errors=… non200=… p90_ms=… p999_ms=… max_ms=…
//	    [late_p99_ms=…] cpu_us_per_req=…
//
// It talks only to loopback addresses and stops by itself.
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
		return fmt.Errorf("usage: keygate-load serve|hit [flags]")
	}
	switch args[0] {
	case "serve":
		return serve(ctx, args[1:])
	case "hit":
		return hit(ctx, args[1:], stdout)
	}
	return fmt.Errorf("unknown command %q: want serve or hit", args[0])
}
