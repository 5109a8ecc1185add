package authz

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"

	"github.com/keygate/keygate/keystore"
	"github.com/keygate/keygate/limiter"
)

// Policy is a key's record compiled for the hot path: parsed scopes, rate
// limits and networks, and the response header values that never change
// for the key, formatted once. It is read-only once made.
type Policy struct {
	scopes   scopes
	networks []netip.Prefix
	limits   LimitSet        // empty: the server's default limits apply
	credits  *limiter.Refill // nil: the key has no credits

	keyID, owner, scopeList []string // header values
	keyIDAny, ownerAny      any      // for echo.Context.Set without boxing
}

// LimitSet is a list of limits with its RateLimit-Policy value formatted
// once. The zero LimitSet limits nothing.
type LimitSet struct {
	limits []limiter.Limit
	policy []string
}

var noLimits LimitSet

// Compile turns a key record into its *Policy. keystore.Config.Compile
// takes it, so that a key is compiled once, when it enters the
// verification cache. It fails on a scope, rate limit or network that does
// not parse: such a key cannot be decided, never silently widened.
func Compile(rec *keystore.Record) (any, error) {
	p, err := compile(rec)
	if err != nil {
		return nil, err
	}
	return p, nil
}

func compile(rec *keystore.Record) (*Policy, error) {
	p := &Policy{
		keyID: []string{rec.ID}, owner: []string{rec.Owner},
		scopeList: []string{strings.Join(rec.Scopes, ",")},
		keyIDAny:  rec.ID, ownerAny: rec.Owner,
	}
	var errs []error
	for _, s := range rec.Scopes {
		errs = append(errs, p.scopes.add(s))
	}
	limits, err := limiter.ParseLimits(rec.RateLimits)
	errs = append(errs, err)
	p.limits = NewLimitSet(limits)
	p.credits = compileCredits(rec.Credits)
	for _, n := range rec.IPAllowlist {
		pfx, err := keystore.ParseNetwork(n)
		errs = append(errs, err)
		p.networks = append(p.networks, pfx)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("authz: key %s: %w", rec.ID, err)
	}
	return p, nil
}

// policyOf returns the record's compiled policy, compiling it now when
// the record did not come through keystore.Config.Compile.
func policyOf(rec *keystore.Record) (*Policy, error) {
	if p, ok := rec.Policy.(*Policy); ok {
		return p, nil
	}
	return compile(rec)
}

// allowsAddr reports whether the key may be used from a.
func (p *Policy) allowsAddr(a netip.Addr) bool {
	if len(p.networks) == 0 {
		return true
	}
	return inAny(a.Unmap(), p.networks)
}

// NewLimitSet returns the LimitSet of limits (nil or empty: no limit).
func NewLimitSet(limits []limiter.Limit) LimitSet {
	if len(limits) == 0 {
		return LimitSet{}
	}
	return LimitSet{limits: limits, policy: []string{string(appendPolicy(nil, limits))}}
}
