package xmlrpc

import (
	"bufio"
	"bytes"
	"errors"
	"math"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// pythonCall wraps one encoded param as Python's xmlrpc.client.dumps((v,),
// methodname="m", allow_none=True) does. The wanted values in the tables
// below were printed by CPython 3.11.
func pythonCall(param string) string {
	return "<?xml version='1.0'?>\n<methodCall>\n<methodName>m</methodName>\n<params>\n<param>\n" +
		param + "</param>\n</params>\n</methodCall>\n"
}

func encodeCall(tb testing.TB, c Call) (string, error) {
	tb.Helper()
	var buf bytes.Buffer
	err := EncodeCall(&buf, c)
	if err != nil && buf.Len() != 0 {
		tb.Errorf("EncodeCall wrote %d bytes before failing", buf.Len())
	}
	return buf.String(), err
}

func TestEncodeCallMatchesPython(t *testing.T) {
	tests := []struct {
		name  string
		value any
		want  string
	}{
		{"nil_has_no_newline", nil, "<value><nil/></value>"},
		{"true", true, "<value><boolean>1</boolean></value>\n"},
		{"false", false, "<value><boolean>0</boolean></value>\n"},
		{"int", -2147483648, "<value><int>-2147483648</int></value>\n"},
		{"int32", int32(7), "<value><int>7</int></value>\n"},
		{"int64_beyond_int32_stays_int", int64(1) << 40, "<value><int>1099511627776</int></value>\n"},
		{"float_integral", 1.0, "<value><double>1.0</double></value>\n"},
		{"float_neg_zero", math.Copysign(0, -1), "<value><double>-0.0</double></value>\n"},
		{"float_1e16_exponent", 1e16, "<value><double>1e+16</double></value>\n"},
		{"float_1e-5_exponent", 0.00001, "<value><double>1e-05</double></value>\n"},
		{"float_1e-4_plain", 0.0001, "<value><double>0.0001</double></value>\n"},
		{"escape_amp_lt_gt_not_quotes", `a&b<c>d "q" 'a' ]]>`,
			"<value><string>a&amp;b&lt;c&gt;d \"q\" 'a' ]]&gt;</string></value>\n"},
		{"unicode", "é ✓ 😀", "<value><string>é ✓ 😀</string></value>\n"},
		{"empty_string", "", "<value><string></string></value>\n"},
		{"datetime", DateTime("20260101T10:00:00"),
			"<value><dateTime.iso8601>20260101T10:00:00</dateTime.iso8601></value>\n"},
		{"base64_empty", Base64{}, "<value><base64>\n</base64></value>\n"},
		{"base64_short", Base64("hi"), "<value><base64>\naGk=\n</base64></value>\n"},
		{"bytes_as_base64", []byte("hi"), "<value><base64>\naGk=\n</base64></value>\n"},
		{"base64_one_full_line", Base64(seq(57)),
			"<value><base64>\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4\n</base64></value>\n"},
		{"base64_wraps_at_76", Base64(seq(58)),
			"<value><base64>\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4\nOQ==\n</base64></value>\n"},
		{"empty_array", []any{}, "<value><array><data>\n</data></array></value>\n"},
		{"nil_slice_is_empty_array", []any(nil), "<value><array><data>\n</data></array></value>\n"},
		{"empty_struct", Struct{}, "<value><struct>\n</struct></value>\n"},
		{"strings", []string{"a"}, "<value><array><data>\n<value><string>a</string></value>\n</data></array></value>\n"},
		{"int64s", []int64{1}, "<value><array><data>\n<value><int>1</int></value>\n</data></array></value>\n"},
		{"ints", []int{1}, "<value><array><data>\n<value><int>1</int></value>\n</data></array></value>\n"},
		{"nested", []any{1, []any{nil, Struct{{"a", []any{}}, {"b&", Struct{}}}}, "x"},
			"<value><array><data>\n<value><int>1</int></value>\n<value><array><data>\n<value><nil/></value><value><struct>\n" +
				"<member>\n<name>a</name>\n<value><array><data>\n</data></array></value>\n</member>\n" +
				"<member>\n<name>b&amp;</name>\n<value><struct>\n</struct></value>\n</member>\n</struct></value>\n" +
				"</data></array></value>\n<value><string>x</string></value>\n</data></array></value>\n"},
		{"map_sorted_keys", map[string]any{"b": 2, "a": 1},
			"<value><struct>\n<member>\n<name>a</name>\n<value><int>1</int></value>\n</member>\n" +
				"<member>\n<name>b</name>\n<value><int>2</int></value>\n</member>\n</struct></value>\n"},
		{"carriage_return_as_char_ref", "a\r\nb", "<value><string>a&#13;\nb</string></value>\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := encodeCall(t, Call{Method: "m", Params: []any{tt.value}})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(pythonCall(tt.want), got); diff != "" {
				t.Errorf("(-python +got):\n%s", diff)
			}
		})
	}
}

func seq(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i)
	}
	return b
}

func TestEncodeCallEnvelope(t *testing.T) {
	tests := []struct {
		name string
		call Call
		want string
	}{
		{"no_params", Call{Method: "version"},
			"<?xml version='1.0'?>\n<methodCall>\n<methodName>version</methodName>\n<params>\n</params>\n</methodCall>\n"},
		{"nil_then_int", Call{Method: "a.b", Params: []any{nil, 1}},
			"<?xml version='1.0'?>\n<methodCall>\n<methodName>a.b</methodName>\n<params>\n<param>\n<value><nil/></value></param>\n" +
				"<param>\n<value><int>1</int></value>\n</param>\n</params>\n</methodCall>\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := encodeCall(t, tt.call)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-python +got):\n%s", diff)
			}
		})
	}
}

func TestEncodeCallRefuses(t *testing.T) {
	loop := []any{nil}
	loop[0] = loop
	tests := []struct {
		name string
		call Call
	}{
		{"empty_method", Call{Method: ""}},
		{"method_with_markup", Call{Method: "a<b"}},
		{"unknown_type", Call{Method: "m", Params: []any{struct{}{}}}},
		{"float32", Call{Method: "m", Params: []any{float32(1)}}},
		{"nan", Call{Method: "m", Params: []any{math.NaN()}}},
		{"infinity", Call{Method: "m", Params: []any{math.Inf(1)}}},
		{"invalid_utf8", Call{Method: "m", Params: []any{"a\xffb"}}},
		{"control_character", Call{Method: "m", Params: []any{"a\x00b"}}},
		{"noncharacter_fffe", Call{Method: "m", Params: []any{"a\ufffeb"}}},
		{"bad_member_name", Call{Method: "m", Params: []any{Struct{{"\x01", 1}}}}},
		{"fault_as_param", Call{Method: "m", Params: []any{Fault{Code: 1}}}},
		{"self_containing_slice", Call{Method: "m", Params: []any{loop}}},
		{"deep_unknown_type", Call{Method: "m", Params: []any{map[string]any{"a": []any{uint(1)}}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := encodeCall(t, tt.call)
			if !errors.Is(err, ErrUnsupported) {
				t.Errorf("EncodeCall error = %v, want ErrUnsupported", err)
			}
		})
	}
}

func TestEncodeResponseOdooLayout(t *testing.T) {
	const head = "<?xml version=\"1.0\"?>\n<methodResponse>\n"
	tests := []struct {
		name  string
		value any
		want  string
	}{
		{"int", 2, head + "<params>\n<param>\n<value><int>2</int></value>\n</param>\n</params>\n\n</methodResponse>\n"},
		{"false", false, head + "<params>\n<param>\n<value><boolean>0</boolean></value>\n</param>\n</params>\n\n</methodResponse>\n"},
		{"control_characters_dropped_as_odoo_does", "a\x00\x1fb\tc",
			head + "<params>\n<param>\n<value><string>ab\tc</string></value>\n</param>\n</params>\n\n</methodResponse>\n"},
		{"fault_value", Fault{Code: 3, String: "Access Denied"}, head + faultBody("<int>3</int>", "Access Denied")},
		{"fault_pointer", &Fault{Code: "AccessDenied", String: "Access Denied"},
			head + faultBody("<string>AccessDenied</string>", "Access Denied")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := EncodeResponse(&buf, tt.value); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, buf.String()); diff != "" {
				t.Errorf("(-odoo +got):\n%s", diff)
			}
		})
	}
}

func faultBody(code, text string) string {
	return "<fault>\n<value><struct>\n<member>\n<name>faultCode</name>\n<value>" + code + "</value>\n</member>\n" +
		"<member>\n<name>faultString</name>\n<value><string>" + text + "</string></value>\n</member>\n" +
		"</struct></value>\n</fault>\n\n</methodResponse>\n"
}

func TestEncodeFaultRefusesBadCode(t *testing.T) {
	tests := []struct {
		name string
		code any
	}{
		{"nil", nil},
		{"float", 1.5},
		{"bool", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			err := EncodeFault(&buf, Fault{Code: tt.code, String: "x"})
			if !errors.Is(err, ErrUnsupported) || buf.Len() != 0 {
				t.Errorf("EncodeFault = %v after writing %d bytes, want ErrUnsupported and nothing written", err, buf.Len())
			}
		})
	}
}

// TestPythonFloatRepr checks the float format against repr() of CPython
// for the values in testdata/python_float_repr.txt.
func TestPythonFloatRepr(t *testing.T) {
	file, err := os.Open("testdata/python_float_repr.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	n := 0
	for sc := bufio.NewScanner(file); sc.Scan(); {
		bits, want, ok := strings.Cut(sc.Text(), " ")
		if !ok || strings.HasPrefix(bits, "#") {
			continue
		}
		u, err := strconv.ParseUint(bits, 16, 64)
		if err != nil {
			t.Fatal(err)
		}
		got, err := appendPythonFloat(nil, math.Float64frombits(u))
		if err != nil || string(got) != want {
			t.Errorf("float %s: got %q, %v; want %q", bits, got, err, want)
		}
		n++
	}
	if n < 1000 {
		t.Fatalf("only %d vectors read", n)
	}
}
