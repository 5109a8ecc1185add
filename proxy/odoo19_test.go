package proxy_test

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/keygate/keygate/internal/gatewaytest"
	"github.com/keygate/keygate/odoo/xmlrpc"
)

// TestOdoo19CallsAreJSON2: in front of an Odoo 19, every call keygate
// makes (the uid, the gateway's JSON-RPC and XML-RPC object calls) goes
// over JSON-2, and partners get the answers of their own protocol; only
// common.version, which tells the version, is asked over /jsonrpc, once.
// The REST facade's calls: rest's TestOdoo19RESTIsJSON2.
func TestOdoo19CallsAreJSON2(t *testing.T) {
	h := newHarness(t, gatewaytest.Options{Version: "19.0"})
	key := h.Key(t, "default", "odoo:res.partner:*")
	companies := h.direct(t, "res.partner", "search_read", []any{[]any{[]any{"is_company", "=", true}}}, map[string]any{"fields": []string{"name"}, "limit": 3})
	before := len(h.Odoo.Calls())

	c := &rpcClient{tb: t, url: h.URL}
	uid := c.ok("common", "authenticate", "x", "x", key, map[string]any{})
	got := []any{
		uid,
		c.ok("object", "execute_kw", "x", uid, key, "res.partner", "search_read", []any{[]any{[]any{"is_company", "=", true}}}, map[string]any{"fields": []string{"name"}, "limit": 3}),
		c.ok("object", "execute_kw", "x", uid, key, "res.partner", "create", []any{map[string]any{"name": "Nineteen"}}),
		c.ok("object", "execute", "x", uid, key, "res.partner", "read", []any{42}, []any{"name"}),
		c.fail("object", "execute_kw", "x", uid, key, "res.partner", "write", []any{[]any{999999}, map[string]any{"name": "x"}}, nil).(rpcErr).Name,
	}
	var buf bytes.Buffer
	_ = xmlrpc.EncodeCall(&buf, xmlrpc.Call{Method: "execute_kw", Params: []any{"x", int64(2), key, "res.partner", "search_count", []any{[]any{}}}})
	x := gatewaytest.Post(t, h.URL+"/xmlrpc/2/object", "text/xml", buf.Bytes())
	count, err := xmlrpc.DecodeResponse(bytes.NewReader(x.Body))
	got = append(got, count, err)

	want := []any{2.0, companies, 42.0, []any{map[string]any{"id": 42.0, "name": "Nineteen"}}, "odoo.exceptions.MissingError",
		int64(38), nil}
	if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b error) bool { return fmt.Sprint(a) == fmt.Sprint(b) })); diff != "" {
		t.Errorf("uid, search_read, create, execute read, MissingError, XML-RPC search_count (-want +got):\n%s", diff)
	}
	var protocols []string
	for _, call := range h.Odoo.Calls()[before:] {
		p := call.Protocol
		if call.Service == "common" && call.Method == "version" {
			p = "version"
		}
		protocols = append(protocols, p)
	}
	version, json2 := 0, 0
	for _, p := range protocols {
		switch p {
		case "version":
			version++
		case "json2":
			json2++
		}
	}
	if version > 1 || json2 != len(protocols)-version || json2 < 6 {
		t.Errorf("calls to Odoo 19: %v; want JSON-2 only, after at most one common.version", protocols)
	}
}
