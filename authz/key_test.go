package authz_test

import (
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/keygate/keygate/authz"
	"github.com/keygate/keygate/keystore"
)

// TestCheckKey: a key known from a web session is decided as a presented
// one is (scopes, address, rate limits), without a credential to verify.
func TestCheckKey(t *testing.T) {
	e := newEnv(t)
	rec, _ := e.key(t, keystore.Spec{Scopes: []string{"odoo:res.partner:read"}, RateLimits: []string{"2/1m"},
		IPAllowlist: []string{"198.51.100.0/24"}})
	req := authz.Request{Method: "POST", URI: "/web/dataset/call_kw", ClientIP: addr("198.51.100.1")}
	far := req
	far.ClientIP = addr("203.0.113.9")
	got := []int{
		e.auth.CheckKey(ctx, req, rec, authz.NeedOdoo("res.partner", "search_read")).Status,
		e.auth.CheckKey(ctx, req, rec, authz.NeedOdoo("res.partner", "unlink")).Status,
		e.auth.CheckKey(ctx, far, rec, authz.NeedOdoo("res.partner", "read")).Status,
		e.auth.CheckKey(ctx, req, rec, authz.NeedOdoo("res.partner", "read")).Status,
		e.auth.CheckKey(ctx, req, rec, authz.NeedOdoo("res.partner", "read")).Status,
	}
	want := []int{http.StatusOK, http.StatusForbidden, http.StatusForbidden, http.StatusOK, http.StatusTooManyRequests}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("allowed, unscoped, wrong address, allowed, over the limit (-want +got):\n%s", diff)
	}
}
