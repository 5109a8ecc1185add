package odootest

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/keygate/keygate/odoo/xmlrpc"
)

// cmd builds an x2many command.
func cmd(items ...any) []any { return items }

// readOne reads fields of one record as admin.
func readOne(tb testing.TB, c *rpcClient, model string, id int64, fields ...string) Object {
	tb.Helper()
	rows := c.must(model, "read", []any{[]any{id}}, map[string]any{"fields": fields}).([]any)
	if len(rows) != 1 {
		tb.Fatalf("read %s %d: %d rows", model, id, len(rows))
	}
	return rows[0].(Object)
}

func get(o Object, key string) any {
	v, _ := o.Get(key)
	return v
}

// The attacks of issue 11, sent straight to the double as Odoo's own
// answers show them (18.0/relations): each really changes another model.
func TestNestedCreateMakesAnAdministrator(t *testing.T) {
	_, c := newClient(t)
	id := c.must("res.partner", "create", []any{map[string]any{"name": "p", "user_ids": []any{cmd(0, 0, map[string]any{
		"name": "u", "login": "x", "password": "Secret-1", "groups_id": []any{cmd(6, 0, []any{4, 1})}})}}}, nil).(int64)
	users := c.must("res.users", "search_read", []any{[]any{leaf("login", "=", "x")}},
		map[string]any{"fields": []string{"login", "name", "partner_id", "groups_id", "share"}}).([]any)
	want := []any{Object{{"id", int64(8)}, {"login", "x"}, {"name", "u"}, {"partner_id", []any{id, "u"}},
		{"groups_id", []any{int64(1), int64(4)}}, {"share", false}}}
	if diff := cmp.Diff(want, users); diff != "" {
		t.Errorf("the nested user (-want +got):\n%s", diff)
	}
	if uid, _ := c.call("common", "authenticate", "odoo_test", "x", "Secret-1", map[string]any{}); uid != int64(8) {
		t.Errorf("authenticate as the new user = %v, want 8", uid)
	}
	// As a settings admin, the new user reads the system parameters.
	if _, rerr := c.as(8, "Secret-1").exec("ir.config_parameter", "search_count", []any{[]any{}}, nil); rerr != nil {
		t.Errorf("the new user is no administrator: %s: %s", rerr.Name, rerr.Message)
	}
}

// Context defaults reach nested creates: a user created through a
// partner's user_ids takes default_groups_id.
func TestContextDefaultsReachNestedCreates(t *testing.T) {
	_, c := newClient(t)
	c.must("res.partner", "create", []any{map[string]any{"name": "p",
		"user_ids": []any{cmd(0, 0, map[string]any{"name": "u", "login": "ctx"})}}},
		map[string]any{"context": map[string]any{"default_groups_id": []any{cmd(6, 0, []any{gidSettings})},
			"default_no_such_field": 1}})
	users := c.must("res.users", "search_read", []any{[]any{leaf("login", "=", "ctx")}},
		map[string]any{"fields": []string{"groups_id"}})
	if diff := cmp.Diff([]any{Object{{"id", int64(8)}, {"groups_id", []any{int64(gidSettings)}}}}, users); diff != "" {
		t.Errorf("the nested user's groups (-want +got):\n%s", diff)
	}
}

func TestNestedUpdateResetsAPassword(t *testing.T) {
	_, c := newClient(t)
	c.must("res.partner", "write", []any{[]any{7}, map[string]any{
		"user_ids": []any{cmd(1, UIDDemo, map[string]any{"password": "Taken-Over-1"})}}}, nil)
	if uid, _ := c.call("common", "authenticate", "odoo_test", "demo", "Taken-Over-1", map[string]any{}); uid != int64(UIDDemo) {
		t.Errorf("authenticate demo with the new password = %v, want %d", uid, UIDDemo)
	}
	if uid, _ := c.call("common", "authenticate", "odoo_test", "demo", "demo", map[string]any{}); uid != false {
		t.Errorf("authenticate demo with the old password = %v, want false", uid)
	}
}

func TestX2manyCommandsChangeRelatedRecords(t *testing.T) {
	s, c := newClient(t)
	parent := c.must("res.partner", "create", []any{map[string]any{"name": "Parent",
		"child_ids":   []any{cmd(0, 0, map[string]any{"name": "Child"})},
		"category_id": []any{cmd(0, 0, map[string]any{"name": "New Tag"}), cmd(4, 2)},
		"bank_ids":    []any{cmd(0, 0, map[string]any{"acc_number": "be71 0961 2345 6769"})},
	}}, nil).(int64)
	got := readOne(t, c, "res.partner", parent, "child_ids", "category_id", "bank_ids")
	want := Object{{"id", parent}, {"child_ids", []any{parent + 1}}, {"category_id", []any{int64(8), int64(2)}},
		{"bank_ids", []any{int64(1)}}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("after the nested creates (-want +got):\n%s", diff)
	}
	bank := readOne(t, c, "res.partner.bank", 1, "acc_number", "sanitized_acc_number", "partner_id")
	if diff := cmp.Diff(Object{{"id", int64(1)}, {"acc_number", "be71 0961 2345 6769"},
		{"sanitized_acc_number", "BE71096123456769"}, {"partner_id", []any{parent, "Parent"}}}, bank); diff != "" {
		t.Errorf("the bank account (-want +got):\n%s", diff)
	}

	steps := []struct {
		name  string
		vals  map[string]any
		check func(t *testing.T)
	}{
		{"update_writes_the_tag", map[string]any{"category_id": []any{cmd(1, 8, map[string]any{"name": "Renamed"})}}, func(t *testing.T) {
			if name := get(readOne(t, c, "res.partner.category", 8, "name"), "name"); name != "Renamed" {
				t.Errorf("tag 8 name = %v, want Renamed", name)
			}
		}},
		{"delete_on_a_many2many_deletes_the_tag", map[string]any{"category_id": []any{cmd(2, 8)}}, func(t *testing.T) {
			if n := c.must("res.partner.category", "search_count", []any{[]any{leaf("id", "=", 8)}},
				map[string]any{"context": map[string]any{"active_test": false}}); n != int64(0) {
				t.Errorf("tag 8 count = %v, want 0", n)
			}
		}},
		{"unlink_on_a_one2many_clears_the_parent", map[string]any{"child_ids": []any{cmd(3, parent+1)}}, func(t *testing.T) {
			if p := get(readOne(t, c, "res.partner", parent+1, "parent_id"), "parent_id"); p != false {
				t.Errorf("child's parent_id = %v, want false", p)
			}
		}},
		{"link_on_a_one2many_sets_the_parent", map[string]any{"child_ids": []any{cmd(4, 17)}}, func(t *testing.T) {
			if p := get(readOne(t, c, "res.partner", 17, "parent_id"), "parent_id"); !cmp.Equal(p, []any{parent, "Parent"}) {
				t.Errorf("partner 17 parent_id = %v, want [%d Parent]", p, parent)
			}
		}},
		{"unlink_of_a_cascading_one2many_deletes", map[string]any{"bank_ids": []any{cmd(5)}}, func(t *testing.T) {
			if rows, _ := s.Records("res.partner.bank"); len(rows) != 0 {
				t.Errorf("bank accounts = %v, want none", rows)
			}
		}},
		{"delete_on_a_one2many_deletes_the_partner", map[string]any{"child_ids": []any{cmd(2, 17)}}, func(t *testing.T) {
			if rows := c.must("res.partner", "read", []any{[]any{17}}, nil); !cmp.Equal(rows, []any{}) {
				t.Errorf("partner 17 = %v, want deleted", rows)
			}
		}},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			if res := c.must("res.partner", "write", []any{[]any{parent}, st.vals}, nil); res != true {
				t.Fatalf("write = %v, want true", res)
			}
			st.check(t)
		})
	}
}

func TestNestedCommandsOverXMLRPC(t *testing.T) {
	s, c := newClient(t)
	res := postXML(t, c.url+"/xmlrpc/2/object", xmlrpc.Call{Method: "execute_kw", Params: []any{
		"odoo_test", int64(UIDAdmin), KeyGlobal, "res.partner", "create", []any{xmlrpc.Struct{
			{Name: "name", Value: "p"},
			{Name: "category_id", Value: []any{[]any{int64(0), int64(0), xmlrpc.Struct{{Name: "name", Value: "XML Tag"}}}}},
		}}, xmlrpc.Struct{}}})
	if res != int64(42) {
		t.Fatalf("create over XML-RPC = %v, want 42", res)
	}
	tags, err := s.Records("res.partner.category")
	if err != nil {
		t.Fatal(err)
	}
	last := tags[len(tags)-1]
	if get(last, "name") != "XML Tag" || !cmp.Equal(get(last, "partner_ids"), []any{int64(42)}) {
		t.Errorf("last tag = %v, want XML Tag of partner 42", last)
	}
}

// A nested command that fails rolls the whole call back, and nested
// records obey the comodel's access rights.
func TestNestedCommandsAreOneTransaction(t *testing.T) {
	s, c := newClient(t)
	partners, _ := s.Records("res.partner")
	tags, _ := s.Records("res.partner.category")
	cases := []struct {
		name  string
		c     *rpcClient
		vals  map[string]any
		error string
	}{
		{"duplicate_login", c, map[string]any{"name": "p", "category_id": []any{cmd(0, 0, map[string]any{"name": "T"})},
			"user_ids": []any{cmd(0, 0, map[string]any{"name": "u", "login": "demo"})}}, clsValidationError},
		{"demo_may_not_create_users", c.as(UIDDemo, "demo"), map[string]any{"name": "p",
			"user_ids": []any{cmd(0, 0, map[string]any{"name": "u", "login": "new"})}}, clsAccessError},
		{"missing_tag", c, map[string]any{"name": "p", "category_id": []any{cmd(0, 0, map[string]any{"name": "T"}), cmd(4, 999)}},
			clsValidationError},
		{"described_only_comodel", c, map[string]any{"name": "p", "message_ids": []any{cmd(0, 0, map[string]any{"body": "x"})}},
			clsNotImplemented},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, rerr := tc.c.exec("res.partner", "create", []any{tc.vals}, nil)
			if rerr == nil || rerr.Name != tc.error {
				t.Fatalf("create = %v, want %s", rerr, tc.error)
			}
			after, _ := s.Records("res.partner")
			afterTags, _ := s.Records("res.partner.category")
			if len(after) != len(partners) || len(afterTags) != len(tags) {
				t.Errorf("%d partners and %d tags after the failed call, want %d and %d",
					len(after), len(afterTags), len(partners), len(tags))
			}
		})
	}
}

// Reads that follow relations answer as Odoo's do.
func TestReadsFollowRelations(t *testing.T) {
	_, c := newClient(t)
	cases := []struct {
		name   string
		model  string
		method string
		args   []any
		kw     map[string]any
		want   any
		error  string
	}{
		{name: "login_one_character_at_a_time", model: "res.partner", method: "search_count",
			args: []any{[]any{leaf("id", "=", 7), leaf("user_ids.login", "=like", "d%")}}, want: int64(1)},
		{name: "login_wrong_guess", model: "res.partner", method: "search_count",
			args: []any{[]any{leaf("id", "=", 7), leaf("user_ids.login", "=like", "e%")}}, want: int64(0)},
		{name: "group_name_two_levels", model: "res.partner", method: "search_count",
			args: []any{[]any{leaf("user_ids.groups_id.name", "=", "Settings")}}, want: int64(1)},
		{name: "described_field_in_a_path", model: "res.partner", method: "search_count",
			args: []any{[]any{leaf("message_ids.body", "ilike", "x")}}, error: clsNotImplemented},
		{name: "name_search_args", model: "res.partner", method: "name_search",
			kw:   map[string]any{"name": "", "args": []any{leaf("user_ids.login", "=", "admin")}},
			want: []any{[]any{int64(3), "YourCompany, Mitchell Admin"}}},
		{name: "specification_follows_user_ids", model: "res.partner", method: "web_search_read",
			kw: map[string]any{"domain": []any{leaf("id", "=", 3)},
				"specification": map[string]any{"user_ids": map[string]any{"fields": map[string]any{"login": map[string]any{}}}}},
			want: Object{{"length", int64(1)}, {"records", []any{Object{{"id", int64(3)},
				{"user_ids", []any{Object{{"id", int64(2)}, {"login", "admin"}}}}}}}}},
		{name: "specification_unknown_nested_field", model: "res.partner", method: "web_search_read",
			kw: map[string]any{"domain": []any{}, "specification": map[string]any{
				"user_ids": map[string]any{"fields": map[string]any{"nope": map[string]any{}}}}},
			error: clsValueError},
		{name: "read_group_by_create_uid", model: "res.partner", method: "read_group",
			args: []any{[]any{leaf("is_company", "=", true)}, []any{"__count"}, []any{"create_uid"}},
			want: []any{Object{{"create_uid", []any{int64(1), "OdooBot"}}, {"create_uid_count", int64(8)},
				{"__domain", []any{"&", []any{"is_company", "=", true}, []any{"create_uid", "=", int64(1)}}}},
				Object{{"create_uid", false}, {"create_uid_count", int64(1)},
					{"__domain", []any{"&", []any{"is_company", "=", true}, []any{"create_uid", "=", false}}}}}},
		{name: "export_data_follows_user_ids", model: "res.partner", method: "export_data",
			args: []any{[]any{3, 7}, []any{"name", "user_ids/login", "country_id", "is_company"}},
			want: Object{{"datas", []any{[]any{"Mitchell Admin", "admin", "United States", false},
				[]any{"Marc Demo", "demo", "United States", false}}}}},
		{name: "export_data_one_row_per_related_record", model: "res.partner.category", method: "export_data",
			args: []any{[]any{7}, []any{"name", "partner_ids/name"}},
			want: Object{{"datas", []any{[]any{"Desk Manufacturers", "Deco Addict"}, []any{"", "Gemini Furniture"},
				[]any{"", "Ready Mat"}, []any{"", "Wood Corner"}}}}},
		{name: "invalid_integer_quotes_sql", model: "res.partner", method: "search",
			args: []any{[]any{leaf("id", "in", []any{1, "x'y"})}}, error: clsInvalidText},
		{name: "described_model_has_no_records", model: "res.company", method: "search_read",
			args: []any{[]any{}}, error: clsNotImplemented},
		{name: "comodel_of_a_described_field", model: "mail.followers", method: "fields_get", error: clsNotImplemented},
		{name: "model_odoo_does_not_have", model: "no.such.model", method: "fields_get", error: clsUserError},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			args := tc.args
			if args == nil {
				args = []any{}
			}
			got, rerr := c.exec(tc.model, tc.method, args, tc.kw)
			if tc.error != "" {
				if rerr == nil || rerr.Name != tc.error {
					t.Fatalf("%s.%s = %v, %v; want %s", tc.model, tc.method, got, rerr, tc.error)
				}
				return
			}
			if rerr != nil {
				t.Fatalf("%s.%s: %s: %s", tc.model, tc.method, rerr.Name, rerr.Message)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s.%s (-want +got):\n%s", tc.model, tc.method, diff)
			}
		})
	}
}

func TestSQLErrorQuotesTheQueryAsLibpq(t *testing.T) {
	_, c := newClient(t)
	_, rerr := c.exec("res.partner", "search", []any{[]any{leaf("name", "=", "a"), leaf("id", "=", "abcdefghijklmnop")}}, nil)
	if rerr == nil {
		t.Fatal("no error")
	}
	want := "invalid input syntax for type integer: \"abcdefghijklmnop\"\n" +
		"LINE 1: ..._partner\".\"name\" = 'a') AND (\"res_partner\".\"id\" = 'abcdefghi...\n" +
		"                                                             ^\n"
	if diff := cmp.Diff(want, rerr.Message); diff != "" {
		t.Errorf("message (-want +got):\n%s", diff)
	}
}
