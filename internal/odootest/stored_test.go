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
