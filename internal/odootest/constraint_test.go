package odootest

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestConstraints(t *testing.T) {
	tests := []struct {
		name   string
		method string
		args   []any
		want   rpcError
	}{
		{"contact_needs_a_name", "create", []any{map[string]any{"email": "x@example.com"}},
			rpcError{clsValidationError, "The operation cannot be completed: Contacts require a name"}},
		{"name_cannot_be_removed", "write", []any{[]any{17}, map[string]any{"name": false}},
			rpcError{clsValidationError, "The operation cannot be completed: Contacts require a name"}},
		{"recursive_parent", "write", []any{[]any{9}, map[string]any{"parent_id": 17}},
			rpcError{clsValidationError, "You cannot create recursive Partner hierarchies."}},
		{"unknown_field", "create", []any{map[string]any{"name": "x", "nope": 1}},
			rpcError{clsValueError, "Invalid field 'nope' on model 'res.partner'"}},
		{"bad_selection", "create", []any{map[string]any{"name": "x", "type": "bogus"}},
			rpcError{clsValueError, "Wrong value for res.partner.type: 'bogus'"}},
		{"missing_country", "create", []any{map[string]any{"name": "x", "country_id": 999}},
			rpcError{clsValidationError, "The operation cannot be completed: another model requires the record being deleted. " +
				"If possible, archive it instead.\n\nModel: Contact (res.partner)\nConstraint: res_partner_country_id_fkey\n"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, c := newClient(t)
			_, rerr := c.exec("res.partner", tt.method, tt.args, nil)
			if diff := cmp.Diff(&tt.want, rerr); diff != "" {
				t.Errorf("%s (-want +got):\n%s", tt.method, diff)
			}
		})
	}
}

// A failed call changes nothing, but the ids it took stay taken, as
// Postgres sequences do.
func TestFailedCreateRollsBackAndConsumesIDs(t *testing.T) {
	_, c := newClient(t)
	_, rerr := c.exec("res.partner", "create", []any{[]any{
		map[string]any{"name": "kept?"}, map[string]any{"email": "no name"},
	}}, nil)
	if rerr == nil {
		t.Fatal("create of a nameless contact succeeded")
	}
	if n := c.must("res.partner", "search_count", []any{domain(leaf("name", "=", "kept?"))}, nil); n != int64(0) {
		t.Errorf("rows of the failed create: %v, want 0", n)
	}
	if id := c.must("res.partner", "create", []any{map[string]any{"name": "next"}}, nil); id != int64(44) {
		t.Errorf("next id = %v, want 44 (42 and 43 were consumed)", id)
	}
}

func TestAddressesFollowTheCompany(t *testing.T) {
	_, c := newClient(t)
	id := c.must("res.partner", "create", []any{map[string]any{"name": "New Contact", "parent_id": 9}}, nil)
	c.must("res.partner", "write", []any{[]any{9}, map[string]any{"city": "Modesto"}}, nil)
	got := c.must("res.partner", "read", []any{[]any{id, 17}},
		map[string]any{"fields": []string{"display_name", "street", "city", "vat"}})
	want := []any{
		Object{{"id", int64(42)}, {"display_name", "Wood Corner, New Contact"}, {"street", "1839 Arbor Way"},
			{"city", "Modesto"}, {"vat", "US12345672"}},
		Object{{"id", int64(17)}, {"display_name", "Wood Corner, Willie Burke"}, {"street", "1839 Arbor Way"},
			{"city", "Modesto"}, {"vat", "US12345672"}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("contacts of Wood Corner (-want +got):\n%s", diff)
	}
}

func TestAddressWithoutNameShowsItsType(t *testing.T) {
	_, c := newClient(t)
	id := c.must("res.partner", "create", []any{map[string]any{"type": "invoice", "parent_id": 10}}, nil)
	got := c.must("res.partner", "name_search", []any{"Invoice"}, nil)
	if diff := cmp.Diff([]any{[]any{id, "Deco Addict, Invoice Address"}}, got); diff != "" {
		t.Errorf("name_search (-want +got):\n%s", diff)
	}
}
