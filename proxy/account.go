package proxy

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/keygate/keygate/keystore"
	"github.com/keygate/keygate/odoo"
)

// ErrNoAccount reports a key that no configured service account serves: it
// names no credential and there is no default account, or its credential
// is gone or does not open.
var ErrNoAccount = errors.New("proxy: no service account for this key")

// AccountResolver maps a verified key to its service account. A nil key
// asks for the default account, which answers common.version.
type AccountResolver interface {
	Account(ctx context.Context, key *keystore.Verified) (odoo.Account, error)
}

// Vault is what Accounts needs of keystore's credential vault
// (*keystore.Vault).
type Vault interface {
	GetCredential(ctx context.Context, id string) (*keystore.Credential, error)
	CredentialSecret(ctx context.Context, id string) (string, error)
}

// AccountsConfig configures Accounts. Zero values take the documented
// defaults.
type AccountsConfig struct {
	// Default serves keys without a credential_id (KEYGATE_ODOO_URL, _DB,
	// _LOGIN, _PASSWORD). Nil: such keys have no account.
	Default *odoo.Account
	// Vault holds the other accounts, by credential id. Nil: keys with a
	// credential_id have no account.
	Vault Vault
	// TTL is how long an account read from the vault is kept in memory
	// (default 5 minutes); errors are never kept.
	TTL time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// maxCachedAccounts bounds the memory of Accounts' cache.
const maxCachedAccounts = 10_000

// Accounts is keygate's AccountResolver: the default account for keys that
// name no credential, the vault's credential for the others. It is safe
// for concurrent use.
type Accounts struct {
	def   *odoo.Account
	vault Vault
	ttl   time.Duration
	now   func() time.Time

	mu    sync.Mutex
	cache map[string]cachedAccount
	gen   uint64 // moves on every Forget: a load that began before is not kept
}

type cachedAccount struct {
	acct  odoo.Account
	until time.Time
}

// NewAccounts validates the default account and returns the resolver.
func NewAccounts(cfg AccountsConfig) (*Accounts, error) {
	if cfg.Default != nil {
		if err := cfg.Default.Validate(); err != nil {
			return nil, fmt.Errorf("proxy: default service account: %w", err)
		}
		d := *cfg.Default
		if d.Name == "" {
			d.Name = "default"
		}
		cfg.Default = &d
	}
	if cfg.TTL <= 0 {
		cfg.TTL = 5 * time.Minute
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Accounts{def: cfg.Default, vault: cfg.Vault, ttl: cfg.TTL, now: cfg.Now, cache: map[string]cachedAccount{}}, nil
}

// Account returns the key's service account: the vault's credential named
// by key.CredentialID, else the default one.
func (a *Accounts) Account(ctx context.Context, key *keystore.Verified) (odoo.Account, error) {
	if key == nil || key.CredentialID == nil {
		if a.def == nil {
			return odoo.Account{}, fmt.Errorf("%w: no default account configured", ErrNoAccount)
		}
		return *a.def, nil
	}
	id := *key.CredentialID
	acct, gen, ok := a.cached(id)
	if ok {
		return acct, nil
	}
	acct, err := a.load(ctx, id)
	if err != nil {
		return odoo.Account{}, err
	}
	a.keep(id, acct, gen)
	return acct, nil
}

func (a *Accounts) load(ctx context.Context, id string) (odoo.Account, error) {
	if a.vault == nil {
		return odoo.Account{}, fmt.Errorf("%w: credential %s: no vault configured", ErrNoAccount, id)
	}
	cred, err := a.vault.GetCredential(ctx, id)
	if err != nil {
		return odoo.Account{}, accountErr(id, err)
	}
	secret, err := a.vault.CredentialSecret(ctx, id)
	if err != nil {
		return odoo.Account{}, accountErr(id, err)
	}
	return odoo.Account{Name: "credential:" + id, URL: cred.URL, DB: cred.DB, Login: cred.Login, Password: odoo.Secret(secret)}, nil
}

// accountErr keeps storage outages apart (they are retried) from a missing
// or unopenable credential (a configuration problem).
func accountErr(id string, err error) error {
	if errors.Is(err, keystore.ErrUnavailable) {
		return fmt.Errorf("proxy: credential %s: %w", id, err)
	}
	return fmt.Errorf("%w: credential %s: %w", ErrNoAccount, id, err)
}

func (a *Accounts) cached(id string) (odoo.Account, uint64, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	e, ok := a.cache[id]
	if !ok || !a.now().Before(e.until) {
		return odoo.Account{}, a.gen, false
	}
	return e.acct, a.gen, true
}

// keep caches acct unless a Forget came since gen was read.
func (a *Accounts) keep(id string, acct odoo.Account, gen uint64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if gen != a.gen {
		return
	}
	if len(a.cache) >= maxCachedAccounts {
		clear(a.cache)
	}
	a.cache[id] = cachedAccount{acct: acct, until: a.now().Add(a.ttl)}
}
