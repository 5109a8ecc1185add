package odootest

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// webClient talks to a double through its handler, keeping the session
// cookie as a browser would.
type webClient struct {
	tb  testing.TB
	s   *Server
	sid string
}

func newWebClient(tb testing.TB, version string) *webClient {
	tb.Helper()
	s, err := New(Config{Version: version})
	if err != nil {
		tb.Fatal(err)
	}
	return &webClient{tb: tb, s: s}
}

// post sends a JSON-RPC request to a web route and returns the decoded
// envelope; a Set-Cookie session_id replaces the client's.
func (c *webClient) post(path string, params string) Object {
	c.tb.Helper()
	r := httptest.NewRequest(http.MethodPost, path, strings.NewReader(`{"jsonrpc": "2.0", "method": "call", "id": 1, "params": `+params+`}`))
	r.Header.Set("Content-Type", "application/json")
	if c.sid != "" {
		r.AddCookie(&http.Cookie{Name: "session_id", Value: c.sid})
	}
	rec := serve(c.s, r)
	for _, ck := range rec.Result().Cookies() {
		if ck.Name == "session_id" {
			c.sid = ck.Value
		}
	}
	v, err := decodeJSON(rec.Body.Bytes())
	if err != nil {
		c.tb.Fatalf("%s: %v\n%s", path, err, rec.Body)
	}
	return v.(Object)
}

// errorName is the envelope's error data.name, or "" for a result.
func errorName(o Object) string {
	e, ok := o.Get("error")
	if !ok {
		return ""
	}
	data, _ := e.(Object).Get("data")
	name, _ := data.(Object).Get("name")
	return name.(string)
}

func resultOf(o Object) any {
	v, _ := o.Get("result")
	return v
}

const searchReadParams = `{"model": "res.partner", "method": "search_read", "args": [[["id", "=", 1]]], "kwargs": {"fields": ["name"]}}`

func TestWebSessionGuarantees(t *testing.T) {
	for _, version := range []string{"18.0", "19.0"} {
		t.Run(version, func(t *testing.T) {
			t.Run("an API key is not a password", func(t *testing.T) {
				c := newWebClient(t, version)
				got := c.post("/web/session/authenticate", `{"db": "odoo_test", "login": "admin", "password": "`+KeyGlobal+`"}`)
				if errorName(got) != clsAccessDenied || c.sid != "" {
					t.Errorf("authenticate with a key: %v, cookie %q; want AccessDenied, no cookie", got, c.sid)
				}
			})
			t.Run("login replaces the session, and the old id dies", func(t *testing.T) {
				c := newWebClient(t, version)
				c.post("/web/webclient/version_info", `{}`)
				anonymous := c.sid
				c.post("/web/session/authenticate", `{"db": "odoo_test", "login": "demo", "password": "demo"}`)
				if c.sid == anonymous || len(c.sid) != 84 {
					t.Fatalf("session %q after login, was %q", c.sid, anonymous)
				}
				if got := resultOf(c.post("/web/dataset/call_kw", `{"model": "res.users", "method": "context_get", "args": [], "kwargs": {}}`)); !cmp.Equal(got, userContext(UIDDemo)) {
					t.Errorf("call_kw runs as %v, want the demo user", got)
				}
				c.sid = anonymous
				if got := errorName(c.post("/web/session/get_session_info", `{}`)); got != clsSessionExpired {
					t.Errorf("the replaced anonymous session answers %q, want SessionExpired", got)
				}
			})
			t.Run("destroy ends the session", func(t *testing.T) {
				c := newWebClient(t, version)
				c.post("/web/session/authenticate", `{"db": "odoo_test", "login": "admin", "password": "admin"}`)
				admin := c.sid
				c.post("/web/session/destroy", `{}`)
				c.sid = admin
				if got := errorName(c.post("/web/dataset/call_kw/res.partner/search_read", searchReadParams)); got != clsSessionExpired {
					t.Errorf("destroyed session answers %q, want SessionExpired", got)
				}
			})
			t.Run("Reset forgets every session", func(t *testing.T) {
				c := newWebClient(t, version)
				c.post("/web/session/authenticate", `{"db": "odoo_test", "login": "admin", "password": "admin"}`)
				c.s.Reset()
				if got := errorName(c.post("/web/dataset/call_kw", searchReadParams)); got != clsSessionExpired {
					t.Errorf("session after Reset answers %q, want SessionExpired", got)
				}
			})
			t.Run("admin login sets web.base.url to the URL it came in on", func(t *testing.T) {
				c := newWebClient(t, version)
				info := resultOf(c.post("/web/session/authenticate", `{"db": "odoo_test", "login": "admin", "password": "admin"}`))
				if url, _ := info.(Object).Get("web.base.url"); url != "http://example.com" { // httptest's host
					t.Errorf("web.base.url = %v", url)
				}
			})
		})
	}
}

func TestJSON2Is19Only(t *testing.T) {
	r := httptest.NewRequest(http.MethodPost, "/json/2/res.partner/search_count", strings.NewReader(`{"domain": []}`))
	r.Header.Set("Authorization", "bearer "+KeyGlobal)
	if rec := serve(newDouble(t), r); rec.Code != http.StatusNotFound || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html") {
		t.Errorf("18.0 answers JSON-2 with %d %s, want Odoo 18's 404 page", rec.Code, rec.Header().Get("Content-Type"))
	}
}

// TestCallsRecordJSON2AndWeb: every way in is recorded with who it ran as
// and how it was authenticated, refused calls included.
func TestCallsRecordJSON2AndWeb(t *testing.T) {
	c := newWebClient(t, "19.0")
	json2 := func(key, model, method, body string) {
		r := httptest.NewRequest(http.MethodPost, "/json/2/"+model+"/"+method, strings.NewReader(body))
		r.Header.Set("Authorization", "bearer "+key)
		serve(c.s, r)
	}
	json2(KeyGlobal, "res.partner", "search_count", `{"domain": []}`)
	json2("wrong", "res.partner", "unlink", `{"ids": [1]}`)
	json2(KeyDemo, "ir.config_parameter", "search_read", `{"domain": []}`)
	c.post("/web/dataset/call_kw", searchReadParams)
	c.post("/web/session/authenticate", `{"db": "odoo_test", "login": "admin", "password": "admin"}`)
	c.post("/web/dataset/call_kw/res.partner/search_read", searchReadParams)
	c.post("/web/session/destroy", `{}`)
	web := func(path, method string, uid int64, auth, model, modelMethod string) Call {
		db := ""
		if uid != 0 {
			db = "odoo_test"
		}
		return Call{Protocol: "web", Path: path, Service: "web", Method: method, DB: db, UID: uid, Auth: auth,
			Model: model, ModelMethod: modelMethod}
	}
	want := []Call{
		{Protocol: "json2", Path: "/json/2/res.partner/search_count", DB: "odoo_test", UID: UIDAdmin, Auth: "apikey",
			Model: "res.partner", ModelMethod: "search_count"},
		{Protocol: "json2", Path: "/json/2/res.partner/unlink", DB: "odoo_test", Model: "res.partner", ModelMethod: "unlink"},
		{Protocol: "json2", Path: "/json/2/ir.config_parameter/search_read", DB: "odoo_test", UID: UIDDemo, Auth: "apikey",
			Model: "ir.config_parameter", ModelMethod: "search_read"},
		web("/web/dataset/call_kw", "call_kw", 0, "", "", ""),
		web("/web/session/authenticate", "authenticate", UIDAdmin, "password", "", ""),
		web("/web/dataset/call_kw/res.partner/search_read", "call_kw", UIDAdmin, "session", "res.partner", "search_read"),
		web("/web/session/destroy", "destroy", UIDAdmin, "session", "", ""),
	}
	if diff := cmp.Diff(want, c.s.Calls()); diff != "" {
		t.Errorf("Calls (-want +got):\n%s", diff)
	}
}

func TestPyJSONError(t *testing.T) {
	// What Python 3.11's json.loads says of each.
	for body, want := range map[string]string{
		`{"domain":`:      "Expecting value: line 1 column 11 (char 10)",
		``:                "Expecting value: line 1 column 1 (char 0)",
		`{"a" 1}`:         "Expecting ':' delimiter: line 1 column 6 (char 5)",
		`{"a": 1,}`:       "Expecting property name enclosed in double quotes: line 1 column 9 (char 8)",
		`[1 2]`:           "Expecting ',' delimiter: line 1 column 4 (char 3)",
		`{} x`:            "Extra data: line 1 column 4 (char 3)",
		`"abc`:            "Unterminated string starting at: line 1 column 1 (char 0)",
		"{\n\"a\": tru}":  "Expecting value: line 2 column 6 (char 7)",
		`["é", x]`:        "Expecting value: line 1 column 7 (char 6)",
		`{"a":"\q"}`:      "Invalid \\escape: line 1 column 7 (char 6)",
		`{"a": "\u12zz"}`: "Invalid \\uXXXX escape: line 1 column 9 (char 8)",
		"[\"\t\"]":        "Invalid control character at: line 1 column 3 (char 2)",
		`  [1,]`:          "Expecting value: line 1 column 6 (char 5)",
		`-`:               "Expecting value: line 1 column 1 (char 0)",
		`{1:2}`:           "Expecting property name enclosed in double quotes: line 1 column 2 (char 1)",
	} {
		if got := pyJSONError([]byte(body)); got != want {
			t.Errorf("pyJSONError(%q) = %q, want %q", body, got, want)
		}
	}
}

// FuzzJSON2 sends any body to a JSON-2 route: the double answers with one
// of Odoo's statuses and a JSON body, never an internal error.
func FuzzJSON2(f *testing.F) {
	f.Add("res.partner", "search_read", `{"domain": [["is_company", "=", true]], "fields": ["name"], "limit": 2}`)
	f.Add("res.partner", "write", `{"ids": [1], "vals": {"name": "x"}}`)
	f.Add("res.partner", "create", `{"vals_list": [{"name": "a"}, {"name": "b", "parent_id": 1}]}`)
	f.Add("res.users", "context_get", `{"context": {"active_test": false}}`)
	f.Add("res.partner", "search", `{"domain":`)
	f.Fuzz(func(t *testing.T, model, method, body string) {
		s, err := New(Config{Version: "19.0"})
		if err != nil {
			t.Fatal(err)
		}
		watchdog := time.AfterFunc(5*time.Second, func() { panic("slow: " + body) })
		defer watchdog.Stop()
		r, err := http.NewRequest(http.MethodPost, "http://odoo/json/2/"+model+"/"+method, strings.NewReader(body))
		if err != nil {
			return // not a URL
		}
		r.Header.Set("Authorization", "Bearer "+KeyGlobal)
		rec := serve(s, r)
		switch rec.Code {
		case 200, 400, 403, 404, 422, 500:
		default:
			t.Fatalf("status %d for %s/%s %s", rec.Code, model, method, body)
		}
		if strings.Contains(rec.Body.String(), "odootest: internal error") {
			t.Fatalf("internal error for %s/%s %s:\n%s", model, method, body, rec.Body)
		}
	})
}
