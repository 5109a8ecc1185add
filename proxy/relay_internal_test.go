package proxy

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/keygate/keygate/odoo"
	"github.com/keygate/keygate/odoo/xmlrpc"
)

const traceback = "Traceback (most recent call last):\n  File \"/usr/lib/python3/dist-packages/odoo/http.py\", line 1954, in _transactioning\n" +
	"    return service_model.retrying(func, env=self.env)\n           ^^^^^^^^^^^^\n"

func TestRelayJSON(t *testing.T) {
	cases := []struct {
		name, in, want string
		denied         bool
		err            error
	}{
		{"result_passes_byte_for_byte", `{"jsonrpc": "2.0", "id": 9, "result": {"debug": 1}}`, `{"jsonrpc": "2.0", "id": 9, "result": {"debug": 1}}`, false, nil},
		{"none_result_passes", `{"jsonrpc": "2.0", "id": 39}`, `{"jsonrpc": "2.0", "id": 39}`, false, nil},
		{"debug_dropped_18_order_kept",
			`{"jsonrpc":"2.0","id":1,"error":{"code":200,"message":"Odoo Server Error","data":{"name":"odoo.exceptions.MissingError","debug":"Traceback...","message":"gone","arguments":["gone"],"context":{}}}}`,
			`{"jsonrpc": "2.0", "id": 1, "error": {"code": 200, "message": "Odoo Server Error", "data": {"name": "odoo.exceptions.MissingError", "message": "gone", "arguments": ["gone"], "context": {}}}}`, false, nil},
		{"debug_dropped_19_order",
			`{"jsonrpc":"2.0","id":1,"error":{"code":0,"message":"Odoo Server Error","data":{"name":"odoo.exceptions.AccessDenied","message":"Access Denied","arguments":["Access Denied"],"context":{},"debug":"odoo.exceptions.AccessDenied: Access Denied\n"}}}`,
			`{"jsonrpc": "2.0", "id": 1, "error": {"code": 0, "message": "Odoo Server Error", "data": {"name": "odoo.exceptions.AccessDenied", "message": "Access Denied", "arguments": ["Access Denied"], "context": {}}}}`, true, nil},
		{"duplicate_debug_all_dropped", `{"error":{"data":{"debug":"a","debug":"b","name":"x"}}}`, `{"error": {"data": {"name": "x"}}}`, false, nil},
		{"duplicate_error_both_stripped", `{"error":{"data":{"debug":"a"}},"error":{"data":{"debug":"b"}}}`, `{"error": {"data": {}}, "error": {"data": {}}}`, false, nil},
		{"data_not_an_object_emptied", `{"error":{"data":"Traceback (most recent call last)"}}`, `{"error": {"data": {}}}`, false, nil},
		{"not_json_is_bad_gateway", `<html>`, "", false, odoo.ErrBadGateway},
		{"array_is_bad_gateway", `[1]`, "", false, odoo.ErrBadGateway},
		{"trailing_data_is_bad_gateway", `{"result": 1} {}`, "", false, odoo.ErrBadGateway},
		{"error_not_object_is_bad_gateway", `{"error": "Traceback"}`, "", false, odoo.ErrBadGateway},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, denied, err := relayJSON([]byte(c.in))
			if !errors.Is(err, c.err) {
				t.Fatalf("err = %v, want %v", err, c.err)
			}
			if diff := cmp.Diff(c.want, string(out)); diff != "" || denied != c.denied {
				t.Errorf("denied %v (want %v), answer (-want +got):\n%s", denied, c.denied, diff)
			}
		})
	}
}

func TestRelayXML(t *testing.T) {
	fault := func(code any, s string) []byte {
		var b bytes.Buffer
		_ = xmlrpc.EncodeFault(&b, xmlrpc.Fault{Code: code, String: s})
		return b.Bytes()
	}
	result := []byte("<?xml version=\"1.0\"?>\n<methodResponse>\n<params>\n<param>\n<value><int>9</int></value>\n</param>\n</params>\n\n</methodResponse>\n")
	cases := []struct {
		name     string
		in, want []byte
		denied   bool
		err      error
	}{
		{"result_passes_byte_for_byte", result, result, false, nil},
		{"fault_1_cut_to_exception", fault(int64(1), traceback+"KeyError: 'nope'\n"), fault(int64(1), "KeyError: 'nope'"), false, nil},
		{"fault_3_is_denied", fault(int64(3), "Access Denied"), fault(int64(3), "Access Denied"), true, nil},
		{"legacy_denied", fault("AccessDenied", "Access Denied"), fault("AccessDenied", "Access Denied"), true, nil},
		{"legacy_generic_cut", fault("boom", traceback+"ValueError: boom\n"), fault("boom", "ValueError: boom"), false, nil},
		{"legacy_warning_unchanged", fault("warning -- UserError\n\nno", ""), fault("warning -- UserError\n\nno", ""), false, nil},
		{"not_xml_is_bad_gateway", []byte("<html>"), nil, false, odoo.ErrBadGateway},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, denied, err := relayXML(c.in)
			if !errors.Is(err, c.err) || denied != c.denied || !bytes.Equal(out, c.want) {
				t.Errorf("relayXML = %s, %v, %v; want %s, %v, %v", out, denied, err, c.want, c.denied, c.err)
			}
		})
	}
}

func TestParseEnvelope(t *testing.T) {
	cases := map[string]struct {
		in   string
		want error
	}{
		"object":          {`{"jsonrpc": "2.0", "params": {}, "id": 1}`, nil},
		"leading_space":   {" \n{}", nil},
		"not_json":        {"this is not json", errNotJSON},
		"empty":           {"", errNotJSON},
		"array":           {"[1, 2]", errNotJSONRPC},
		"string":          {`"x"`, errNotJSONRPC},
		"trailing_object": {`{} {}`, errNotJSON},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := parseEnvelope([]byte(c.in)); !errors.Is(err, c.want) {
				t.Errorf("parseEnvelope(%q) = %v, want %v", c.in, err, c.want)
			}
		})
	}
}

// FuzzRelayJSON: whatever Odoo answers, what reaches the partner is valid
// JSON without error.data.debug, or the answer is refused.
func FuzzRelayJSON(f *testing.F) {
	f.Add([]byte(`{"jsonrpc":"2.0","id":1,"error":{"code":200,"data":{"name":"x","debug":"Traceback"}}}`))
	f.Add([]byte(`{"jsonrpc": "2.0", "id": 39}`))
	f.Add([]byte(`{"error": {"data": {"debug": 1, "debug": 2}}}`))
	f.Fuzz(func(t *testing.T, in []byte) {
		out, _, err := relayJSON(in)
		if err != nil {
			return
		}
		if !json.Valid(out) {
			t.Fatalf("relayJSON(%q) = %q: not JSON", in, out)
		}
		top, _ := odoo.Members(out)
		for _, m := range top {
			if m.Key != "error" {
				continue
			}
			e, _ := odoo.Members(m.Value)
			for _, em := range e {
				data, _ := odoo.Members(em.Value)
				for _, d := range data {
					if em.Key == "data" && d.Key == "debug" {
						t.Fatalf("relayJSON(%q) kept debug: %s", in, out)
					}
				}
			}
		}
	})
}

// FuzzRelayXML: whatever Odoo answers, a fault reaching the partner holds
// no traceback header.
func FuzzRelayXML(f *testing.F) {
	var b bytes.Buffer
	_ = xmlrpc.EncodeFault(&b, xmlrpc.Fault{Code: int64(1), String: traceback + "KeyError: 'x'\n"})
	f.Add(b.Bytes())
	f.Add([]byte("<?xml version=\"1.0\"?>\n<methodResponse>\n<params>\n<param>\n<value><int>9</int></value>\n</param>\n</params>\n\n</methodResponse>\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		out, _, err := relayXML(in)
		if err != nil {
			return
		}
		_, derr := xmlrpc.DecodeResponse(bytes.NewReader(out))
		var fault *xmlrpc.Fault
		if errors.As(derr, &fault) && (strings.Contains(fault.String, "Traceback (most recent call last):") ||
			strings.Contains(fault.Error(), "Traceback (most recent call last):")) {
			t.Fatalf("relayXML(%q) kept a traceback: %s", in, out)
		}
	})
}

// TestSQLErrorsCutToFirstLine: an Odoo error that quotes the SQL it
// generated (real Odoo 18.0, shared/odoo/18.0/relations/39) reaches a
// partner as its first line only, on JSON-RPC and XML-RPC (the Client's
// errors, which the REST facade answers with: odoo's
// TestDecodeAnswerCutsSQL).
func TestSQLErrorsCutToFirstLine(t *testing.T) {
	b, err := os.ReadFile("testdata/sql-error-18.0.json")
	if err != nil {
		t.Fatal(err)
	}
	out, _, err := relayJSON(b)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Error struct {
			Data struct {
				Name, Message string
				Arguments     []string
			}
		}
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatal(err)
	}
	const first = `invalid input syntax for type integer: "abc"`
	want := struct {
		Name, Message string
		Arguments     []string
	}{"psycopg2.errors.InvalidTextRepresentation", first, []string{first}}
	if diff := cmp.Diff(want, struct {
		Name, Message string
		Arguments     []string
	}(got.Error.Data)); diff != "" {
		t.Errorf("relayJSON (-want +got):\n%s", diff)
	}
	if strings.Contains(string(out), "res_partner") || strings.Contains(string(out), "LINE") {
		t.Errorf("SQL survived: %s", out)
	}

	sqlTail := "\nLINE 1: ...rtner\".\"active\" = true) AND (\"res_partner\".\"id\" = 'abc')) AN...\n     ^\n"
	var buf bytes.Buffer
	for _, f := range []xmlrpc.Fault{
		{Code: int64(1), String: traceback + "psycopg2.errors.InvalidTextRepresentation: " + first + sqlTail},
		{Code: traceback + "psycopg2.errors.InvalidTextRepresentation: " + first + sqlTail, String: ""},
	} {
		buf.Reset()
		if err := xmlrpc.EncodeFault(&buf, f); err != nil {
			t.Fatal(err)
		}
		out, _, err := relayXML(buf.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(out), "res_partner") || strings.Contains(string(out), "LINE") || !strings.Contains(string(out), "invalid input syntax for type integer") {
			t.Errorf("relayXML kept the SQL or lost the message: %s", out)
		}
	}
}

// TestJSON2ErrorsCutToFirstLine: a JSON-2 error of Odoo 19 that quotes
// SQL reaches a JSON-2 partner as its first line only, debug removed.
func TestJSON2ErrorsCutToFirstLine(t *testing.T) {
	const first = `invalid input syntax for type integer: "abc"`
	msg := first + "\nLINE 1: ...rtner\".\"id\" = 'abc')) AN...\n     ^\n"
	body, _ := json.Marshal(map[string]any{"name": "psycopg2.errors.InvalidTextRepresentation",
		"message": msg, "arguments": []any{msg}, "context": map[string]any{}, "debug": "Traceback"})
	out, err := stripJSON2Debug(body)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	want := map[string]any{"name": "psycopg2.errors.InvalidTextRepresentation",
		"message": first, "arguments": []any{first}, "context": map[string]any{}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("stripJSON2Debug (-want +got):\n%s\n%s", diff, out)
	}
}
