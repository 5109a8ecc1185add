package odootest

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestAuthenticate(t *testing.T) {
	_, c := newClient(t)
	tests := []struct {
		name            string
		login, password string
		want            any
	}{
		{"admin_password", "admin", "admin", int64(UIDAdmin)},
		{"admin_key", "admin", KeyGlobal, int64(UIDAdmin)},
		{"expired_key", "admin", KeyExpired, false},
		{"scoped_key", "admin", KeyScoped, false},
		{"demo", "demo", "demo", int64(UIDDemo)},
		{"portal", "portal", "portal", int64(UIDPortal)},
		{"key_of_another_user", "demo", KeyGlobal, false},
		{"archived_user", "public", "", false},
		{"unknown_login", "nobody", "admin", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, rerr := c.call("common", "authenticate", "odoo_test", tt.login, tt.password, map[string]any{})
			if rerr != nil {
				t.Fatalf("authenticate: %v", rerr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("authenticate (-want +got):\n%s", diff)
			}
		})
	}
}

func TestExecuteErrors(t *testing.T) {
	_, admin := newClient(t)
	portal, demo := admin.as(UIDPortal, "portal"), admin.as(UIDDemo, "demo")
	partnerACL := func(verb string) string {
		return "You are not allowed to " + verb + " 'Contact' (res.partner) records.\n\n" +
			"This operation is allowed for the following groups:\n\t- Extra Rights/Contact Creation\n\n" +
			"Contact your administrator to request access if necessary."
	}
	tests := []struct {
		name   string
		c      *rpcClient
		model  string
		method string
		args   []any
		want   rpcError
	}{
		{"wrong_password", admin.as(UIDAdmin, "wrong"), "res.partner", "search_count", []any{domain()},
			rpcError{clsAccessDenied, "Access Denied"}},
		{"empty_password", admin.as(UIDAdmin, ""), "res.partner", "search_count", []any{domain()},
			rpcError{clsAccessDenied, "Access Denied"}},
		{"archived_user", admin.as(3, "anything"), "res.partner", "search_count", []any{domain()},
			rpcError{clsAccessDenied, "Access Denied"}},
		{"unknown_uid", admin.as(999, "admin"), "res.partner", "search_count", []any{domain()},
			rpcError{clsMissingError, "Record does not exist or has been deleted.\n(Record: res.users(999,), User: 999)"}},
		{"portal_write", portal, "res.partner", "write", []any{[]any{8}, map[string]any{"name": "x"}},
			rpcError{clsAccessError, partnerACL("modify")}},
		{"portal_unlink", portal, "res.partner", "unlink", []any{[]any{8}},
			rpcError{clsAccessError, partnerACL("delete")}},
		{"portal_record_rule", portal, "res.partner", "read", []any{[]any{10}},
			rpcError{clsAccessError, "Uh-oh! Looks like you have stumbled upon some top-secret records.\n\n" +
				"Sorry, Joel Willis (id=7) doesn't have 'read' access to:\n- Contact (res.partner)\n\n" +
				"If you really, really need access, perhaps you can win over your friendly administrator with a batch of freshly baked cookies."}},
		{"demo_acl", demo, "ir.config_parameter", "search_read", []any{domain()},
			rpcError{clsAccessError, "You are not allowed to access 'System Parameter' (ir.config_parameter) records.\n\n" +
				"This operation is allowed for the following groups:\n\t- Administration/Settings\n\n" +
				"Contact your administrator to request access if necessary."}},
		{"private_method", admin, "res.partner", "_search", []any{domain()},
			rpcError{clsAccessError, "Private methods (such as _search) cannot be called remotely."}},
		{"unknown_model", admin, "no.such.model", "search", []any{domain()},
			rpcError{clsUserError, "Object no.such.model doesn't exist"}},
		{"unknown_method", admin, "res.partner", "frobnicate", []any{domain()},
			rpcError{clsAttributeError, "The method 'frobnicate' does not exist on the model 'res.partner'"}},
		{"not_modelled", admin, "res.partner", "web_read_group", []any{domain(), []any{"name"}, []any{"city"}},
			rpcError{clsNotImplemented, "odootest: res.partner.web_read_group is not modelled by the Odoo double"}},
		{"read_group_aggregate_not_modelled", admin, "res.partner", "read_group", []any{domain(), []any{"name"}, []any{"city"}},
			rpcError{clsNotImplemented, "odootest: read_group aggregate 'name' is not modelled by the Odoo double"}},
		{"unknown_field", admin, "res.partner", "read", []any{[]any{1}, []any{"nope"}},
			rpcError{clsValueError, "Invalid field 'nope' on model 'res.partner'"}},
		{"too_many_arguments", admin, "res.partner", "search", []any{domain(), 0, 1, "id", "extra"},
			rpcError{clsTypeError, "BaseModel.search() takes from 2 to 5 positional arguments but 6 were given"}},
		{"record_method_without_ids", admin, "res.partner", "read", []any{},
			rpcError{clsIndexError, "tuple index out of range"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, rerr := tt.c.exec(tt.model, tt.method, tt.args, nil)
			if diff := cmp.Diff(&tt.want, rerr); diff != "" {
				t.Errorf("%s.%s (-want +got):\n%s", tt.model, tt.method, diff)
			}
		})
	}
}

func TestPortalSeesHisOwnPartner(t *testing.T) {
	_, admin := newClient(t)
	portal := admin.as(UIDPortal, "portal")
	if got := ids(t, portal.must("res.partner", "search", []any{domain()}, nil)); !cmp.Equal(got, []int64{8}) {
		t.Errorf("portal search = %v, want [8]", got)
	}
	got := portal.must("res.partner", "read", []any{[]any{8}}, map[string]any{"fields": []string{"name"}})
	if diff := cmp.Diff([]any{Object{{"id", int64(8)}, {"name", "Joel Willis"}}}, got); diff != "" {
		t.Errorf("portal read of his partner (-want +got):\n%s", diff)
	}
}

func TestDemoUserWritesPartners(t *testing.T) {
	_, admin := newClient(t)
	demo := admin.as(UIDDemo, "demo")
	demo.must("res.partner", "write", []any{[]any{17}, map[string]any{"function": "Boss"}}, nil)
	got := admin.must("res.partner", "read", []any{[]any{17}}, map[string]any{"fields": []string{"function", "write_uid"}})
	want := []any{Object{{"id", int64(17)}, {"function", "Boss"}, {"write_uid", []any{int64(UIDDemo), "Marc Demo"}}}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("after demo's write (-want +got):\n%s", diff)
	}
}
