package proxy

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/keygate/keygate/odoo/xmlrpc"
)

func TestJSONPassword(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		want       string
		found      bool
	}{
		{"execute_kw", `{"jsonrpc":"2.0","method":"call","params":{"service":"object","method":"execute_kw","args":["db",2,"kg_key","res.partner","read",[1]]},"id":1}`, "kg_key", true},
		{"login", `{"params":{"service":"common","method":"login","args":["db","user","kg_key"]}}`, "kg_key", true},
		{"members_in_any_order_and_nested_values_before", `{"id":{"a":[1,{"b":2}]},"params":{"args":[{"x":[1]},[2,[3]],"kg_key"],"service":"object"}}`, "kg_key", true},
		{"escaped_string", `{"params":{"args":["d",1,"kg_\u006bey"]}}`, "kg_key", true},
		{"no_third_argument", `{"params":{"service":"common","method":"version","args":[]}}`, "", false},
		{"third_argument_not_a_string", `{"params":{"args":["d",1,2]}}`, "", false},
		{"no_params", `{"method":"call"}`, "", false},
		{"not_an_object", `["params"]`, "", false},
		{"malformed", `{"params":{"args":["d",1,`, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, found := jsonPassword(strings.NewReader(tc.body))
			if diff := cmp.Diff([]any{tc.want, tc.found}, []any{got, found}); diff != "" {
				t.Fatalf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestXMLPassword(t *testing.T) {
	call := func(params ...string) string {
		var b strings.Builder
		b.WriteString(`<?xml version="1.0"?><methodCall><methodName>execute_kw</methodName><params>`)
		for _, p := range params {
			b.WriteString("<param>" + p + "</param>\n")
		}
		return b.String() + "</params></methodCall>"
	}
	for _, tc := range []struct {
		name, body string
		want       string
		found      bool
	}{
		{"string_element", call("<value><string>db</string></value>", "<value><int>2</int></value>", "<value><string>kg_key</string></value>", "<value><string>res.partner</string></value>"), "kg_key", true},
		{"untyped_value", call("<value>db</value>", "<value><int>2</int></value>", "<value>kg_key</value>"), "kg_key", true},
		{"whitespace_around_the_string", call("<value>db</value>", "<value>u</value>", "<value>\n  <string>kg_key</string>\n</value>"), "kg_key", true},
		{"entity", call("<value>db</value>", "<value>u</value>", "<value><string>kg&amp;key</string></value>"), "kg&key", true},
		{"nested_values_before", call("<value><array><data><value>x</value></data></array></value>", "<value><struct><odoo.Member><name>a</name><value>b</value></odoo.Member></struct></value>", "<value>kg_key</value>"), "kg_key", true},
		{"third_param_not_a_string", call("<value>db</value>", "<value>u</value>", "<value><int>3</int></value>"), "", false},
		{"two_params", call("<value>db</value>", "<value>u</value>"), "", false},
		{"not_xml_rpc", `<foo><params><param><value>a</value></param><param/><param><value>k</value></param></params></foo>`, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, found := xmlPassword(strings.NewReader(tc.body))
			if diff := cmp.Diff([]any{tc.want, tc.found}, []any{got, found}); diff != "" {
				t.Fatalf("(-want +got):\n%s", diff)
			}
		})
	}
}

// FuzzJSONPassword: whatever the body, the scanner does not panic, and
// what it finds is the password that the gateway's own parse reads, for
// a body that parse accepts.
func FuzzJSONPassword(f *testing.F) {
	f.Add(`{"params":{"service":"object","method":"execute_kw","args":["db",2,"kg_key","m","read"]}}`)
	f.Add(`{"params":{"args":["d",1,"a"],"args":["d",1,"b"]}}`)
	f.Add(`{"id":[{"a":1}],"params":{"args":[[],{},"\u0041"]}}`)
	f.Fuzz(func(t *testing.T, body string) {
		got, found := jsonPassword(strings.NewReader(body))
		env, err := parseEnvelope([]byte(body))
		if err != nil || !found {
			return
		}
		var p struct {
			Args []json.RawMessage `json:"args"`
		}
		if json.Unmarshal(env.Params, &p) != nil || len(p.Args) < 3 {
			return
		}
		var want string
		if json.Unmarshal(p.Args[2], &want) != nil {
			return
		}
		if got != want && !hasDuplicateOrFoldedNames(body) {
			t.Fatalf("scanner found %q, the parse reads %q", got, want)
		}
	})
}

// hasDuplicateOrFoldedNames: bodies on which a streaming scan and
// encoding/json (last duplicate wins, names match case-insensitively) may
// differ; the scan only decides whose budget a body counts against, never
// access, so such bodies are not a failure.
func hasDuplicateOrFoldedNames(body string) bool {
	l := strings.ToLower(body)
	return strings.Count(l, `"params"`) > 1 || strings.Count(l, `"args"`) > 1 || strings.Contains(body, `\u`) ||
		strings.Count(body, `"params"`) != strings.Count(l, `"params"`) || strings.Count(body, `"args"`) != strings.Count(l, `"args"`)
}

// FuzzXMLPassword: the scanner does not panic, and on a call that the
// gateway's decoder accepts, what it finds is that call's third param.
func FuzzXMLPassword(f *testing.F) {
	f.Add(`<methodCall><methodName>m</methodName><params><param><value>a</value></param><param><value><int>1</int></value></param><param><value><string>k</string></value></param></params></methodCall>`)
	f.Add(`<methodCall><params><param><value>a</value></param><param><value>b</value></param><param><value>c&lt;</value></param></params></methodCall>`)
	f.Fuzz(func(t *testing.T, body string) {
		got, found := xmlPassword(strings.NewReader(body))
		call, err := xmlrpc.DecodeCall(bytes.NewReader([]byte(body)))
		if err != nil || !found || len(call.Params) < 3 {
			return
		}
		if want, ok := call.Params[2].(string); ok && want != got {
			t.Fatalf("scanner found %q, the decoder reads %q", got, want)
		}
	})
}

// TestReadRest: the bytes come back whole, and the buffer never grows past
// one byte more than the announced length.
func TestReadRest(t *testing.T) {
	for _, size := range []int{0, 1, 511, 512, 513, 100_000, 3 << 20} {
		want := bytes.Repeat([]byte("0123456789abcdef"), size/16+1)[:size]
		for _, n := range []int64{-1, int64(size)} {
			head := want[:min(size, 100)]
			got, err := readRest(append([]byte(nil), head...), bytes.NewReader(want[len(head):]), n)
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("size %d, announced %d: %d bytes back (%v)", size, n, len(got), err)
			}
			if n >= 0 && cap(got) > size+1 && cap(got) > 512 {
				t.Fatalf("size %d announced: capacity %d", size, cap(got))
			}
		}
	}
}
