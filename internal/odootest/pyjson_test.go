package odootest

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Known answers of Python 3.11's json.dumps(v, ensure_ascii=False).
func TestMarshalPython(t *testing.T) {
	tests := []struct {
		name string
		v    any
		want string
	}{
		{"integral_float", 1.0, "1.0"},
		{"float", 5.864, "5.864"},
		{"large_float", 1e16, "1e+16"},
		{"small_float", 0.00001, "1e-05"},
		{"float_at_the_threshold", 0.0001, "0.0001"},
		{"negative_zero", -0.0 * 1, "0.0"},
		{"int", int64(-42), "-42"},
		{"escapes", "\"\\\n\r\t\b\f\x01", `"\"\\\n\r\t\b\f\u0001"`},
		{"non_ascii_as_is", "Liège €", `"Liège €"`},
		{"null_true_false", []any{nil, true, false}, "[null, true, false]"},
		{"ordered_object", Object{{"b", int64(1)}, {"a", []any{}}}, `{"b": 1, "a": []}`},
		{"empty_object", Object{}, "{}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := marshalPython(tt.v)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, string(got)); diff != "" {
				t.Errorf("marshalPython(%#v) (-want +got):\n%s", tt.v, diff)
			}
		})
	}
}

func TestDecodeJSON(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    any
		wantErr bool
	}{
		{"keeps_key_order", `{"z": 1, "a": 2}`, Object{{"z", int64(1)}, {"a", int64(2)}}, false},
		{"ints_and_floats", `[1, 1.0, 1e2]`, []any{int64(1), 1.0, 100.0}, false},
		{"duplicate_key_keeps_first_place_last_value", `{"a": 1, "b": 2, "a": 3}`, Object{{"a", int64(3)}, {"b", int64(2)}}, false},
		{"trailing_data", `{} {}`, nil, true},
		{"not_json", `this is not json`, nil, true},
		{"empty", ``, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := decodeJSON([]byte(tt.in))
			if (err != nil) != tt.wantErr {
				t.Fatalf("decodeJSON(%q) error = %v, want error %v", tt.in, err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("decodeJSON(%q) (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

// Known answers of Python's repr.
func TestPyRepr(t *testing.T) {
	tests := []struct {
		v    any
		want string
	}{
		{[]any{"name", "~~", int64(1)}, "['name', '~~', 1]"},
		{"it's", `"it's"`},
		{`a'b"c`, `'a\'b"c'`},
		{"tab\there", `'tab\there'`},
		{[]any{true, nil, 1.5}, "[True, None, 1.5]"},
		{Object{{"a", false}}, "{'a': False}"},
		{"a\x01b", `'a\x01b'`},
	}
	for _, tt := range tests {
		if got := pyRepr(tt.v); got != tt.want {
			t.Errorf("pyRepr(%#v) = %s, want %s", tt.v, got, tt.want)
		}
	}
	if got := pyReprTuple([]any{int64(1)}); got != "(1,)" {
		t.Errorf("one-element tuple = %s, want (1,)", got)
	}
}

func TestLikeMatch(t *testing.T) {
	tests := []struct {
		s, pattern string
		want       bool
	}{
		{"Wood Corner", "%Corner", true},
		{"Wood Corner", "Wood%", true},
		{"Wood Corner", "W_od%", true},
		{"Wood Corner", "Wood", false},
		{"100%", `100\%`, true},
		{"1000", `100\%`, false},
		{"", "%", true},
		{"é", "_", true},
	}
	for _, tt := range tests {
		if got := likeMatch(tt.s, tt.pattern); got != tt.want {
			t.Errorf("likeMatch(%q, %q) = %v, want %v", tt.s, tt.pattern, got, tt.want)
		}
	}
}

// FuzzDecodeJSON checks that any body the JSON-RPC endpoint accepts
// survives an encoding as Odoo writes it unchanged.
func FuzzDecodeJSON(f *testing.F) {
	f.Add([]byte(versionCall))
	f.Add([]byte(`{"a": [1, 2.5, "x\u00e9", null, true, {"b": {}}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := decodeJSON(data)
		if err != nil {
			return
		}
		out, err := marshalPython(v)
		if err != nil {
			t.Fatalf("marshalPython(%#v): %v", v, err)
		}
		again, err := decodeJSON(out)
		if err != nil {
			t.Fatalf("decodeJSON(%s): %v", out, err)
		}
		if diff := cmp.Diff(v, again, cmp.Comparer(sameFloat)); diff != "" {
			t.Errorf("round trip (-first +second):\n%s", diff)
		}
	})
}

func sameFloat(a, b float64) bool { return a == b || a != a && b != b }
