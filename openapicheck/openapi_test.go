package openapicheck_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"

	"github.com/keygate/keygate/internal/gatewaytest"
)

// openAPIDoc fetches the document from the harness and checks it with
// libopenapi-validator against the OpenAPI 3.1 schema.
func openAPIDoc(tb testing.TB, h *restHarness) (validator.Validator, map[string]any) {
	tb.Helper()
	got := gatewaytest.Send(tb, "GET", h.api+"/api/openapi.json", "", nil)
	if got.Status != http.StatusOK || !strings.HasPrefix(got.Header.Get("Content-Type"), "application/json") {
		tb.Fatalf("GET /api/openapi.json: %d %s", got.Status, got.Header.Get("Content-Type"))
	}
	if cors := got.Header.Get("Access-Control-Allow-Origin"); cors != "*" {
		tb.Errorf("Access-Control-Allow-Origin %q: browsers elsewhere cannot read the document", cors)
	}
	doc, err := libopenapi.NewDocument(got.Body)
	if err != nil {
		tb.Fatal(err)
	}
	v, errs := validator.NewValidator(doc)
	if len(errs) > 0 {
		tb.Fatalf("validator: %v", errs)
	}
	var raw map[string]any
	if err := json.Unmarshal(got.Body, &raw); err != nil {
		tb.Fatal(err)
	}
	return v, raw
}

// TestOpenAPIDocument: the document is valid OpenAPI 3.1 and lists every
// route the REST facade serves, and no other, for the built-in resources
// and a file of several.
func TestOpenAPIDocument(t *testing.T) {
	for _, file := range []string{"", "resources-test.yaml"} {
		t.Run("file="+file, func(t *testing.T) {
			h := newRESTHarness(t, restOptions{resources: file})
			v, raw := openAPIDoc(t, h)
			if ok, errs := v.ValidateDocument(); !ok {
				for _, e := range errs {
					t.Errorf("invalid: %s: %s (%v)", e.Message, e.Reason, e.SchemaValidationErrors)
				}
			}
			if raw["openapi"] != "3.1.0" {
				t.Errorf("openapi %v, want 3.1.0", raw["openapi"])
			}
			if diff := cmp.Diff(routeList(h.routes), documentedRoutes(raw)); diff != "" {
				t.Errorf("documented routes (-served +documented):\n%s", diff)
			}
		})
	}
}

// routeList writes Echo's routes as the document names them.
func routeList(routes [][2]string) []string {
	var out []string
	for _, r := range routes {
		out = append(out, r[0]+" "+strings.ReplaceAll(r[1], ":id", "{id}"))
	}
	sort.Strings(out)
	return out
}

func documentedRoutes(doc map[string]any) []string {
	var out []string
	paths, _ := doc["paths"].(map[string]any)
	for path, item := range paths {
		for method := range item.(map[string]any) {
			if method != "parameters" {
				out = append(out, strings.ToUpper(method)+" "+path)
			}
		}
	}
	sort.Strings(out)
	return out
}

// TestOpenAPIDescribesAnswers: what the REST facade answers matches what
// the document says of it, for successes and errors alike.
func TestOpenAPIDescribesAnswers(t *testing.T) {
	h := newRESTHarness(t, restOptions{resources: "resources-test.yaml"})
	v, _ := openAPIDoc(t, h)
	cases := []struct {
		method, path, key, body string
		status                  int
		validRequest            bool
	}{
		{"GET", "/api/v1/contacts?limit=5&is_company=true&order=name+desc", "all", "", 200, true},
		{"GET", "/api/v1/contacts/17", "all", "", 200, true},
		{"GET", "/api/v1/contacts/17?fields=name,write_date", "all", "", 200, true},
		{"POST", "/api/v1/contacts", "all", `{"name": "Doc", "country_id": 20, "is_company": true}`, 201, true},
		{"PUT", "/api/v1/contacts/42", "all", `{"name": "Doc2", "parent_id": {"id": 15, "name": "Azure Interior"}}`, 200, true},
		{"PATCH", "/api/v1/contacts/42", "all", `{"email": null}`, 200, true},
		{"DELETE", "/api/v1/contacts/42", "all", "", 204, true},
		{"GET", "/api/v1/contacts/42", "all", "", 404, true},
		{"GET", "/api/v1/countries", "all", "", 200, true},
		{"GET", "/api/v1/contacts?limit=0", "all", "", 400, false},
		{"GET", "/api/v1/contacts", "", "", 401, false},
		{"GET", "/api/v1/contacts", "nothing", "", 403, true},
		{"POST", "/api/v1/contacts", "all", `{"function": "far too long"}`, 422, false},
		{"POST", "/api/v1/contacts", "all", `{"email": "a@example.com"}`, 422, true},
	}
	for _, tc := range cases {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			req, resp := exchangeHTTP(t, h, tc.method, tc.path, tc.key, tc.body)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.status)
			}
			ok, errs := v.ValidateHttpResponse(req, resp)
			if tc.validRequest {
				req, resp = exchangeAgain(t, req, resp)
				ok, errs = v.ValidateHttpRequestResponse(req, resp)
			}
			if !ok {
				for _, e := range errs {
					t.Errorf("%s: %s (%v)", e.Message, e.Reason, e.SchemaValidationErrors)
				}
			}
		})
	}
}

// exchangeHTTP makes a request and keeps it and its answer, the bodies
// readable again.
func exchangeHTTP(tb testing.TB, h *restHarness, method, path, key, body string) (*http.Request, *http.Response) {
	tb.Helper()
	req, err := http.NewRequest(method, h.api+path, strings.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+h.keys[key])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	return exchangeAgain(tb, rewind(req, body), resp)
}

func rewind(req *http.Request, body string) *http.Request {
	req.Body = io.NopCloser(strings.NewReader(body))
	return req
}

// exchangeAgain makes both bodies readable once more.
func exchangeAgain(tb testing.TB, req *http.Request, resp *http.Response) (*http.Request, *http.Response) {
	tb.Helper()
	reqBody, _ := io.ReadAll(req.Body)
	respBody, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatal(err)
	}
	resp.Body.Close()
	req.Body = io.NopCloser(bytes.NewReader(reqBody))
	resp.Body = io.NopCloser(bytes.NewReader(respBody))
	return req, resp
}
