package authz

import (
	"testing"

	"github.com/keygate/keygate/keystore"
)

// TestPoliciesShareCompiledLists: keys with the same scopes and limits
// share one compilation of each, and keys compiled from the same lists
// share one Policy; a key with other networks or credits has its own.
func TestPoliciesShareCompiledLists(t *testing.T) {
	rec := func(id string) *keystore.Record {
		return &keystore.Record{ID: id, Owner: "o-" + id, Scopes: []string{"route:GET:/shared/**"}, RateLimits: []string{"7/1s"}}
	}
	compiled := func(r *keystore.Record) *Policy {
		t.Helper()
		p, err := compile(r)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	a, b := compiled(rec("a")), compiled(rec("b"))
	if a != b {
		t.Error("two keys with the same lists compiled two policies")
	}
	if a.scopeList[0] != "route:GET:/shared/**" {
		t.Errorf("scopes header value %v", a.scopeList)
	}
	netted := rec("c")
	netted.IPAllowlist = []string{"10.0.0.0/8"}
	credited := rec("d")
	credited.Credits = &keystore.Credits{Remaining: 5, Refill: &keystore.Refill{Interval: keystore.RefillDaily, Amount: 5}}
	otherRefill := rec("e")
	otherRefill.Credits = &keystore.Credits{Remaining: 5, Refill: &keystore.Refill{Interval: keystore.RefillDaily, Amount: 6}}
	c, d, e := compiled(netted), compiled(credited), compiled(otherRefill)
	for _, p := range []*Policy{c, d, e} {
		if p == a || p.grants != a.grants || p.limits != a.limits {
			t.Errorf("policy %+v: want its own Policy sharing the lists' compilations", p)
		}
	}
	if d == e || d.credits.Amount != 5 || e.credits.Amount != 6 {
		t.Errorf("keys with other refills share a policy: %+v, %+v", d.credits, e.credits)
	}
	if c.networks[0].String() != "10.0.0.0/8" || len(a.networks) != 0 {
		t.Errorf("networks %v and %v", c.networks, a.networks)
	}
	if c2 := compiled(netted); c2 != c {
		t.Error("the same networks compiled two policies")
	}
}
