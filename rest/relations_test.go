package rest_test

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestRESTChecksEveryCall: the REST facade's calls go through the same
// check: a resource naming a field Odoo does not describe is refused with
// 403 before any call reaches Odoo; the built-in resource still works
// with partner scopes only.
func TestRESTChecksEveryCall(t *testing.T) {
	h := newRESTHarness(t, restOptions{resources: "resources-unknown-field.yaml"})
	h.Warm(t)
	for _, rq := range []struct {
		method, path, key string
		body              any
	}{
		{"GET", "/api/v1/partners?limit=5", "reader", nil},
		{"GET", "/api/v1/partners/9", "reader", nil},
		{"POST", "/api/v1/partners", "creator", map[string]any{"name": "p", "x_partner_rank": 3}},
	} {
		before := h.calls()
		x := h.do(t, rq.method, rq.path, rq.key, rq.body)
		var body struct {
			Error string
			Code  int
		}
		_ = json.Unmarshal(x.Body, &body)
		if x.Status != 403 || body.Code != 403 || !strings.Contains(body.Error, `keygate does not know field "x_partner_rank" of res.partner`) {
			t.Errorf("%s %s: %d %s, want 403 naming the unknown field", rq.method, rq.path, x.Status, x.Body)
		}
		for _, c := range h.Odoo.Calls()[before:] {
			if c.ModelMethod != "fields_get" {
				t.Errorf("%s %s: %s reached Odoo", rq.method, rq.path, c.ModelMethod)
			}
		}
	}
	ok := newRESTHarness(t, restOptions{})
	for _, rq := range []struct{ method, path, key string }{
		{"GET", "/api/v2/partners?limit=5&country_id=20", "reader"},
		{"GET", "/api/v2/partners/9", "reader"},
	} {
		if x := ok.do(t, rq.method, rq.path, rq.key, nil); x.Status != 200 {
			t.Errorf("%s %s with partner scopes: %d %s", rq.method, rq.path, x.Status, x.Body)
		}
	}
}
