package proxy_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/keygate/keygate/internal/gatewaytest"
)

// json2Do is a partner's JSON-2 call with a plain net/http client.
func json2Do(t *testing.T, base, key, model, method string, args any) (int, any) {
	t.Helper()
	body, _ := json.Marshal(args)
	req, _ := http.NewRequest(http.MethodPost, base+"/json/2/"+model+"/"+method, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("Authorization", "bearer "+key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var v any
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		t.Fatalf("%s.%s: answer is not JSON: %v", model, method, err)
	}
	if m, ok := v.(map[string]any); ok && resp.StatusCode != http.StatusOK {
		return resp.StatusCode, m["name"]
	}
	return resp.StatusCode, v
}

// TestJSON2Client is a partner's session over JSON-2 with net/http, on an
// Odoo 19 (forwarded as JSON-2) and an Odoo 18 (translated to
// execute_kw): the same answers on both.
func TestJSON2Client(t *testing.T) {
	for _, version := range []string{"19.0", "18.0"} {
		t.Run(version, func(t *testing.T) {
			h := newHarness(t, gatewaytest.Options{Version: version})
			key := h.Key(t, "default", partnerScopes...)
			readOnly := h.Key(t, "default", "odoo:res.partner:read")
			type answer struct {
				Status int
				Body   any
			}
			do := func(key, model, method string, args any) answer {
				s, b := json2Do(t, h.URL, key, model, method, args)
				return answer{s, b}
			}
			got := []answer{
				do(key, "res.partner", "search_read", map[string]any{"domain": []any{[]any{"is_company", "=", true}}, "fields": []string{"name"}, "limit": 2, "order": "id"}),
				do(key, "res.partner", "create", map[string]any{"vals_list": map[string]any{"name": "JSON-2 Partner"}}),
				do(key, "res.partner", "write", map[string]any{"ids": []int{42}, "vals": map[string]any{"email": "j2@example.com"}}),
				do(key, "res.partner", "read", map[string]any{"ids": []int{42}, "fields": []string{"email"}}),
				do(key, "res.partner", "unlink", map[string]any{"ids": []int{42}}),
				do("", "res.partner", "search_count", map[string]any{"domain": []any{}}),
				do(gatewaytest.UnknownKey(t), "res.partner", "search_count", map[string]any{"domain": []any{}}),
				do(readOnly, "res.partner", "create", map[string]any{"vals_list": map[string]any{"name": "x"}}),
				do(key, "res.partner", "create", map[string]any{"vals_list": map[string]any{"email": "noname@example.com"}}),
				do(key, "res.partner", "search_count", map[string]any{"domian": []any{}}),
			}
			want := []answer{
				{200, []any{map[string]any{"id": 1.0, "name": "YourCompany"}, map[string]any{"id": 9.0, "name": "Wood Corner"}}},
				{200, []any{42.0}},
				{200, true},
				{200, []any{map[string]any{"id": 42.0, "email": "j2@example.com"}}},
				{200, true},
				{401, "werkzeug.exceptions.Unauthorized"},
				{401, "werkzeug.exceptions.Unauthorized"},
				{403, "odoo.exceptions.AccessError"},
				{422, "odoo.exceptions.ValidationError"},
				{403, "odoo.exceptions.AccessError"}, // keygate cannot check an argument the method does not take
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("search_read, create, write, read, unlink, no key, wrong key, unscoped, no name, misspelt argument (refused by keygate) (-want +got):\n%s", diff)
			}
		})
	}
}
