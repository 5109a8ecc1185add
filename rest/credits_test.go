package rest_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/keygate/keygate/keystore"
)

// TestRESTRefusalSpendsNoCredit: a REST request that keygate refuses
// before calling Odoo (a call its check refuses, an invalid query) spends
// none of the key's credits; one that calls Odoo spends one, once however
// many calls it makes; a key out of credits is refused with nothing
// reaching Odoo.
func TestRESTRefusalSpendsNoCredit(t *testing.T) {
	h := newRESTHarness(t, restOptions{resources: "resources-credits.yaml"})
	h.Warm(t)
	rec, k, err := h.Store.Create(ctx, "test", keystore.Spec{Name: "shop", Scopes: []string{"odoo:res.partner:read"},
		Credits: &keystore.Credits{Remaining: 1}})
	if err != nil {
		t.Fatal(err)
	}
	h.keys["credited"] = k.Reveal()
	for _, rq := range []struct {
		path   string
		status int
		says   string
	}{
		{"/api/v1/partners?limit=5", 403, `keygate does not know field \"x_partner_rank\"`}, // the check refuses the call
		{"/api/v1/partners?limit=abc", 400, "limit"},
	} {
		x := h.do(t, "GET", rq.path, "credited", nil)
		if x.Status != rq.status || !strings.Contains(string(x.Body), rq.says) {
			t.Errorf("GET %s: %d %s, want %d saying %q", rq.path, x.Status, x.Body, rq.status, rq.says)
		}
	}
	if got := h.Balance(t, rec.ID); got != 1 {
		t.Fatalf("after refused requests the balance is %d, want 1 (none spent)", got)
	}

	x := h.do(t, "GET", "/api/v2/partners?limit=5", "credited", nil) // a page and its count: two calls
	if x.Status != 200 {
		t.Fatalf("allowed list: %d %s", x.Status, x.Body)
	}
	if !strings.Contains(x.Header.Get("RateLimit"), `"credits";r=0`) {
		t.Errorf("RateLimit %q: want the credits left after this request", x.Header.Get("RateLimit"))
	}
	if got := h.Balance(t, rec.ID); got != 0 {
		t.Errorf("after one allowed request the balance is %d, want 0", got)
	}
	before := len(h.Odoo.Calls())
	x = h.do(t, "GET", "/api/v2/partners?limit=5", "credited", nil)
	var body struct{ Error string }
	_ = json.Unmarshal(x.Body, &body)
	if x.Status != 403 || body.Error != "credits exhausted and no refill is scheduled" {
		t.Errorf("out of credits: %d %s", x.Status, x.Body)
	}
	for _, c := range h.Odoo.Calls()[before:] {
		if c.ModelMethod != "fields_get" {
			t.Errorf("out of credits, %s reached Odoo", c.ModelMethod)
		}
	}
}
