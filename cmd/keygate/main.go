// Command keygate is the API-key gateway for Odoo: see the README.
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
	err := run(ctx, os.Args[1:], os.Environ(), os.Stdin, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "keygate:", err)
		os.Exit(1)
	}
}

// run is the whole program: tests call it with their own arguments,
// environment and streams, and cancel ctx to stop it.
func run(ctx context.Context, args, environ []string, stdin io.Reader, stdout, stderr io.Writer) error {
	cfg, err := loadConfig(envMap(environ))
	if err != nil {
		return err
	}
	root := rootCommand(ctx, &cfg, stdin, stdout, stderr)
	root.SetArgs(args)
	return root.ExecuteContext(ctx)
}

func envMap(environ []string) map[string]string {
	m := make(map[string]string, len(environ))
	for _, kv := range environ {
		for i := 0; i < len(kv); i++ {
			if kv[i] == '=' {
				m[kv[:i]] = kv[i+1:]
				break
			}
		}
	}
	return m
}
