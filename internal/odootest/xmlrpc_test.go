package odootest

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/keygate/keygate/odoo/xmlrpc"
)

const checkAccessCall = `<?xml version='1.0'?><methodCall><methodName>execute_kw</methodName><params>` +
	`<param><value><string>odoo_test</string></value></param><param><value><int>2</int></value></param>` +
	`<param><value><string>admin</string></value></param><param><value><string>res.partner</string></value></param>` +
	`<param><value><string>check_access</string></value></param><param><value><array><data>` +
	`<value><array><data><value><int>1</int></value></data></array></value><value><string>read</string></value>` +
	`</data></array></value></param></params></methodCall>`

// TestXMLRPCFaults covers faults the fixtures do not show: the fault code,
// and the start of the fault string (or its last line for tracebacks).
func TestXMLRPCFaults(t *testing.T) {
	_, ts := NewServer(t, Config{})
	tests := []struct {
		name, path, body string
		wantCode         any
		wantString       string // prefix, or suffix when it starts with "..."
	}{
		{"legacy_none_result", "/xmlrpc/object", checkAccessCall,
			"cannot marshal None unless allow_none is enabled", "...TypeError: cannot marshal None unless allow_none is enabled\n"},
		{"legacy_unknown_common_method", "/xmlrpc/common", `<methodCall><methodName>nope</methodName></methodCall>`,
			"Method not found: nope", "...Exception: Method not found: nope\n"},
		{"legacy_path_2_is_a_service", "/xmlrpc/2", `<methodCall><methodName>version</methodName></methodCall>`,
			"2", "...KeyError: '2'\n"},
		{"malformed_xml", "/xmlrpc/2/object", "<methodCall><methodName>x</methodCall>",
			int64(1), "...xml.parsers.expat.ExpatError: not well-formed (invalid token): line 1, column 0\n"},
		{"refused_by_the_codec", "/xmlrpc/2/object", `<methodCall><methodName>x</methodName><params><param><value><foo/></value></param></params></methodCall>`,
			int64(1), "Traceback (most recent call last):\n  File \"/usr/lib/python3/dist-packages/odoo/addons/base/controllers/rpc.py\", line 161, in xmlrpc_2"},
		{"portal_record_rule", "/xmlrpc/2/object", strings.Replace(strings.Replace(checkAccessCall, "<int>2</int>", "<int>7</int>", 1),
			"<string>admin</string>", "<string>portal</string>", 1), int64(faultAccessError), "Uh-oh! Looks like you have stumbled"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := http.Post(ts.URL+tt.path, "text/xml", strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			res, err := xmlrpc.DecodeResponse(resp.Body)
			var f *xmlrpc.Fault
			if !errors.As(err, &f) {
				t.Fatalf("answer = %v, %v; want a fault", res, err)
			}
			got := []any{f.Code, matches(f.String, tt.wantString)}
			if diff := cmp.Diff([]any{tt.wantCode, true}, got); diff != "" {
				t.Errorf("fault code, string matches (-want +got):\n%s\nfault string:\n%s", diff, f.String)
			}
		})
	}
}

func matches(s, want string) bool {
	if rest, ok := strings.CutPrefix(want, "..."); ok {
		return strings.HasSuffix(s, rest)
	}
	return strings.HasPrefix(s, want)
}
