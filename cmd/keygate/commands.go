package main

import (
	"context"
	"fmt"
	"io"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// version is set at build time with -ldflags "-X main.version=…"; else the
// module version or "dev".
var version = ""

func versionString() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

func rootCommand(ctx context.Context, cfg *config, stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:           "keygate",
		Short:         "API-key gateway for Odoo: forward-auth, rate limits, JSON-RPC/XML-RPC/REST gateway",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.PersistentFlags().StringVar(&cfg.DatabaseURL, "database-url", cfg.DatabaseURL, "database: sqlite://<file> or postgres://… (KEYGATE_DATABASE_URL)")
	root.AddCommand(serveCommand(cfg, stderr), migrateCommand(cfg, stdout, stderr), keysCommand(cfg, stdout, stderr), versionCommand(stdout), healthcheckCommand(stdout),
		credentialsCommand(cfg, stdin, stdout, stderr), secretsCommand(cfg, stdout, stderr))
	return root
}

func versionCommand(stdout io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			_, err := fmt.Fprintln(stdout, "keygate", versionString())
			return err
		},
	}
}
