package main

import (
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"

	"github.com/spf13/cobra"

	"github.com/keygate/keygate/keystore"
)

// sealer builds the credential sealer: KEYGATE_SECRET_KEY seals and opens,
// each KEYGATE_SECRET_KEY_PREVIOUS only opens (key rotation). Nil without
// KEYGATE_SECRET_KEY.
func (c *config) sealer() (*keystore.Sealer, error) {
	if c.SecretKey == "" {
		return nil, nil
	}
	key, err := keystore.ParseSecretKey(c.SecretKey)
	if err != nil {
		return nil, err
	}
	var previous [][]byte
	for _, p := range c.previousKeys() {
		k, err := keystore.ParseSecretKey(p)
		if err != nil {
			return nil, fmt.Errorf("KEYGATE_SECRET_KEY_PREVIOUS: %w", err)
		}
		previous = append(previous, k)
	}
	return keystore.NewSealer(key, previous...)
}

// checkPreviousKeys: each previous key is a valid key, and a previous key
// needs a current one.
func (c *config) checkPreviousKeys() error {
	if len(c.previousKeys()) == 0 {
		return nil
	}
	if c.SecretKey == "" {
		return errors.New("needs KEYGATE_SECRET_KEY (the key that seals from now on)")
	}
	for _, p := range c.previousKeys() {
		if _, err := keystore.ParseSecretKey(p); err != nil {
			return err
		}
	}
	return nil
}

// previousKeys are the non-empty entries of KEYGATE_SECRET_KEY_PREVIOUS
// (comma-separated).
func (c *config) previousKeys() []string {
	var out []string
	for _, p := range c.SecretKeyPrev {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func checkHTTPURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return errors.New("must be an absolute http:// or https:// URL")
	}
	return nil
}

// secretsCommand manages the secret key that seals service-account
// passwords.
func secretsCommand(cfg *config, stdout, stderr io.Writer) *cobra.Command {
	cmd := &cobra.Command{Use: "secrets", Short: "Manage the secret key that seals service-account passwords"}
	cmd.AddCommand(&cobra.Command{
		Use:   "reseal",
		Short: "Re-seal every credential under KEYGATE_SECRET_KEY (after a rotation; idempotent, safe while keygate runs)",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if cfg.SecretKey == "" {
				return errors.New("KEYGATE_SECRET_KEY is not set: it is the key to re-seal under")
			}
			sealer, err := cfg.sealer() // names a bad KEYGATE_SECRET_KEY_PREVIOUS
			if err != nil {
				return err
			}
			return withStore(c.Context(), cfg, stderr, func(s *keystore.Store) error {
				rep, err := s.Vault(sealer).Reseal(c.Context(), cliActor())
				fmt.Fprintf(stdout, "resealed %d, already current %d, failed %d\n", rep.Resealed, rep.Current, len(rep.Failed))
				for _, id := range rep.Failed {
					fmt.Fprintf(stdout, "failed: %s (opens under no configured key)\n", id)
				}
				return err
			})
		},
	})
	return cmd
}
