package authz

import (
	"context"
	"errors"

	"github.com/keygate/keygate/keystore"
	"github.com/keygate/keygate/limiter"
)

// CreditPool is a keystore.Store as the credits limiter's durable pool
// (limiter.Pool, and Return for a lease handed back at shutdown): the
// database holds every key's balance, the limiter leases blocks of it.
// authz is where the two meet, as keystore and limiter know nothing of
// each other.
type CreditPool struct{ Store *keystore.Store }

// Take leases up to max credits of key id, refilled for period first.
func (p CreditPool) Take(ctx context.Context, id string, period, max int64) (limiter.Grant, error) {
	g, err := p.Store.TakeCredits(ctx, id, period, max)
	if errors.Is(err, keystore.ErrNoCredits) {
		return limiter.Grant{}, limiter.ErrNoCredits
	}
	return limiter.Grant{Block: g.Block, Remaining: g.Remaining, Epoch: g.Epoch}, err
}

// Return gives back the left credits of lease epoch.
func (p CreditPool) Return(ctx context.Context, id string, epoch, left int64) error {
	return p.Store.ReturnCredits(ctx, id, epoch, left)
}
