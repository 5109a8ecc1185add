package authz_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/labstack/echo/v4"

	"github.com/keygate/keygate/authz"
	"github.com/keygate/keygate/httpapi"
	"github.com/keygate/keygate/keystore"
)

// server is /auth behind httpapi.Chain, as serve runs it: the proxy's
// request id (requestID, unless empty) is answered, and logged is the key
// id and owner of the last access line.
type server struct {
	echo      *echo.Echo
	requestID string
	log       bytes.Buffer
	logged    map[string]any
}

func newServer(t testing.TB, a *authz.Authorizer, requestID string) *server {
	t.Helper()
	s := &server{echo: echo.New(), requestID: requestID}
	s.echo.Use(httpapi.Chain(httpapi.ChainConfig{Log: slog.New(slog.NewJSONHandler(&s.log, nil))}))
	authz.NewHandler(a).Register(s.echo.Group(""))
	return s
}

// do sends a request from a loopback proxy.
func (s *server) do(method string, header http.Header) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, "/auth", nil)
	r.RemoteAddr, r.Header = "127.0.0.1:40000", header.Clone()
	if r.Header == nil {
		r.Header = http.Header{}
	}
	if s.requestID != "" {
		r.Header.Set(echo.HeaderXRequestID, s.requestID)
	}
	w := httptest.NewRecorder()
	s.log.Reset()
	s.echo.ServeHTTP(w, r)
	var line map[string]any
	if err := json.Unmarshal(s.log.Bytes(), &line); err != nil {
		s.logged = map[string]any{"unreadable access line": s.log.String()} // no wantLogged matches it
	} else {
		s.logged = map[string]any{"key_id": line["key_id"], "owner": line["owner"]}
	}
	return w
}

func TestHandler(t *testing.T) {
	e := newEnv(t)
	rec, key := e.key(t, keystore.Spec{Owner: "partner-42", Scopes: []string{"route:GET:/api/**", "admin"}, RateLimits: []string{"5/1s"}})
	tests := []struct {
		name       string
		method     string
		header     http.Header
		wantStatus int
		wantHeader http.Header
		wantBody   string
		wantLogged map[string]any
	}{
		{
			name: "allowed_is_200_with_identity_and_ratelimit", method: "GET",
			header:     hdr("X-Api-Key", key, "X-Forwarded-Method", "GET", "X-Forwarded-Uri", "/api/v1/x?y=1"),
			wantStatus: 200,
			wantHeader: hdr("X-Request-Id", "req-1", "Ratelimit-Policy", `"1s";q=5;w=1`, "Ratelimit", `"1s";r=4;t=2`,
				"X-Keygate-Key-Id", rec.ID, "X-Keygate-Owner", "partner-42", "X-Keygate-Scopes", "route:GET:/api/**,admin"),
			wantLogged: map[string]any{"key_id": rec.ID, "owner": "partner-42"},
		},
		{
			name: "any_method_of_auth_itself_works", method: "HEAD",
			header:     hdr("Authorization", "Bearer "+key, "X-Original-Method", "GET", "X-Original-URI", "/api/"),
			wantStatus: 200,
			wantHeader: hdr("X-Request-Id", "req-1", "Ratelimit-Policy", `"1s";q=5;w=1`, "Ratelimit", `"1s";r=3;t=2`,
				"X-Keygate-Key-Id", rec.ID, "X-Keygate-Owner", "partner-42", "X-Keygate-Scopes", "route:GET:/api/**,admin"),
			wantLogged: map[string]any{"key_id": rec.ID, "owner": "partner-42"},
		},
		{
			name: "missing_is_401_json", method: "GET", header: hdr("X-Forwarded-Uri", "/api/x"),
			wantStatus: 401,
			wantHeader: hdr("X-Request-Id", "req-1", "Www-Authenticate", `Bearer realm="keygate"`, "Content-Type", "application/json"),
			wantBody:   `{"error":"missing credential","code":401,"request_id":"req-1"}`,
			wantLogged: map[string]any{"key_id": nil, "owner": nil},
		},
		{
			name: "unscoped_is_403_json", method: "POST",
			header:     hdr("X-Api-Key", key, "X-Forwarded-Method", "DELETE", "X-Forwarded-Uri", "/api/x"),
			wantStatus: 403,
			wantHeader: hdr("X-Request-Id", "req-1", "Content-Type", "application/json"),
			wantBody:   `{"error":"no scope of this key grants the request","code":403,"request_id":"req-1"}`,
			wantLogged: map[string]any{"key_id": rec.ID, "owner": "partner-42"},
		},
	}
	s := newServer(t, e.auth, "req-1")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := s.do(tt.method, tt.header)
			if w.Code != tt.wantStatus {
				t.Fatalf("status %d, want %d; body %s", w.Code, tt.wantStatus, w.Body)
			}
			if diff := cmp.Diff(tt.wantHeader, w.Header()); diff != "" {
				t.Errorf("header (-want +got):\n%s", diff)
			}
			if got := strings.TrimSpace(w.Body.String()); got != tt.wantBody {
				t.Errorf("body %s, want %s", got, tt.wantBody)
			}
			if diff := cmp.Diff(tt.wantLogged, s.logged); diff != "" {
				t.Errorf("access line (-want +got):\n%s", diff)
			}
		})
	}
}

func TestHandlerAnswersEveryMethod(t *testing.T) {
	e := newEnv(t)
	s := newServer(t, e.auth, "")
	for _, m := range []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"} {
		if w := s.do(m, nil); w.Code != http.StatusUnauthorized {
			body, _ := io.ReadAll(w.Body)
			t.Errorf("%s /auth: %d %s, want 401", m, w.Code, body)
		}
	}
}
