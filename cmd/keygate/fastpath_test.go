package main

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/keygate/keygate/internal/testenv"
)

// TestFastPathAnswersAsNetHTTP: two replicas of one Postgres, one with the
// fast path (the default), one with KEYGATE_FAST_PATH=false, get the same
// requests, each as a proxy sends it, on one kept-alive connection each,
// and answer them with the same bytes (their Date, generated request ids
// and seconds until a window resets aside), the same access lines and the
// same decision counts; the fast replica answered every one itself.
func TestFastPathAnswersAsNetHTTP(t *testing.T) {
	db := testenv.Postgres(t)
	fast := start(t, "KEYGATE_DATABASE_URL="+db)
	slow := start(t, "KEYGATE_DATABASE_URL="+db, "KEYGATE_FAST_PATH=false")
	_, limited, _ := call(t, "POST", fast.admin+"/admin/v1/keys", testToken,
		`{"name":"shop","owner":"p-1","scopes":["route:GET:/api/**"],"rate_limits":["3/1m","100/1h"]}`)
	_, revoked, _ := call(t, "POST", fast.admin+"/admin/v1/keys", testToken, `{"name":"old","owner":"p-2","scopes":["route:*:/**"]}`)
	if s, _, _ := call(t, "POST", fast.admin+"/admin/v1/keys/"+revoked["id"].(string)+"/revoke", testToken, ""); s != 200 {
		t.Fatalf("revoke: %d", s)
	}
	key, old := limited["key"].(string), revoked["key"].(string)
	nginx := func(method, uri, cred string, more ...string) string {
		h := "GET /auth HTTP/1.1\r\nHost: keygate\r\n"
		if cred != "" {
			h += "Authorization: Bearer " + cred + "\r\n"
		}
		h += "X-Original-Method: " + method + "\r\nX-Original-Uri: " + uri + "\r\nX-Forwarded-For: 198.51.100.7\r\n"
		for _, m := range more {
			h += m + "\r\n"
		}
		return h + "\r\n"
	}
	requests := []string{
		nginx("GET", "/api/partners", key, "X-Request-Id: req-1"),
		nginx("GET", "/api/partners?page=2", key),
		nginx("POST", "/api/partners", key, "X-Request-Id: req-3"), // no scope: 403
		nginx("GET", "/api/x", "", "X-Request-Id: req-4"),          // no key: 401
		nginx("GET", "/api/x", "kg_nope"),                          // malformed: 401
		nginx("GET", "/api/x", old, "X-Request-Id: req-6"),         // revoked: 401
		nginx("GET", "/api/x", key, "x-request-id: REQ_7", "content-length: 0", "User-Agent: nginx"),
		nginx("GET", "/api/x", key, "X-Request-Id: bad id"), // over the limit: 429, a new request id
		// Traefik's forwardAuth: its method, the target in X-Forwarded-*.
		"GET /auth HTTP/1.1\r\nHost: keygate\r\nX-Api-Key: " + key + "\r\nX-Forwarded-Method: GET\r\nX-Forwarded-Host: shop.example\r\n" +
			"X-Forwarded-Uri: /api/y\r\nX-Forwarded-Proto: https\r\nX-Forwarded-For: 203.0.113.9, 198.51.100.7\r\nAccept-Encoding: gzip\r\n\r\n",
		"POST /auth HTTP/1.1\r\nHost: keygate\r\nAuthorization: ApiKey " + key + "\r\nContent-Length: 0\r\n\r\n",
		"GET /healthz HTTP/1.1\r\nHost: keygate\r\n\r\n",
		"GET /healthz HTTP/1.1\r\nHost: keygate\r\nX-Request-Id: hz\r\n\r\n",
	}
	a, b := exchange(t, fast.public, requests), exchange(t, slow.public, requests)
	for i := range requests {
		if a[i] != b[i] {
			t.Errorf("request %d %q:\nfast path:\n%s\nnet/http:\n%s", i, requests[i], a[i], b[i])
		}
	}
	for _, want := range []string{"HTTP/1.1 200", "HTTP/1.1 403", "HTTP/1.1 401", "HTTP/1.1 429", "X-Keygate-Owner: p-1", "Retry-After: N"} {
		if !strings.Contains(strings.Join(a, ""), want) {
			t.Errorf("no answer holds %q: the requests do not cover what they should", want)
		}
	}
	if n := metricValue(t, fast, "keygate_fast_path_requests_total"); n != int64(len(requests)) {
		t.Errorf("the fast path answered %d of %d requests", n, len(requests))
	}
	if n := metricValue(t, fast, "keygate_fast_path_handoffs_total"); n != 0 {
		t.Errorf("the fast path handed %d connections to net/http", n)
	}
	for _, outcome := range []string{"allowed", "forbidden", "unauthorized", "rate_limited"} {
		name := `keygate_auth_decisions_total{outcome="` + outcome + `"}`
		if x, y := metricValue(t, fast, name), metricValue(t, slow, name); x != y || x == 0 {
			t.Errorf("%s: %d with the fast path, %d without", name, x, y)
		}
	}
	if x, y := accessLines(t, fast), accessLines(t, slow); x != y {
		t.Errorf("access lines differ:\nfast path:\n%s\nnet/http:\n%s", x, y)
	}
}

// exchange sends each request on one connection to base, one after the
// other, and returns each raw answer, normalised by normalise.
func exchange(t *testing.T, base string, requests []string) []string {
	t.Helper()
	c, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	r := bufio.NewReader(c)
	var out []string
	for _, req := range requests {
		if _, err := io.WriteString(c, req); err != nil {
			t.Fatal(err)
		}
		var raw bytes.Buffer
		res, err := http.ReadResponse(bufio.NewReader(io.TeeReader(r, &raw)), nil)
		if err != nil {
			t.Fatalf("%q: %v", req, err)
		}
		if _, err := io.Copy(io.Discard, res.Body); err != nil {
			t.Fatal(err)
		}
		out = append(out, normalise(raw.String()))
	}
	return out
}

// What may differ between two replicas' answers to one request: the time,
// the ids they make up, the seconds left in a window.
var (
	dateField   = regexp.MustCompile(`(?m)^Date: .*\r$`)
	generatedID = regexp.MustCompile(`[0-9a-f]{32}`)
	seconds     = regexp.MustCompile(`(t=|Retry-After: |"retry_after":)\d+`)
	latency     = regexp.MustCompile(`"time":"[^"]*"|"latency_ms":[0-9.e-]+`)
)

func normalise(s string) string {
	s = dateField.ReplaceAllString(s, "Date: D\r")
	s = generatedID.ReplaceAllString(s, "ID")
	return seconds.ReplaceAllString(s, "${1}N")
}

// accessLines are k's access lines of /auth and /healthz, normalised.
func accessLines(t *testing.T, k *instance) string {
	t.Helper()
	// The last request's line: the lines before it are written with it.
	if !k.logHas(`"request_id":"hz","method":"GET","route":"/healthz"`) {
		t.Fatal("no access line of the last /healthz")
	}
	var lines []string
	for _, l := range strings.Split(k.logs.String(), "\n") {
		if strings.Contains(l, `"msg":"request"`) && (strings.Contains(l, `"route":"/auth"`) || strings.Contains(l, `"route":"/healthz"`)) {
			lines = append(lines, normalise(latency.ReplaceAllString(l, "T")))
		}
	}
	return strings.Join(lines, "\n")
}
