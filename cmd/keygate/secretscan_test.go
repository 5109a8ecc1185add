package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/keygate/keygate/internal/testenv"
)

// The wired binary takes a signed GitHub alert on the public listener,
// revokes the leaked key, and counts it on /metrics.
func TestSecretScanningThroughServe(t *testing.T) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKIXPublicKey(&priv.PublicKey)
	doc, _ := json.Marshal(map[string]any{"public_keys": []map[string]any{
		{"key_identifier": "gh-test-1", "key": string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})), "is_current": true}}})
	gh := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write(doc) }))
	defer gh.Close()
	k := start(t, "KEYGATE_DATABASE_URL="+sqliteURL(t), "KEYGATE_GITHUB_KEYS_URL="+gh.URL)
	_, key, _ := call(t, "POST", k.admin+"/admin/v1/keys", testToken, `{"name":"leaky","scopes":["route:*:/**"]}`)
	plain := key["key"].(string)
	body := `[{"token":"` + plain + `","type":"keygate_api_key","url":"https://github.com/o/r/blob/c/.env","source":"content"}]`
	digest := sha256.Sum256([]byte(body))
	sig, _ := ecdsa.SignASN1(rand.Reader, priv, digest[:])
	post := func(sig string) (int, string) {
		req, _ := http.NewRequest("POST", k.public+"/secret-scanning/github", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Github-Public-Key-Identifier", "gh-test-1")
		req.Header.Set("Github-Public-Key-Signature", sig)
		resp, b := testenv.Do(t, req)
		return resp.StatusCode, string(b)
	}
	if s, b := post(base64.StdEncoding.EncodeToString([]byte("forged"))); s != 401 {
		t.Fatalf("forged signature: %d %s, want 401", s, b)
	}
	if s, _ := authStatus(t, k.public, plain, "GET", "/"); s != 200 {
		t.Fatalf("/auth with the key after a forged alert: %d, want 200 (nothing done)", s)
	}
	s, answer := post(base64.StdEncoding.EncodeToString(sig))
	h := sha256.Sum256([]byte(plain))
	want := `[{"token_hash":"` + hex.EncodeToString(h[:]) + `","token_type":"keygate_api_key","label":"true_positive"}]` + "\n"
	if s != 200 || answer != want {
		t.Fatalf("signed alert: %d %q, want 200 %q", s, answer, want)
	}
	if s, _ := authStatus(t, k.public, plain, "GET", "/"); s != 401 {
		t.Errorf("/auth with the leaked key: %d, want 401", s)
	}
	_, rec, _ := call(t, "GET", k.admin+"/admin/v1/keys/"+key["id"].(string), testToken, "")
	_, events, _ := call(t, "GET", k.admin+"/admin/v1/audit?key_id="+key["id"].(string), testToken, "")
	last := events["data"].([]any)[0].(map[string]any)
	if diff := cmp.Diff([]any{"revoked", "key.revoke", "secret-scanning:github"}, []any{rec["status"], last["action"], last["actor"]}); diff != "" {
		t.Errorf("key status, last audit action and actor (-want +got):\n%s", diff)
	}
	resp, err := http.Get(k.admin + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, line := range []string{`keygate_secret_scanning_alerts_total{result="accepted"} 1`, `keygate_secret_scanning_alerts_total{result="rejected"} 1`,
		`keygate_secret_scanning_revocations_total 1`, `keygate_secret_scanning_tokens_total{label="true_positive"} 1`} {
		if !strings.Contains(string(metrics), line) {
			t.Errorf("/metrics lacks %s", line)
		}
	}
	if strings.Contains(k.logs.String(), plain) || !strings.Contains(k.logs.String(), `"msg":"leaked key revoked"`) {
		t.Error("want the revocation logged, never the key")
	}
}
