package httpapi_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/labstack/echo/v4"

	"github.com/keygate/keygate/httpapi"
)

func TestAssignRequestID(t *testing.T) {
	for _, tc := range []struct {
		name, sent string
		kept       bool
	}{
		{"a_short_id_of_allowed_characters_is_kept", "req-42.a_B", true},
		{"an_id_of_64_characters_is_kept", strings.Repeat("a", 64), true},
		{"an_id_of_65_characters_is_replaced", strings.Repeat("a", 65), false},
		{"a_200_KB_id_is_replaced", strings.Repeat("x", 200<<10), false},
		{"an_id_with_a_space_is_replaced", "a b", false},
		{"an_id_with_a_quote_is_replaced", `a"b`, false},
		{"an_id_with_a_comma_is_replaced", "a,b", false},
		{"an_id_with_non_ascii_is_replaced", "é", false},
		{"no_id_gets_one", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := echo.New()
			e.Use(httpapi.Chain(httpapi.ChainConfig{}))
			e.GET("/", func(c echo.Context) error { return c.String(http.StatusOK, httpapi.RequestID(c)) })
			req := httptest.NewRequest(http.MethodGet, "/", nil)
			if tc.sent != "" {
				req.Header.Set(echo.HeaderXRequestID, tc.sent)
			}
			rec := httptest.NewRecorder()
			e.ServeHTTP(rec, req)
			got := rec.Header().Get(echo.HeaderXRequestID)
			if diff := cmp.Diff(tc.kept, got == tc.sent); diff != "" {
				t.Fatalf("kept (-want +got):\n%s\nid %.80q", diff, got)
			}
			if !httpapi.ValidRequestID(got) || rec.Body.String() != got {
				t.Fatalf("answered id %.80q, handler saw %.80q", got, rec.Body.String())
			}
		})
	}
}

func TestNewRequestIDsDiffer(t *testing.T) {
	e := echo.New()
	e.Use(httpapi.Chain(httpapi.ChainConfig{}))
	e.GET("/", func(c echo.Context) error { return c.NoContent(http.StatusOK) })
	seen := map[string]bool{}
	for range 100 {
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
		id := rec.Header().Get(echo.HeaderXRequestID)
		if len(id) != 32 || seen[id] {
			t.Fatalf("id %q: repeated or not 32 hex digits", id)
		}
		seen[id] = true
	}
}

func BenchmarkValidRequestID(b *testing.B) {
	b.ReportAllocs()
	id := "0123456789abcdef0123456789abcdef"
	for b.Loop() {
		if !httpapi.ValidRequestID(id) {
			b.Fatal("refused")
		}
	}
}

// BenchmarkAssignRequestID: Chain alone (no log, metrics or body guard)
// giving a new id on every request, the common case (clients rarely send
// X-Request-Id).
func BenchmarkAssignRequestID(b *testing.B) {
	b.ReportAllocs()
	h := httpapi.Chain(httpapi.ChainConfig{})(func(echo.Context) error { return nil })
	c := echo.New().NewContext(httptest.NewRequest(http.MethodGet, "/auth", nil), httptest.NewRecorder())
	for b.Loop() {
		if err := h(c); err != nil {
			b.Fatal(err)
		}
	}
	if len(httpapi.RequestID(c)) != 32 {
		b.Fatalf("id %q", httpapi.RequestID(c))
	}
}

// TestClientRequestIDIsShared: the client's id is answered without an
// allocation, and a handler that adds to the response's X-Request-Id does
// not overwrite a second id of the request's, whose value slice the
// response shares.
func TestClientRequestIDIsShared(t *testing.T) {
	req := httptest.NewRequest(http.MethodGet, "/auth", nil)
	req.Header[echo.HeaderXRequestID] = []string{"client-1", "client-2"}
	rec := httptest.NewRecorder()
	c := echo.New().NewContext(req, rec)
	h := httpapi.Chain(httpapi.ChainConfig{})(func(c echo.Context) error {
		c.Response().Header().Add(echo.HeaderXRequestID, "added")
		return nil
	})
	if err := h(c); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"client-1", "client-2"}, req.Header[echo.HeaderXRequestID]); diff != "" {
		t.Errorf("request's ids (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"client-1", "added"}, rec.Header()[echo.HeaderXRequestID]); diff != "" {
		t.Errorf("response's ids (-want +got):\n%s", diff)
	}
	keep := httpapi.Chain(httpapi.ChainConfig{})(func(echo.Context) error { return nil })
	if n := testing.AllocsPerRun(100, func() { _ = keep(c) }); n != 0 {
		t.Errorf("%v allocations per request with the client's id, want 0", n)
	}
}
