package authz_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/keygate/keygate/authz"
)

// TestRequestHeadersAreWhatFromHTTPReads: RequestHeaders, the fields the
// fast path keeps for /auth (httpapi.FastServer hands the handler nothing
// else), are every field request.go names (its hdr* constants), read from
// the source so that a field FromHTTP comes to read and the list lacks
// fails here; and a request reduced to them reads as the whole request
// does, forwarded target, client address and credential alike.
func TestRequestHeadersAreWhatFromHTTPReads(t *testing.T) {
	file, err := parser.ParseFile(token.NewFileSet(), "request.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var named []string
	ast.Inspect(file, func(n ast.Node) bool {
		spec, ok := n.(*ast.ValueSpec)
		if !ok {
			return true
		}
		for i, id := range spec.Names {
			if i >= len(spec.Values) || !strings.HasPrefix(id.Name, "hdr") {
				continue
			}
			if lit, ok := spec.Values[i].(*ast.BasicLit); ok {
				s, _ := strconv.Unquote(lit.Value)
				named = append(named, s)
			}
		}
		return true
	})
	slices.Sort(named)
	if got := slices.Sorted(slices.Values(authz.RequestHeaders)); len(named) < 9 || !slices.Equal(got, named) {
		t.Fatalf("RequestHeaders %q, request.go names %q", got, named)
	}

	full := httptest.NewRequest(http.MethodGet, "/auth", nil)
	full.RemoteAddr = "127.0.0.1:40000"
	for i, name := range named {
		full.Header.Set(name, "v"+strconv.Itoa(i))
	}
	full.Header.Set("Authorization", "Bearer kg_x")
	full.Header.Set("X-Forwarded-For", "203.0.113.7, 198.51.100.1")
	for _, other := range []string{"X-Real-Ip", "Forwarded", "Cookie", "User-Agent", "X-Client-Ip", "True-Client-Ip"} {
		full.Header.Set(other, "192.0.2.9")
	}
	kept := full.Clone(full.Context())
	kept.Header = http.Header{}
	for _, name := range authz.RequestHeaders {
		kept.Header[name] = full.Header[name]
	}
	want, got := authz.FromHTTP(full, authz.DefaultTrustedProxies), authz.FromHTTP(kept, authz.DefaultTrustedProxies)
	if want != got {
		t.Errorf("the request read from RequestHeaders alone:\n%+v\nwhole:\n%+v", got, want)
	}
}
