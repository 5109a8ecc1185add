package authz_test

import (
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/keygate/keygate/authz"
	"github.com/keygate/keygate/keystore"
)

func TestValidateScope(t *testing.T) {
	valid := []string{
		"admin",
		"odoo:res.partner:read", "odoo:*:*", "odoo:sale.order:write", "odoo:res.partner:call:action_archive",
		"odoo:x_custom_2:unlink", "odoo:*:create", "odoo:res.partner:context",
		"route:GET:/api/**", "route:*:/", "route:POST:/api/v1/*/items", "route:DELETE:/a/**/b", "route:M-SEARCH:/**.json",
	}
	for _, s := range valid {
		if err := authz.ValidateScope(s); err != nil {
			t.Errorf("ValidateScope(%q) = %v, want nil", s, err)
		}
	}
	invalid := []string{
		"", "admin:x", "Admin", "odoo", "odoo:res.partner", "odoo:res.partner:delete", "odoo:Res.Partner:read",
		"odoo:res.partner:call:_private", "odoo:res.partner:call:", "odoo:res.partner:call:a-b", "odoo::read",
		"route:GET", "route:get:/x", "route:GET:x", "route:GET:", "route:GET:/a/***", "route:GET:/a?b",
		"route::/x", "other:thing",
	}
	for _, s := range invalid {
		if err := authz.ValidateScope(s); err == nil {
			t.Errorf("ValidateScope(%q) = nil, want an error", s)
		}
	}
}

// TestScopes checks which needs each scope grants, through the whole
// decision (Compile, then Decide), so that it tests what a key gets.
func TestScopes(t *testing.T) {
	tests := []struct {
		scope     string
		grant     []authz.Need
		deny      []authz.Need
		malformed []authz.Need // 400 whatever the scope
	}{
		{
			scope: "route:GET:/api/**",
			grant: needs(route("GET", "/api"), route("GET", "/api/"), route("GET", "/api/v1/x?y=1"), route("GET", "/api/v1/x?y=/../z"),
				route("HEAD", "/api/x")),
			deny: needs(route("POST", "/api/x"), route("GET", "/apix"), route("GET", "/"), route("get", "/api/x")),
			malformed: needs(route("GET", "/x/../api/y"), route("GET", "/api/../admin"), route("GET", "/api/%2e%2e/admin"),
				route("GET", "/api/x%2f..%2f..%2fadmin"), route("GET", "/api/..%5cadmin"), route("GET", "/api//x"),
				route("GET", "/api/%252e%252e/admin"), route("GE T", "/api/x")),
		},
		{
			scope:     "route:*:/api/v1/*/items",
			grant:     needs(route("GET", "/api/v1/42/items"), route("GET", "/api/v1/%34%32/items")),
			deny:      needs(route("GET", "/api/v1/42/x/items"), route("GET", "/api/v1/42/items/")),
			malformed: needs(route("DELETE", "/api/v1//42/items"), route("GET", "/api/v1/4%2F2/items")),
		},
		{
			scope: "route:HEAD:/h",
			grant: needs(route("HEAD", "/h")),
			deny:  needs(route("GET", "/h")),
		},
		{
			scope: "route:GET:/a/**/b",
			grant: needs(route("GET", "/a/b"), route("GET", "/a/x/b"), route("GET", "/a/x/y/b")),
			deny:  needs(route("GET", "/a/xb"), route("GET", "/axb"), route("GET", "/a/b/c")),
		},
		{
			scope: "route:GET:/files/**.pdf",
			grant: needs(route("GET", "/files/a.pdf"), route("GET", "/files/x/y.pdf")),
			deny:  needs(route("GET", "/files/a.pdfx"), route("GET", "/files.pdf")),
		},
		{
			scope:     "route:GET:/",
			grant:     needs(route("GET", "/"), route("GET", "/?q")),
			deny:      needs(route("GET", "/a")),
			malformed: needs(route("GET", "*"), route("GET", "/.")),
		},
		{
			scope: "odoo:res.partner:read",
			grant: needs(odoo("res.partner", "search_read"), odoo("res.partner", "read"), odoo("res.partner", "fields_get"),
				odoo("res.partner", "search"), odoo("res.partner", "search_count"), odoo("res.partner", "name_search"),
				odoo("res.partner", "read_group")),
			deny: needs(odoo("res.partner", "write"), odoo("res.partner", "create"), odoo("res.users", "read"),
				odoo("res.partner", "action_archive"), authz.NeedAdmin(), route("GET", "/")),
		},
		{
			scope: "odoo:*:write",
			grant: needs(odoo("res.partner", "write"), odoo("sale.order", "write")),
			deny:  needs(odoo("res.partner", "unlink"), odoo("res.partner", "read")),
		},
		{
			scope: "odoo:res.partner:*",
			grant: needs(odoo("res.partner", "unlink"), odoo("res.partner", "action_archive"), odoo("res.partner", "create")),
			deny:  needs(odoo("res.partner", "_read_group_raw"), odoo("res.partner", "_private"), odoo("res.users", "read")),
		},
		{
			scope: "odoo:*:*",
			grant: needs(odoo("res.users", "write")),
			deny:  needs(odoo("res.users", "_compute"), odoo("Res.Users", "read"), odoo("", "read"), odoo("res.users", "")),
		},
		{
			scope: "odoo:res.partner:call:action_archive",
			grant: needs(odoo("res.partner", "action_archive")),
			deny:  needs(odoo("res.partner", "action_unarchive"), odoo("res.partner", "write"), odoo("res.partner", "read")),
		},
		{
			scope: "admin",
			grant: needs(authz.NeedAdmin()),
			deny:  needs(route("GET", "/admin"), odoo("res.partner", "read"), authz.Need{}),
		},
	}
	for _, tt := range tests {
		t.Run(tt.scope, func(t *testing.T) {
			pol := compilePolicy(t, &keystore.Record{ID: "k1", Scopes: []string{tt.scope}})
			for _, n := range tt.grant {
				if got := statusFor(pol, n); got != http.StatusOK {
					t.Errorf("%v: status %d, want 200", n, got)
				}
			}
			for _, n := range tt.deny {
				if got := statusFor(pol, n); got != http.StatusForbidden {
					t.Errorf("%v: status %d, want 403", n, got)
				}
			}
			for _, n := range tt.malformed {
				if got := statusFor(pol, n); got != http.StatusBadRequest {
					t.Errorf("%v: status %d, want 400", n, got)
				}
			}
		})
	}
}

func needs(n ...authz.Need) []authz.Need { return n }

func route(method, uri string) authz.Need { return authz.NeedRoute(method, uri) }

func odoo(model, method string) authz.Need { return authz.NeedOdoo(model, method) }

func compilePolicy(t testing.TB, rec *keystore.Record) *authz.Policy {
	t.Helper()
	p, err := authz.Compile(rec)
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	return p.(*authz.Policy)
}

// verified is rec as keystore's Verify returns it, compiled with Compile.
func verified(t testing.TB, rec *keystore.Record) *keystore.Verified {
	t.Helper()
	return rec.Verified(compilePolicy(t, rec))
}

// statusFor decides need for a key with policy pol and no rate limit.
func statusFor(pol *authz.Policy, n authz.Need) int {
	f := authz.Facts{
		Request: authz.Request{Credential: "k", ClientIP: addr("198.51.100.1")},
		Need:    n, Key: &keystore.Verified{ID: "k1"}, Policy: pol,
	}
	d, step := authz.Decide(&f)
	if step != authz.Done {
		return -1
	}
	return d.Status
}

func TestNeedString(t *testing.T) {
	got := []string{
		route("GET", "/b?x").String(), odoo("res.partner", "search").String(), odoo("res.partner", "do_it").String(),
		odoo("res.partner", "write").String(), authz.NeedAdmin().String(), odoo("x", "_y").String(), authz.Need{}.String(),
	}
	want := []string{
		"route:GET:/b", "odoo:res.partner:read", "odoo:res.partner:call:do_it", "odoo:res.partner:write", "admin",
		"invalid: method not allowed", "nothing",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Need.String (-want +got):\n%s", diff)
	}
}

func TestCompileRejectsWhatItCannotEnforce(t *testing.T) {
	for _, rec := range []*keystore.Record{
		{ID: "a", Scopes: []string{"route:GET:nope"}},
		{ID: "b", RateLimits: []string{"ten/1s"}},
		{ID: "c", RateLimits: []string{"1/1s", "2/1s"}},
		{ID: "d", IPAllowlist: []string{"300.0.0.0/8"}},
	} {
		if _, err := authz.Compile(rec); err == nil {
			t.Errorf("Compile(%+v) = nil error, want one", rec)
		}
	}
}
