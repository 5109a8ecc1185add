package secretscan_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/keygate/keygate/httpapi"
	"github.com/keygate/keygate/internal/testenv"
	"github.com/keygate/keygate/keystore"
	"github.com/keygate/keygate/secretscan"
)

// Whatever is wrong with the signature, the answer is 401 and the reported
// key stays active.
func TestBadSignatureChangesNothing(t *testing.T) {
	e := newEnv(t)
	other := newSigner(t, "other")
	cases := []struct {
		name string
		req  func(body string) (id, sig, sent string)
		want int
	}{
		{"missing_headers_is_401", func(b string) (string, string, string) { return "", "", b }, 401},
		{"missing_signature_is_401", func(b string) (string, string, string) { return e.signer.id, "", b }, 401},
		{"missing_identifier_is_401", func(b string) (string, string, string) { return "", e.signer.sign(t, []byte(b)), b }, 401},
		{"signature_not_base64_is_401", func(b string) (string, string, string) { return e.signer.id, "%%%", b }, 401},
		{"signature_not_asn1_is_401", func(b string) (string, string, string) { return e.signer.id, "AAAA", b }, 401},
		{"tampered_body_is_401", func(b string) (string, string, string) {
			return e.signer.id, e.signer.sign(t, []byte(b)), strings.Replace(b, "content", "c0ntent", 1)
		}, 401},
		{"signed_by_another_key_is_401", func(b string) (string, string, string) { return e.signer.id, other.sign(t, []byte(b)), b }, 401},
		{"unknown_identifier_is_401", func(b string) (string, string, string) { return other.id, other.sign(t, []byte(b)), b }, 401},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			id, token := e.key(t, c.name)
			kid, sig, sent := c.req(alerts(t, token))
			status, body := e.post(t, sent, kid, sig)
			if status != c.want {
				t.Fatalf("status %d %s, want %d", status, body, c.want)
			}
			var errBody struct {
				Error string `json:"error"`
				Code  int    `json:"code"`
			}
			if json.Unmarshal([]byte(body), &errBody) != nil || errBody.Code != c.want || errBody.Error == "" {
				t.Errorf("body %s, want a JSON {error, code}", body)
			}
			if st := e.status(t, id); st != keystore.StatusActive {
				t.Errorf("the reported key is %s after a refused alert, want active", st)
			}
		})
	}
	if got := e.handler.Stats().Rejected; got != uint64(len(cases)) {
		t.Errorf("Stats().Rejected = %d, want %d", got, len(cases))
	}
}

func TestAlertRevokesLiveKey(t *testing.T) {
	e := newEnv(t)
	id, token := e.key(t, "shop")
	if _, err := e.store.Verify(context.Background(), token); err != nil { // cached now
		t.Fatal(err)
	}
	status, body := e.signed(t, e.signer, alerts(t, token))
	if status != 200 {
		t.Fatalf("status %d %s, want 200", status, body)
	}
	var got []secretscan.Result
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatal(err)
	}
	want := []secretscan.Result{{TokenHash: tokenHash(token), TokenType: "keygate_api_key", Label: secretscan.TruePositive}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("answer (-want +got):\n%s", diff)
	}
	if _, err := e.store.Verify(context.Background(), token); !errors.Is(err, keystore.ErrRevoked) {
		t.Errorf("Verify after the alert = %v, want ErrRevoked", err)
	}
	events, _, _ := e.store.Audit(context.Background(), keystore.AuditFilter{KeyID: id})
	var details map[string]any
	_ = json.Unmarshal(events[0].Details, &details)
	wantDetails := map[string]any{"reason": "leaked", "reported_by": "github", "token_type": "keygate_api_key",
		"url": "https://github.com/octocat/hello/blob/abc/.env", "source": "content"}
	if events[0].Action != keystore.ActionKeyRevoke || events[0].Actor != secretscan.Actor || !cmp.Equal(wantDetails, details) {
		t.Errorf("audit = %s by %s %v, want key.revoke by %s with %v", events[0].Action, events[0].Actor, details, secretscan.Actor, wantDetails)
	}
	logs := e.logs.String()
	if !strings.Contains(logs, `"msg":"leaked key revoked"`) || !strings.Contains(logs, id) || strings.Contains(logs, token) || strings.Contains(logs, token[:20]) {
		t.Errorf("logs %s: want the revocation logged by key id, never the token", logs)
	}
	if st := e.handler.Stats(); st.Alerts != 1 || st.Revoked != 1 || st.TruePositives != 1 {
		t.Errorf("Stats = %+v, want 1 alert, 1 true positive, 1 revoked", st)
	}
}

// GitHub may send an alert again: the answer is the same and the key is
// revoked (and audited) once.
func TestReplayIsIdempotent(t *testing.T) {
	e := newEnv(t)
	id, token := e.key(t, "shop")
	body := alerts(t, token)
	sig := e.signer.sign(t, []byte(body))
	s1, first := e.post(t, body, e.signer.id, sig)
	s2, second := e.post(t, body, e.signer.id, sig)
	if s1 != 200 || s2 != 200 || first != second {
		t.Fatalf("two sends: %d %s / %d %s; want the same 200", s1, first, s2, second)
	}
	events, _, _ := e.store.Audit(context.Background(), keystore.AuditFilter{KeyID: id})
	if n := len(events); n != 2 || events[0].Action != keystore.ActionKeyRevoke {
		t.Errorf("audit of the key: %d events (%v), want create then one revoke", n, events)
	}
	if st := e.handler.Stats(); st.Revoked != 1 || st.TruePositives != 2 {
		t.Errorf("Stats = %+v, want 1 revoked, 2 true positives", st)
	}
}

func TestBatchMixesLiveRevokedExpiredAndGarbage(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	liveID, live := e.key(t, "live")
	revokedID, revoked := e.key(t, "revoked")
	if _, err := e.store.Revoke(ctx, "test", revokedID); err != nil {
		t.Fatal(err)
	}
	past := time.Now().Add(-time.Hour)
	expRec, expKey, err := e.store.Create(ctx, "test", keystore.Spec{Name: "expired"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.Update(ctx, "test", expRec.ID, keystore.Patch{ExpiresAt: keystore.Some(&past)}); err != nil {
		t.Fatal(err)
	}
	foreign, _ := keystore.Generate("kg") // well formed, never issued here
	garbage := "kg_thisisnotakeyatall"
	tokens := []string{live, revoked, expKey.Reveal(), foreign.Reveal(), garbage, ""}
	status, body := e.signed(t, e.signer, alerts(t, tokens...))
	if status != 200 {
		t.Fatalf("status %d %s", status, body)
	}
	var got []secretscan.Result
	_ = json.Unmarshal([]byte(body), &got)
	labels := []string{secretscan.TruePositive, secretscan.TruePositive, secretscan.TruePositive,
		secretscan.FalsePositive, secretscan.FalsePositive, secretscan.FalsePositive}
	var want []secretscan.Result
	for i, tok := range tokens {
		want = append(want, secretscan.Result{TokenHash: tokenHash(tok), TokenType: "keygate_api_key", Label: labels[i]})
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("answer (-want +got):\n%s", diff)
	}
	for name, id := range map[string]string{"live": liveID, "revoked": revokedID, "expired": expRec.ID} {
		if st := e.status(t, id); st != keystore.StatusRevoked {
			t.Errorf("%s key is %s after the batch, want revoked", name, st)
		}
	}
	events, _, _ := e.store.Audit(ctx, keystore.AuditFilter{KeyID: revokedID})
	if events[0].Actor != "test" {
		t.Errorf("the key revoked before was revoked again by %s", events[0].Actor)
	}
	if st := e.handler.Stats(); st.Revoked != 2 || st.TruePositives != 3 || st.FalsePositives != 3 {
		t.Errorf("Stats = %+v, want 2 revoked (live, expired), 3 true and 3 false positives", st)
	}
}

// An unknown identifier fetches the keys document again, at most once a
// minute; a key GitHub starts using is then accepted, a withdrawn one no
// longer is.
func TestUnknownIdentifierRefreshesAtMostOnceAMinute(t *testing.T) {
	e := newEnv(t)
	_, token := e.key(t, "shop")
	body := alerts(t, token)
	if s, b := e.signed(t, e.signer, body); s != 200 || e.gh.count() != 1 {
		t.Fatalf("first alert: %d %s, %d fetches; want 200 after one fetch", s, b, e.gh.count())
	}
	bogus := newSigner(t, "bogus")
	if s, _ := e.signed(t, bogus, body); s != 401 || e.gh.count() != 1 {
		t.Fatalf("unknown identifier right after the first fetch: %d after %d fetches, want 401 without a fetch", s, e.gh.count())
	}
	e.clock.Add(time.Minute)
	if s, _ := e.signed(t, bogus, body); s != 401 || e.gh.count() != 2 {
		t.Fatalf("unknown identifier: %d after %d fetches, want 401 after a second fetch", s, e.gh.count())
	}
	next := newSigner(t, "next")
	e.gh.add(next) // GitHub starts signing with a new key
	e.clock.Add(30 * time.Second)
	if s, _ := e.signed(t, next, body); s != 401 || e.gh.count() != 2 {
		t.Errorf("new key 30s after the last fetch: %d after %d fetches, want 401 and no fetch (rate limit)", s, e.gh.count())
	}
	if s, _ := e.signed(t, e.signer, body); s != 200 || e.gh.count() != 2 {
		t.Errorf("known key meanwhile: %d after %d fetches, want 200 without a fetch", s, e.gh.count())
	}
	e.clock.Add(31 * time.Second)
	if s, b := e.signed(t, next, body); s != 200 || e.gh.count() != 3 {
		t.Errorf("new key a minute after the last fetch: %d %s after %d fetches, want 200 after a third fetch", s, b, e.gh.count())
	}
	e.gh.replace(next) // GitHub withdraws the first key
	e.clock.Add(time.Minute)
	if s, _ := e.signed(t, bogus, body); s != 401 || e.gh.count() != 4 {
		t.Fatalf("unknown identifier: %d after %d fetches", s, e.gh.count())
	}
	if s, _ := e.signed(t, e.signer, body); s != 401 {
		t.Errorf("withdrawn key after a fetch: %d, want 401", s)
	}
	if st := e.handler.Stats(); st.KeyFetches != 4 {
		t.Errorf("Stats().KeyFetches = %d, want 4", st.KeyFetches)
	}
}

// An unchanged document (ETag) keeps the cached keys.
func TestUnchangedKeysDocumentKeepsKeys(t *testing.T) {
	e := newEnv(t)
	_, token := e.key(t, "shop")
	body := alerts(t, token)
	e.signed(t, e.signer, body)
	e.clock.Add(2 * time.Minute)
	e.signed(t, newSigner(t, "bogus"), body) // refetch: 304
	if s, b := e.signed(t, e.signer, body); s != 200 || e.gh.count() != 2 {
		t.Errorf("known key after a 304: %d %s after %d fetches, want 200 after 2", s, b, e.gh.count())
	}
}

// When GitHub's keys cannot be fetched the alert is refused with 503 (GitHub
// sends it again) and nothing is done; the document is not asked for again
// within the minute.
func TestKeysUnavailableIs503(t *testing.T) {
	e := newEnv(t)
	id, token := e.key(t, "shop")
	body := alerts(t, token)
	e.gh.setDown(true)
	for range 2 {
		if s, b := e.signed(t, e.signer, body); s != 503 || !strings.Contains(b, `"code":503`) {
			t.Fatalf("keys unavailable: %d %s, want 503", s, b)
		}
	}
	if e.gh.count() != 1 || e.status(t, id) != keystore.StatusActive {
		t.Fatalf("%d fetches, key %s; want 1 fetch and the key untouched", e.gh.count(), e.status(t, id))
	}
	e.gh.setDown(false)
	e.clock.Add(time.Minute)
	if s, b := e.signed(t, e.signer, body); s != 200 || e.status(t, id) != keystore.StatusRevoked {
		t.Errorf("after GitHub is back: %d %s, key %s; want 200 and revoked", s, b, e.status(t, id))
	}
}

func TestBodyChecks(t *testing.T) {
	e := newEnv(t)
	id, token := e.key(t, "shop")
	cases := []struct {
		name, body string
		want       int
	}{
		{"empty_array_is_200", `[]`, 200},
		{"unknown_fields_are_ignored", `[{"token":"x","type":"t","url":"u","source":"s","new_field":1}]`, 200},
		{"url_and_source_may_be_absent", `[{"token":"x","type":"t"}]`, 200},
		{"token_and_type_may_be_absent", `[{"url":"u"}]`, 200},
		{"not_json_is_400", `hello`, 400},
		{"object_is_400", `{"token":"x"}`, 400},
		{"null_is_400", `null`, 400},
		{"null_entry_is_400", `[null]`, 400},
		{"token_not_a_string_is_400", `[{"token":5,"type":"t"}]`, 400},
		{"type_not_a_string_is_400", `[{"token":"x","type":["t"]}]`, 400},
		{"url_not_a_string_is_400", `[{"token":"x","type":"t","url":{}}]`, 400},
		{"source_not_a_string_is_400", `[{"token":"x","type":"t","source":1}]`, 400},
		{"bad_second_alert_is_400", `[{"token":"x","type":"t"},{"token":true,"type":"t"}]`, 400},
		{"trailing_data_is_400", `[] []`, 400},
		{"over_the_limit_is_413", `[{"token":"` + strings.Repeat("x", 65<<10) + `","type":"t"}]`, 413},
		{"signed_bad_body_does_nothing", alerts(t, token) + "x", 400},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if s, b := e.signed(t, e.signer, c.body); s != c.want {
				t.Errorf("status %d %s, want %d", s, b, c.want)
			}
		})
	}
	// signed_bad_body_does_nothing: the key its token names is still live.
	if got := e.status(t, id); got != keystore.StatusActive {
		t.Errorf("key after refused bodies = %s, want active", got)
	}
}

// A caller that hangs up while the keys document is fetched does not leave
// a failed fetch behind: the next alert needs no fetch.
func TestFetchOutlivesTheRequest(t *testing.T) {
	e := newEnv(t)
	_, token := e.key(t, "shop")
	body := alerts(t, token)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	req := httptest.NewRequest(http.MethodPost, "/secret-scanning/github", strings.NewReader(body)).WithContext(ctx)
	req.Header.Set(secretscan.HeaderKeyIdentifier, e.signer.id)
	req.Header.Set(secretscan.HeaderKeySignature, e.signer.sign(t, []byte(body)))
	e.echo.ServeHTTP(httptest.NewRecorder(), req)
	if s, b := e.signed(t, e.signer, body); s != 200 || e.gh.count() != 1 {
		t.Errorf("after a hung-up request: %d %s after %d fetches, want 200 after the one fetch", s, b, e.gh.count())
	}
}

// TestBusyBudgetIs503: an alert read while the budget of strangers' body
// bytes is spent is refused as httpapi.Bind refuses such a body (503 with
// Retry-After), before its signature is checked or anything revoked.
func TestBusyBudgetIs503(t *testing.T) {
	e := newEnv(t)
	e.echo.Use(httpapi.GuardBodies(httpapi.BodyConfig{Budget: httpapi.NewBudget(1), Grace: 1}))
	id, token := e.key(t, "guarded")
	body := alerts(t, token) + strings.Repeat(" ", 32<<10)
	req, _ := http.NewRequest(http.MethodPost, e.url, strings.NewReader(body))
	req.Header.Set(secretscan.HeaderKeyIdentifier, e.signer.id)
	req.Header.Set(secretscan.HeaderKeySignature, e.signer.sign(t, []byte(body)))
	resp, b := testenv.Do(t, req)
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") != httpapi.BusyRetryAfter {
		t.Fatalf("alert over a spent budget = %d (Retry-After %q) %s, want 503 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"), b)
	}
	if got := e.status(t, id); got != keystore.StatusActive {
		t.Errorf("key after a refused alert = %s, want active", got)
	}
}
