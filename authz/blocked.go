package authz

import (
	"net/http"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/keygate/keygate/keystore"
	"github.com/keygate/keygate/limiter"
)

// maxBlocked bounds the clients remembered as over the failed-auth limit;
// past it, the client whose block ends first is forgotten (and merely
// costs lookups again until the limiter refuses it anew).
const maxBlocked = 1 << 16

// CachedVerifier is what a KeyVerifier may offer besides Verify: a check
// of the presented credential against what it has cached, without any I/O
// (*keystore.Store offers it). cached is false when nothing is cached for it.
type CachedVerifier interface {
	VerifyCached(presented string) (key *keystore.Verified, cached bool, err error)
}

// blocklist remembers, in process, the clients that the failed-auth
// limiter refused and until when, so that their further credentials are
// refused before any lookup: a client over its limit costs neither the key
// database nor, on a replica that saw it refused, the limiter. Keyed as
// limiter.FailureID counts (IPv4 address, IPv6 /64). Safe for concurrent
// use; when no client is blocked, a check is one atomic load, else a read
// lock (a write lock only to forget an ended block).
type blocklist struct {
	n     atomic.Int64
	mu    sync.RWMutex
	until map[netip.Prefix]time.Time
}

// blockedFor returns how long ip stays blocked at now; 0 when it is not.
func (b *blocklist) blockedFor(ip netip.Addr, now time.Time) time.Duration {
	if b.n.Load() == 0 || !ip.IsValid() {
		return 0
	}
	k := limiter.FailurePrefix(ip)
	b.mu.RLock()
	until, ok := b.until[k]
	b.mu.RUnlock()
	if !ok {
		return 0
	}
	if now.Before(until) {
		return until.Sub(now)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if u, ok := b.until[k]; ok && !now.Before(u) { // not blocked anew meanwhile
		delete(b.until, k)
		b.n.Store(int64(len(b.until)))
	}
	return 0
}

// block remembers that ip is refused until until.
func (b *blocklist) block(ip netip.Addr, until time.Time, now time.Time) {
	if !ip.IsValid() || !until.After(now) {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.until == nil {
		b.until = map[netip.Prefix]time.Time{}
	}
	if len(b.until) >= maxBlocked {
		b.evict(now)
	}
	b.until[limiter.FailurePrefix(ip)] = until
	b.n.Store(int64(len(b.until)))
}

// evict drops every ended block, else the one that ends first.
func (b *blocklist) evict(now time.Time) {
	var first netip.Prefix
	var firstUntil time.Time
	for k, u := range b.until {
		if !now.Before(u) {
			delete(b.until, k)
		} else if firstUntil.IsZero() || u.Before(firstUntil) {
			first, firstUntil = k, u
		}
	}
	if len(b.until) >= maxBlocked {
		delete(b.until, first)
	}
}

// refuseBlocked answers 429 at once for a client over its failed-auth
// limit, unless its credential is a valid key already in the cache (a
// partner behind the same NAT as an attacker keeps working). ok is false
// when the request must be decided as usual.
func (a *Authorizer) refuseBlocked(req *Request, d *Decision) bool {
	if a.blocked.n.Load() == 0 { // no clock read on the hot path either
		return false
	}
	wait := a.blocked.blockedFor(req.ClientIP, a.now())
	if wait <= 0 {
		return false
	}
	if cv, isCached := a.keys.(CachedVerifier); isCached {
		if key, ok, err := cv.VerifyCached(req.Credential); ok && err == nil && key != nil {
			return false
		}
	}
	*d = Decision{RetryAfter: wait, invalid: true}
	d.set(http.StatusTooManyRequests, ReasonFailedAuth)
	return true
}

// noteFailure remembers a client that the failed-auth limiter refused.
func (a *Authorizer) noteFailure(ip netip.Addr, c *Count) {
	if c.Err == nil && c.Done && !c.Decision.Allowed {
		now := a.now()
		a.blocked.block(ip, now.Add(c.Decision.RetryAfter), now)
	}
}

// Blocked answers 429 for a client over its failed-auth limit, as Check
// would before any lookup, for callers that must refuse such a client
// before checking a credential of their own (the admin API's bootstrap
// token). The cached valid keys that Check lets through pass here too.
func (a *Authorizer) Blocked(req Request) (d Decision, refused bool) {
	refused = a.refuseBlocked(&req, &d)
	return d, refused
}
