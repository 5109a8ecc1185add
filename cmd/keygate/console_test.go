package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/google/go-cmp/cmp"

	"github.com/keygate/keygate/keystore"
)

var update = flag.Bool("update", false, "rewrite the console screenshots in docs/")

// The console is served on the admin listener only.
func TestConsoleOnlyOnAdminListener(t *testing.T) {
	k := start(t, "KEYGATE_DATABASE_URL="+sqliteURL(t))
	cases := []struct {
		name, base, path string
		want             int
	}{
		{"admin_serves_the_page", k.admin, "/ui/", 200},
		{"admin_serves_the_script", k.admin, "/ui/app.js", 200},
		{"public_has_no_page", k.public, "/ui/", 404},
		{"public_has_no_script", k.public, "/ui/app.js", 404},
		{"public_has_no_chart_library", k.public, "/ui/vendor/uplot/uPlot.iife.min.js", 404},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp, err := http.Get(c.base + c.path)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != c.want {
				t.Errorf("GET %s = %d, want %d", c.path, resp.StatusCode, c.want)
			}
			csp := resp.Header.Get("Content-Security-Policy")
			if c.want == 200 && (!strings.Contains(csp, "default-src 'self'") || resp.Header.Get("X-Frame-Options") != "DENY") {
				t.Errorf("GET %s: CSP %q, X-Frame-Options %q", c.path, csp, resp.Header.Get("X-Frame-Options"))
			}
		})
	}
}

// TestConsoleInBrowser drives the console in headless Chromium against a
// real keygate (SQLite, in-memory limiter): sign in, create a key and read
// it from the page, find it in the list, send it through /auth, read the
// chart's data, rotate, revoke, and see /auth refuse it.
func TestConsoleInBrowser(t *testing.T) {
	secret := make([]byte, keystore.SecretKeySize)
	rand.Read(secret)
	db := sqliteURL(t)
	k := start(t, "KEYGATE_DATABASE_URL="+db, "KEYGATE_USAGE_FLUSH_INTERVAL=100ms",
		"KEYGATE_SECRET_KEY="+base64.StdEncoding.EncodeToString(secret))
	seeded := seedKeys(t, k, db)
	b := newBrowser(t)
	ui := k.admin + "/ui/"

	// A wrong credential is refused in place, and nothing is kept.
	b.do("open the console", chromedp.Navigate(ui), chromedp.WaitVisible(chromedp.ID("login-form")))
	b.shot("login")
	b.do("sign in wrong", chromedp.SendKeys(chromedp.ID("login-credential"), "kg_wrong-credential-wrong-credential"),
		submit("login-form"))
	b.waitText("#login-error", "invalid credential")
	if got := b.eval(`sessionStorage.length + "/" + document.cookie`); got != "0/" {
		t.Errorf("after a refused sign-in: sessionStorage length / cookies = %q, want 0/", got)
	}

	if got := b.value("#login-credential"); got != "" {
		t.Errorf("the refused credential stays in the field: %q", got)
	}
	b.do("sign in by keyboard", chromedp.SendKeys(chromedp.ID("login-credential"), testToken+kb.Enter))
	b.waitText("#keys-caption", " key")
	if got := b.eval(`document.cookie`); got != "" {
		t.Errorf("signed in: cookies %q, want none", got)
	}

	// Create: a bad rate limit is refused beside its field, then the key is
	// shown once.
	b.do("open the create form", chromedp.Click(chromedp.ID("new-key-link")), chromedp.WaitVisible(chromedp.ID("create-name")))
	b.do("fill the form", chromedp.SendKeys(chromedp.ID("create-name"), "e2e-shop"),
		chromedp.SendKeys(chromedp.ID("create-owner"), "partner-e2e"),
		chromedp.SendKeys(chromedp.ID("create-scopes"), "route:GET:/api/**"),
		chromedp.SendKeys(chromedp.ID("create-rate_limits"), "lots"),
		chromedp.SendKeys(chromedp.ID("create-ttl"), "720h"),
		submit("create-form"))
	b.waitText("#create-rate_limits-err", "rate_limits[0]")
	b.shot("create-error")
	b.do("fix the limit", chromedp.SetValue(chromedp.ID("create-rate_limits"), "3/1m"),
		submit("create-form"))
	b.waitText("#once-title", "Copy the key now")
	plain := b.value("#new-key")
	if !strings.HasPrefix(plain, "kg_") {
		t.Fatalf("the page shows %q as the new key", plain)
	}
	audit.secret(plain)
	b.do("copy", chromedp.Click(chromedp.ID("copy-key")))
	b.waitText("#copy-status", "C") // "Copied…", or "…Ctrl+C" where the clipboard is refused
	b.shot("key-created")
	if s, _ := authStatus(t, k.public, plain, "GET", "/api/x"); s != 200 {
		t.Fatalf("/auth with the key read from the page: %d, want 200", s)
	}

	// The list finds it by name.
	b.do("search", chromedp.Navigate(ui+"#/keys?q=e2e"), chromedp.WaitVisible(chromedp.ID("keys-table")))
	b.waitText("#keys-table tbody", "e2e-shop")
	if got := b.text("#keys-table tbody"); !strings.Contains(got, plain[:11]) || strings.Contains(got, "webshop") {
		t.Errorf("search e2e lists %q: want the new key's prefix %s and not the others", got, plain[:11])
	}
	b.do("list all", chromedp.Navigate(ui+"#/keys"))
	b.waitText("#keys-caption", " key")
	b.shot("keys")

	// Traffic: 3 allowed (one above), then 2 refused by the 3/1m limit.
	for range 4 {
		authStatus(t, k.public, plain, "GET", "/api/x")
	}
	b.do("open the key", chromedp.Click(chromedp.CSS(`#keys-table a[href^="#/keys/"]`)), chromedp.WaitVisible(chromedp.ID("usage-summary")))
	b.waitUsage("3 allowed, 2 denied")
	if got := b.eval(`String(document.querySelector("#usage-chart").chart.data[1].reduce((a, b) => a + b, 0)) + "/" +
		String(document.querySelector("#usage-chart").chart.data[2].reduce((a, b) => a + b, 0)) + "/" +
		String(document.querySelectorAll("#usage-chart canvas").length)`); got != "3/2/1" {
		t.Errorf("chart data allowed/denied/canvases = %q, want 3/2/1", got)
	}
	b.do("7 days", chromedp.Click(chromedp.CSS(`[data-span="168"]`)))
	b.waitText("#usage-summary", "7 days: 3 allowed, 2 denied")
	b.shot("key-usage")

	// Edit: the change is saved through PATCH and shown.
	b.do("edit the owner", chromedp.SetValue(chromedp.ID("edit-owner"), "partner-e2e-2"), submit("edit-form"))
	b.waitText("#edit-form .saved", "Saved.")
	b.waitText("#key-facts", "partner-e2e-2")
	keyID := b.eval(`location.hash.split("/")[2]`)
	if _, rec, _ := call(t, "GET", k.admin+"/admin/v1/keys/"+keyID, testToken, ""); rec["owner"] != "partner-e2e-2" {
		t.Errorf("after the edit the API answers owner %v", rec["owner"])
	}
	_, events, _ := call(t, "GET", k.admin+"/admin/v1/audit?limit=1&key_id="+keyID, testToken, "")
	if got := events["data"].([]any)[0].(map[string]any)["details"]; !cmp.Equal(got, map[string]any{"fields": []any{"owner"}}) {
		t.Errorf("the edit's audit details = %v, want only owner changed", got)
	}

	// Rotate with no grace: the old key stops, the new one is shown once.
	b.do("rotate", chromedp.SetValue(chromedp.ID("rotate-grace"), "0s"), submit("rotate-form"))
	b.waitText("#once-title", "Copy the key now")
	rotated := b.value("#new-key")
	audit.secret(rotated)
	if rotated == plain || !strings.HasPrefix(rotated, "kg_") {
		t.Fatalf("rotation shows %q", rotated)
	}
	waitAuth(t, k, plain, 401, "the old key after a 0s rotation")
	if s, _ := authStatus(t, k.public, rotated, "GET", "/api/x"); s != 200 {
		t.Errorf("/auth with the rotated key: %d, want 200", s)
	}

	// Revoke the new key, with a confirmation.
	b.do("open the new key", chromedp.Click(chromedp.ID("open-key")), chromedp.WaitVisible(chromedp.ID("revoke-ask")))
	b.waitText("#key-status", "active")
	b.do("ask to revoke", chromedp.Click(chromedp.ID("revoke-ask")), chromedp.WaitVisible(chromedp.ID("revoke-confirm")))
	b.shot("revoke-confirm")
	b.do("confirm", chromedp.Click(chromedp.ID("revoke-yes")))
	b.waitText("#key-status", "revoked")
	waitAuth(t, k, rotated, 401, "the revoked key")

	// The seeded week of a busy key, for the README.
	b.do("webshop", chromedp.Navigate(ui+"#/keys/"+seeded.id), chromedp.WaitVisible(chromedp.ID("usage-summary")))
	b.do("7 days", chromedp.Click(chromedp.CSS(`[data-span="168"]`)))
	b.waitText("#usage-summary", fmt.Sprintf("7 days: %d allowed, %d denied", seeded.allowed, seeded.denied))
	b.shot("usage")

	// Overview, audit log, service accounts.
	b.do("overview", chromedp.Navigate(ui+"#/overview"))
	b.waitText("#busiest tbody", "webshop")
	b.waitText("#most-denied tbody", "e2e-shop")
	b.shot("overview")
	b.do("audit", chromedp.Navigate(ui+"#/audit"))
	b.waitText("#audit-table tbody", "key.revoke")
	b.shot("audit")
	b.do("service accounts", chromedp.Navigate(ui+"#/credentials"), chromedp.WaitVisible(chromedp.ID("credential-form")))
	b.do("create one", chromedp.SendKeys(chromedp.ID("cred-name"), "odoo-sales"),
		chromedp.SendKeys(chromedp.ID("cred-url"), "https://odoo.example.com"),
		chromedp.SendKeys(chromedp.ID("cred-db"), "sales"),
		chromedp.SendKeys(chromedp.ID("cred-login"), "api@example.com"),
		chromedp.SendKeys(chromedp.ID("cred-password"), "odoo-api-key-never-shown"),
		submit("credential-form"))
	b.waitText("#credentials-table tbody", "odoo-sales")
	if html := b.eval(`document.documentElement.outerHTML + document.querySelector("#cred-password").value`); strings.Contains(html, "odoo-api-key-never-shown") {
		t.Error("the service account's secret is on the page after it was created")
	}
	b.shot("credentials")

	b.do("sign out", chromedp.Click(chromedp.ID("sign-out")), chromedp.WaitVisible(chromedp.ID("login-form")))
	if got := b.eval(`String(sessionStorage.length)`); got != "0" {
		t.Errorf("after sign-out sessionStorage holds %s items", got)
	}
	b.checkConsole()
}

// TestConsoleCredits drives the credits of a key through the console: a
// bad refill day is refused beside its field, a key created with 3 credits
// (refilled daily) spends them through /auth until a 429 naming credits,
// the credits panel adds 2 and /auth allows again, and an edit makes the
// key unlimited.
func TestConsoleCredits(t *testing.T) {
	k := start(t, "KEYGATE_DATABASE_URL="+sqliteURL(t))
	if s, rec, _ := call(t, "POST", k.admin+"/admin/v1/keys", testToken, `{"name":"plain-unlimited","scopes":["route:GET:/**"]}`); s != 201 {
		t.Fatalf("seed key: %d %v", s, rec)
	}
	b := newBrowser(t)
	ui := k.admin + "/ui/"
	b.do("open the console", chromedp.Navigate(ui), chromedp.WaitVisible(chromedp.ID("login-form")))
	b.do("sign in", chromedp.SendKeys(chromedp.ID("login-credential"), testToken+kb.Enter))
	b.waitText("#keys-caption", " key")

	b.do("open the create form", chromedp.Click(chromedp.ID("new-key-link")), chromedp.WaitVisible(chromedp.ID("create-credits-remaining")))
	if got := b.eval(`String(document.querySelector("#create-credits-refill-amount").disabled) + "/" + document.querySelector('label[for="create-credits-remaining"]').textContent`); got != "true/Credits remaining" {
		t.Errorf("credits inputs before a refill is chosen: amount disabled / label = %q, want true/Credits remaining", got)
	}
	b.do("fill the form with a bad refill day", chromedp.SendKeys(chromedp.ID("create-name"), "metered"),
		chromedp.SendKeys(chromedp.ID("create-scopes"), "route:GET:/**"),
		chromedp.SendKeys(chromedp.ID("create-credits-remaining"), "3"),
		setField("create-credits-refill-interval", "monthly"),
		chromedp.SendKeys(chromedp.ID("create-credits-refill-amount"), "3"),
		chromedp.SendKeys(chromedp.ID("create-credits-refill-day"), "40"),
		submit("create-form"))
	b.waitText("#create-credits-refill-day-err", "credits.refill.day must be from 1 to 31")
	if got := b.eval(`document.activeElement.id + "/" + document.querySelector("#create-credits-refill-day").getAttribute("aria-invalid")`); got != "create-credits-refill-day/true" {
		t.Errorf("after the refused day: focus / aria-invalid = %q, want the day input, marked invalid", got)
	}
	b.shot("credits-error")
	b.do("refill daily instead", setField("create-credits-refill-interval", "daily"), submit("create-form"))
	b.waitText("#once-title", "Copy the key now")
	plain := b.value("#new-key")
	audit.secret(plain)
	keyID := strings.TrimPrefix(b.eval(`document.querySelector("#open-key").getAttribute("href")`), "#/keys/")
	_, rec, _ := call(t, "GET", k.admin+"/admin/v1/keys/"+keyID, testToken, "")
	if diff := cmp.Diff(map[string]any{"remaining": 3.0, "refill": map[string]any{"interval": "daily", "amount": 3.0}}, rec["credits"]); diff != "" {
		t.Fatalf("credits of the key created in the console (-want +got):\n%s", diff)
	}

	// The list shows the balance and schedule, and "unlimited" for a key
	// without credits.
	b.do("list", chromedp.Navigate(ui+"#/keys"))
	b.waitText("#keys-table tbody", "metered")
	b.waitText("#keys-table tbody", "3 (refill 3 daily)")
	b.waitText("#keys-table tbody", "unlimited")

	// Spend the 3 credits through /auth: the fourth is refused, naming them.
	if n := spendUntilRefused(t, k, plain, 3); n != 3 {
		t.Fatalf("/auth allowed %d requests on 3 credits", n)
	}
	if s, body, _ := call(t, "GET", k.public+"/auth", plain, ""); s != 429 || body["error"] != "credits exhausted" {
		t.Fatalf("/auth with the credits spent: %d %v, want 429 credits exhausted", s, body)
	}

	// The credits panel adds 2, shows the new balance; /auth allows again.
	b.do("open the key", chromedp.Navigate(ui+"#/keys/"+keyID), chromedp.WaitVisible(chromedp.ID("credits-form")))
	b.waitText("#credits-balance", "0 (refill 3 daily)")
	b.do("a bad amount", chromedp.SetValue(chromedp.ID("credits-value"), "two"), submit("credits-form"))
	b.waitText("#credits-value-err", "value must be a whole number")
	b.do("add 2", chromedp.SetValue(chromedp.ID("credits-op"), "increment"),
		chromedp.SetValue(chromedp.ID("credits-value"), "2"), submit("credits-form"))
	b.waitText("#credits-form .saved", "Balance now 2.")
	b.waitText("#credits-balance", "2 (refill 3 daily)")
	b.waitText("#key-credits", "2 (refill 3 daily)")
	if got := b.value("#edit-credits-remaining"); got != "2" {
		t.Errorf("the edit form's balance after the increment = %q, want 2", got)
	}
	b.shot("credits")
	if s, _ := authStatus(t, k.public, plain, "GET", "/x"); s != 200 {
		t.Fatalf("/auth after adding 2 credits: %d, want 200", s)
	}
	_, events, _ := call(t, "GET", k.admin+"/admin/v1/audit?limit=1&key_id="+keyID, testToken, "")
	if got := events["data"].([]any)[0].(map[string]any)["action"]; got != "key.credits" {
		t.Errorf("the last audit event of the key is %v, want key.credits", got)
	}
	b.waitText("#key-audit tbody", "key.credits")

	// Edit: an empty balance and no refill make the key unlimited.
	b.do("make it unlimited", setField("edit-credits-remaining", ""),
		setField("edit-credits-refill-interval", ""), submit("edit-form"))
	b.waitText("#edit-form .saved", "Saved.")
	b.waitText("#key-credits", "unlimited")
	b.waitText("#credits-note", "unlimited")
	if _, rec, _ := call(t, "GET", k.admin+"/admin/v1/keys/"+keyID, testToken, ""); rec["credits"] != nil {
		t.Errorf("after the edit the API answers credits %v, want null", rec["credits"])
	}
	b.checkConsole()
}

// seedKeys adds a few partner keys through the API, and a week of hourly
// history for one of them straight into the store, so that the list and
// the chart of the screenshots look like a running gateway.
func seedKeys(t *testing.T, k *instance, db string) seededKey {
	t.Helper()
	ids := map[string]string{}
	for _, spec := range []string{
		`{"name":"webshop","owner":"partner-42","scopes":["odoo:res.partner:read","odoo:sale.order:*"],"rate_limits":["10/1s","5000/1h"],"ttl":"2160h"}`,
		`{"name":"crm-sync","owner":"partner-7","scopes":["odoo:crm.lead:*"],"rate_limits":["5/1s"],"ip_allowlist":["203.0.113.0/24"],"credits":{"remaining":48210,"refill":{"interval":"monthly","amount":50000,"day":1}}}`,
		`{"name":"reporting","owner":"acme-bi","scopes":["odoo:account.move:read"],"rate_limits":["1000/1h"],"credits":{"remaining":500,"refill":{"interval":"daily","amount":500}}}`,
		`{"name":"legacy-import","owner":"partner-7","scopes":["route:POST:/api/v1/**"]}`,
	} {
		status, rec, _ := call(t, "POST", k.admin+"/admin/v1/keys", testToken, spec)
		if status != 201 {
			t.Fatalf("seed key: %d %v", status, rec)
		}
		ids[rec["name"].(string)] = rec["id"].(string)
	}
	if s, _, _ := call(t, "POST", k.admin+"/admin/v1/keys/"+ids["legacy-import"]+"/revoke", testToken, ""); s != 200 {
		t.Fatalf("seed revoke: %d", s)
	}
	s, err := keystore.Open(context.Background(), keystore.Config{URL: db, FlushInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	// 167 hours before this one: all inside the 7-day window even if the
	// hour turns while the test runs.
	now := time.Now().UTC().Truncate(time.Hour)
	web := seededKey{id: ids["webshop"]}
	for h := range 167 {
		at := now.Add(-time.Duration(h+1) * time.Hour)
		day := 40 + 35*((h/6)%4) // a daily rhythm, in requests per hour
		for range day {
			s.RecordUse(web.id, true, at)
		}
		for range h % 5 {
			s.RecordUse(web.id, false, at)
		}
		web.allowed, web.denied = web.allowed+day, web.denied+h%5
		for range day / 4 {
			s.RecordUse(ids["crm-sync"], true, at)
		}
	}
	if err := s.Close(); err != nil { // Close flushes
		t.Fatal(err)
	}
	return web
}

// seededKey is the key given a week of history, and its totals.
type seededKey struct {
	id              string
	allowed, denied int
}

// waitAuth asks /auth until it answers want: revocation and rotation reach
// every replica within a second (the key cache is invalidated).
func waitAuth(t *testing.T, k *instance, key string, want int, what string) {
	t.Helper()
	var got int
	for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if got, _ = authStatus(t, k.public, key, "GET", "/api/x"); got == want {
			return
		}
	}
	t.Errorf("/auth with %s: %d, want %d", what, got, want)
}

// browser is one headless Chromium tab for a test, with its console
// collected from the start.
type browser struct {
	t   *testing.T
	ctx context.Context
	dir string

	mu       sync.Mutex
	messages []chromedp.ConsoleMessage
}

const chromiumPath = "/usr/bin/chromium"

func newBrowser(t *testing.T) *browser {
	t.Helper()
	path := chromiumPath
	if _, err := os.Stat(path); err != nil {
		if path, err = exec.LookPath("chromium"); err != nil {
			t.Fatalf("headless Chromium is needed for the console tests: install the Debian package chromium (apt-get install chromium); %s: not found", chromiumPath)
		}
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 900))
	ctx, cancelTimeout := context.WithTimeout(context.Background(), 90*time.Second)
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	bctx, cancelBrowser := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelBrowser(); cancelAlloc(); cancelTimeout() })
	b := &browser{t: t, ctx: bctx, dir: artifactDir(t)}
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("start %s: %v", path, err)
	}
	messages := chromedp.Console(bctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for m, err := range messages {
			if err != nil {
				return
			}
			b.mu.Lock()
			b.messages = append(b.messages, m)
			b.mu.Unlock()
		}
	}()
	t.Cleanup(func() { cancelBrowser(); <-done })
	return b
}

// artifactDir is where the screenshots go: the test's artifact directory
// (kept with go test -artifacts).
func artifactDir(t *testing.T) string { return t.ArtifactDir() }

func (b *browser) do(step string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.fatal(step, err)
	}
}

func (b *browser) fatal(step string, err error) {
	b.t.Helper()
	b.shot("failed")
	b.t.Fatalf("%s: %v\npage: %s\nconsole: %v", step, err, b.evalQuiet(`document.querySelector("main").innerText`), b.messages)
}

func (b *browser) eval(expr string) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[string](expr))
	if err != nil {
		b.t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

func (b *browser) evalQuiet(expr string) string {
	ctx, cancel := context.WithTimeout(b.ctx, 2*time.Second)
	defer cancel()
	v, _ := chromedp.Run(ctx, chromedp.Evaluate[string](expr))
	return v
}

func (b *browser) text(sel string) string {
	b.t.Helper()
	return b.eval(`document.querySelector(` + jsString(sel) + `).textContent`)
}

func (b *browser) value(sel string) string {
	b.t.Helper()
	return b.eval(`document.querySelector(` + jsString(sel) + `).value`)
}

// waitText waits until the element's text contains want.
func (b *browser) waitText(sel, want string) {
	b.t.Helper()
	expr := fmt.Sprintf(`(() => { const el = document.querySelector(%s); return !!el && el.textContent.includes(%s); })()`, jsString(sel), jsString(want))
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		b.fatal(fmt.Sprintf("wait for %q in %s (it holds %q)", want, sel, b.evalQuiet(`(document.querySelector(`+jsString(sel)+`) || {}).textContent || ""`)), err)
	}
}

// waitUsage presses Refresh until the chart's summary shows want: usage
// reaches the database at the next flush (100 ms here).
func (b *browser) waitUsage(want string) {
	b.t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if strings.Contains(b.text("#usage-summary"), want) {
			return
		}
		b.do("refresh usage", chromedp.Click(chromedp.ID("usage-refresh")))
	}
	b.waitText("#usage-summary", want)
}

// shot writes a screenshot of the whole page as an artifact, and with
// -update the ones the README shows into docs/.
func (b *browser) shot(name string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Errorf("screenshot %s: %v", name, err)
		return
	}
	if err := os.WriteFile(filepath.Join(b.dir, "console-"+name+".png"), png, 0o644); err != nil {
		b.t.Error(err)
	}
	if *update && (name == "keys" || name == "usage") {
		if err := os.WriteFile(filepath.Join("..", "..", "docs", "console-"+name+".png"), png, 0o644); err != nil {
			b.t.Error(err)
		}
	}
}

// checkConsole fails on any console error, uncaught exception, CSP
// violation or other browser error. Network errors are expected only for
// the refusals the test provoked (401 of the wrong sign-in, 422 of the bad
// form), on the admin API.
func (b *browser) checkConsole() {
	b.t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, m := range b.messages {
		bad := m.Type == chromedp.ConsoleError || m.IsException()
		if bad && m.Source == "network" && strings.Contains(m.URL, "/admin/v1/") &&
			(strings.Contains(m.Text, "status of 401") || strings.Contains(m.Text, "status of 422")) {
			continue
		}
		if bad || m.Source == "security" {
			b.t.Errorf("browser console: %s (%s, source %q)", m, m.URL, m.Source)
		}
	}
}

// submit presses the form's submit button, as a person would (a script's
// form.submit() would skip the page's submit handler).
func submit(form string) chromedp.Action[chromedp.Void] {
	return chromedp.Click(chromedp.CSS("#" + form + ` button[type="submit"]`))
}

// setField sets an input's or a select's value and fires its input and
// change events, as typing or picking an option does (chromedp.SetValue
// fires none and refuses "", chromedp.Clear empties the attribute only).
func setField(id, value string) chromedp.Action[chromedp.Void] {
	return chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(() => { const el = document.getElementById(%s); el.value = %s;
		el.dispatchEvent(new Event("input", {bubbles: true})); el.dispatchEvent(new Event("change", {bubbles: true})); })()`, jsString(id), jsString(value)))
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
