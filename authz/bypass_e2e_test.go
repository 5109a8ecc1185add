package authz_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/keygate/keygate/authz"
	"github.com/keygate/keygate/internal/testenv"
	"github.com/keygate/keygate/keystore"
	"github.com/keygate/keygate/limiter"
)

// bypass is one attempt to reach a path outside a key's route scope by
// writing the target so that the proxy, keygate or the upstream read it
// differently. raw is sent byte for byte, as curl --path-as-is sends it.
type bypass struct {
	name string
	raw  string
	key  string // role in bypassKeys
}

// bypasses are the attempts seen against the shipped configurations, and
// their neighbours.
var bypasses = []bypass{
	{"dot_dot_segment_sent_as_is", "/admin/../public/x", "public"},
	{"escaped_dot_dot", "/admin/%2e%2e/public/x", "public"},
	{"escaped_dot_dot_in_upper_case", "/admin/%2E%2E/public/x", "public"},
	{"doubly_escaped_dot_dot", "/admin/%252e%252e/public/x", "public"},
	{"escaped_slashes", "/admin/x/..%2f..%2fpublic/x", "public"},
	{"escaped_slashes_in_upper_case", "/admin/x/..%2F..%2Fpublic/x", "public"},
	{"escaped_backslash", "/public/..%5cadmin/x", "public"},
	{"raw_backslash", "/public/..\\admin/x", "public"},
	{"dot_segment", "/public/./x", "public"},
	{"double_slash", "/public//x", "public"},
	{"odoo_controller_behind_a_dot_dot", "/web/image/../health", "health"},
}

// bypassKeys: a key that may GET /public/** only, and one that may GET
// /web/health only.
func bypassKeys(t testing.TB, e *env) map[string]string {
	t.Helper()
	_, public := e.key(t, keystore.Spec{Owner: "p", Scopes: []string{"route:GET:/public/**"}, RateLimits: []string{"1000/1m"}})
	_, health := e.key(t, keystore.Spec{Owner: "h", Scopes: []string{"route:GET:/web/health"}, RateLimits: []string{"1000/1m"}})
	return map[string]string{"public": public, "health": health}
}

// startKeygateAuth serves /auth of a fresh env on loopback, through the
// fast path when fast is true.
func startKeygateAuth(t testing.TB, fast bool) (*env, *keygateServer) {
	t.Helper()
	mem := limiter.NewMemory(limiter.MemoryConfig{SweepInterval: -1})
	t.Cleanup(mem.Close)
	e := newEnv(t, func(c *authz.Config) { c.Limiter = mem })
	return e, serveKeygate(t, e, fast)
}

// rawGET sends a GET whose request line holds target byte for byte.
func rawGET(t testing.TB, addr, host, target, key string) (int, string) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nConnection: close\r\n\r\n", target, host, key)
	res, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("GET %q: %v", target, err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(body)
}

// runBypasses sends each bypass through the proxy at addr and checks that
// the client is refused (400 or 403, keygate's JSON body) and that the
// upstream saw nothing; then that the key's own paths still pass, so that
// the refusals are not an outage. A proxy that cleans paths itself before
// it asks keygate (Traefik's sanitizePath) may instead let a request
// through when the upstream then receives, in normal form, a path the key
// holds: lenient accepts that, and the proxy's own 400 (not JSON).
func runBypasses(t *testing.T, addr, host string, up *upstream, keys map[string]string, lenient bool) {
	for _, b := range bypasses {
		t.Run(b.name, func(t *testing.T) {
			before := up.hits.Load()
			status, body := rawGET(t, addr, host, b.raw, keys[b.key])
			switch {
			case lenient && status == http.StatusOK:
				checkReachedInScope(t, b, body)
			case status != http.StatusBadRequest && status != http.StatusForbidden:
				t.Errorf("GET %q: status %d, want 400 or 403; body %s", b.raw, status, body)
			case !lenient:
				checkErrorBody(t, []byte(body), status)
			}
			if n := up.hits.Load() - before; n != 0 && status != http.StatusOK {
				t.Errorf("GET %q reached the upstream %d times", b.raw, n)
			}
		})
	}
	for _, ok := range []struct{ target, key string }{{"/public/x", "public"}, {"/public/a.b/..c", "public"}, {"/web/health", "health"}} {
		t.Run("in_scope_"+ok.target, func(t *testing.T) {
			before := up.hits.Load()
			if status, body := rawGET(t, addr, host, ok.target, keys[ok.key]); status != http.StatusOK {
				t.Fatalf("GET %q: status %d, want 200; body %s", ok.target, status, body)
			}
			if n := up.hits.Load() - before; n != 1 {
				t.Fatalf("GET %q reached the upstream %d times, want 1", ok.target, n)
			}
		})
	}
}

// checkReachedInScope: a bypass that a proxy let through reached the
// upstream at a path in normal form that the key holds.
func checkReachedInScope(t *testing.T, b bypass, body string) {
	t.Helper()
	var got echoed
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatalf("GET %q: upstream answer %s: %v", b.raw, body, err)
	}
	scope := map[string]string{"public": "route:GET:/public/**", "health": "route:GET:/web/health"}[b.key]
	pol, err := authz.Compile(&keystore.Record{ID: "k", Scopes: []string{scope}})
	if err != nil {
		t.Fatal(err)
	}
	f := authz.Facts{Request: authz.Request{Credential: "k"}, Need: authz.NeedRoute("GET", got.URI),
		Key: &keystore.Verified{ID: "k"}, Policy: pol.(*authz.Policy)}
	if d, _ := authz.Decide(&f); d.Status != http.StatusOK {
		t.Errorf("GET %q reached the upstream as %q, which %s does not grant (%d)", b.raw, got.URI, scope, d.Status)
	}
}

// TestNginxRefusesPathBypasses drives the shipped nginx template.
func TestNginxRefusesPathBypasses(t *testing.T) {
	for _, mode := range serveModes {
		t.Run(mode.name, func(t *testing.T) {
			e, keygate := startKeygateAuth(t, mode.fast)
			keys := bypassKeys(t, e)
			up := newUpstream(t)
			base := startNginx(t, keygate.addr, strings.TrimPrefix(up.srv.URL, "http://"))
			addr := strings.TrimPrefix(base, "http://")
			runBypasses(t, addr, addr, up, keys, false)
			keygate.checkFast(t)
		})
	}
}

// TestTraefikRefusesPathBypasses drives a real Traefik with the shipped
// deploy/traefik/dynamic.yml, when a traefik binary is on PATH.
func TestTraefikRefusesPathBypasses(t *testing.T) {
	bin, err := exec.LookPath("traefik")
	if err != nil {
		t.Skip("traefik is not on PATH (Debian does not package it): `bash scripts/traefik.sh` builds one " +
			"from the Go module proxy, or put a release binary from https://github.com/traefik/traefik/releases on PATH")
	}
	for _, mode := range serveModes {
		t.Run(mode.name, func(t *testing.T) {
			e, keygate := startKeygateAuth(t, mode.fast)
			keys := bypassKeys(t, e)
			up := newUpstream(t)
			addr := startTraefik(t, bin, keygate.addr, up.srv.URL)
			runBypasses(t, addr, "api.example.test", up, keys, true)
			keygate.checkFast(t)
		})
	}
}

// startTraefik runs traefik with the shipped dynamic configuration, which
// it renders itself from the environment, and waits until its router
// answers.
func startTraefik(t testing.TB, bin, keygate, upstreamURL string) string {
	t.Helper()
	dir := t.TempDir()
	b, err := os.ReadFile("../deploy/traefik/dynamic.yml")
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "dynamic.yml"), string(b))
	addr := testenv.FreeAddr(t)
	cmd := exec.Command(bin, "--entryPoints.web.address="+addr, "--providers.file.filename="+filepath.Join(dir, "dynamic.yml"),
		"--log.level=ERROR")
	cmd.Env = append(os.Environ(), "KEYGATE_ADDR="+keygate, "UPSTREAM_URL="+upstreamURL, "PROTECTED_HOST=api.example.test")
	var out testenv.LockedBuffer // read below while traefik still writes
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		// 401 from keygate: the router and the middleware are up.
		if status, _ := tryGET(addr, "api.example.test", "/public/x"); status == http.StatusUnauthorized {
			return addr
		}
		time.Sleep(50 * time.Millisecond) // polling a real process start, not a unit test
	}
	t.Fatalf("traefik did not route within 20s:\n%s", out.String())
	return ""
}

func tryGET(addr, host, path string) (int, error) {
	req, err := http.NewRequest(http.MethodGet, "http://"+addr+path, nil)
	if err != nil {
		return 0, err
	}
	req.Host = host
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	res.Body.Close()
	return res.StatusCode, nil
}
