package main

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// GET /admin/v1/keys?q= searches name and owner; GET /admin/v1/usage ranks
// keys by what /auth allowed and refused.
func TestKeySearchAndUsageOverview(t *testing.T) {
	k := start(t, "KEYGATE_DATABASE_URL="+sqliteURL(t), "KEYGATE_USAGE_FLUSH_INTERVAL=50ms")
	api := k.admin + "/admin/v1"
	keys := map[string]map[string]any{}
	for _, spec := range []string{
		`{"name":"shop","owner":"partner-42","scopes":["route:GET:/api/**"],"rate_limits":["2/1m"]}`,
		`{"name":"crm","owner":"Partner-7","scopes":["route:GET:/api/**"]}`,
		`{"name":"billing","owner":"acme"}`,
	} {
		_, rec, _ := call(t, "POST", api+"/keys", testToken, spec)
		keys[rec["name"].(string)] = rec
	}
	searches := map[string][]string{}
	for _, q := range []string{"partner", "SHOP", "zzz"} {
		_, list, _ := call(t, "GET", api+"/keys?q="+q, testToken, "")
		names := []string{}
		for _, r := range list["data"].([]any) {
			names = append(names, r.(map[string]any)["name"].(string))
		}
		searches[q] = names
	}
	wantSearch := map[string][]string{"partner": {"crm", "shop"}, "SHOP": {"shop"}, "zzz": {}}
	if diff := cmp.Diff(wantSearch, searches); diff != "" {
		t.Errorf("?q= searches (-want +got):\n%s", diff)
	}
	for range 5 { // shop: 2 allowed, 3 refused by its 2/1m limit
		authStatus(t, k.public, keys["shop"]["key"].(string), "GET", "/api/x")
	}
	for range 4 {
		authStatus(t, k.public, keys["crm"]["key"].(string), "GET", "/api/x")
	}
	type row struct {
		Name            string
		Allowed, Denied float64
	}
	rows := func(v any) []row {
		out := []row{}
		for _, r := range v.([]any) {
			m := r.(map[string]any)
			out = append(out, row{m["name"].(string), m["allowed"].(float64), m["denied"].(float64)})
		}
		return out
	}
	want := map[string][]row{
		"busiest":     {{"crm", 4, 0}, {"shop", 2, 3}},
		"most_denied": {{"shop", 2, 3}},
	}
	var got map[string][]row
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		status, ans, _ := call(t, "GET", api+"/usage?since=48h", testToken, "")
		if status != http.StatusOK {
			t.Fatalf("GET /usage = %d %v", status, ans)
		}
		got = map[string][]row{"busiest": rows(ans["busiest"]), "most_denied": rows(ans["most_denied"])}
		if cmp.Equal(want, got) {
			break
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("usage overview once flushed (-want +got):\n%s", diff)
	}
	for path, code := range map[string]int{"/usage?limit=0": 400, "/usage?limit=101": 400, "/usage?limit=ten": 400,
		"/usage?since=soon": 400, "/usage?since=-1h": 400, "/keys?q=" + strings.Repeat("x", 201): 422} {
		if s, body, _ := call(t, "GET", api+path, testToken, ""); s != code {
			t.Errorf("GET %s = %d %v, want %d", path, s, body, code)
		}
	}
}
