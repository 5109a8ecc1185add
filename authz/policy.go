package authz

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"sync"

	"github.com/keygate/keygate/keystore"
	"github.com/keygate/keygate/limiter"
)

// Policy is a key's record compiled for the hot path: parsed scopes, rate
// limits and networks, and the response header values that never change
// for the key, formatted once. It is read-only once made.
//
// It holds nothing of one key alone (the X-Keygate-Key-Id and
// X-Keygate-Owner values are the verified key's own, keystore.Verified's
// IDValue and OwnerValue), so keys compiled from the same lists share one
// Policy, and keys with only the same scope list or the same rate limits
// share their compilation (see shared): 100,000 cached keys issued from a
// few templates cost a few policies.
type Policy struct {
	*grants            // shared: read only
	limits   *LimitSet // shared: read only; nil: the server's default limits apply
	networks []netip.Prefix
	credits  *limiter.Refill // nil: the key has no credits
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
	p := &Policy{}
	var errs []error
	var err error
	p.grants, err = shared.grants(rec.Scopes)
	errs = append(errs, err)
	p.limits, err = shared.limitSet(rec.RateLimits)
	errs = append(errs, err)
	p.credits = compileCredits(rec.Credits)
	for _, n := range rec.IPAllowlist {
		pfx, err := keystore.ParseNetwork(n)
		errs = append(errs, err)
		p.networks = append(p.networks, pfx)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("authz: key %s: %w", rec.ID, err)
	}
	return shared.policy(p, rec), nil
}

// grants is a scope list compiled, with its X-Keygate-Scopes value.
type grants struct {
	scopes    scopes
	scopeList []string // header value
}

func compileGrants(list []string) (*grants, error) {
	g := &grants{scopeList: []string{strings.Join(list, ",")}}
	var errs []error
	for _, s := range list {
		errs = append(errs, g.scopes.add(s))
	}
	return g, errors.Join(errs...)
}

func compileLimitSet(list []string) (*LimitSet, error) {
	limits, err := limiter.ParseLimits(list)
	if err != nil || len(limits) == 0 {
		return nil, err
	}
	set := NewLimitSet(limits)
	return &set, nil
}

// maxShared bounds how many distinct scope lists, and rate-limit lists,
// compile shares; beyond it each key compiles its own.
const maxShared = 4096

// shared holds the compiled scope lists and limit sets of the keys
// compiled so far, by their text: what Compile makes of a list depends
// on the list alone, and is read-only once made.
var shared = sharedPolicies{grantsBy: map[string]*grants{}, limitsBy: map[string]*LimitSet{}}

type sharedPolicies struct {
	mu       sync.Mutex
	grantsBy map[string]*grants
	limitsBy map[string]*LimitSet
	policies map[policyKey]*Policy
}

// policyKey is what a Policy is made of: its shared compilations, and its
// networks and credit refill by value.
type policyKey struct {
	grants     *grants
	limits     *LimitSet
	networks   string // the allowlist as stored, joined
	refill     limiter.Refill
	hasCredits bool
}

// policy returns the Policy equal to p, compiled from rec, that keys
// compiled before it share, keeping p as that Policy when none is and
// room remains.
func (sp *sharedPolicies) policy(p *Policy, rec *keystore.Record) *Policy {
	k := policyKey{grants: p.grants, limits: p.limits, networks: strings.Join(rec.IPAllowlist, "\x00")}
	if p.credits != nil {
		k.refill, k.hasCredits = *p.credits, true
	}
	sp.mu.Lock()
	defer sp.mu.Unlock()
	if prev, ok := sp.policies[k]; ok {
		return prev
	}
	if sp.policies == nil {
		sp.policies = map[policyKey]*Policy{}
	}
	if len(sp.policies) < maxShared {
		sp.policies[k] = p
	}
	return p
}

func (sp *sharedPolicies) grants(list []string) (*grants, error) {
	return sharedCompile(sp, sp.grantsBy, list, compileGrants)
}

func (sp *sharedPolicies) limitSet(list []string) (*LimitSet, error) {
	return sharedCompile(sp, sp.limitsBy, list, compileLimitSet)
}

// sharedCompile returns the value of list in byText, compiling and keeping
// it when absent and room remains. Errors are not kept.
func sharedCompile[T any](sp *sharedPolicies, byText map[string]*T, list []string, compile func([]string) (*T, error)) (*T, error) {
	k := strings.Join(list, "\x00")
	sp.mu.Lock()
	v, ok := byText[k]
	sp.mu.Unlock()
	if ok {
		return v, nil
	}
	v, err := compile(list)
	if err != nil {
		return nil, err
	}
	sp.mu.Lock()
	defer sp.mu.Unlock()
	if prev, ok := byText[k]; ok {
		return prev, nil
	}
	if len(byText) < maxShared {
		byText[k] = v
	}
	return v, nil
}

// policyOf returns the key's compiled policy: keystore compiled it with
// Compile when it verified the key.
func policyOf(key *keystore.Verified) (*Policy, error) {
	if p, ok := key.Policy.(*Policy); ok {
		return p, nil
	}
	return nil, fmt.Errorf("authz: key %s was verified without authz.Compile", key.ID)
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
