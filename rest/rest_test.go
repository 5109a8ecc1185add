package rest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/keygate/keygate/internal/gatewaytest"
	"github.com/keygate/keygate/internal/odootest"
	"github.com/keygate/keygate/limiter"
	"github.com/keygate/keygate/rest"
)

// restHarness is the REST facade in front of the Odoo double, wired as cmd
// wires it: the gateway harness's keystore, accounts and Client, a real
// Authorizer, the service's Echo with its error handler and access log.
type restHarness struct {
	*gatewaytest.Harness
	api    string            // the REST server's base URL
	routes [][2]string       // method and path of every route registered
	keys   map[string]string // by name: see restKeys
}

// restOptions change what newRESTHarness builds.
type restOptions struct {
	resources           string // a file in testdata; "": the built-in resources
	gatewaytest.Options        // the gateway harness's
	limits              []limiter.Limit
	maxBody             int64
}

var ctx = context.Background()

// The scopes of the keys every harness makes.
var restKeys = map[string][]string{
	"all":      {"odoo:*:*"},
	"reader":   {"odoo:res.partner:read"},
	"creator":  {"odoo:res.partner:create"},
	"writer":   {"odoo:res.partner:write"},
	"unlinker": {"odoo:res.partner:unlink"},
	"nothing":  {"route:GET:/nothing"},
}

func newRESTHarness(tb testing.TB, opts restOptions) *restHarness {
	tb.Helper()
	h := &restHarness{Harness: gatewaytest.New(tb, opts.Options)}
	h.api, h.routes = h.ServeREST(tb, loadResources(tb, opts.resources), opts.maxBody, opts.limits)
	h.keys = h.Keys(tb, restKeys)
	return h
}

func loadResources(tb testing.TB, file string) *rest.Resources {
	tb.Helper()
	path := ""
	if file != "" {
		path = filepath.Join("testdata", file)
	}
	rs, err := rest.LoadResources(path)
	if err != nil {
		tb.Fatal(err)
	}
	return rs
}

// do sends a request to the REST API with the named key ("" for none)
// and a JSON body (nil for none).
func (h *restHarness) do(tb testing.TB, method, path, key string, body any) gatewaytest.Exchange {
	tb.Helper()
	var raw []byte
	if body != nil {
		var err error
		if raw, err = json.Marshal(body); err != nil {
			tb.Fatal(err)
		}
	}
	return h.doRaw(tb, method, path, key, "application/json", raw)
}

func (h *restHarness) doRaw(tb testing.TB, method, path, key, contentType string, body []byte) gatewaytest.Exchange {
	tb.Helper()
	var header []string
	if key != "" {
		header = []string{"Authorization", "Bearer " + h.keys[key]}
	}
	if body == nil {
		contentType = ""
	}
	return gatewaytest.Send(tb, method, h.api+path, contentType, body, header...)
}

// calls counts the calls the double has received.
func (h *restHarness) calls() int { return len(h.Odoo.Calls()) }

// decode decodes a JSON answer into a generic value.
func decode(tb testing.TB, x gatewaytest.Exchange) any {
	tb.Helper()
	var v any
	if err := json.Unmarshal(x.Body, &v); err != nil {
		tb.Fatalf("answer %d is not JSON: %v: %s", x.Status, err, x.Body)
	}
	return v
}

// jsonOf parses a JSON literal of a test's expectations.
func jsonOf(tb testing.TB, s string) any {
	tb.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		tb.Fatalf("bad expectation %s: %v", s, err)
	}
	return v
}

// listPage is a list answer.
type listPage struct {
	Data       []map[string]any `json:"data"`
	Pagination struct {
		Page, Limit, Total, Pages int
	} `json:"pagination"`
}

func decodePage(tb testing.TB, x gatewaytest.Exchange) listPage {
	tb.Helper()
	if x.Status != http.StatusOK {
		tb.Fatalf("status %d: %s", x.Status, x.Body)
	}
	var p listPage
	if err := json.Unmarshal(x.Body, &p); err != nil {
		tb.Fatalf("not a list: %v: %s", err, x.Body)
	}
	return p
}

func ids(rows []map[string]any) []int {
	out := make([]int, len(rows))
	for i, r := range rows {
		id, _ := r["id"].(float64)
		out[i] = int(id)
	}
	return out
}

// odooIDs asks the double directly (as admin) for the ids that a domain
// and order give, as the expectation of a list.
func (h *restHarness) odooIDs(tb testing.TB, domain []any, order string) []int {
	tb.Helper()
	got := h.Direct(tb, "res.partner", "search", []any{domain}, map[string]any{"order": order})
	list, _ := got.([]any)
	out := make([]int, len(list))
	for i, v := range list {
		out[i] = int(v.(float64))
	}
	return out
}

func TestRESTListFiltersFieldsOrder(t *testing.T) {
	h := newRESTHarness(t, restOptions{})
	cases := []struct {
		name, query string
		domain      []any
		order       string
		keys        []string // the fields of each row
	}{
		{"default_page_and_order", "", []any{}, "name asc, id asc", []string{"id", "name", "email", "phone", "street", "city", "country_id"}},
		{"eq_filter", "?city=Tracy", []any{[]any{"city", "=", "Tracy"}}, "name asc, id asc", nil},
		{"ilike_filter", "?name__ilike=deco", []any{[]any{"name", "ilike", "deco"}}, "name asc, id asc", nil},
		{"explicit_eq", "?email__eq=deco_addict@yourcompany.example.com",
			[]any{[]any{"email", "=", "deco_addict@yourcompany.example.com"}}, "name asc, id asc", nil},
		{"filters_and", "?name__ilike=a&city__ilike=a",
			[]any{[]any{"name", "ilike", "a"}, []any{"city", "ilike", "a"}}, "name asc, id asc", nil},
		{"many2one_eq", "?country_id=233", []any{[]any{"country_id", "=", 233}}, "name asc, id asc", nil},
		{"many2one_in", "?country_id__in=20,233", []any{[]any{"country_id", "in", []any{20, 233}}}, "name asc, id asc", nil},
		{"order_desc", "?order=name+desc,id", []any{}, "name desc, id asc", nil},
		{"order_by_city", "?order=city", []any{}, "city asc, id asc", nil},
		{"fields", "?fields=email,name", []any{}, "name asc, id asc", []string{"id", "email", "name"}},
		{"limit", "?limit=3&order=id%20desc", []any{}, "id desc", nil},
		{"limit_capped_at_100", "?limit=1000", []any{}, "name asc, id asc", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := decodePage(t, h.do(t, "GET", "/api/v2/partners"+tc.query, "reader", nil))
			all := h.odooIDs(t, tc.domain, tc.order)
			limit := map[string]int{"limit": 3, "limit_capped_at_100": 100}[tc.name]
			if limit == 0 {
				limit = 20
			}
			want := all[:min(limit, len(all))]
			if diff := cmp.Diff(want, ids(p.Data)); diff != "" {
				t.Errorf("ids (-want +got):\n%s", diff)
			}
			wantPages := (len(all) + limit - 1) / limit
			if p.Pagination.Total != len(all) || p.Pagination.Pages != wantPages || p.Pagination.Page != 1 || p.Pagination.Limit != limit {
				t.Errorf("pagination %+v, want total %d pages %d page 1 limit %d", p.Pagination, len(all), wantPages, limit)
			}
			if len(p.Data) == 0 {
				t.Errorf("the case finds nothing: it proves nothing")
			}
			for _, row := range p.Data {
				if tc.keys != nil && len(row) != len(tc.keys) {
					t.Errorf("row %v, want the fields %v", row, tc.keys)
				}
			}
		})
	}
}

// TestRESTListPages walks every page: each record once, in order, with
// the same total on every page, and an empty page past the end.
func TestRESTListPages(t *testing.T) {
	h := newRESTHarness(t, restOptions{})
	all := h.odooIDs(t, []any{}, "name asc, id asc")
	const limit = 7
	var seen []int
	pages := (len(all) + limit - 1) / limit
	for page := 1; page <= pages+1; page++ {
		p := decodePage(t, h.do(t, "GET", fmt.Sprintf("/api/v2/partners?page=%d&limit=%d", page, limit), "reader", nil))
		want := fmt.Sprintf("{Page:%d Limit:%d Total:%d Pages:%d}", page, limit, len(all), pages)
		if got := fmt.Sprintf("%+v", p.Pagination); got != want {
			t.Errorf("page %d: pagination %s, want %s", page, got, want)
		}
		seen = append(seen, ids(p.Data)...)
	}
	if diff := cmp.Diff(all, seen); diff != "" {
		t.Errorf("records over all pages (-want +got):\n%s", diff)
	}
	if len(all) < 3*limit {
		t.Fatalf("only %d records: the walk proves little", len(all))
	}
}

// TestRESTListIsOneCall: a page and its total come from one call to
// Odoo (web_search_read), so that they agree. (The first request also
// makes keygate learn res.partner's fields, a fields_get of its own.)
func TestRESTListIsOneCall(t *testing.T) {
	h := newRESTHarness(t, restOptions{})
	h.Warm(t)
	for _, query := range []string{"?limit=5", "?limit=5&page=2", "?limit=100", "?name__ilike=zzz"} {
		before := h.calls()
		decodePage(t, h.do(t, "GET", "/api/v2/partners"+query, "reader", nil))
		calls := h.Odoo.Calls()[before:]
		var methods []string
		for _, c := range calls {
			if c.ModelMethod != "fields_get" {
				methods = append(methods, c.ModelMethod)
			}
		}
		if diff := cmp.Diff([]string{"web_search_read"}, methods); diff != "" {
			t.Errorf("%s: calls (-want +got):\n%s", query, diff)
		}
	}
}

func TestRESTVersions(t *testing.T) {
	h := newRESTHarness(t, restOptions{})
	cases := []struct{ path, want string }{
		{"/api/v1/partners/15", `{"data": {"id": 15, "name": "Azure Interior", "email": "azure.Interior24@example.com"}}`},
		{"/api/v2/partners/15", `{"data": {"id": 15, "name": "Azure Interior", "email": "azure.Interior24@example.com",
			"phone": "(870)-931-0505", "street": "4557 De Silva St", "city": "Fremont",
			"country_id": {"id": 233, "name": "United States"}}}`},
		{"/api/v2/partners/15?fields=city", `{"data": {"id": 15, "city": "Fremont"}}`},
		{"/api/v1/partners?name=Azure+Interior", `{"data": [{"id": 15, "name": "Azure Interior", "email": "azure.Interior24@example.com"}],
			"pagination": {"page": 1, "limit": 20, "total": 1, "pages": 1}}`},
	}
	for _, tc := range cases {
		t.Run(tc.path, func(t *testing.T) {
			got := h.do(t, "GET", tc.path, "reader", nil)
			if got.Status != http.StatusOK {
				t.Fatalf("status %d: %s", got.Status, got.Body)
			}
			if diff := cmp.Diff(jsonOf(t, tc.want), decode(t, got)); diff != "" {
				t.Errorf("answer (-want +got):\n%s", diff)
			}
		})
	}
	// v1 does not know v2's fields, in reads or filters.
	for _, path := range []string{"/api/v1/partners/15?fields=phone", "/api/v1/partners?city=Fremont", "/api/v1/partners?order=city"} {
		if got := h.do(t, "GET", path, "reader", nil); got.Status != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400: %s", path, got.Status, got.Body)
		}
	}
}

// TestRESTLifecycle creates, reads, replaces, patches and deletes a
// partner, as an integrator would.
func TestRESTLifecycle(t *testing.T) {
	h := newRESTHarness(t, restOptions{})
	created := h.do(t, "POST", "/api/v2/partners", "all", map[string]any{"name": "Ada Lovelace", "email": "ada@example.com", "city": "London"})
	if created.Status != http.StatusCreated {
		t.Fatalf("create: %d %s", created.Status, created.Body)
	}
	loc := created.Header.Get("Location")
	want := `{"data": {"id": 42, "name": "Ada Lovelace", "email": "ada@example.com", "phone": null, "street": null, "city": "London", "country_id": null}}`
	steps := []struct {
		name, method, path string
		body               any
		status             int
		want               string
	}{
		{"created", "POST", "", nil, http.StatusCreated, want},
		{"location_is_the_record", "GET", loc, nil, http.StatusOK, want},
		{"put_replaces_all_writable", "PUT", loc, map[string]any{"name": "Ada King", "phone": "+44 20 7946 0000"}, http.StatusOK,
			`{"data": {"id": 42, "name": "Ada King", "email": null, "phone": "+44 20 7946 0000", "street": null, "city": null, "country_id": null}}`},
		{"patch_changes_the_given", "PATCH", loc, map[string]any{"email": "ada@example.org", "street": nil}, http.StatusOK,
			`{"data": {"id": 42, "name": "Ada King", "email": "ada@example.org", "phone": "+44 20 7946 0000", "street": null, "city": null, "country_id": null}}`},
		{"patch_fields", "PATCH", loc + "?fields=name", map[string]any{"city": "Paris"}, http.StatusOK, `{"data": {"id": 42, "name": "Ada King"}}`},
		{"read_back", "GET", loc, nil, http.StatusOK,
			`{"data": {"id": 42, "name": "Ada King", "email": "ada@example.org", "phone": "+44 20 7946 0000", "street": null, "city": "Paris", "country_id": null}}`},
		{"delete", "DELETE", loc, nil, http.StatusNoContent, ""},
		{"gone", "GET", loc, nil, http.StatusNotFound, `{"error": "partners 42 not found", "code": 404}`},
		{"delete_again", "DELETE", loc, nil, http.StatusNotFound, `{"error": "partners 42 not found", "code": 404}`},
		{"patch_missing", "PATCH", loc, map[string]any{"name": "x"}, http.StatusNotFound, `{"error": "partners 42 not found", "code": 404}`},
		{"put_missing", "PUT", loc, map[string]any{"name": "x"}, http.StatusNotFound, `{"error": "partners 42 not found", "code": 404}`},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			got := created
			if st.method != "POST" {
				got = h.do(t, st.method, st.path, "all", st.body)
			}
			if got.Status != st.status {
				t.Fatalf("status %d, want %d: %s", got.Status, st.status, got.Body)
			}
			if st.want == "" {
				if len(got.Body) != 0 {
					t.Errorf("body %q, want none", got.Body)
				}
				return
			}
			if diff := cmp.Diff(jsonOf(t, st.want), withoutRequestID(decode(t, got))); diff != "" {
				t.Errorf("answer (-want +got):\n%s", diff)
			}
		})
	}
	if loc != "/api/v2/partners/42" {
		t.Errorf("Location %q, want /api/v2/partners/42", loc)
	}
	for _, secret := range []string{h.keys["all"], odootest.KeyGlobal} {
		if strings.Contains(h.Logs.String(), secret) {
			t.Errorf("the logs hold a secret: %q", secret)
		}
	}
}

// withoutRequestID drops the request id of an error body, which changes
// with every request.
func withoutRequestID(v any) any {
	if m, ok := v.(map[string]any); ok {
		if _, isErr := m["error"]; isErr {
			delete(m, "request_id")
		}
	}
	return v
}

// TestRESTValues: values as JSON users expect, in the declared order:
// null for Odoo's false (but on booleans), many2one as {"id", "name"},
// datetimes in RFC 3339 UTC.
func TestRESTValues(t *testing.T) {
	h := newRESTHarness(t, restOptions{resources: "resources-test.yaml"})
	cases := []struct{ name, method, path, body, want string }{
		{"read", "GET", "/api/v1/contacts/17", "",
			`{"data":{"id":17,"name":"Willie Burke","email":"willie.burke80@example.com","is_company":false,` +
				`"parent_id":{"id":9,"name":"Wood Corner"},"country_id":{"id":233,"name":"United States"},` +
				`"function":"Service Manager","write_date":"2026-11-28T08:35:53Z"}}`},
		{"list_in_declared_order", "GET", "/api/v1/contacts?id__in=1,15&fields=write_date,name", "",
			`{"data":[{"id":1,"write_date":"2026-11-28T08:35:53Z","name":"YourCompany"},` +
				`{"id":15,"write_date":"2026-11-28T08:35:53Z","name":"Azure Interior"}],` +
				`"pagination":{"page":1,"limit":20,"total":2,"pages":1}}`},
		{"create_with_false_values", "POST", "/api/v1/contacts",
			`{"name": "Solo", "is_company": false, "country_id": {"id": 20, "name": "Belgium"}, "email": ""}`,
			`{"data":{"id":42,"name":"Solo","email":null,"is_company":false,"parent_id":null,` +
				`"country_id":{"id":20,"name":"Belgium"},"function":null,"write_date":"2026-11-28T09:00:43Z"}}`},
		{"other_model", "GET", "/api/v1/countries?code__in=BE,FR", "",
			`{"data":[{"id":20,"name":"Belgium","code":"BE"}],"pagination":{"page":1,"limit":20,"total":1,"pages":1}}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var body []byte
			if tc.body != "" {
				body = []byte(tc.body)
			}
			got := h.doRaw(t, tc.method, tc.path, "all", "application/json", body)
			if diff := cmp.Diff(tc.want, strings.TrimSpace(string(got.Body))); diff != "" {
				t.Errorf("status %d, answer (-want +got):\n%s", got.Status, diff)
			}
		})
	}
}

// TestRESTTypedFilters: filters of each type become the Odoo domain that
// Odoo itself answers the same records for.
func TestRESTTypedFilters(t *testing.T) {
	h := newRESTHarness(t, restOptions{resources: "resources-test.yaml"})
	cases := []struct {
		query  string
		domain []any
	}{
		{"is_company=true", []any{[]any{"is_company", "=", true}}},
		{"is_company=false&id__gt=10&id__lte=30", []any{[]any{"is_company", "=", false}, []any{"id", ">", 10}, []any{"id", "<=", 30}}},
		{"parent_id=10", []any{[]any{"parent_id", "=", 10}}},
		{"parent_id__ne=10&parent_id__in=9,10", []any{[]any{"parent_id", "!=", 10}, []any{"parent_id", "in", []any{9, 10}}}},
		{"parent_id__ilike=deco", []any{[]any{"parent_id", "ilike", "deco"}}},
		{"name__like=Wood&name__not_ilike=corner", []any{[]any{"name", "like", "Wood"}, []any{"name", "not ilike", "corner"}}},
		{"write_date__gt=2026-11-28T09:35:00%2B01:00", []any{[]any{"write_date", ">", "2026-11-28 08:35:00"}}},
		{"write_date__lte=2026-11-28T08:35:52Z", []any{[]any{"write_date", "<=", "2026-11-28 08:35:52"}}},
	}
	for _, tc := range cases {
		t.Run(tc.query, func(t *testing.T) {
			p := decodePage(t, h.do(t, "GET", "/api/v1/contacts?limit=100&"+tc.query, "reader", nil))
			want := h.odooIDs(t, tc.domain, "id asc")
			if diff := cmp.Diff(want, ids(p.Data)); diff != "" {
				t.Errorf("ids (-want +got):\n%s", diff)
			}
			if len(want) == 0 && !strings.Contains(tc.query, "lte=2026-11-28T08:35:52Z") {
				t.Errorf("nothing matches: the case proves nothing")
			}
		})
	}
}
