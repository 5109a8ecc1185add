package xmlrpc

import (
	"errors"
	"io"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"
)

// oneParam is a call to "m" with one <value> holding inner.
func oneParam(inner string) string {
	return "<?xml version='1.0'?>\n<methodCall><methodName>m</methodName><params><param><value>" +
		inner + "</value></param></params></methodCall>\n"
}

func TestDecodeCallValues(t *testing.T) {
	tests := []struct {
		name  string
		inner string
		want  any
	}{
		{"string", "<string>a&amp;b &lt;&gt; &quot;&apos; &#233;</string>", `a&b <> "' é`},
		{"cdata_string", "<string>a<![CDATA[<b>]]>c</string>", "a<b>c"},
		{"untyped_string_keeps_space", " a b ", " a b "},
		{"empty_untyped_string", "", ""},
		{"empty_string_element", "<string/>", ""},
		{"space_around_typed_value", "\n <int>1</int>\n", int64(1)},
		{"int", "<int>-42</int>", int64(-42)},
		{"i4", "<i4>+7</i4>", int64(7)},
		{"i8_max", "<i8>9223372036854775807</i8>", int64(9223372036854775807)},
		{"int_with_space", "<int> 5\n</int>", int64(5)},
		{"true", "<boolean>1</boolean>", true},
		{"false", "<boolean>0</boolean>", false},
		{"double", "<double>5.864</double>", 5.864},
		{"double_exponent", "<double>-1.5E-7</double>", -1.5e-7},
		{"double_integral", "<double>2</double>", 2.0},
		{"nil", "<nil/>", nil},
		{"datetime_raw", "<dateTime.iso8601>20260101T10:00:00</dateTime.iso8601>", DateTime("20260101T10:00:00")},
		{"base64_lines", "<base64>\naGVs\nbG8=\n</base64>", Base64("hello")},
		{"base64_empty", "<base64></base64>", Base64{}},
		{"empty_array", "<array><data></data></array>", []any{}},
		{"empty_struct", "<struct>\n</struct>", Struct{}},
		{"array", "<array><data>\n<value><int>1</int></value>\n<value>x</value>\n</data></array>", []any{int64(1), "x"}},
		{"struct_keeps_order", "<struct><member><name>b</name><value><int>1</int></value></member>" +
			"<member><name>a</name><value><nil/></value></member></struct>",
			Struct{{"b", int64(1)}, {"a", nil}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := DecodeCall(strings.NewReader(oneParam(tt.inner)))
			if err != nil {
				t.Fatal(err)
			}
			want := Call{Method: "m", Params: []any{tt.want}}
			if diff := cmp.Diff(want, c); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestDecodeCallEnvelope(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want Call
	}{
		{"no_declaration", "<methodCall><methodName>a.b</methodName><params/></methodCall>",
			Call{Method: "a.b", Params: []any{}}},
		{"no_params_element", "<methodCall><methodName>version</methodName></methodCall>",
			Call{Method: "version", Params: []any{}}},
		{"utf8_declared", `<?xml version="1.0" encoding="UTF-8"?><methodCall><methodName>x</methodName></methodCall>`,
			Call{Method: "x", Params: []any{}}},
		{"two_params", "<methodCall><methodName>m</methodName><params><param><value>a</value></param>" +
			"<param><value><int>2</int></value></param></params></methodCall>",
			Call{Method: "m", Params: []any{"a", int64(2)}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := DecodeCall(strings.NewReader(tt.doc))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, c); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestDecodeCallRefuses(t *testing.T) {
	const lol = `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]>` +
		`<methodCall><methodName>m</methodName><params><param><value>&lol2;</value></param></params></methodCall>`
	const xxe = `<?xml version="1.0"?><!DOCTYPE m [<!ENTITY x SYSTEM "file:///etc/passwd">]>` +
		`<methodCall><methodName>&x;</methodName></methodCall>`
	tests := []struct {
		name string
		doc  string
		want error
	}{
		{"empty", "", ErrSyntax},
		{"not_xml", "this is not xml", ErrSyntax},
		{"truncated", "<methodCall><methodName>m</methodName>", ErrSyntax},
		{"billion_laughs", lol, ErrSyntax},
		{"external_entity", xxe, ErrSyntax},
		{"doctype_alone", "<!DOCTYPE methodCall><methodCall><methodName>m</methodName></methodCall>", ErrSyntax},
		{"undefined_entity", oneParam("<string>&nbsp;</string>"), ErrSyntax},
		{"trailing_garbage", oneParam("") + "x", ErrSyntax},
		{"second_root", oneParam("") + "<methodCall/>", ErrSyntax},
		{"comment", "<methodCall><!-- c --><methodName>m</methodName></methodCall>", ErrSyntax},
		{"processing_instruction", "<methodCall><?php x?><methodName>m</methodName></methodCall>", ErrSyntax},
		{"late_declaration", " <?xml version='1.0'?><methodCall><methodName>m</methodName></methodCall>", ErrSyntax},
		{"other_encoding", `<?xml version="1.0" encoding="ISO-8859-1"?><methodCall><methodName>m</methodName></methodCall>`, ErrSyntax},
		{"wrong_root", "<methodResponse><params/></methodResponse>", ErrSyntax},
		{"attribute", `<methodCall x="1"><methodName>m</methodName></methodCall>`, ErrSyntax},
		{"namespace", `<methodCall><methodName>m</methodName><params><param><value><ex:nil xmlns:ex="u"/></value></param></params></methodCall>`, ErrSyntax},
		{"no_method_name", "<methodCall><params/></methodCall>", ErrSyntax},
		{"method_name_with_space", "<methodCall><methodName>a b</methodName></methodCall>", ErrSyntax},
		{"text_between_elements", "<methodCall>x<methodName>m</methodName></methodCall>", ErrSyntax},
		{"unknown_type", oneParam("<float>1</float>"), ErrSyntax},
		{"two_typed_values", oneParam("<int>1</int><int>2</int>"), ErrSyntax},
		{"text_and_typed_value", oneParam("a<int>1</int>"), ErrSyntax},
		{"int_overflow", oneParam("<int>9223372036854775808</int>"), ErrSyntax},
		{"int_underscore", oneParam("<int>1_000</int>"), ErrSyntax},
		{"int_empty", oneParam("<int></int>"), ErrSyntax},
		{"bool_two", oneParam("<boolean>2</boolean>"), ErrSyntax},
		{"bool_word", oneParam("<boolean>true</boolean>"), ErrSyntax},
		{"double_nan", oneParam("<double>nan</double>"), ErrSyntax},
		{"double_inf", oneParam("<double>inf</double>"), ErrSyntax},
		{"double_hex", oneParam("<double>0x1p3</double>"), ErrSyntax},
		{"double_overflow", oneParam("<double>1e400</double>"), ErrSyntax},
		{"base64_bad", oneParam("<base64>!!!!</base64>"), ErrSyntax},
		{"base64_no_padding", oneParam("<base64>aGk</base64>"), ErrSyntax},
		{"nil_with_text", oneParam("<nil>x</nil>"), ErrSyntax},
		{"element_in_string", oneParam("<string><b/></string>"), ErrSyntax},
		{"array_without_data", oneParam("<array><value>1</value></array>"), ErrSyntax},
		{"struct_member_without_name", oneParam("<struct><member><value>1</value></member></struct>"), ErrSyntax},
		{"struct_duplicate_member", oneParam("<struct><member><name>a</name><value>1</value></member>" +
			"<member><name>a</name><value>2</value></member></struct>"), ErrSyntax},
		{"struct_duplicate_member_past_scan", oneParam(bigStruct(40, "m3")), ErrSyntax},
		{"control_character", oneParam("<string>\x01</string>"), ErrSyntax},
		{"invalid_utf8", oneParam("<string>\xff</string>"), ErrSyntax},
		{"too_deep", oneParam(strings.Repeat("<array><data><value>", 65) + strings.Repeat("</value></data></array>", 65)), ErrLimit},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := DecodeCall(strings.NewReader(tt.doc))
			if !errors.Is(err, tt.want) {
				t.Errorf("DecodeCall = %+v, %v; want error %v", c, err, tt.want)
			}
			t.Log(err)
		})
	}
}

// bigStruct is a struct of n members m0, m1, ... and a last member named dup.
func bigStruct(n int, dup string) string {
	var b strings.Builder
	b.WriteString("<struct>")
	for i := range n {
		b.WriteString("<member><name>m" + strconv.Itoa(i) + "</name><value/></member>")
	}
	b.WriteString("<member><name>" + dup + "</name><value/></member></struct>")
	return b.String()
}

func TestLimits(t *testing.T) {
	deep := func(n int) string {
		return oneParam(strings.Repeat("<array><data><value>", n) + strings.Repeat("</value></data></array>", n))
	}
	many := oneParam("<array><data>" + strings.Repeat("<value/>", 9) + "</data></array>")
	tests := []struct {
		name string
		lim  Limits
		doc  string
		want error
	}{
		{"default_depth_64_ok", Limits{}, deep(64), nil},
		{"default_depth_65_refused", Limits{}, deep(65), ErrLimit},
		{"depth_3_ok", Limits{MaxDepth: 3}, deep(3), nil},
		{"depth_4_refused", Limits{MaxDepth: 3}, deep(4), ErrLimit},
		{"ten_values_ok", Limits{MaxValues: 10}, many, nil},
		{"nine_values_refused", Limits{MaxValues: 9}, many, ErrLimit},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.lim.DecodeCall(strings.NewReader(tt.doc))
			if !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
				t.Errorf("DecodeCall error = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestDecodeReportsReadErrors(t *testing.T) {
	boom := errors.New("boom")
	r := io.MultiReader(strings.NewReader("<methodCall>"), iotest.ErrReader(boom))
	_, err := DecodeCall(r)
	if !errors.Is(err, boom) || errors.Is(err, ErrSyntax) {
		t.Errorf("DecodeCall error = %v, want the read error and not ErrSyntax", err)
	}
}

func TestDecodeResponse(t *testing.T) {
	const head = `<?xml version="1.0"?>` + "\n<methodResponse>\n"
	tests := []struct {
		name    string
		doc     string
		want    any
		wantErr error
	}{
		{"value", head + "<params><param><value><int>2</int></value></param></params>\n\n</methodResponse>\n", int64(2), nil},
		{"fault_int_code", head + faultBody("<int>4</int>", "no"), nil, &Fault{Code: int64(4), String: "no"}},
		{"fault_string_code", head + faultBody("<string>AccessDenied</string>", "Access Denied"), nil,
			&Fault{Code: "AccessDenied", String: "Access Denied"}},
		{"fault_members_reversed", head + "<fault><value><struct><member><name>faultString</name><value>s</value></member>" +
			"<member><name>faultCode</name><value><int>1</int></value></member></struct></value></fault></methodResponse>",
			nil, &Fault{Code: int64(1), String: "s"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := DecodeResponse(strings.NewReader(tt.doc))
			var got error
			if f := (*Fault)(nil); errors.As(err, &f) {
				got = f
			} else if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, v); diff != "" {
				t.Errorf("value (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantErr, got); diff != "" {
				t.Errorf("fault (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDecodeResponseRefuses(t *testing.T) {
	const head = "<methodResponse>"
	tests := []struct {
		name string
		doc  string
	}{
		{"no_param", head + "<params></params></methodResponse>"},
		{"two_params", head + "<params><param><value/></param><param><value/></param></params></methodResponse>"},
		{"neither_params_nor_fault", head + "<value/></methodResponse>"},
		{"fault_not_struct", head + "<fault><value>x</value></fault></methodResponse>"},
		{"fault_missing_string", head + "<fault><value><struct><member><name>faultCode</name><value><int>1</int></value></member>" +
			"</struct></value></fault></methodResponse>"},
		{"fault_extra_member", head + "<fault><value><struct><member><name>faultCode</name><value><int>1</int></value></member>" +
			"<member><name>faultString</name><value/></member><member><name>x</name><value/></member></struct></value></fault></methodResponse>"},
		{"fault_double_code", head + "<fault><value><struct><member><name>faultCode</name><value><double>1</double></value></member>" +
			"<member><name>faultString</name><value/></member></struct></value></fault></methodResponse>"},
		{"trailing_element", head + "<params><param><value/></param></params></methodResponse><x/>"},
		{"call_document", "<methodCall><methodName>m</methodName></methodCall>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := DecodeResponse(strings.NewReader(tt.doc))
			if !errors.Is(err, ErrSyntax) {
				t.Errorf("DecodeResponse = %v, %v; want ErrSyntax", v, err)
			}
		})
	}
}

func TestFaultError(t *testing.T) {
	got := (&Fault{Code: int64(3), String: "Access Denied"}).Error()
	if diff := cmp.Diff("xmlrpc: fault 3: Access Denied", got); diff != "" {
		t.Error(diff)
	}
}
