package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os/user"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/keygate/keygate/admin"
	"github.com/keygate/keygate/keystore"
)

// keysCommand manages keys straight in the database, for bootstrapping and
// scripts; each change is audited with the actor "cli:<user>".
func keysCommand(cfg *config, stdout, stderr io.Writer) *cobra.Command {
	cmd := &cobra.Command{Use: "keys", Short: "Create, list, revoke and rotate API keys in the database"}
	cmd.AddCommand(keysCreate(cfg, stdout, stderr), keysList(cfg, stdout, stderr),
		keysRevoke(cfg, stdout, stderr), keysRotate(cfg, stdout, stderr))
	return cmd
}

func cliActor() string {
	if u, err := user.Current(); err == nil {
		return "cli:" + u.Username
	}
	return "cli"
}

// withStore opens the store, migrating it first when allowed, as serve does.
func withStore(ctx context.Context, cfg *config, stderr io.Writer, fn func(*keystore.Store) error) error {
	log := newLogger(stderr, cfg)
	s, err := openStore(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer s.Close()
	if cfg.AutoMigrate {
		r, err := migrator(s)
		if err != nil {
			return err
		}
		if _, err := r.Up(ctx); err != nil {
			return err
		}
	}
	return fn(s)
}

func keysCreate(cfg *config, stdout, stderr io.Writer) *cobra.Command {
	var (
		spec     keystore.Spec
		ttl      string
		isAdmin  bool
		asJSON   bool
		metadata string
		credits  creditFlags
	)
	cmd := &cobra.Command{
		Use:   "create",
		Short: "Create a key and print it (the plaintext is shown once)",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if isAdmin {
				spec.Scopes = append(spec.Scopes, admin.AdminScope)
			}
			if metadata != "" {
				spec.Metadata = json.RawMessage(metadata)
			}
			var err error
			if spec.Credits, err = credits.parse(c.Flags().Changed("credits")); err != nil {
				return err
			}
			if ttl != "" {
				d, err := time.ParseDuration(ttl)
				if err != nil || d <= 0 {
					return fmt.Errorf("--ttl: want a positive duration such as 720h")
				}
				t := time.Now().Add(d).UTC()
				spec.ExpiresAt = &t
			}
			return withStore(c.Context(), cfg, stderr, func(s *keystore.Store) error {
				rec, key, err := s.Create(c.Context(), cliActor(), spec)
				if err != nil {
					return err
				}
				return printCreated(stdout, rec, key, asJSON)
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&spec.Name, "name", "", "name of the key (required)")
	f.StringVar(&spec.Owner, "owner", "", "owner: the partner's external id")
	f.StringSliceVar(&spec.Scopes, "scope", nil, "scope, repeatable or comma-separated (odoo:res.partner:read, route:GET:/api/**, admin)")
	f.StringSliceVar(&spec.RateLimits, "rate-limit", nil, "rate limit such as 100/1m, repeatable")
	f.StringSliceVar(&spec.IPAllowlist, "ip", nil, "allowed client network (CIDR or address), repeatable")
	f.StringVar(&ttl, "ttl", "", "lifetime such as 720h (default: no expiry)")
	f.StringVar(&metadata, "metadata", "", "metadata as a JSON object")
	credits.register(f)
	f.BoolVar(&isAdmin, "admin", false, "grant the admin scope")
	f.BoolVar(&asJSON, "json", false, "print the key object as POST /admin/v1/keys answers it")
	return cmd
}

func printCreated(w io.Writer, rec *keystore.Record, key keystore.Key, asJSON bool) error {
	if asJSON {
		return json.NewEncoder(w).Encode(admin.Created{Record: rec, Key: key.Reveal()})
	}
	_, err := fmt.Fprintf(w, "id:     %s\nname:   %s\nscopes: %s\nkey:    %s\n\nStore the key now: keygate keeps only its hash and cannot show it again.\n",
		rec.ID, rec.Name, strings.Join(rec.Scopes, ","), key.Reveal())
	return err
}

func keysList(cfg *config, stdout, stderr io.Writer) *cobra.Command {
	var (
		f      keystore.Filter
		status string
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List keys, newest first",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			f.Status = keystore.Status(status)
			if status != "" && !f.Status.Valid() {
				return fmt.Errorf("--status: want active, revoked or expired")
			}
			return withStore(c.Context(), cfg, stderr, func(s *keystore.Store) error {
				recs, _, err := s.List(c.Context(), f)
				if err != nil {
					return err
				}
				return printList(stdout, recs, asJSON)
			})
		},
	}
	cmd.Flags().StringVar(&f.Owner, "owner", "", "only this owner's keys")
	cmd.Flags().StringVar(&status, "status", "", "only keys in this status: active, revoked, expired")
	cmd.Flags().IntVar(&f.Page, "page", 1, "page, from 1")
	cmd.Flags().IntVar(&f.Limit, "limit", 100, "keys per page, at most 100")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON, one key object per line")
	return cmd
}

func printList(w io.Writer, recs []*keystore.Record, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(w)
		for _, r := range recs {
			if err := enc.Encode(r); err != nil {
				return err
			}
		}
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tPREFIX\tNAME\tOWNER\tSTATUS\tSCOPES\tCREATED")
	for _, r := range recs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.ID, r.Prefix, r.Name, r.Owner, r.Status,
			strings.Join(r.Scopes, ","), r.CreatedAt.Format(time.RFC3339))
	}
	return tw.Flush()
}

func keysRevoke(cfg *config, stdout, stderr io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:   "revoke <id>",
		Short: "Revoke a key (idempotent)",
		Args:  cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			return withStore(c.Context(), cfg, stderr, func(s *keystore.Store) error {
				rec, err := s.Revoke(c.Context(), cliActor(), args[0])
				if err != nil {
					return err
				}
				_, err = fmt.Fprintf(stdout, "revoked %s (%s)\n", rec.ID, rec.Prefix)
				return err
			})
		},
	}
}

func keysRotate(cfg *config, stdout, stderr io.Writer) *cobra.Command {
	var (
		grace  time.Duration
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "rotate <id>",
		Short: "Issue a new key with the same settings; the old one works for the grace period",
		Args:  cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			return withStore(c.Context(), cfg, stderr, func(s *keystore.Store) error {
				rec, key, err := s.Rotate(c.Context(), cliActor(), args[0], grace)
				if err != nil {
					return err
				}
				return printCreated(stdout, rec, key, asJSON)
			})
		},
	}
	cmd.Flags().DurationVar(&grace, "grace", keystore.DefaultGrace, "how long the old key keeps working")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the new key object as the admin API answers it")
	return cmd
}
