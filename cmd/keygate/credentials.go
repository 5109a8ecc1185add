package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/keygate/keygate/keystore"
)

// credentialsCommand manages upstream service accounts straight in the
// database, as keysCommand does keys; each change is audited with the actor
// "cli:<user>" and reaches running replicas (Postgres NOTIFY, or the SQLite
// file watch). Passwords are read from stdin, the environment or a flag,
// never printed.
func credentialsCommand(cfg *config, stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	cmd := &cobra.Command{Use: "credentials", Short: "Create, list, update and delete upstream service accounts (Odoo users)"}
	cmd.AddCommand(credentialsList(cfg, stdout, stderr), credentialsCreate(cfg, stdin, stdout, stderr),
		credentialsUpdate(cfg, stdin, stdout, stderr), credentialsDelete(cfg, stdout, stderr))
	return cmd
}

// passwordSource is where a command reads the service account's password.
type passwordSource struct {
	flag    string
	fromIn  bool
	fromEnv bool
}

func (p *passwordSource) register(f *pflag.FlagSet) {
	f.StringVar(&p.flag, "password", "", "the Odoo API key (visible to other users of this machine: prefer --password-stdin)")
	f.BoolVar(&p.fromIn, "password-stdin", false, "read the Odoo API key from stdin")
	f.BoolVar(&p.fromEnv, "password-env", false, "read the Odoo API key from KEYGATE_CREDENTIAL_PASSWORD")
}

// read returns the password and whether one was given; more than one
// source is an error.
func (p *passwordSource) read(c *cobra.Command, cfg *config, stdin io.Reader, stderr io.Writer) (string, bool, error) {
	n := 0
	for _, given := range []bool{c.Flags().Changed("password"), p.fromIn, p.fromEnv} {
		if given {
			n++
		}
	}
	switch {
	case n > 1:
		return "", false, errors.New("give the password one way: --password, --password-stdin or --password-env")
	case p.fromIn:
		return readSecret(stdin)
	case p.fromEnv:
		if cfg.CredentialPassword == "" {
			return "", false, errors.New("--password-env: KEYGATE_CREDENTIAL_PASSWORD is not set")
		}
		return cfg.CredentialPassword, true, nil
	case c.Flags().Changed("password"):
		fmt.Fprintln(stderr, "warning: --password is visible to other users of this machine; prefer --password-stdin")
		return p.flag, true, nil
	}
	return "", false, nil
}

// readSecret reads one line from stdin (a trailing newline is dropped).
func readSecret(stdin io.Reader) (string, bool, error) {
	if stdin == nil {
		return "", false, errors.New("--password-stdin: no stdin")
	}
	line, err := bufio.NewReader(io.LimitReader(stdin, 4096)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", false, fmt.Errorf("--password-stdin: %w", err)
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", false, errors.New("--password-stdin: stdin is empty")
	}
	return line, true, nil
}

// withVault opens the store and its vault sealed by the configured keys.
func withVault(c *cobra.Command, cfg *config, stderr io.Writer, fn func(*keystore.Vault) error) error {
	sealer, err := cfg.sealer()
	if err != nil {
		return err
	}
	return withStore(c.Context(), cfg, stderr, func(s *keystore.Store) error { return fn(s.Vault(sealer)) })
}

func credentialsList(cfg *config, stdout, stderr io.Writer) *cobra.Command {
	var (
		f      keystore.CredentialFilter
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List service accounts, oldest first (passwords are never shown)",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return withVault(c, cfg, stderr, func(v *keystore.Vault) error {
				creds, _, err := v.ListCredentials(c.Context(), f)
				if err != nil {
					return err
				}
				return printCredentials(stdout, creds, asJSON)
			})
		},
	}
	cmd.Flags().IntVar(&f.Page, "page", 1, "page, from 1")
	cmd.Flags().IntVar(&f.Limit, "limit", 100, "service accounts per page, at most 100")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON, one credential object per line")
	return cmd
}

func printCredentials(w io.Writer, creds []*keystore.Credential, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(w)
		for _, c := range creds {
			if err := enc.Encode(c); err != nil {
				return err
			}
		}
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tURL\tDB\tLOGIN\tUPDATED")
	for _, c := range creds {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", c.ID, c.Name, c.URL, c.DB, c.Login, c.UpdatedAt.Format(time.RFC3339))
	}
	return tw.Flush()
}

func printCredential(w io.Writer, verb string, c *keystore.Credential, asJSON bool) error {
	if asJSON {
		return json.NewEncoder(w).Encode(c)
	}
	_, err := fmt.Fprintf(w, "%s %s\nname:  %s\nurl:   %s\ndb:    %s\nlogin: %s\n", verb, c.ID, c.Name, c.URL, c.DB, c.Login)
	return err
}

func credentialsCreate(cfg *config, stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	var (
		spec   keystore.CredentialSpec
		pw     passwordSource
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "create",
		Short: "Add a service account; its password is sealed under KEYGATE_SECRET_KEY",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			secret, ok, err := pw.read(c, cfg, stdin, stderr)
			if err != nil {
				return err
			}
			if !ok {
				return errors.New("the password is required: --password-stdin, --password-env or --password")
			}
			return withVault(c, cfg, stderr, func(v *keystore.Vault) error {
				cred, err := v.CreateCredential(c.Context(), cliActor(), spec, secret)
				if err != nil {
					return cliErr(err)
				}
				return printCredential(stdout, "created", cred, asJSON)
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&spec.Name, "name", "", "name of the service account (required, unique)")
	f.StringVar(&spec.URL, "url", "", "Odoo's base URL, such as https://odoo.example.com (required)")
	f.StringVar(&spec.DB, "db", "", "Odoo database (required)")
	f.StringVar(&spec.Login, "login", "", "Odoo user's login (required)")
	pw.register(f)
	f.BoolVar(&asJSON, "json", false, "print the credential object as the admin API answers it")
	return cmd
}

func credentialsUpdate(cfg *config, stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	var (
		name, url, db, login string
		pw                   passwordSource
		asJSON               bool
	)
	cmd := &cobra.Command{
		Use:   "update <id>",
		Short: "Change a service account: only the fields given change; running replicas drop its cached uid",
		Args:  cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			var p keystore.CredentialPatch
			for flag, o := range map[string]struct {
				dst *keystore.Optional[string]
				v   string
			}{"name": {&p.Name, name}, "url": {&p.URL, url}, "db": {&p.DB, db}, "login": {&p.Login, login}} {
				if c.Flags().Changed(flag) {
					*o.dst = keystore.Some(o.v)
				}
			}
			secret, ok, err := pw.read(c, cfg, stdin, stderr)
			if err != nil {
				return err
			}
			if ok {
				p.Password = keystore.Some(secret)
			}
			return withVault(c, cfg, stderr, func(v *keystore.Vault) error {
				cred, err := v.UpdateCredential(c.Context(), cliActor(), args[0], p)
				if err != nil {
					return cliErr(err)
				}
				return printCredential(stdout, "updated", cred, asJSON)
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&name, "name", "", "new name")
	f.StringVar(&url, "url", "", "new Odoo base URL")
	f.StringVar(&db, "db", "", "new Odoo database")
	f.StringVar(&login, "login", "", "new Odoo login")
	pw.register(f)
	f.BoolVar(&asJSON, "json", false, "print the credential object as the admin API answers it")
	return cmd
}

func credentialsDelete(cfg *config, stdout, stderr io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:   "delete <id>",
		Short: "Remove a service account (refused while keys that are not revoked use it)",
		Args:  cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			return withVault(c, cfg, stderr, func(v *keystore.Vault) error {
				if err := v.DeleteCredential(c.Context(), cliActor(), args[0]); err != nil {
					return cliErr(err)
				}
				_, err := fmt.Fprintf(stdout, "deleted %s\n", args[0])
				return err
			})
		},
	}
}

// cliErr words the vault's errors for a person at a terminal.
func cliErr(err error) error {
	var (
		inUse *keystore.InUseError
		ve    *keystore.ValidationError
	)
	switch {
	case errors.As(err, &inUse):
		return fmt.Errorf("the service account is used by %d key(s) (%s): revoke them or move them to another credential first",
			inUse.Keys, strings.Join(inUse.KeyIDs, ", "))
	case errors.As(err, &ve):
		return fmt.Errorf("invalid: %s", strings.TrimPrefix(ve.Error(), "keystore: invalid input: "))
	case errors.Is(err, keystore.ErrNoSecretKey):
		return errors.New("KEYGATE_SECRET_KEY is not set: it is needed to seal the password")
	}
	return err
}
