package odootest

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestCreateThenRead(t *testing.T) {
	_, c := newClient(t)
	id := c.must("res.partner", "create", []any{map[string]any{
		"name": "Acme Test", "email": "acme@example.com", "city": "Brussels", "country_id": countryBE,
	}}, nil)
	if id != int64(42) {
		t.Fatalf("create = %v, want 42 (the first id after the demo data)", id)
	}
	got := c.must("res.partner", "read", []any{[]any{42}},
		map[string]any{"fields": []string{"email", "name", "country_id", "parent_id", "active", "category_id"}})
	want := []any{Object{
		{"id", int64(42)}, {"email", "acme@example.com"}, {"name", "Acme Test"},
		{"country_id", []any{int64(countryBE), "Belgium"}}, {"parent_id", false}, {"active", true},
		{"category_id", []any{}},
	}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("read back (-want +got), id first then fields as asked:\n%s", diff)
	}
}

func TestCreateListReturnsIDs(t *testing.T) {
	_, c := newClient(t)
	got := c.must("res.partner", "create", []any{[]any{map[string]any{"name": "A"}, map[string]any{"name": "B"}}}, nil)
	if diff := cmp.Diff([]any{int64(42), int64(43)}, got); diff != "" {
		t.Errorf("create([a, b]) (-want +got):\n%s", diff)
	}
}

func TestWriteThenSearchFindsNewValue(t *testing.T) {
	_, c := newClient(t)
	if res := c.must("res.partner", "write", []any{[]any{17}, map[string]any{"phone": "+32 2 000 00 00"}}, nil); res != true {
		t.Fatalf("write = %v, want true", res)
	}
	got := c.must("res.partner", "search", []any{domain(leaf("phone", "=", "+32 2 000 00 00"))}, nil)
	if diff := cmp.Diff([]int64{17}, ids(t, got)); diff != "" {
		t.Errorf("search after write (-want +got):\n%s", diff)
	}
}

func TestUnlinkThenRead(t *testing.T) {
	_, c := newClient(t)
	c.must("res.partner", "unlink", []any{[]any{17}}, nil)
	if got := c.must("res.partner", "read", []any{[]any{17}}, map[string]any{"fields": []string{"name"}}); len(got.([]any)) != 0 {
		t.Errorf("read after unlink = %v, want []", got)
	}
	for _, method := range []string{"write", "unlink"} {
		args := []any{[]any{17}}
		if method == "write" {
			args = append(args, map[string]any{"name": "x"})
		}
		_, rerr := c.exec("res.partner", method, args, nil)
		want := &rpcError{Name: clsMissingError,
			Message: "Record does not exist or has been deleted.\n(Record: res.partner(17,), User: 2)"}
		if diff := cmp.Diff(want, rerr); diff != "" {
			t.Errorf("%s after unlink (-want +got):\n%s", method, diff)
		}
	}
}

func TestUnlinkClearsReferences(t *testing.T) {
	_, c := newClient(t)
	c.must("res.partner", "unlink", []any{[]any{9}}, nil)
	got := c.must("res.partner", "read", []any{[]any{17}}, map[string]any{"fields": []string{"parent_id"}})
	want := []any{Object{{"id", int64(17)}, {"parent_id", false}}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("contact of a deleted company (-want +got):\n%s", diff)
	}
}

func TestDomainOperators(t *testing.T) {
	_, c := newClient(t)
	tests := []struct {
		name   string
		domain []any
		kw     map[string]any
		want   []int64
	}{
		{"equal_bool", domain(leaf("is_company", "=", true)), nil, []int64{1, 9, 10, 11, 12, 13, 14, 15, 16}},
		{"ilike_is_case_insensitive", domain(leaf("name", "ilike", "WOOD")), nil, []int64{9, 13}},
		{"ilike_on_complete_name", domain(leaf("complete_name", "ilike", "wood corner")), nil, []int64{9, 17, 18, 33}},
		{"like_is_case_sensitive", domain(leaf("name", "like", "wood")), nil, nil},
		{"eq_like_pattern", domain(leaf("name", "=like", "D%")), nil, []int64{10, 19, 41}},
		{"eq_ilike_underscore", domain(leaf("name", "=ilike", "_om ruiz")), nil, []int64{33}},
		{"not_ilike", domain(leaf("is_company", "=", true), leaf("name", "not ilike", "o")), nil, []int64{11, 12, 16}},
		{"in", domain(leaf("id", "in", []any{1, 2, 3, 999})), nil, []int64{1, 3}},
		{"not_in", domain(leaf("is_company", "=", true), leaf("id", "not in", []any{1, 9, 10, 11})), nil, []int64{12, 13, 14, 15, 16}},
		{"eq_list_is_in", domain(leaf("id", "=", []any{4, 8})), nil, []int64{8}},
		{"not_equal_includes_null", domain(leaf("parent_id", "!=", 9), leaf("id", "<", 20)), nil, []int64{1, 3, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 19}},
		{"many2one_id", domain(leaf("parent_id", "=", 9)), nil, []int64{17, 18, 33}},
		{"many2one_by_name", domain(leaf("country_id", "=", "Belgium")), nil, []int64{13}},
		{"dotted_path", domain(leaf("country_id.code", "=", "BE")), nil, []int64{13}},
		{"many2one_false", domain(leaf("parent_id", "=", false), leaf("is_company", "=", false)), nil, []int64{7, 8}}, // Marc Demo (7) names YourCompany as company_name, no parent
		{"many2many_in", domain(leaf("category_id", "in", []any{7})), nil, []int64{9, 10, 11, 12}},
		{"many2many_by_name", domain(leaf("category_id", "ilike", "office")), nil, []int64{9, 12}},
		{"child_of", domain(leaf("id", "child_of", 10)), nil, []int64{10, 19, 20, 36}},
		{"parent_of", domain(leaf("id", "parent_of", 36)), nil, []int64{10, 36}},
		{"lt_gt", domain(leaf("id", ">", 38), leaf("id", "<=", 40)), nil, []int64{39, 40}},
		{"datetime_compare", domain(leaf("write_date", ">=", "2026-11-28 08:35:53"), leaf("id", "<", 4)), nil, []int64{1, 3}},
		{"or", domain("|", leaf("id", "=", 1), leaf("id", "=", 16)), nil, []int64{1, 16}},
		{"not", domain("!", leaf("is_company", "=", false)), nil, []int64{1, 9, 10, 11, 12, 13, 14, 15, 16}},
		{"nested_prefix", domain("&", "|", leaf("id", "=", 1), leaf("id", "=", 9), leaf("is_company", "=", true)), nil, []int64{1, 9}},
		{"optional_eq_false_is_true", domain(leaf("id", "<", 4), leaf("email", "=?", false)), nil, []int64{1, 3}},
		{"true_leaf", domain([]any{1, "=", 1}, leaf("id", "=", 1)), nil, []int64{1}},
		{"archived_are_hidden", domain(leaf("id", "<", 7)), nil, []int64{1, 3}},
		{"active_leaf_disables_the_filter", domain(leaf("active", "=", false)), nil, []int64{2, 4, 5, 6}},
		{"active_test_context", domain(leaf("id", "<", 7)), map[string]any{"context": map[string]any{"active_test": false}}, []int64{1, 2, 3, 4, 5, 6}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kw := map[string]any{"order": "id"}
			for k, v := range tt.kw {
				kw[k] = v
			}
			got := ids(t, c.must("res.partner", "search", []any{tt.domain}, kw))
			if diff := cmp.Diff(tt.want, got, cmpEmptyNil); diff != "" {
				t.Errorf("search(%v) (-want +got):\n%s", tt.domain, diff)
			}
		})
	}
}

var cmpEmptyNil = cmp.Transformer("nilEmpty", func(s []int64) []int64 {
	if len(s) == 0 {
		return nil
	}
	return s
})

func TestDomainErrors(t *testing.T) {
	_, c := newClient(t)
	tests := []struct {
		name   string
		domain any
		want   rpcError
	}{
		{"bad_operator", domain(leaf("name", "~~", 1)), rpcError{clsValueError, "Invalid leaf ('name', '~~', 1)"}},
		{"unknown_field", domain(leaf("nope", "=", 1)), rpcError{clsValueError, "Invalid field res.partner.nope in leaf ('nope', '=', 1)"}},
		{"short_leaf", domain([]any{"name", "="}), rpcError{clsValueError, "Invalid leaf ('name', '=')"}},
		{"missing_operand", domain("|", leaf("id", "=", 1)), rpcError{clsValueError, "Domain ['|', ['id', '=', 1]] is syntactically not correct."}},
		{"not_a_list", "[]", rpcError{"builtins.AssertionError", "Domains to normalize must have a 'domain' form: a list or tuple of domain components"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, rerr := c.exec("res.partner", "search_count", []any{tt.domain}, nil)
			if diff := cmp.Diff(&tt.want, rerr); diff != "" {
				t.Errorf("search_count(%v) (-want +got):\n%s", tt.domain, diff)
			}
		})
	}
}

func TestOrder(t *testing.T) {
	_, c := newClient(t)
	companies := domain(leaf("is_company", "=", true))
	tests := []struct {
		order string
		want  []int64
	}{
		{"name asc", []int64{15, 10, 11, 16, 13, 12, 14, 9, 1}},
		{"name desc", []int64{1, 9, 14, 12, 13, 16, 11, 10, 15}},
		{"city desc, id", []int64{9, 12, 14, 16, 1, 10, 15, 13, 11}},
		{"country_id, id desc", []int64{13, 16, 15, 14, 12, 11, 10, 9, 1}},
		{"", []int64{15, 10, 11, 16, 13, 12, 14, 9, 1}},
		{"vat desc nulls last, id", []int64{16, 15, 14, 12, 11, 10, 9, 1, 13}},
	}
	for _, tt := range tests {
		t.Run(tt.order, func(t *testing.T) {
			got := ids(t, c.must("res.partner", "search", []any{companies}, map[string]any{"order": tt.order}))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("order %q (-want +got):\n%s", tt.order, diff)
			}
		})
	}
	_, rerr := c.exec("res.partner", "search", []any{companies}, map[string]any{"order": "name; drop table"})
	if rerr == nil || rerr.Name != clsValueError {
		t.Errorf("invalid order: error = %v, want a ValueError", rerr)
	}
}

func TestPagingHasNoOverlap(t *testing.T) {
	_, c := newClient(t)
	all := ids(t, c.must("res.partner", "search", []any{domain()}, map[string]any{"order": "name, id"}))
	if len(all) != 37 {
		t.Fatalf("search([]) found %d partners, want the 37 active ones", len(all))
	}
	var paged []int64
	for offset := 0; offset < len(all)+7; offset += 7 {
		page := c.must("res.partner", "search_read", []any{domain()},
			map[string]any{"fields": []string{"id"}, "order": "name, id", "offset": offset, "limit": 7})
		for _, r := range page.([]any) {
			id, _ := r.(Object).Get("id")
			paged = append(paged, id.(int64))
		}
	}
	if diff := cmp.Diff(all, paged); diff != "" {
		t.Errorf("pages of 7 joined (-one search +pages):\n%s", diff)
	}
	if n := c.must("res.partner", "search_count", []any{domain()}, nil); n != int64(37) {
		t.Errorf("search_count = %v, want 37", n)
	}
}
