package console_test

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/labstack/echo/v4"
	"golang.org/x/net/html"

	"github.com/keygate/keygate/admin/console"
	"github.com/keygate/keygate/httpapi"
	"github.com/keygate/keygate/internal/testenv"
)

func newServer(t testing.TB) *echo.Echo {
	t.Helper()
	e := echo.New()
	e.HTTPErrorHandler = httpapi.ErrorHandler(slog.New(slog.DiscardHandler))
	c, err := console.New()
	if err != nil {
		t.Fatal(err)
	}
	c.Register(e.Group("/ui"))
	return e
}

func get(t testing.TB, e *echo.Echo, path string, hdr ...string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	return rec
}

func TestSecurityHeaders(t *testing.T) {
	e := newServer(t)
	for _, path := range []string{"/ui/", "/ui", "/ui/app.js", "/ui/app.css", "/ui/vendor/uplot/uPlot.iife.min.js", "/ui/nope.js"} {
		t.Run("every_answer_of_"+path+"_has_them", func(t *testing.T) {
			rec := get(t, e, path)
			got := map[string]string{}
			for k := range console.Headers {
				got[k] = rec.Header().Get(k)
			}
			if diff := cmp.Diff(console.Headers, got); diff != "" {
				t.Errorf("GET %s (%d) headers (-want +got):\n%s", path, rec.Code, diff)
			}
		})
	}
	csp := console.Headers["Content-Security-Policy"]
	for _, must := range []string{"default-src 'self'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'", "object-src 'none'", "base-uri 'none'"} {
		if !strings.Contains(csp, must) {
			t.Errorf("CSP %q lacks %q", csp, must)
		}
	}
	for _, never := range []string{"unsafe-inline", "unsafe-eval", "http:", "https:", "*", "data:"} {
		if strings.Contains(csp, never) {
			t.Errorf("CSP %q allows %q", csp, never)
		}
	}
	if got := console.Headers["X-Frame-Options"]; got != "DENY" {
		t.Errorf("X-Frame-Options = %q, want DENY", got)
	}
}

func TestAssets(t *testing.T) {
	e := newServer(t)
	cases := []struct {
		name, path string
		code       int
		ctype      string
	}{
		{"page_at_the_root", "/ui/", 200, "text/html; charset=utf-8"},
		{"bare_ui_redirects_to_the_page", "/ui", 301, ""},
		{"client_script", "/ui/app.js", 200, "text/javascript; charset=utf-8"},
		{"stylesheet", "/ui/app.css", 200, "text/css; charset=utf-8"},
		{"chart_library", "/ui/vendor/uplot/uPlot.iife.min.js", 200, "text/javascript; charset=utf-8"},
		{"chart_styles", "/ui/vendor/uplot/uPlot.min.css", 200, "text/css; charset=utf-8"},
		{"icon", "/ui/favicon.svg", 200, "image/svg+xml"},
		{"unknown_file_is_404", "/ui/secrets.txt", 404, "application/json"},
		{"no_directory_listing", "/ui/vendor/", 404, "application/json"},
		{"no_escape_from_the_assets", "/ui/../console.go", 404, "application/json"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rec := get(t, e, c.path)
			if rec.Code != c.code || (c.ctype != "" && !strings.HasPrefix(rec.Header().Get("Content-Type"), c.ctype)) {
				t.Errorf("GET %s = %d %q, want %d %q", c.path, rec.Code, rec.Header().Get("Content-Type"), c.code, c.ctype)
			}
		})
	}
	first := get(t, e, "/ui/app.js")
	again := get(t, e, "/ui/app.js", "If-None-Match", first.Header().Get("ETag"))
	if first.Header().Get("ETag") == "" || again.Code != http.StatusNotModified {
		t.Errorf("revalidation: ETag %q, then %d, want 304", first.Header().Get("ETag"), again.Code)
	}
}

// The page must hold no inline script, style or event handler (the CSP
// would block them), load nothing from elsewhere, and label every input.
func TestPageIsCSPCleanAndLabelled(t *testing.T) {
	e := newServer(t)
	doc, err := html.Parse(bytes.NewReader(get(t, e, "/ui/").Body.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	labels, inputs := map[string]bool{}, []string{}
	for n := range doc.Descendants() {
		if n.Type != html.ElementNode {
			continue
		}
		attr := attrs(n)
		for k := range attr {
			if strings.HasPrefix(k, "on") || k == "style" {
				t.Errorf("<%s %s=…>: inline handlers and styles are blocked by the CSP", n.Data, k)
			}
		}
		for _, k := range []string{"src", "href"} {
			if v, ok := attr[k]; ok && !strings.HasPrefix(v, "#") {
				if strings.Contains(v, ":") || strings.HasPrefix(v, "/") {
					t.Errorf("<%s %s=%q>: the console loads only its own relative assets", n.Data, k, v)
				} else if rec := get(t, e, "/ui/"+v); rec.Code != 200 {
					t.Errorf("<%s %s=%q> is %d", n.Data, k, v, rec.Code)
				}
			}
		}
		switch n.Data {
		case "script":
			if attr["src"] == "" || n.FirstChild != nil {
				t.Error("a <script> without src, or with a body: inline script")
			}
		case "style":
			t.Error("a <style> element: inline style")
		case "label":
			labels[attr["for"]] = true
		case "input", "select", "textarea":
			inputs = append(inputs, attr["id"])
		}
	}
	if len(inputs) < 10 {
		t.Fatalf("found %d inputs in the page's templates; the parse missed them", len(inputs))
	}
	for _, id := range inputs {
		if id == "" || !labels[id] {
			t.Errorf("input %q has no <label for>", id)
		}
	}
}

func attrs(n *html.Node) map[string]string {
	m := map[string]string{}
	for _, a := range n.Attr {
		m[a.Key] = a.Val
	}
	return m
}

// The client writes API data as text, never as HTML, evaluates no string
// and reaches no other host.
func TestClientScriptRules(t *testing.T) {
	js, err := os.ReadFile("assets/app.js")
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function", "http://", "https://", "document.cookie", "localStorage"} {
		if bytes.Contains(js, []byte(bad)) {
			t.Errorf("app.js uses %q", bad)
		}
	}
}

// TestDeps: the console is static files and headers; it reaches keys only
// through the admin API over HTTP, never by importing the store or the API.
func TestDeps(t *testing.T) {
	testenv.CheckDeps(t, testenv.DepRule{
		Forbidden: []string{"github.com/keygate/keygate/keystore", "github.com/keygate/keygate/admin", "gorm.io", "github.com/redis"},
		Except:    []string{"github.com/keygate/keygate/admin/console"},
	})
}
