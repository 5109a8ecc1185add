package rest_test

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/keygate/keygate/internal/gatewaytest"
	"github.com/keygate/keygate/keystore"
	"github.com/keygate/keygate/limiter"
)

// restCase is one request and the answer it must get.
type restCase struct {
	name, method, path string
	contentType        string // default application/json
	body               string // raw; "" sends none
	key                string // restKeys name; default "all"
	status             int
	want               string // the JSON answer, request_id left out
}

func (tc restCase) send(t *testing.T, h *restHarness) gatewaytest.Exchange {
	t.Helper()
	ct, key := tc.contentType, tc.key
	if ct == "" {
		ct = "application/json"
	}
	if key == "" {
		key = "all"
	}
	var body []byte
	if tc.body != "" {
		body = []byte(tc.body)
	}
	return h.doRaw(t, tc.method, tc.path, key, ct, body)
}

func (tc restCase) check(t *testing.T, got gatewaytest.Exchange) {
	t.Helper()
	if got.Status != tc.status {
		t.Fatalf("status %d, want %d: %s", got.Status, tc.status, got.Body)
	}
	if tc.want == "" {
		return
	}
	if diff := cmp.Diff(jsonOf(t, tc.want), withoutRequestID(decode(t, got))); diff != "" {
		t.Errorf("answer (-want +got):\n%s", diff)
	}
}

// TestRESTRefusesBeforeOdoo: every malformed or invalid request is
// answered 400, 405, 413, 415 or 422, and nothing of it reaches Odoo.
func TestRESTRefusesBeforeOdoo(t *testing.T) {
	h := newRESTHarness(t, restOptions{})
	h.Warm(t)
	const partners, partner = "/api/v2/partners", "/api/v2/partners/15"
	long := strings.Repeat("é", 257)
	cases := []restCase{
		{name: "page_zero", method: "GET", path: partners + "?page=0", status: 400,
			want: `{"error": "invalid query", "code": 400, "details": {"page": "must be a whole number from 1"}}`},
		{name: "limit_not_a_number", method: "GET", path: partners + "?limit=ten", status: 400,
			want: `{"error": "invalid query", "code": 400, "details": {"limit": "must be a whole number from 1"}}`},
		{name: "page_past_int32", method: "GET", path: partners + "?page=2147483648", status: 400,
			want: `{"error": "invalid query", "code": 400, "details": {"page": "must be a whole number from 1"}}`},
		{name: "in_filter_of_more_than_100_values", method: "GET", path: partners + "?country_id__in=" + strings.Repeat("1,", 100) + "1", status: 400,
			want: `{"error": "invalid query", "code": 400, "details": {"country_id__in": "at most 100 values"}}`},
		{name: "page_twice", method: "GET", path: partners + "?page=1&page=2", status: 400,
			want: `{"error": "invalid query", "code": 400, "details": {"page": "give page once"}}`},
		{name: "unknown_parameter", method: "GET", path: partners + "?phone=123", status: 400,
			want: `{"error": "invalid query", "code": 400, "details": {"phone": "unknown parameter (filters: city, country_id, email, name; also page, limit, fields, order)"}}`},
		{name: "undeclared_operator", method: "GET", path: partners + "?name__like=a", status: 400,
			want: `{"error": "invalid query", "code": 400, "details": {"name__like": "operator \"like\" is not allowed on name (allowed: eq, ilike)"}}`},
		{name: "raw_odoo_operator", method: "GET", path: partners + "?name__%3D=a", status: 400},
		{name: "domain_injection", method: "GET", path: partners + "?name=%5B%22%7C%22%5D&%7C=1", status: 400,
			want: `{"error": "invalid query", "code": 400, "details": {"|": "unknown parameter (filters: city, country_id, email, name; also page, limit, fields, order)"}}`},
		{name: "many2one_not_an_id", method: "GET", path: partners + "?country_id=Belgium", status: 400,
			want: `{"error": "invalid query", "code": 400, "details": {"country_id": "\"Belgium\" is not a record id"}}`},
		{name: "empty_filter", method: "GET", path: partners + "?city=", status: 400,
			want: `{"error": "invalid query", "code": 400, "details": {"city": "a value is required"}}`},
		{name: "unreadable_field", method: "GET", path: partners + "?fields=name,password", status: 400,
			want: `{"error": "invalid query", "code": 400, "details": {"fields": "\"password\" is not a readable field (readable: id, name, email, phone, street, city, country_id)"}}`},
		{name: "order_undeclared", method: "GET", path: partners + "?order=create_date", status: 400,
			want: `{"error": "invalid query", "code": 400, "details": {"order": "cannot order by \"create_date\""}}`},
		{name: "order_sql", method: "GET", path: partners + "?order=name%3B+drop+table", status: 400},
		{name: "problems_together", method: "GET", path: partners + "?page=-1&limit=0&x=1", status: 400,
			want: `{"error": "invalid query", "code": 400, "details": {"page": "must be a whole number from 1", "limit": "must be a whole number from 1",
				"x": "unknown parameter (filters: city, country_id, email, name; also page, limit, fields, order)"}}`},
		{name: "malformed_query", method: "GET", path: partners + "?name=%zz", status: 400,
			want: `{"error": "malformed query string", "code": 400}`},
		{name: "id_not_a_number", method: "GET", path: partners + "/abc", status: 400,
			want: `{"error": "the id must be a whole number from 1 to 2147483647", "code": 400}`},
		{name: "id_zero", method: "DELETE", path: partners + "/0", status: 400},
		{name: "id_too_large", method: "PATCH", path: partners + "/2147483648", body: `{"name": "x"}`, status: 400},
		{name: "get_unknown_parameter", method: "GET", path: partner + "?page=1", status: 400,
			want: `{"error": "invalid query", "code": 400, "details": {"page": "unknown parameter (only fields is allowed here)"}}`},
		{name: "delete_with_query", method: "DELETE", path: partner + "?force=1", status: 400},
		{name: "method_not_allowed", method: "POST", path: partner, body: `{}`, status: 405,
			want: `{"error": "Method Not Allowed", "code": 405}`},
		{name: "unknown_version", method: "GET", path: "/api/v9/partners", status: 404},
		{name: "required_missing", method: "POST", path: partners, body: `{"email": "a@example.com"}`, status: 422,
			want: `{"error": "validation failed", "code": 422, "details": {"name": "required"}}`},
		{name: "empty_body_is_an_empty_object", method: "POST", path: partners, body: " ", status: 422,
			want: `{"error": "validation failed", "code": 422, "details": {"name": "required"}}`},
		{name: "required_blank", method: "POST", path: partners, body: `{"name": "  "}`, status: 422,
			want: `{"error": "validation failed", "code": 422, "details": {"name": "must not be empty"}}`},
		{name: "required_null", method: "PATCH", path: partner, body: `{"name": null}`, status: 422,
			want: `{"error": "validation failed", "code": 422, "details": {"name": "must not be null"}}`},
		{name: "email_invalid", method: "POST", path: partners, body: `{"name": "x", "email": "not-an-email"}`, status: 422,
			want: `{"error": "validation failed", "code": 422, "details": {"email": "must be an email address such as name@example.com"}}`},
		{name: "email_with_display_name", method: "PATCH", path: partner, body: `{"email": "Ada <ada@example.com>"}`, status: 422,
			want: `{"error": "validation failed", "code": 422, "details": {"email": "must be an email address such as name@example.com"}}`},
		{name: "max_length_in_characters", method: "PATCH", path: partner, body: `{"name": "` + long + `"}`, status: 422,
			want: `{"error": "validation failed", "code": 422, "details": {"name": "must be at most 256 characters long (is 257)"}}`},
		{name: "wrong_type", method: "POST", path: partners, body: `{"name": 42, "city": ["x"]}`, status: 422,
			want: `{"error": "validation failed", "code": 422, "details": {"name": "must be a string", "city": "must be a string"}}`},
		{name: "nul_character", method: "PATCH", path: partner, body: `{"city": "a\u0000b"}`, status: 422,
			want: `{"error": "validation failed", "code": 422, "details": {"city": "must not contain NUL characters"}}`},
		{name: "unknown_field", method: "POST", path: partners, body: `{"name": "x", "password": "y"}`, status: 422,
			want: `{"error": "validation failed", "code": 422, "details": {"password": "unknown field (writable: name, email, phone, street, city)"}}`},
		{name: "read_only_field", method: "PUT", path: partner, body: `{"name": "x", "id": 3, "country_id": 20}`, status: 422,
			want: `{"error": "validation failed", "code": 422, "details": {"id": "read-only field", "country_id": "read-only field"}}`},
		{name: "v1_does_not_write_v2_fields", method: "POST", path: "/api/v1/partners", body: `{"name": "x", "city": "Paris"}`, status: 422,
			want: `{"error": "validation failed", "code": 422, "details": {"city": "unknown field (writable: name, email)"}}`},
		{name: "put_needs_required", method: "PUT", path: partner, body: `{"city": "Paris"}`, status: 422,
			want: `{"error": "validation failed", "code": 422, "details": {"name": "required"}}`},
		{name: "patch_nothing", method: "PATCH", path: partner, body: `{}`, status: 422,
			want: `{"error": "validation failed", "code": 422, "details": {"body": "no field to change (writable: name, email, phone, street, city)"}}`},
		{name: "malformed_json", method: "POST", path: partners, body: `{"name": "x"`, status: 400,
			want: `{"error": "malformed JSON: unexpected end", "code": 400}`},
		{name: "not_an_object", method: "POST", path: partners, body: `["name"]`, status: 400,
			want: `{"error": "request body must be a JSON object", "code": 400}`},
		{name: "trailing_data", method: "PATCH", path: partner, body: `{"name": "x"} {}`, status: 400,
			want: `{"error": "request body must hold a single JSON object", "code": 400}`},
		{name: "duplicate_member", method: "POST", path: partners, body: `{"name": "a", "email": "a@example.com", "name": "b"}`, status: 400,
			want: `{"error": "duplicate member \"/name\" in the request body", "code": 400}`},
		{name: "form_content_type", method: "POST", path: partners, contentType: "application/x-www-form-urlencoded", body: `name=x`, status: 415,
			want: `{"error": "Content-Type must be application/json", "code": 415}`},
		{name: "oversize_body", method: "POST", path: partners, body: `{"name": "` + strings.Repeat("x", 1<<20) + `"}`, status: 413,
			want: `{"error": "request body is larger than 1048576 bytes", "code": 413}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := h.calls()
			tc.check(t, tc.send(t, h))
			if calls := h.Odoo.Calls()[before:]; len(calls) != 0 {
				t.Errorf("%d call(s) reached Odoo: %+v", len(calls), calls)
			}
		})
	}
}

// TestRESTScopes: each operation needs its own odoo:res.partner:<op>
// scope; without it the answer is 403 and Odoo is not called.
func TestRESTScopes(t *testing.T) {
	h := newRESTHarness(t, restOptions{})
	ops := []struct {
		name, method, path, body, scope string
		ok                              int
	}{
		{"list", "GET", "/api/v2/partners", "", "reader", 200},
		{"get", "GET", "/api/v2/partners/15", "", "reader", 200},
		{"create", "POST", "/api/v2/partners", `{"name": "Scoped"}`, "creator", 201},
		{"replace", "PUT", "/api/v2/partners/16", `{"name": "Scoped"}`, "writer", 200},
		{"patch", "PATCH", "/api/v2/partners/16", `{"city": "Ghent"}`, "writer", 200},
		{"delete", "DELETE", "/api/v2/partners/17", "", "unlinker", 204},
	}
	need := map[string]string{"reader": "read", "creator": "create", "writer": "write", "unlinker": "unlink"}
	for _, op := range ops {
		for _, key := range []string{"reader", "creator", "writer", "unlinker", "nothing"} {
			if key == op.scope {
				continue
			}
			t.Run(op.name+"/refused_to_"+key, func(t *testing.T) {
				before := h.calls()
				restCase{method: op.method, path: op.path, body: op.body, key: key, status: 403,
					want: `{"error": "no scope of this key grants the request: this key needs the scope odoo:res.partner:` + need[op.scope] + `", "code": 403}`,
				}.check(t, restCase{method: op.method, path: op.path, body: op.body, key: key}.send(t, h))
				if n := len(h.Odoo.Calls()) - before; n != 0 {
					t.Errorf("%d call(s) reached Odoo", n)
				}
			})
		}
		t.Run(op.name+"/allowed_to_"+op.scope, func(t *testing.T) {
			restCase{status: op.ok}.check(t, restCase{method: op.method, path: op.path, body: op.body, key: op.scope}.send(t, h))
		})
	}
}

// TestRESTAuthentication: keys are checked as on the gateway, with the
// same statuses, reasons and headers, and nothing reaches Odoo.
func TestRESTAuthentication(t *testing.T) {
	h := newRESTHarness(t, restOptions{})
	h.Warm(t)
	cases := []struct {
		name     string
		header   []string
		status   int
		want     string
		www      string
		anyCalls bool
	}{
		{"no_key", nil, 401, `{"error": "missing credential", "code": 401}`, `Bearer realm="keygate"`, false},
		{"malformed_key", []string{"Authorization", "Bearer nope"}, 401, `{"error": "malformed key", "code": 401}`,
			`Bearer realm="keygate", error="invalid_token"`, false},
		{"unknown_key", []string{"X-API-Key", gatewaytest.UnknownKey(t)}, 401, `{"error": "unknown key", "code": 401}`,
			`Bearer realm="keygate", error="invalid_token"`, false},
		{"x_api_key", []string{"X-API-Key", h.keys["reader"]}, 200, "", "", true},
		{"apikey_scheme", []string{"Authorization", "ApiKey " + h.keys["reader"]}, 200, "", "", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := h.calls()
			got := gatewaytest.Send(t, "GET", h.api+"/api/v2/partners/15", "", nil, tc.header...)
			restCase{status: tc.status, want: tc.want}.check(t, got)
			if w := got.Header.Get("WWW-Authenticate"); w != tc.www {
				t.Errorf("WWW-Authenticate %q, want %q", w, tc.www)
			}
			if called := h.calls() > before; called != tc.anyCalls {
				t.Errorf("Odoo called: %v, want %v", called, tc.anyCalls)
			}
		})
	}
}

func TestRESTRevokedKey(t *testing.T) {
	h := newRESTHarness(t, restOptions{})
	rec, k, err := h.Store.Create(ctx, "test", keystore.Spec{Name: "gone", Owner: "partner-7", Scopes: []string{"odoo:*:*"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.Store.Revoke(ctx, "test", rec.ID); err != nil {
		t.Fatal(err)
	}
	got := gatewaytest.Send(t, "GET", h.api+"/api/v2/partners/15", "", nil, "Authorization", "Bearer "+k.Reveal())
	restCase{status: 401, want: `{"error": "key revoked", "code": 401}`}.check(t, got)
}

// TestRESTRateLimit: the key's limits apply, with the RateLimit fields,
// and a 429 with Retry-After and details.retry_after.
func TestRESTRateLimit(t *testing.T) {
	h := newRESTHarness(t, restOptions{limits: []limiter.Limit{{Count: 2, Window: time.Minute}}})
	h.Warm(t)
	for i := 1; i <= 2; i++ {
		got := h.do(t, "GET", "/api/v1/partners/15", "reader", nil)
		if got.Status != 200 || got.Header.Get("RateLimit") == "" || got.Header.Get("RateLimit-Policy") == "" {
			t.Fatalf("request %d: status %d, RateLimit %q, RateLimit-Policy %q", i, got.Status, got.Header.Get("RateLimit"), got.Header.Get("RateLimit-Policy"))
		}
	}
	before := h.calls()
	got := h.do(t, "GET", "/api/v1/partners/15", "reader", nil)
	ra := got.Header.Get("Retry-After")
	secs, err := strconv.Atoi(ra)
	if err != nil || secs < 1 || secs > 120 {
		t.Fatalf("Retry-After %q, want seconds within the window", ra)
	}
	restCase{status: 429, want: `{"error": "rate limit exceeded", "code": 429, "details": {"retry_after": ` + ra + `}}`}.check(t, got)
	if h.calls() != before {
		t.Errorf("a limited request reached Odoo")
	}
	if !strings.Contains(h.Logs.String(), `"owner":"partner-42"`) {
		t.Errorf("the access log does not name the key's owner:\n%s", h.Logs)
	}
}

// TestRESTOdooErrors: what Odoo raises maps to 403, 404, 422, 502 and
// 504, with keygate's words or Odoo's message, never its traceback.
func TestRESTOdooErrors(t *testing.T) {
	h := newRESTHarness(t, restOptions{resources: "resources-test.yaml"})
	h.keys["portal"] = h.Key(t, "portal", "odoo:res.partner:*")
	cases := []restCase{
		{name: "access_error_acl", method: "POST", path: "/api/v1/contacts", body: `{"name": "x"}`, key: "portal", status: 403,
			want: `{"error": "Odoo refused this operation to the key's service account", "code": 403}`},
		{name: "access_error_record_rule", method: "GET", path: "/api/v1/contacts/15", key: "portal", status: 403,
			want: `{"error": "Odoo refused this operation to the key's service account", "code": 403}`},
		{name: "own_record_is_readable", method: "GET", path: "/api/v3/contacts/8", key: "portal", status: 200,
			want: `{"data": {"id": 8, "name": "Joel Willis"}}`},
		{name: "validation_error", method: "POST", path: "/api/v1/contacts", body: `{"email": "a@example.com"}`, status: 422,
			want: `{"error": "The operation cannot be completed: Contacts require a name", "code": 422}`},
		{name: "missing_error", method: "PATCH", path: "/api/v1/contacts/999", body: `{"name": "x"}`, status: 404,
			want: `{"error": "contacts 999 not found", "code": 404}`},
		{name: "read_of_missing", method: "GET", path: "/api/v1/countries/999", status: 404,
			want: `{"error": "countries 999 not found", "code": 404}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.send(t, h)
			tc.check(t, got)
			if strings.Contains(string(got.Body), "Traceback") || strings.Contains(string(got.Body), ".py") {
				t.Errorf("the answer leaks a traceback: %s", got.Body)
			}
		})
	}
}

func TestRESTOdooUnreachable(t *testing.T) {
	gone := httptest.NewServer(http.NotFoundHandler())
	gone.Close()
	h := newRESTHarness(t, restOptions{Options: gatewaytest.Options{OdooURL: gone.URL}})
	restCase{status: 502, want: `{"error": "Odoo could not be reached or answered badly", "code": 502}`}.
		check(t, h.do(t, "GET", "/api/v2/partners", "reader", nil))
}

func TestRESTOdooTimeout(t *testing.T) {
	h := newRESTHarness(t, restOptions{Options: gatewaytest.Options{Timeout: 200 * time.Millisecond}})
	h.Warm(t)
	h.Odoo.SetHang(true)
	t.Cleanup(func() { h.Odoo.SetHang(false) })
	restCase{status: 504, want: `{"error": "Odoo did not answer in time", "code": 504}`}.
		check(t, h.do(t, "DELETE", "/api/v2/partners/15", "unlinker", nil))
}

func TestRESTAccountRejected(t *testing.T) {
	h := newRESTHarness(t, restOptions{})
	cred, err := h.Vault.CreateCredential(ctx, "test", keystore.CredentialSpec{Name: "wrong", URL: h.OdooURL, DB: "odoo_test", Login: "demo"}, "not-the-password")
	if err != nil {
		t.Fatal(err)
	}
	h.CredIDs["wrong"] = &cred.ID
	h.keys["wrong"] = h.Key(t, "wrong", "odoo:res.partner:read")
	restCase{status: 502, want: `{"error": "Odoo refused keygate's service account", "code": 502}`}.
		check(t, h.do(t, "GET", "/api/v2/partners/15", "wrong", nil))
}
