package proxy_test

import (
	"bytes"
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/keygate/keygate/internal/gatewaytest"
)

// webEnv is the part of a web request or answer the test reads.
type webEnv struct {
	Params struct {
		Login    string `json:"login"`
		Password string `json:"password"`
		Model    string `json:"model"`
		Method   string `json:"method"`
	} `json:"params"`
	Result json.RawMessage `json:"result"`
	Error  *struct {
		Code int `json:"code"`
		Data struct {
			Name string `json:"name"`
		} `json:"data"`
	} `json:"error"`
}

var sessionCookieRe = regexp.MustCompile(`session_id=([^;]*)`)

// webRun replays one directory's sequence through keygate and, as the
// reference, directly against a double of the same version, keeping each
// side's session ids under the fixtures' placeholders.
type webRun struct {
	h         *harness
	directURL string
	version   string
	scoped    bool
	keys      map[string]string // fixture login → keygate key
	mine      map[string]string // placeholder → keygate session id
	theirs    map[string]string // placeholder → the direct double's
}

// TestWebFixtures sends every exchange of 18.0/web and 19.0/web through
// keygate with keygate keys as passwords, with keys that hold the scopes
// the calls need and with keys that do not, and compares each answer with
// the direct double's answer to the same request as the service account:
// the same uid, user_context and results, Odoo's errors without their
// tracebacks, SessionExpired without a live keygate session. Nothing of
// the session API reaches Odoo: keygate calls it as the service account.
func TestWebFixtures(t *testing.T) {
	for _, version := range []string{"18.0", "19.0"} {
		for _, scoped := range []bool{true, false} {
			t.Run(version+"/"+map[bool]string{true: "scoped", false: "unscoped"}[scoped], func(t *testing.T) {
				h := newHarness(t, gatewaytest.Options{Version: version})
				h.Warm(t)
				_, directURL := gatewaytest.StartDouble(t, version)
				adminScopes := []string{"odoo:res.partner:*", "odoo:res.users:unlink"}
				demoScopes := []string{"odoo:ir.config_parameter:read"}
				if !scoped {
					adminScopes, demoScopes = []string{"odoo:res.bank:read"}, []string{"odoo:res.bank:read"}
				}
				run := &webRun{h: h, directURL: directURL, version: version, scoped: scoped,
					keys: map[string]string{"admin": h.Key(t, "default", adminScopes...), "demo": h.Key(t, "demo", demoScopes...)},
					mine: map[string]string{}, theirs: map[string]string{}}
				for _, wc := range loadFixtures(t, version, "web") {
					t.Run(wc.name, func(t *testing.T) { run.check(t, &wc) })
				}
			})
		}
	}
}

// send sends the case to base with the session ids of ids, with password
// as the password of an authenticate, and keeps the session id it is
// handed under the placeholder the fixture names.
func (r *webRun) send(t *testing.T, wc *fixture, base string, ids map[string]string, password string) (gatewaytest.Exchange, webEnv) {
	t.Helper()
	body := wc.Request.Body
	var env map[string]any
	if json.Unmarshal(body, &env) == nil {
		p, _ := env["params"].(map[string]any)
		if password != "" {
			p["password"] = password
		}
		if db, ok := p["db"]; ok && db != "nope" {
			p["db"] = "odoo_test" // the doubles' one database, whatever the version
		}
		body, _ = json.Marshal(env)
	}
	var hdr []string
	if c := wc.Request.Headers["Cookie"]; c != "" {
		ph := strings.TrimPrefix(c, "session_id=")
		hdr = []string{"Cookie", "session_id=" + ids[ph]}
	}
	var raw []byte
	if err := json.Unmarshal(body, new(map[string]any)); err == nil {
		raw = body
	} else {
		var s string
		_ = json.Unmarshal(body, &s)
		raw = []byte(s)
	}
	x := gatewaytest.Send(t, wc.Request.Method, base+wc.Request.Path, wc.Request.Headers["Content-Type"], raw, hdr...)
	var e webEnv
	_ = json.Unmarshal(x.Body, &e)
	return x, e
}

func (r *webRun) check(t *testing.T, wc *fixture) {
	var req webEnv
	_ = json.Unmarshal(wc.Request.Body, &req)
	key := ""
	if k, ok := r.keys[req.Params.Login]; ok && req.Params.Password == req.Params.Login {
		key = k // a login that works on Odoo: the partner's keygate key instead
	}
	before := len(r.h.Odoo.Calls())
	got, g := r.send(t, wc, r.h.URL, r.mine, key)
	calls := r.h.Odoo.Calls()[before:]
	want, w := r.send(t, wc, r.directURL, r.theirs, "")
	placeholder := ""
	for _, v := range wantCookies(t, wc) {
		placeholder = v
	}
	if m := sessionCookieRe.FindStringSubmatch(strings.Join(want.Header.Values("Set-Cookie"), "\n")); m != nil && placeholder != "" {
		r.theirs[placeholder] = m[1]
	}
	if bytes.Contains(got.Body, []byte(`"debug"`)) || bytes.Contains(got.Body, []byte("Traceback")) {
		t.Errorf("the answer carries a traceback: %s", got.Body)
	}
	for _, c := range calls {
		if c.Protocol == "web" || c.Auth == "session" {
			t.Errorf("a session API call reached Odoo: %+v", c)
		}
	}
	path := wc.Request.Path
	switch {
	case strings.HasSuffix(path, "/authenticate") && key != "":
		r.checkLogin(t, wc, got, g, w, placeholder)
	case strings.HasSuffix(path, "/authenticate"):
		// a password that is no keygate key (wrong, Odoo's API key, another database): AccessDenied
		if g.Error == nil || g.Error.Data.Name != "odoo.exceptions.AccessDenied" || got.Header.Get("Set-Cookie") != "" {
			t.Errorf("got %s, want AccessDenied and no cookie", got.Body)
		}
	case strings.HasSuffix(path, "/get_session_info") && g.Error == nil:
		if diff := cmp.Diff(sessionWho(t, w.Result), sessionWho(t, g.Result)); diff != "" {
			t.Errorf("session info (-odoo +keygate):\n%s", diff)
		}
	case strings.Contains(path, "/call_kw") && !r.scoped && wc.Request.Headers["Cookie"] != "" && w.Error == nil ||
		strings.Contains(path, "/call_kw") && !r.scoped && w.Error != nil && w.Error.Code != 100:
		if g.Error == nil || g.Error.Data.Name != "odoo.exceptions.AccessError" || len(calls) != 0 {
			t.Errorf("unscoped call: got %s and %d calls to Odoo, want keygate's AccessError and none", got.Body, len(calls))
		}
	default:
		checkSameWeb(t, got, want)
		if strings.Contains(path, "/call_kw") && w.Error != nil && w.Error.Code == 100 && len(calls) != 0 {
			t.Errorf("%d calls reached Odoo without a session", len(calls))
		}
	}
}

// checkLogin: a keygate key logs in as the service account: the same uid
// and user_context as Odoo's own login, and a keygate session cookie.
func (r *webRun) checkLogin(t *testing.T, wc *fixture, got gatewaytest.Exchange, g, w webEnv, placeholder string) {
	t.Helper()
	m := sessionCookieRe.FindStringSubmatch(got.Header.Get("Set-Cookie"))
	if m == nil || len(m[1]) != 84 || !strings.Contains(got.Header.Get("Set-Cookie"), "HttpOnly") {
		t.Fatalf("no keygate session cookie: %q (%s)", got.Header.Values("Set-Cookie"), got.Body)
	}
	r.mine[placeholder] = m[1]
	if w.Error != nil { // another database: keygate pins the account's, the login works
		return
	}
	if diff := cmp.Diff(sessionWho(t, w.Result), sessionWho(t, g.Result)); diff != "" {
		t.Errorf("%s: session info (-odoo +keygate):\n%s", wc.name, diff)
	}
}

// sessionWho is what a session client reads of the session info.
func sessionWho(t *testing.T, raw json.RawMessage) map[string]any {
	t.Helper()
	var info map[string]any
	if err := json.Unmarshal(raw, &info); err != nil {
		t.Fatalf("session info %s: %v", raw, err)
	}
	userCtx, _ := info["user_context"].(map[string]any)
	delete(userCtx, "uid") // keygate leaves it out: it is no context key a partner may send
	return map[string]any{"uid": info["uid"], "user_context": userCtx, "db": info["db"],
		"server_version_info": info["server_version_info"]}
}

// wantCookies is the placeholder each Set-Cookie of the recorded answer
// hands out (none for most).
func wantCookies(t *testing.T, wc *fixture) []string {
	t.Helper()
	data, err := os.ReadFile(wc.file)
	if err != nil {
		t.Fatal(err)
	}
	var rec struct {
		Response struct {
			Headers map[string]any `json:"headers"`
		} `json:"response"`
	}
	_ = json.Unmarshal(data, &rec)
	var out []string
	switch v := rec.Response.Headers["Set-Cookie"].(type) {
	case string:
		out = append(out, v)
	case []any:
		for _, s := range v {
			out = append(out, s.(string))
		}
	}
	var ids []string
	for _, c := range out {
		if m := sessionCookieRe.FindStringSubmatch(c); m != nil && m[1] != "" {
			ids = append(ids, m[1])
		}
	}
	return ids
}

// checkSameWeb: the same status and envelope as Odoo's, less the
// traceback.
func checkSameWeb(t *testing.T, got, want gatewaytest.Exchange) {
	t.Helper()
	if !json.Valid(want.Body) {
		if diff := cmp.Diff([]any{want.Status, string(want.Body)}, []any{got.Status, string(got.Body)}); diff != "" {
			t.Errorf("status and body (-odoo +keygate):\n%s", diff)
		}
		return
	}
	g, w := decodeAny(t, got.Body), decodeAny(t, want.Body)
	stripWebDebug(w)
	stripWebDebug(g)
	if diff := cmp.Diff([]any{want.Status, w}, []any{got.Status, g}); diff != "" {
		t.Errorf("status and body (-odoo +keygate):\n%s", diff)
	}
}

func stripWebDebug(v any) {
	m, _ := v.(map[string]any)
	e, _ := m["error"].(map[string]any)
	d, _ := e["data"].(map[string]any)
	delete(d, "debug")
}
