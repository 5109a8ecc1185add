package proxy_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/keygate/keygate/httpapi"
	"github.com/keygate/keygate/internal/gatewaytest"
	"github.com/keygate/keygate/odoo/xmlrpc"
)

// TestGatewayUnderASpentBudget serves the gateway behind
// httpapi.GuardBodies with a budget of one byte: every body past the
// bytes read free of charge is a stranger's until its key is known. A
// partner is still served, with its key in the header or as the password;
// a stranger gets 503 with Retry-After, in its protocol's shape.
func TestGatewayUnderASpentBudget(t *testing.T) {
	key, ts := spentBudgetServer(t)
	big := []any{[]any{"name", "not ilike", strings.Repeat("z", 64<<10)}} // far past the free 8 KiB
	stranger := gatewaytest.UnknownKey(t)
	type answer struct {
		Status     int
		RetryAfter string
		Outcome    string // the result, or the exception's name
	}
	for _, tc := range []struct {
		name, password, header string
		want                   answer
	}{
		{"key_as_password_is_served", key, "", answer{200, "", "37"}},
		{"key_in_the_header_is_served", "x", key, answer{200, "", "37"}},
		{"stranger_is_503", stranger, "", answer{503, "1", "werkzeug.exceptions.ServiceUnavailable"}},
		{"stranger_in_the_header_is_refused_unread", "x", stranger, answer{200, "", "odoo.exceptions.AccessDenied"}},
	} {
		args := []any{"x", 2, tc.password, "res.partner", "search_count", []any{big}}
		var header []string
		if tc.header != "" {
			header = []string{"Authorization", "Bearer " + tc.header}
		}
		t.Run("jsonrpc_"+tc.name, func(t *testing.T) {
			body, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "method": "call", "id": 1,
				"params": map[string]any{"service": "object", "method": "execute_kw", "args": args}})
			x := gatewaytest.Post(t, ts.URL+"/jsonrpc", "application/json", body, header...)
			var env struct {
				Result any
				Error  *struct{ Data struct{ Name string } }
			}
			_ = json.Unmarshal(x.Body, &env)
			got := answer{x.Status, x.Header.Get("Retry-After"), jsonOutcome(env.Result)}
			if env.Error != nil {
				got.Outcome = env.Error.Data.Name
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Fatalf("(-want +got):\n%s\n%.300s", diff, x.Body)
			}
		})
		t.Run("xmlrpc_"+tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := xmlrpc.EncodeCall(&buf, xmlrpc.Call{Method: "execute_kw", Params: args}); err != nil {
				t.Fatal(err)
			}
			x := gatewaytest.Post(t, ts.URL+"/xmlrpc/2/object", "text/xml", buf.Bytes(), header...)
			got := answer{x.Status, x.Header.Get("Retry-After"), xmlOutcome(t, x.Body)}
			want := tc.want
			if want.Outcome == "odoo.exceptions.AccessDenied" {
				want.Outcome = "fault 3"
			} else if want.Outcome == "werkzeug.exceptions.ServiceUnavailable" {
				want.Outcome = "fault 1"
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Fatalf("(-want +got):\n%s\n%.300s", diff, x.Body)
			}
		})
	}
}

// TestJSON2UnderASpentBudget: JSON-2 carries its key in a header, checked
// before the body is read, so a partner is served under a spent budget
// and a stranger refused without a byte of its body read.
func TestJSON2UnderASpentBudget(t *testing.T) {
	key, ts := spentBudgetServer(t)
	body, _ := json.Marshal(map[string]any{"domain": []any{[]any{"name", "not ilike", strings.Repeat("z", 64<<10)}}})
	for _, tc := range []struct {
		name, key string
		status    int
		outcome   string
	}{
		{"key_is_served", key, 200, "37"},
		{"stranger_is_refused_unread", gatewaytest.UnknownKey(t), 401, "werkzeug.exceptions.Unauthorized"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			x := gatewaytest.Post(t, ts.URL+"/json/2/res.partner/search_count", "application/json", body,
				"Authorization", "Bearer "+tc.key)
			var e struct{ Name string }
			got := string(x.Body)
			if json.Unmarshal(x.Body, &e) == nil && e.Name != "" {
				got = e.Name
			}
			if x.Status != tc.status || got != tc.outcome {
				t.Fatalf("got %d %.300s, want %d %s", x.Status, x.Body, tc.status, tc.outcome)
			}
		})
	}
}

// TestCallKWUnderASpentBudget: the web session is looked up before the
// body is read, as Odoo authenticates a route before reading its JSON, so
// a session client is served under a spent budget and a request without a
// live session is answered SessionExpired without its body read.
func TestCallKWUnderASpentBudget(t *testing.T) {
	key, ts := spentBudgetServer(t)
	auth, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "method": "call", "id": 1,
		"params": map[string]any{"db": "x", "login": "x", "password": key}})
	x := gatewaytest.Post(t, ts.URL+"/web/session/authenticate", "application/json", auth)
	var session string
	for _, ck := range x.Header.Values("Set-Cookie") {
		if v, ok := strings.CutPrefix(ck, "session_id="); ok {
			session, _, _ = strings.Cut(v, ";")
		}
	}
	if session == "" {
		t.Fatalf("authenticate set no session: %d %.300s", x.Status, x.Body)
	}
	body, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "method": "call", "id": 2,
		"params": map[string]any{"model": "res.partner", "method": "search_count",
			"args": []any{[]any{[]any{"name", "not ilike", strings.Repeat("z", 64<<10)}}}, "kwargs": map[string]any{}}})
	for _, tc := range []struct {
		name, session, want string
	}{
		{"session_is_served", session, "37"},
		{"no_session_is_refused_unread", "nope", "odoo.http.SessionExpiredException"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			x := gatewaytest.Post(t, ts.URL+"/web/dataset/call_kw", "application/json", body,
				"Cookie", "session_id="+tc.session)
			var env struct {
				Result any
				Error  *struct{ Data struct{ Name string } }
			}
			_ = json.Unmarshal(x.Body, &env)
			got := jsonOutcome(env.Result)
			if env.Error != nil {
				got = env.Error.Data.Name
			}
			if x.Status != 200 || got != tc.want {
				t.Fatalf("got %d %.300s, want 200 %s", x.Status, x.Body, tc.want)
			}
		})
	}
}

// TestScannedKeyIsNotTheCheckedKey: the early scan reads the first
// "params" member, the full decode (as Odoo's json.loads) the last one. A
// valid key in a first "params" only spares the body the budget: the call
// is decided on the last one's password, here a stranger's, and refused.
func TestScannedKeyIsNotTheCheckedKey(t *testing.T) {
	h := newHarness(t, gatewaytest.Options{})
	key := h.Key(t, "default", "odoo:res.partner:read")
	stranger := gatewaytest.UnknownKey(t)
	call := func(password string) string {
		b, _ := json.Marshal(map[string]any{"service": "object", "method": "execute_kw",
			"args": []any{"x", 2, password, "res.partner", "search_count", []any{[]any{}}}})
		return string(b)
	}
	body := `{"jsonrpc": "2.0", "method": "call", "id": 1, "params": ` + call(key) + `, "params": ` + call(stranger) + `}`
	x := gatewaytest.Post(t, h.URL+"/jsonrpc", "application/json", []byte(body))
	var env struct {
		Error *struct{ Data struct{ Name string } }
	}
	_ = json.Unmarshal(x.Body, &env)
	if env.Error == nil || env.Error.Data.Name != "odoo.exceptions.AccessDenied" || len(h.Odoo.Calls()) != 0 {
		t.Fatalf("%d %.300s: want AccessDenied, nothing sent to Odoo (%d calls)", x.Status, x.Body, len(h.Odoo.Calls()))
	}
}

func jsonOutcome(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func xmlOutcome(t testing.TB, body []byte) string {
	t.Helper()
	v, err := xmlrpc.DecodeResponse(bytes.NewReader(body))
	var f *xmlrpc.Fault
	switch {
	case err == nil:
		return jsonOutcome(v)
	case errors.As(err, &f):
		return "fault " + jsonOutcome(f.Code)
	}
	t.Fatalf("answer %.300s: %v", body, err)
	return ""
}

// spentBudgetServer serves the gateway behind httpapi.GuardBodies with a
// budget of one byte, and returns a key that may read partners.
func spentBudgetServer(t *testing.T) (key string, ts *httptest.Server) {
	t.Helper()
	h := newHarness(t, gatewaytest.Options{})
	key = h.Key(t, "default", "odoo:res.partner:read")
	e := gatewaytest.NewEcho(slog.New(slog.DiscardHandler))
	e.Use(httpapi.GuardBodies(httpapi.BodyConfig{Budget: httpapi.NewBudget(1)}))
	h.Gateway.Register(e.Group(""))
	ts = httptest.NewServer(e)
	t.Cleanup(ts.Close)
	return key, ts
}
