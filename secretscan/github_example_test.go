package secretscan_test

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/keygate/keygate/httpapi"
	"github.com/keygate/keygate/secretscan"
)

// The example of GitHub's documentation (a test key of theirs, its
// identifier, a payload and its signature) verifies: the handler reads the
// headers, the keys document and the signature as GitHub makes them.
func TestGitHubDocumentedExample(t *testing.T) {
	const (
		kid     = "f9525bf080f75b3506ca1ead061add62b8633a346606dc5fe544e29231c6ee0d"
		sig     = "MEUCIFLZzeK++IhS+y276SRk2Pe5LfDrfvTXu6iwKKcFGCrvAiEAhHN2kDOhy2I6eGkOFmxNkOJ+L2y8oQ9A2T9GGJo6WJY="
		payload = `[{"token":"some_token","type":"some_type","url":"some_url","source":"some_source"}]`
		pub     = "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEsz9ugWDj5jK5ELBK42ynytbo38gP\nHzZFI03Exwz8Lh/tCfL3YxwMdLjB+bMznsanlhK0RwcGP3IDb34kQDIo3Q==\n-----END PUBLIC KEY-----\n"
	)
	doc, _ := json.Marshal(map[string]any{"public_keys": []map[string]any{{"key_identifier": kid, "key": pub, "is_current": true}}})
	gh := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write(doc) }))
	defer gh.Close()
	e := newEnv(t)
	h, err := secretscan.New(secretscan.Config{Keys: e.store, KeysURL: gh.URL})
	if err != nil {
		t.Fatal(err)
	}
	ech := echo.New()
	ech.HTTPErrorHandler = httpapi.ErrorHandler(slog.New(slog.DiscardHandler))
	h.Register(ech.Group(""))
	for name, c := range map[string]struct {
		body string
		want int
	}{"documented_payload_is_200": {payload, 200}, "one_byte_changed_is_401": {strings.Replace(payload, "some_url", "some_urL", 1), 401}} {
		t.Run(name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodPost, "/secret-scanning/github", strings.NewReader(c.body))
			req.Header.Set("GITHUB-PUBLIC-KEY-IDENTIFIER", kid)
			req.Header.Set("GITHUB-PUBLIC-KEY-SIGNATURE", sig)
			rec := httptest.NewRecorder()
			ech.ServeHTTP(rec, req)
			if rec.Code != c.want {
				t.Fatalf("status %d %s, want %d", rec.Code, rec.Body, c.want)
			}
			if c.want == 200 && !strings.Contains(rec.Body.String(), `"label":"false_positive"`) {
				t.Errorf("answer %s, want some_token labelled false_positive", rec.Body)
			}
		})
	}
}
