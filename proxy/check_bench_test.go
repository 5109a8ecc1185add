package proxy

import (
	"context"
	"encoding/json"
	"os"
	"testing"

	"github.com/keygate/keygate/authz"
	"github.com/keygate/keygate/keystore"
	"github.com/keygate/keygate/odoo"
)

// BenchmarkCheckCreate is what the check adds to a realistic partner
// create on the gateway, its fields cached: decoding execute_kw's
// arguments (jsonCall.objectCall) and authz's CheckCall over the metadata
// cache the Client uses (odoo.Metadata; real Odoo 18.0 fields_get
// answers).
func BenchmarkCheckCreate(b *testing.B) {
	meta, err := odoo.NewMetadata(odoo.MetadataConfig[odoo.Account]{Fetch: func(_ context.Context, _ odoo.Account, model string) (odoo.Fields, error) {
		raw, err := os.ReadFile("../odoo/testdata/fields_get-18.0-" + model + ".json")
		if err != nil {
			return nil, err
		}
		return odoo.ParseFields(raw)
	}})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(meta.Close)
	d := allowed(b, "odoo:res.partner:create", "odoo:res.partner:read", "odoo:res.partner:write")
	var args []json.RawMessage
	body := `["odoo_test", 2, "kg_key", "res.partner", "create", [{"name": "Acme", "is_company": true,
		"email": "info@acme.example", "phone": "+32 2 555 01 01", "street": "Rue Haute 1", "city": "Brussels", "zip": "1000",
		"country_id": 20, "category_id": [[6, 0, [1, 2]]], "child_ids": [[0, 0, {"name": "Ann", "email": "ann@acme.example",
		"function": "CEO"}], [0, 0, {"name": "Bob", "email": "bob@acme.example", "type": "invoice"}]]}],
		{"context": {"lang": "en_US", "tz": "Europe/Brussels"}}]`
	if err := json.Unmarshal([]byte(body), &args); err != nil {
		b.Fatal(err)
	}
	j := &jsonCall{meth: "execute_kw", args: args}
	acct := odoo.Account{Name: "default", URL: "http://odoo", DB: "odoo_test", Login: "keygate"}
	check := func() {
		oc, err := j.readObjectCall() // decoded each time, as each request does
		if err == nil {
			err = CheckCall(context.Background(), meta, d, acct, oc.checked())
		}
		if err != nil {
			b.Fatal(err)
		}
	}
	check() // fills the cache
	b.ReportAllocs()
	for b.Loop() {
		check()
	}
}

// allowed is an allowed decision for a key with scopes.
func allowed(tb testing.TB, scopes ...string) *authz.Decision {
	tb.Helper()
	rec := &keystore.Record{ID: "key-1", Owner: "p", Scopes: scopes}
	p, err := authz.Compile(rec)
	if err != nil {
		tb.Fatal(err)
	}
	d, _ := authz.Decide(&authz.Facts{Request: authz.Request{Credential: "k"}, Key: rec.Verified(p), Policy: p.(*authz.Policy),
		Need: authz.NeedOdoo("res.partner", "create")})
	if !d.Allowed() {
		tb.Fatalf("decision %d %s", d.Status, d.Reason)
	}
	return &d
}
