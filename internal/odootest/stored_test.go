package odootest

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Writes convert values as Odoo's convert_to_cache does, for the writable
// integer (res.partner.category color), float and date (res.currency.rate
// rate and name) fields, and raise Python's errors for what they cannot
// convert. No recording writes these types.
func TestWriteConvertsValuesAsOdoo(t *testing.T) {
	tests := []struct {
		name    string
		model   string
		id      int64
		field   string
		value   any
		want    any
		wantErr *rpcError
	}{
		{"integer_from_integer", "res.partner.category", 1, "color", 5, int64(5), nil},
		{"integer_from_float_truncates", "res.partner.category", 1, "color", 4.0, int64(4), nil},
		{"integer_false_is_zero", "res.partner.category", 1, "color", false, int64(0), nil},
		{"float_from_integer", "res.currency.rate", 1, "rate", 2, 2.0, nil},
		{"float_from_text_is_a_value_error", "res.currency.rate", 1, "rate", "abc", nil,
			&rpcError{"builtins.ValueError", "could not convert string to float: 'abc'"}},
		{"date_from_text", "res.currency.rate", 1, "name", "2026-01-31", "2026-01-31", nil},
		{"date_bad_text_is_a_value_error", "res.currency.rate", 1, "name", "2026-13-01", nil,
			&rpcError{"builtins.ValueError", "time data '2026-13-01' does not match format '%Y-%m-%d'"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, c := newClient(t)
			_, rerr := c.exec(tt.model, "write", []any{[]any{tt.id}, map[string]any{tt.field: tt.value}}, nil)
			if diff := cmp.Diff(tt.wantErr, rerr); diff != "" {
				t.Fatalf("write error (-want +got):\n%s", diff)
			}
			if tt.wantErr != nil {
				return
			}
			got := readOne(t, c, tt.model, tt.id, tt.field)
			if v, _ := got.Get(tt.field); !cmp.Equal(tt.want, v) {
				t.Errorf("%s = %#v, want %#v", tt.field, v, tt.want)
			}
		})
	}
}

// Branches of reached methods that no recording takes: each answer is
// the one Odoo 18 gives (texts from its source).
func TestUnrecordedBranchesAnswerAsOdoo(t *testing.T) {
	fkText := "The operation cannot be completed: another model requires the record being deleted. If possible, archive it instead.\n\n" +
		"Model: User (res.users)\nConstraint: res_users_partner_id_fkey\n"
	tests := []struct {
		name    string
		uid     int64
		pw      string
		model   string
		method  string
		args    []any
		kw      map[string]any
		want    any
		wantErr *rpcError
	}{
		{"unlink_of_a_partner_a_user_requires_is_a_foreign_key_violation", UIDAdmin, "admin",
			"res.partner", "unlink", []any{[]any{3}}, nil, nil, &rpcError{"odoo.exceptions.ValidationError", fkText}},
		{"export_data_needs_the_export_group", UIDDemo, "demo",
			"res.partner", "export_data", []any{[]any{1}, []any{"name"}}, nil, nil,
			&rpcError{"odoo.exceptions.UserError", "You don't have the rights to export data. Please contact an Administrator."}},
		{"read_group_by_an_unknown_field_is_a_value_error", UIDAdmin, "admin",
			"res.partner", "read_group", []any{[]any{}, []any{}, []any{"nope"}}, nil, nil,
			&rpcError{"builtins.ValueError", "Invalid field 'nope' on model 'res.partner'"}},
		{"order_by_a_boolean_puts_true_first_when_descending", UIDAdmin, "admin",
			"res.partner", "search", []any{[]any{leaf("id", "<", 12)}}, map[string]any{"order": "is_company desc, id"},
			[]any{int64(1), int64(9), int64(10), int64(11), int64(3), int64(7), int64(8)}, nil},
		{"a_dict_in_a_leaf_is_quoted_as_python_repr", UIDAdmin, "admin",
			"res.partner", "search", []any{[]any{leaf("nme", "=", map[string]any{"a": 1})}}, nil, nil,
			&rpcError{"builtins.ValueError", "Invalid field res.partner.nme in leaf ('nme', '=', {'a': 1})"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, c := newClient(t)
			got, rerr := c.as(tt.uid, tt.pw).exec(tt.model, tt.method, tt.args, tt.kw)
			if diff := cmp.Diff(tt.wantErr, rerr); diff != "" {
				t.Fatalf("error (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("result (-want +got):\n%s", diff)
			}
		})
	}
}

// execute_kw's args must be a list: Python's TypeError for the * call.
func TestExecuteKwArgsNotAListIsPythonsTypeError(t *testing.T) {
	_, c := newClient(t)
	_, rerr := c.call("object", "execute_kw", "odoo_test", int64(UIDAdmin), "admin", "res.partner", "search", 5)
	want := &rpcError{"builtins.TypeError", "odoo.service.model.execute() argument after * must be an iterable, not int"}
	if diff := cmp.Diff(want, rerr); diff != "" {
		t.Errorf("error (-want +got):\n%s", diff)
	}
}
