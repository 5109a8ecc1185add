package limiter

import (
	"context"
	"fmt"
	"net/netip"
)

// Allower decides whether a request fits its limits: Memory, Redis and
// Fallback all are.
type Allower interface {
	Allow(ctx context.Context, id string, limits []Limit, cost int64) (Decision, error)
}

// AllowFailure counts one failed authentication from ip against limit, in
// l, and answers whether it is still tolerated. The caller calls it after a
// presented credential failed (malformed, unknown, revoked, expired) and
// answers 429 instead of 401 when the decision is a denial. As with any
// limit, denied failures are not counted: a client that slows down below
// the limit recovers.
//
// The id is FailureID(ip), so the failures share l with other ids without
// colliding with them.
func AllowFailure(ctx context.Context, l Allower, ip netip.Addr, limit Limit) (Decision, error) {
	id, err := FailureID(ip)
	if err != nil {
		return Decision{}, err
	}
	return l.Allow(ctx, id, []Limit{limit}, 1)
}

// FailureID is the limiter id of the failed authentications of ip:
// "authfail:" and the IPv4 address, or the IPv6 /64 network that contains
// ip, since one host commonly holds a whole /64. IPv4-mapped IPv6
// addresses count as IPv4; zones are ignored.
func FailureID(ip netip.Addr) (string, error) {
	if !ip.IsValid() {
		return "", fmt.Errorf("%w: no client address", ErrInvalidRequest)
	}
	p := FailurePrefix(ip)
	if p.Addr().Is4() {
		return "authfail:" + p.Addr().String(), nil
	}
	return "authfail:" + p.String(), nil
}

// FailurePrefix is the network whose failed authentications FailureID
// counts together: an IPv4 address (IPv4-mapped IPv6 included), or an
// IPv6 address's /64, without zone. ip must be valid.
func FailurePrefix(ip netip.Addr) netip.Prefix {
	ip = ip.Unmap().WithZone("")
	if ip.Is4() {
		return netip.PrefixFrom(ip, 32)
	}
	return netip.PrefixFrom(ip, 64).Masked()
}
