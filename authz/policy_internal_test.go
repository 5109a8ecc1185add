package authz

import (
	"testing"

	"github.com/keygate/keygate/keystore"
)

// TestPoliciesShareCompiledLists: keys with the same scopes and limits
// share one compilation of each; their own id and owner stay their own.
func TestPoliciesShareCompiledLists(t *testing.T) {
	rec := func(id string) *keystore.Record {
		return &keystore.Record{ID: id, Owner: "o-" + id, Scopes: []string{"route:GET:/shared/**"}, RateLimits: []string{"7/1s"}}
	}
	a, err := compile(rec("a"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := compile(rec("b"))
	if err != nil {
		t.Fatal(err)
	}
	if a.grants != b.grants || a.limits != b.limits {
		t.Error("two keys with the same lists compiled them twice")
	}
	if a.keyID()[0] != "a" || b.keyID()[0] != "b" || b.owner()[0] != "o-b" || a.scopeList[0] != "route:GET:/shared/**" {
		t.Errorf("header values a %v %v, b %v %v", a.keyID(), a.scopeList, b.keyID(), b.owner())
	}
}
