package admin_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/keygate/keygate/admin"
	"github.com/keygate/keygate/httpapi"
	"github.com/keygate/keygate/internal/testenv"
	"github.com/keygate/keygate/internal/testenv/storetest"
	"github.com/keygate/keygate/keystore"
)

const (
	token  = "admin-token-admin-token-admin-token-0001"
	secret = "0123456789abcdef0123456789abcdef0badc0de"
)

// serve mounts the admin API with the credential routes, as cmd does.
func serve(tb testing.TB, s *keystore.Store, vault *keystore.Vault) string {
	tb.Helper()
	api, err := admin.New(admin.Config{Store: s, AdminToken: token})
	if err != nil {
		tb.Fatal(err)
	}
	e := echo.New()
	e.HTTPErrorHandler = httpapi.ErrorHandler(slogDiscard())
	e.Use(middleware.RequestID())
	g := e.Group("/admin/v1")
	api.Register(g)
	api.RegisterCredentials(g, vault)
	api.RegisterCredits(g, s)
	srv := httptest.NewServer(e)
	tb.Cleanup(srv.Close)
	return srv.URL + "/admin/v1"
}

func do(tb testing.TB, method, url, tok, body string) (int, string) {
	tb.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, b := testenv.Do(tb, req)
	return resp.StatusCode, string(b)
}

// routeCase is one request to the admin API and what its answer must be.
type routeCase struct {
	name, method, path, token, body string
	want                            int
	wantIn                          []string // fragments of the body
}

// check sends the request to the API at api, fails t unless the status is
// c.want and the body holds every c.wantIn, and returns the body.
func (c routeCase) check(t testing.TB, api string) string {
	t.Helper()
	got, body := do(t, c.method, api+c.path, c.token, c.body)
	if got != c.want {
		t.Fatalf("%s %s = %d %s, want %d", c.method, c.path, got, body, c.want)
	}
	for _, w := range c.wantIn {
		if !strings.Contains(body, w) {
			t.Errorf("body %s lacks %s", body, w)
		}
	}
	return body
}

func TestCredentialRoutes(t *testing.T) {
	s := storetest.SQLite(t)
	sealer, _ := keystore.NewSealer(bytes.Repeat([]byte{3}, 32))
	api := serve(t, s, s.Vault(sealer))
	good := `{"name":"shop","url":"https://odoo.example.com","db":"prod","login":"api","password":"` + secret + `"}`
	cases := []routeCase{
		{"no_credential_is_401", "POST", "/credentials", "", good, 401, nil},
		{"create_is_201", "POST", "/credentials", token, good, 201, []string{`"name":"shop"`, `"url":"https://odoo.example.com"`, `"db":"prod"`, `"login":"api"`, `"id":`}},
		{"duplicate_name_is_422", "POST", "/credentials", token, good, 422, []string{`"name":"is already used by another credential"`}},
		{"missing_fields_are_422", "POST", "/credentials", token, `{"name":"x"}`, 422, []string{`"password":"is required"`, `"url":"is required"`, `"db":"is required"`, `"login":"is required"`}},
		{"unknown_field_is_400", "POST", "/credentials", token, `{"name":"x","secret":"y"}`, 400, []string{`unknown field`}},
		{"list_is_an_envelope", "GET", "/credentials", token, "", 200, []string{`"data":[{`, `"pagination":{"page":1,"limit":20,"total":1,"pages":1}`}},
		{"list_without_credential_is_401", "GET", "/credentials", "", "", 401, nil},
		{"list_bad_limit_is_400", "GET", "/credentials?limit=0", token, "", 400, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			body := c.check(t, api)
			if strings.Contains(body, secret) || strings.Contains(body, "password\":\"0") {
				t.Errorf("answer carries the secret: %s", body)
			}
		})
	}
}

func TestCredentialAnswerShape(t *testing.T) {
	s := storetest.SQLite(t)
	sealer, _ := keystore.NewSealer(bytes.Repeat([]byte{3}, 32))
	api := serve(t, s, s.Vault(sealer))
	_, body := do(t, "POST", api+"/credentials", token, `{"name":"a","url":"http://odoo:8069/","db":"d","login":"l","password":"p"}`)
	var got map[string]any
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatal(err)
	}
	keys := []string{}
	for k := range got {
		keys = append(keys, k)
	}
	want := []string{"created_at", "db", "id", "login", "name", "updated_at", "url"}
	if diff := cmp.Diff(want, sorted(keys)); diff != "" {
		t.Errorf("credential object fields (-want +got):\n%s", diff)
	}
	if got["url"] != "http://odoo:8069" {
		t.Errorf("url = %v, want it without the trailing slash", got["url"])
	}
}

func TestCredentialsWithoutSecretKey(t *testing.T) {
	s := storetest.SQLite(t)
	api := serve(t, s, s.Vault(nil))
	got, body := do(t, "POST", api+"/credentials", token, `{"name":"a","url":"http://o","db":"d","login":"l","password":"p"}`)
	if got != http.StatusServiceUnavailable || !strings.Contains(body, "KEYGATE_SECRET_KEY") {
		t.Errorf("create without a secret key = %d %s, want 503 naming KEYGATE_SECRET_KEY", got, body)
	}
}

func TestCredentialRoutesFailClosedWithoutAuth(t *testing.T) {
	s := storetest.SQLite(t)
	api, _ := admin.New(admin.Config{Store: s})
	e := echo.New()
	e.HTTPErrorHandler = httpapi.ErrorHandler(slogDiscard())
	api.RegisterCredentials(e.Group("/admin/v1"), s.Vault(nil)) // mounted without Register
	srv := httptest.NewServer(e)
	defer srv.Close()
	for _, m := range []string{"GET /admin/v1/credentials", "POST /admin/v1/credentials", "PATCH /admin/v1/credentials/x", "DELETE /admin/v1/credentials/x"} {
		method, path, _ := strings.Cut(m, " ")
		if got, body := do(t, method, srv.URL+path, "", `{}`); got != http.StatusUnauthorized {
			t.Errorf("%s without authentication = %d %s, want 401", m, got, body)
		}
	}
}

func slogDiscard() *slog.Logger { return slog.New(slog.DiscardHandler) }

func sorted(s []string) []string { slices.Sort(s); return s }
