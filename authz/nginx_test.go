package authz_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/keygate/keygate/authz"
	"github.com/keygate/keygate/internal/testenv"
	"github.com/keygate/keygate/keystore"
	"github.com/keygate/keygate/limiter"
)

const nginxTemplate = "../deploy/nginx/keygate.conf.template"

// renderTemplate does what `envsubst '${KEYGATE_ADDR} ${UPSTREAM_ADDR}
// ${LISTEN_PORT}'` does: it replaces those three and nothing else.
func renderTemplate(t testing.TB, path string, vars map[string]string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read template: %v", err)
	}
	var pairs []string
	for k, v := range vars {
		pairs = append(pairs, "${"+k+"}", v)
	}
	out := strings.NewReplacer(pairs...).Replace(string(b))
	for k := range vars {
		if strings.Contains(out, "${"+k+"}") || !strings.Contains(string(b), "${"+k+"}") {
			t.Fatalf("template does not use ${%s} as a placeholder", k)
		}
	}
	return out
}

func nginxBinary(t testing.TB) string {
	t.Helper()
	if p, err := exec.LookPath("nginx"); err == nil {
		return p
	}
	if _, err := os.Stat("/usr/sbin/nginx"); err == nil {
		return "/usr/sbin/nginx"
	}
	t.Fatal("nginx not found in PATH or /usr/sbin: apt-get install nginx-light")
	return ""
}

// startNginx runs a real nginx in the foreground with the rendered
// template, on a free loopback port, and returns its base URL.
func startNginx(t testing.TB, keygateAddr, upstreamAddr string) string {
	t.Helper()
	bin := nginxBinary(t)
	var lastErr error
	for range 3 {
		port := testenv.FreePort(t)
		dir := t.TempDir()
		conf := renderTemplate(t, nginxTemplate, map[string]string{
			"KEYGATE_ADDR": keygateAddr, "UPSTREAM_ADDR": upstreamAddr, "LISTEN_PORT": "127.0.0.1:" + strconv.Itoa(port),
		})
		writeFile(t, filepath.Join(dir, "keygate.conf"), conf)
		writeFile(t, filepath.Join(dir, "nginx.conf"), nginxMain(dir))
		if lastErr = runNginx(t, bin, dir, port); lastErr == nil {
			return "http://127.0.0.1:" + strconv.Itoa(port)
		}
	}
	t.Fatalf("nginx did not start: %v", lastErr)
	return ""
}

// nginxMain is the main configuration around the template: everything in
// dir, one process in the foreground.
func nginxMain(dir string) string {
	return fmt.Sprintf(`daemon off;
master_process off;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log info;
events { worker_connections 256; }
http {
    access_log %[1]s/access.log;
    client_body_temp_path %[1]s/client_body;
    proxy_temp_path %[1]s/proxy;
    fastcgi_temp_path %[1]s/fastcgi;
    uwsgi_temp_path %[1]s/uwsgi;
    scgi_temp_path %[1]s/scgi;
    include %[1]s/keygate.conf;
}
`, dir)
}

func runNginx(t testing.TB, bin, dir string, port int) error {
	t.Helper()
	cmd := exec.Command(bin, "-p", dir, "-c", filepath.Join(dir, "nginx.conf"), "-e", filepath.Join(dir, "error.log"))
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		return err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			log, _ := os.ReadFile(filepath.Join(dir, "error.log"))
			return fmt.Errorf("nginx exited: %v\n%s%s", err, out.String(), log)
		default:
		}
		if c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), 100*time.Millisecond); err == nil {
			c.Close()
			t.Cleanup(func() { _ = cmd.Process.Kill(); <-exited })
			return nil
		}
		time.Sleep(20 * time.Millisecond) // polling a real process start, not a unit test
	}
	_ = cmd.Process.Kill()
	<-exited
	return errors.New("nginx did not listen within 10s")
}

func writeFile(t testing.TB, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// upstream echoes what it received as JSON and counts its requests.
type upstream struct {
	srv  *httptest.Server
	hits atomic.Int64
}

type echoed struct {
	Method string      `json:"method"`
	URI    string      `json:"uri"`
	Header http.Header `json:"header"`
}

func newUpstream(t testing.TB) *upstream {
	t.Helper()
	u := &upstream{}
	u.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u.hits.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(echoed{Method: r.Method, URI: r.RequestURI, Header: r.Header})
	}))
	t.Cleanup(u.srv.Close)
	return u
}

// e2eStep is one request through nginx. wantClient lists response headers
// (a value ending in "*" matches by prefix, "" means absent). wantUpstream
// lists headers the upstream must have received, nil when it must not
// have been reached.
type e2eStep struct {
	name         string
	method, path string
	header       http.Header
	wantStatus   int
	wantClient   map[string]string
	wantUpstream map[string]string
	wantURI      string
}

func TestNginxEndToEnd(t *testing.T) {
	for _, mode := range serveModes {
		t.Run(mode.name, func(t *testing.T) { nginxEndToEnd(t, mode.fast) })
	}
}

func nginxEndToEnd(t *testing.T, fast bool) {
	// Real time: nginx and the limiter see the same clock.
	mem := limiter.NewMemory(limiter.MemoryConfig{SweepInterval: -1})
	t.Cleanup(mem.Close)
	e := newEnv(t, func(c *authz.Config) { c.Limiter = mem })
	keys := e2eKeys(t, e)
	keygate := serveKeygate(t, e, fast)
	up := newUpstream(t)
	base := startNginx(t, keygate.addr, strings.TrimPrefix(up.srv.URL, "http://"))

	for _, st := range e2eSteps(keys) {
		t.Run(st.name, func(t *testing.T) { runStep(t, base, up, st) })
	}
	keygate.checkFast(t)
	t.Run("storage_down_is_503", func(t *testing.T) {
		if err := e.store.Close(); err != nil {
			t.Fatal(err)
		}
		runStep(t, base, up, e2eStep{
			method: "GET", path: "/api/x", header: hdr("X-Api-Key", keys["uncached"], "X-Forwarded-For", "198.51.100.90"),
			wantStatus: 503, wantClient: map[string]string{"Content-Type": "application/json"},
		})
	})
	t.Run("keygate_down_is_500", func(t *testing.T) {
		keygate.close()
		runStep(t, base, up, e2eStep{
			method: "GET", path: "/api/x", header: hdr("X-Api-Key", keys["good"], "X-Forwarded-For", "198.51.100.91"),
			wantStatus: 500, wantClient: map[string]string{"Content-Type": "application/json", "Retry-After": ""},
		})
	})
}

// e2eKeys creates the keys of the end-to-end test, by role.
func e2eKeys(t testing.TB, e *env) map[string]string {
	t.Helper()
	keys := map[string]string{}
	for role, spec := range map[string]keystore.Spec{
		"good":     {Owner: "partner-42", Scopes: []string{"route:GET:/api/**", "route:POST:/api/orders"}, RateLimits: []string{"100/1m"}},
		"limited":  {Owner: "p2", Scopes: []string{"route:GET:/**"}, RateLimits: []string{"2/1m"}},
		"revoked":  {Owner: "p3", Scopes: []string{"route:GET:/**"}},
		"noowner":  {Scopes: []string{"route:GET:/**"}},
		"office":   {Owner: "p5", Scopes: []string{"route:GET:/**"}, IPAllowlist: []string{"203.0.113.0/24", "2001:db8::/32"}},
		"uncached": {Owner: "p6", Scopes: []string{"route:GET:/**"}},
	} {
		rec, key := e.key(t, spec)
		keys[role], keys[role+".id"] = key, rec.ID
		if role == "revoked" {
			if _, err := e.store.Revoke(ctx, "test", rec.ID); err != nil {
				t.Fatal(err)
			}
		}
	}
	unknown, err := keystore.Generate("kg")
	if err != nil {
		t.Fatal(err)
	}
	keys["unknown"] = unknown.Reveal()
	return keys
}

func e2eSteps(k map[string]string) []e2eStep {
	json := "application/json"
	invalid := `Bearer realm="keygate", error="invalid_token"`
	steps := []e2eStep{
		{
			name: "valid_key_reaches_upstream_with_identity_and_no_forgery", method: "GET", path: "/api/v1/items?x=1",
			header: hdr("Authorization", "Bearer "+k["good"], "X-Keygate-Owner", "evil", "X-Keygate-Key-Id", "forged",
				"X-Keygate-Scopes", "admin", "X-Forwarded-For", "198.51.100.1"),
			wantStatus: 200, wantURI: "/api/v1/items?x=1",
			wantClient: map[string]string{"Ratelimit-Policy": `"1m";q=100;w=60`, "Ratelimit": `"1m";r=99;t=*`},
			wantUpstream: map[string]string{"X-Keygate-Key-Id": k["good.id"], "X-Keygate-Owner": "partner-42",
				"X-Keygate-Scopes": "route:GET:/api/**,route:POST:/api/orders", "Authorization": "", "X-Api-Key": ""},
		},
		{
			name: "x_api_key_works_and_other_authorization_passes", method: "POST", path: "/api/orders",
			header:     hdr("X-API-Key", k["good"], "Authorization", "Basic dXM6cHc=", "X-Forwarded-For", "198.51.100.1"),
			wantStatus: 200, wantURI: "/api/orders",
			wantUpstream: map[string]string{"X-Keygate-Owner": "partner-42", "Authorization": "Basic dXM6cHc=", "X-Api-Key": ""},
		},
		{
			name: "missing_key_is_401", method: "GET", path: "/api/x", header: hdr("X-Forwarded-For", "198.51.100.2"),
			wantStatus: 401, wantClient: map[string]string{"Www-Authenticate": `Bearer realm="keygate"`, "Content-Type": json, "Ratelimit": ""},
		},
		{
			name: "malformed_key_is_401", method: "GET", path: "/api/x",
			header:     hdr("Authorization", "Bearer kg_nope", "X-Forwarded-For", "198.51.100.3"),
			wantStatus: 401, wantClient: map[string]string{"Www-Authenticate": invalid, "Content-Type": json, "Ratelimit": `"1m";r=2;t=*`},
		},
		{
			name: "unknown_key_is_401", method: "GET", path: "/api/x", header: hdr("X-Api-Key", k["unknown"], "X-Forwarded-For", "198.51.100.4"),
			wantStatus: 401, wantClient: map[string]string{"Www-Authenticate": invalid, "Content-Type": json},
		},
		{
			name: "revoked_key_is_401", method: "GET", path: "/api/x", header: hdr("X-Api-Key", k["revoked"], "X-Forwarded-For", "198.51.100.5"),
			wantStatus: 401, wantClient: map[string]string{"Www-Authenticate": invalid, "Content-Type": json},
		},
		{
			name: "unscoped_path_is_403", method: "GET", path: "/other", header: hdr("X-Api-Key", k["good"], "X-Forwarded-For", "198.51.100.1"),
			wantStatus: 403, wantClient: map[string]string{"Content-Type": json},
		},
		{
			name: "unscoped_method_is_403", method: "DELETE", path: "/api/v1/items", header: hdr("X-Api-Key", k["good"], "X-Forwarded-For", "198.51.100.1"),
			wantStatus: 403,
		},
		{
			name: "client_sent_target_headers_are_ignored", method: "GET", path: "/other",
			header: hdr("X-Api-Key", k["good"], "X-Forwarded-Uri", "/api/x", "X-Forwarded-Method", "GET",
				"X-Original-URI", "/api/x", "X-Forwarded-For", "198.51.100.1"),
			wantStatus: 403,
		},
		{
			name: "dot_segments_cannot_escape_the_scope", method: "GET", path: "/api/%2e%2e/other",
			header: hdr("X-Api-Key", k["good"], "X-Forwarded-For", "198.51.100.1"), wantStatus: 400,
			wantClient: map[string]string{"Content-Type": json},
		},
		{
			name: "client_forged_owner_is_dropped_when_the_key_has_none", method: "GET", path: "/x",
			header:     hdr("X-Api-Key", k["noowner"], "X-Keygate-Owner", "evil", "X-Forwarded-For", "198.51.100.1"),
			wantStatus: 200, wantURI: "/x",
			wantUpstream: map[string]string{"X-Keygate-Owner": "", "X-Keygate-Key-Id": k["noowner.id"]},
		},
		{
			name: "allowlisted_address_is_200", method: "GET", path: "/x", header: hdr("X-Api-Key", k["office"], "X-Forwarded-For", "203.0.113.9"),
			wantStatus: 200, wantURI: "/x", wantUpstream: map[string]string{"X-Keygate-Owner": "p5"},
		},
		{
			name: "allowlisted_ipv6_address_is_200", method: "GET", path: "/x", header: hdr("X-Api-Key", k["office"], "X-Forwarded-For", "2001:db8::5"),
			wantStatus: 200, wantURI: "/x", wantUpstream: map[string]string{"X-Keygate-Owner": "p5"},
		},
		{
			name: "address_outside_the_allowlist_is_403", method: "GET", path: "/x", header: hdr("X-Api-Key", k["office"], "X-Forwarded-For", "198.51.100.9"),
			wantStatus: 403,
		},
	}
	for i := range 2 {
		steps = append(steps, e2eStep{
			name: fmt.Sprintf("limited_key_request_%d_is_200", i+1), method: "GET", path: "/x",
			header: hdr("X-Api-Key", k["limited"], "X-Forwarded-For", "198.51.100.10"), wantStatus: 200, wantURI: "/x",
			wantClient: map[string]string{"Ratelimit": fmt.Sprintf(`"1m";r=%d;t=*`, 1-i)}, wantUpstream: map[string]string{},
		})
	}
	steps = append(steps, e2eStep{
		name: "limited_key_over_its_limit_is_a_real_429", method: "GET", path: "/x",
		header: hdr("X-Api-Key", k["limited"], "X-Forwarded-For", "198.51.100.10"), wantStatus: 429,
		wantClient: map[string]string{"Retry-After": "*", "Ratelimit": `"1m";r=0;t=*`, "Ratelimit-Policy": `"1m";q=2;w=60`, "Content-Type": json},
	})
	for i := range 3 {
		steps = append(steps, e2eStep{
			name: fmt.Sprintf("failed_authentication_%d_is_401", i+1), method: "GET", path: "/x",
			header: hdr("X-Api-Key", k["unknown"], "X-Forwarded-For", "198.51.100.20"), wantStatus: 401,
		})
	}
	return append(steps, e2eStep{
		name: "too_many_failed_authentications_is_429", method: "GET", path: "/x",
		header: hdr("X-Api-Key", k["unknown"], "X-Forwarded-For", "198.51.100.20"), wantStatus: 429,
		wantClient: map[string]string{"Retry-After": "*", "Ratelimit-Policy": `"1m";q=3;w=60`, "Content-Type": json},
	})
}

func runStep(t *testing.T, base string, up *upstream, st e2eStep) {
	t.Helper()
	before := up.hits.Load()
	res, body := send(t, st.method, base+st.path, st.header)
	if res.StatusCode != st.wantStatus {
		t.Fatalf("status %d, want %d; body %s", res.StatusCode, st.wantStatus, body)
	}
	checkHeaders(t, "client", res.Header, st.wantClient)
	reached := up.hits.Load() > before
	if reached != (st.wantUpstream != nil) {
		t.Fatalf("upstream reached: %v, want %v", reached, st.wantUpstream != nil)
	}
	if reached {
		checkUpstream(t, body, st)
	} else {
		checkErrorBody(t, body, st.wantStatus)
	}
}

func checkUpstream(t *testing.T, body []byte, st e2eStep) {
	t.Helper()
	var got echoed
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatalf("upstream answer %s: %v", body, err)
	}
	if got.URI != st.wantURI || got.Method != st.method {
		t.Errorf("upstream saw %s %s, want %s %s", got.Method, got.URI, st.method, st.wantURI)
	}
	checkHeaders(t, "upstream", got.Header, st.wantUpstream)
}

func checkErrorBody(t *testing.T, body []byte, status int) {
	t.Helper()
	var got struct {
		Error     string `json:"error"`
		Code      int    `json:"code"`
		RequestID string `json:"request_id"`
	}
	if err := json.Unmarshal(body, &got); err != nil || got.Error == "" || got.Code != status || got.RequestID == "" {
		t.Errorf("error body %s: want {error, code %d, request_id} (%v)", body, status, err)
	}
}

// checkHeaders compares the headers named in want; a value ending in "*"
// matches by prefix, "" means absent.
func checkHeaders(t *testing.T, who string, got http.Header, want map[string]string) {
	t.Helper()
	if len(want) == 0 {
		return
	}
	seen := map[string]string{}
	for name, w := range want {
		v := strings.Join(got.Values(name), "|")
		if p, ok := strings.CutSuffix(w, "*"); ok && strings.HasPrefix(v, p) && v != p {
			v = w
		}
		seen[name] = v
	}
	if diff := cmp.Diff(want, seen); diff != "" {
		t.Errorf("%s headers (-want +got):\n%s", who, diff)
	}
}

// TestNginxSendsOnlyWhatKeygateReads: through the shipped template, the
// check carries the client's Authorization and X-API-Key as sent, and the
// target, but none of the client's other headers (a browser's cookies
// would be parsed on every check for nothing); a header the client did
// not send is not sent empty.
func TestNginxSendsOnlyWhatKeygateReads(t *testing.T) {
	seen := make(chan http.Header, 2)
	auth := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen <- r.Header.Clone()
	}))
	t.Cleanup(auth.Close)
	up := newUpstream(t)
	base := startNginx(t, strings.TrimPrefix(auth.URL, "http://"), strings.TrimPrefix(up.srv.URL, "http://"))
	for _, c := range []struct {
		name        string
		send        http.Header
		want, empty []string
	}{
		{
			name: "both credentials",
			send: hdr("Authorization", "Bearer kg_x", "X-Api-Key", "kg_y", "Cookie", "session=s3cr3t", "User-Agent", "Mozilla/5.0",
				"X-Custom", "1", "Accept-Language", "fr"),
			want: []string{"Authorization", "Bearer kg_x", "X-Api-Key", "kg_y", "X-Original-Method", "GET", "X-Original-Uri", "/api/x?a=1"},
		},
		{name: "none", send: hdr("Cookie", "session=s3cr3t"), empty: []string{"Authorization", "X-Api-Key"}},
	} {
		res, body := send(t, "GET", base+"/api/x?a=1", c.send)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("%s: status %d: %s", c.name, res.StatusCode, body)
		}
		got := <-seen
		for i := 0; i < len(c.want); i += 2 {
			if v := got.Get(c.want[i]); v != c.want[i+1] {
				t.Errorf("%s: %s %q at the check, want %q", c.name, c.want[i], v, c.want[i+1])
			}
		}
		for _, h := range append([]string{"Cookie", "User-Agent", "X-Custom", "Accept-Language"}, c.empty...) {
			if v, ok := got[http.CanonicalHeaderKey(h)]; ok {
				t.Errorf("%s: the check got %s %q", c.name, h, v)
			}
		}
	}
}

// send makes one request to nginx with header, and reads the answer.
func send(t *testing.T, method, url string, header http.Header) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header = header
	return testenv.Do(t, req)
}
