package odootest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"testing"
)

// rpcClient calls a double over JSON-RPC, as keygate's service account
// does (admin, uid 2, the global API key) unless told otherwise.
type rpcClient struct {
	tb  testing.TB
	url string
	uid int64
	pw  string
}

func newClient(tb testing.TB) (*Server, *rpcClient) {
	tb.Helper()
	s, ts := NewServer(tb, Config{})
	return s, &rpcClient{tb: tb, url: ts.URL, uid: UIDAdmin, pw: KeyGlobal}
}

func (c *rpcClient) as(uid int64, pw string) *rpcClient {
	d := *c
	d.uid, d.pw = uid, pw
	return &d
}

// rpcError is the data of a JSON-RPC error.
type rpcError struct {
	Name    string
	Message string
}

// call sends one JSON-RPC call and returns its result, or its error.
func (c *rpcClient) call(service, method string, args ...any) (any, *rpcError) {
	c.tb.Helper()
	req, err := json.Marshal(map[string]any{"jsonrpc": "2.0", "method": "call", "id": 1,
		"params": map[string]any{"service": service, "method": method, "args": args}})
	if err != nil {
		c.tb.Fatal(err)
	}
	resp, err := http.Post(c.url+"/jsonrpc", "application/json", bytes.NewReader(req))
	if err != nil {
		c.tb.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		c.tb.Fatal(err)
	}
	v, err := decodeJSON(body)
	if err != nil {
		c.tb.Fatalf("answer is not JSON: %s", body)
	}
	return splitAnswer(v.(Object))
}

func splitAnswer(o Object) (any, *rpcError) {
	e, ok := o.Get("error")
	if !ok {
		res, _ := o.Get("result")
		return res, nil
	}
	data, _ := e.(Object).Get("data")
	name, _ := data.(Object).Get("name")
	msg, _ := data.(Object).Get("message")
	return nil, &rpcError{Name: name.(string), Message: msg.(string)}
}

// exec is execute_kw on a model.
func (c *rpcClient) exec(model, method string, args []any, kw map[string]any) (any, *rpcError) {
	c.tb.Helper()
	if kw == nil {
		kw = map[string]any{}
	}
	return c.call("object", "execute_kw", "odoo_test", c.uid, c.pw, model, method, args, kw)
}

// must is exec that fails the test on an error.
func (c *rpcClient) must(model, method string, args []any, kw map[string]any) any {
	c.tb.Helper()
	res, rerr := c.exec(model, method, args, kw)
	if rerr != nil {
		c.tb.Fatalf("%s.%s: %s: %s", model, method, rerr.Name, rerr.Message)
	}
	return res
}

// ids converts a JSON list of ids.
func ids(tb testing.TB, v any) []int64 {
	tb.Helper()
	list, ok := v.([]any)
	if !ok {
		tb.Fatalf("not a list of ids: %#v", v)
	}
	out := make([]int64, len(list))
	for i, it := range list {
		out[i] = it.(int64)
	}
	return out
}

// domain builds a domain from leaves and operators.
func domain(items ...any) []any { return items }

// leaf builds one (field, operator, value) condition.
func leaf(f, op string, v any) []any { return []any{f, op, v} }
