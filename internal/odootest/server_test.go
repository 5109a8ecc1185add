package odootest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/keygate/keygate/odoo/xmlrpc"
)

const versionCall = `{"jsonrpc": "2.0", "method": "call", "params": {"service": "common", "method": "version", "args": []}, "id": 1}`

func newDouble(tb testing.TB) *Server {
	tb.Helper()
	s, err := New(Config{})
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// serve runs one request through the handler, without a network.
func serve(s *Server, r *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, r)
	return rec
}

func jsonRequest(ctx context.Context, body string) *http.Request {
	r := httptest.NewRequestWithContext(ctx, http.MethodPost, "/jsonrpc", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	return r
}

func TestNewRefusesUnknownVersion(t *testing.T) {
	if _, err := New(Config{Version: "17.0"}); err == nil {
		t.Error("New(Version 17.0) succeeded, want an error")
	}
}

func TestTransport(t *testing.T) {
	s := newDouble(t)
	tests := []struct {
		name, method, path, contentType, body string
		wantStatus                            int
		wantType                              string
		wantBody                              string // prefix
	}{
		{"unknown_path", "GET", "/web", "", "", 404, "text/html; charset=utf-8", "<!doctype html>\n<html lang=en>\n<title>404 Not Found"},
		{"jsonrpc_without_content_type", "POST", "/jsonrpc", "", versionCall, 400, "text/html; charset=utf-8", "<!doctype html>"},
		{"jsonrpc_string", "POST", "/jsonrpc", "application/json", `"x"`, 400, "text/html; charset=utf-8", "Invalid JSON-RPC data"},
		{"jsonrpc_trailing_data", "POST", "/jsonrpc", "application/json", versionCall + "x", 400, "text/html; charset=utf-8", "Invalid JSON data"},
		{"jsonrpc_missing_params", "POST", "/jsonrpc", "application/json", `{"id": 3}`, 200, "application/json; charset=utf-8",
			`{"jsonrpc": "2.0", "id": 3, "error": {"code": 200, "message": "Odoo Server Error", "data": {"name": "builtins.TypeError"`},
		{"xmlrpc_options", "OPTIONS", "/xmlrpc/2/object", "", "", 200, "text/html; charset=utf-8", ""},
		{"xmlrpc_empty_body", "POST", "/xmlrpc/2/common", "text/xml", "", 200, "text/xml; charset=utf-8", `<?xml version="1.0"?>`},
		{"xmlrpc_nested_path", "POST", "/xmlrpc/2/common/x", "text/xml", "", 404, "text/html; charset=utf-8", "<!doctype html>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(tt.method, tt.path, strings.NewReader(tt.body))
			if tt.contentType != "" {
				r.Header.Set("Content-Type", tt.contentType)
			}
			rec := serve(s, r)
			got := []any{rec.Code, rec.Header().Get("Content-Type"), rec.Header().Get("Connection"),
				strings.HasPrefix(rec.Body.String(), tt.wantBody)}
			want := []any{tt.wantStatus, tt.wantType, "close", true}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("status, type, connection, body prefix (-want +got):\n%s\nbody: %s", diff, rec.Body)
			}
		})
	}
	if calls := s.Calls(); len(calls) != 0 {
		t.Errorf("calls = %+v, want none: no request reached the dispatcher", calls)
	}
}

func TestCallsRecordsWhatReachedOdoo(t *testing.T) {
	s, c := newClient(t)
	c.call("common", "version")
	c.exec("res.partner", "search_count", []any{[]any{}}, nil)
	postXML(t, c.url+"/xmlrpc/2/object", xmlrpc.Call{Method: "execute_kw", Params: []any{
		"odoo_test", int64(UIDDemo), "demo", "res.partner", "read", []any{[]any{int64(1)}}, xmlrpc.Struct{}}})
	want := []Call{
		{Protocol: "jsonrpc", Path: "/jsonrpc", Service: "common", Method: "version"},
		{Protocol: "jsonrpc", Path: "/jsonrpc", Service: "object", Method: "execute_kw", DB: "odoo_test",
			UID: UIDAdmin, Auth: "apikey", Model: "res.partner", ModelMethod: "search_count"},
		{Protocol: "xmlrpc", Path: "/xmlrpc/2/object", Service: "object", Method: "execute_kw", DB: "odoo_test",
			UID: UIDDemo, Auth: "password", Model: "res.partner", ModelMethod: "read"},
	}
	if diff := cmp.Diff(want, s.Calls()); diff != "" {
		t.Errorf("Calls (-want +got):\n%s", diff)
	}
}

func TestRecordsShowsWhatIsStored(t *testing.T) {
	s, c := newClient(t)
	before, err := s.Records("res.partner")
	if err != nil {
		t.Fatal(err)
	}
	id := c.must("res.partner", "create", []any{map[string]any{"name": "Records Probe"}}, nil).(int64)
	after, err := s.Records("res.partner")
	if err != nil {
		t.Fatal(err)
	}
	if len(after) != len(before)+1 {
		t.Fatalf("Records: %d partners after a create, want %d", len(after), len(before)+1)
	}
	last := after[len(after)-1]
	if got, _ := last.Get("id"); got != id {
		t.Errorf("last record id = %v, want %d", got, id)
	}
	if got, _ := last.Get("name"); got != "Records Probe" {
		t.Errorf("last record name = %v, want Records Probe", got)
	}
	if _, err := s.Records("no.such.model"); err == nil {
		t.Error("Records of an unknown model: no error")
	}
}

// postXML sends an XML-RPC call and returns the decoded answer.
func postXML(tb testing.TB, url string, call xmlrpc.Call) any {
	tb.Helper()
	var body bytes.Buffer
	if err := xmlrpc.EncodeCall(&body, call); err != nil {
		tb.Fatal(err)
	}
	resp, err := http.Post(url, "text/xml", &body)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	v, err := xmlrpc.DecodeResponse(resp.Body)
	if err != nil {
		tb.Fatalf("xmlrpc %s: %v", call.Method, err)
	}
	return v
}

func TestXMLRPCAndJSONRPCShareTheDatabase(t *testing.T) {
	_, c := newClient(t)
	id := postXML(t, c.url+"/xmlrpc/2/object", xmlrpc.Call{Method: "execute_kw", Params: []any{
		"odoo_test", int64(UIDAdmin), KeyGlobal, "res.partner", "create",
		[]any{xmlrpc.Struct{{Name: "name", Value: "Via XML"}, {Name: "email", Value: "xml@example.com"}}}, xmlrpc.Struct{}}})
	if id != int64(42) {
		t.Fatalf("XML-RPC create = %v, want 42", id)
	}
	got := c.must("res.partner", "search_read", []any{domain(leaf("email", "=", "xml@example.com"))},
		map[string]any{"fields": []string{"name"}})
	if diff := cmp.Diff([]any{Object{{"id", int64(42)}, {"name", "Via XML"}}}, got); diff != "" {
		t.Errorf("JSON-RPC search_read (-want +got):\n%s", diff)
	}
}

func TestReset(t *testing.T) {
	s, c := newClient(t)
	c.must("res.partner", "create", []any{map[string]any{"name": "Temporary"}}, nil)
	c.must("res.partner", "unlink", []any{[]any{1}}, nil)
	s.SetDelay(time.Hour)
	s.Reset()
	if calls := s.Calls(); len(calls) != 0 {
		t.Errorf("calls after Reset = %v, want none", calls)
	}
	if n := c.must("res.partner", "search_count", []any{domain()}, nil); n != int64(37) {
		t.Errorf("partners after Reset = %v, want 37", n)
	}
	if id := c.must("res.partner", "create", []any{map[string]any{"name": "Again"}}, nil); id != int64(42) {
		t.Errorf("first id after Reset = %v, want 42", id)
	}
}

func TestDelay(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newDouble(t)
		s.SetDelay(time.Minute)
		start := time.Now()
		rec := serve(s, jsonRequest(t.Context(), versionCall))
		if elapsed := time.Since(start); elapsed != time.Minute || rec.Code != http.StatusOK {
			t.Errorf("answered %d after %v, want 200 after 1m0s", rec.Code, elapsed)
		}
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		rec = serve(s, jsonRequest(ctx, versionCall))
		if elapsed := time.Since(start); elapsed != time.Minute+time.Second || rec.Body.Len() != 0 {
			t.Errorf("client gone after 1s: wrote %q after %v, want nothing after 1m1s", rec.Body, elapsed)
		}
	})
}

func TestHang(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newDouble(t)
		s.SetHang(true)
		done := make(chan *httptest.ResponseRecorder)
		go func() { done <- serve(s, jsonRequest(t.Context(), versionCall)) }()
		synctest.Wait()
		select {
		case <-done:
			t.Fatal("answered while hanging")
		default:
		}
		s.SetHang(false)
		if rec := <-done; rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"server_version": "18.0"`) {
			t.Errorf("after SetHang(false): %d %s", rec.Code, rec.Body)
		}
	})
}

func TestConcurrentCalls(t *testing.T) {
	_, c := newClient(t)
	const workers, each = 8, 10
	var wg sync.WaitGroup
	created := make(chan int64, workers*each)
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				id := c.must("res.partner", "create", []any{map[string]any{"name": fmt.Sprintf("w%d-%d", w, i)}}, nil)
				c.must("res.partner", "read", []any{[]any{id}}, map[string]any{"fields": []string{"name"}})
				created <- id.(int64)
			}
		})
	}
	wg.Wait()
	close(created)
	seen := map[int64]bool{}
	for id := range created {
		if seen[id] {
			t.Errorf("id %d given twice", id)
		}
		seen[id] = true
	}
	if n := c.must("res.partner", "search_count", []any{domain()}, nil); n != int64(37+workers*each) {
		t.Errorf("partners = %v, want %d", n, 37+workers*each)
	}
}

// TestVersion19 replays the 19.0 legacy-endpoint fixtures that do not
// depend on 19.0's data: what changed in the protocols.
func TestVersion19(t *testing.T) {
	cfg := Config{Version: "19.0", Database: "odoo19_test"}
	want := map[string]bool{
		"01-common-version.json": true, "02-common-authenticate-apikey.json": true,
		"04-access-denied-wrong-password.json": true, "07-null-result.json": true,
		"03-fault-access-denied.json": true, "04-fault-missing-error.json": true,
	}
	for _, dir := range []string{"19.0/jsonrpc", "19.0/xmlrpc"} {
		_, ts := NewServer(t, cfg)
		for _, fx := range loadFixtures(t, dir) {
			if want[fx.Case] {
				t.Run(dir+"/"+fx.Case, func(t *testing.T) { replay(t, ts.URL, fx) })
			}
		}
	}
}

func TestNewServerClosesOnCleanup(t *testing.T) {
	var url string
	t.Run("inner", func(t *testing.T) {
		_, ts := NewServer(t, Config{})
		url = ts.URL
	})
	resp, err := http.Post(url+"/jsonrpc", "application/json", strings.NewReader(versionCall))
	if err == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		t.Error("the server still answers after its test ended")
	}
}

// FuzzJSONRPC sends any body to /jsonrpc: the double answers it as Odoo
// would (an envelope or a 400), never with an internal error.
func FuzzJSONRPC(f *testing.F) {
	f.Add(versionCall)
	f.Add(`{"params": {"service": "object", "method": "execute_kw", "args": ["odoo_test", 2, "admin", "res.partner", "read", [[1, 3]], {"fields": ["name", "child_ids"]}]}}`)
	f.Add(`{"params": {"service": "object", "method": "execute_kw", "args": ["odoo_test", 2, "admin", "res.partner", "create", [[{"name": "x", "category_id": [[6, 0, [7]]]}]], {}]}}`)
	f.Add(`{"params": {"service": "object", "method": "execute", "args": ["odoo_test", "2", "admin", "res.partner", "web_search_read", [], {"name": {}}]}}`)
	f.Add(`{"params": {"service": "object", "method": "execute_kw", "args": ["odoo_test", 2, "admin", "res.partner", "create", [{"name": "p", "user_ids": [[0, 0, {"name": "u", "login": "x", "groups_id": [[6, 0, [4, 1]]]}]], "child_ids": [[0, 0, {"name": "c", "bank_ids": [[0, 0, {"acc_number": "1"}]]}], [4, 17], [3, 18], [2, 33]]}], {}]}}`)
	f.Add(`{"params": {"service": "object", "method": "execute_kw", "args": ["odoo_test", 2, "admin", "res.partner", "write", [[9], {"category_id": [[1, 7, {"name": "t"}], [2, 6], [5], [6, 0, [1]]], "user_ids": [[6, 0, [6]]]}], {}]}}`)
	f.Add(`{"params": {"service": "object", "method": "execute_kw", "args": ["odoo_test", 2, "admin", "res.partner", "read_group", [[["user_ids.groups_id.name", "=", "Settings"]], ["__count"], ["country_id"]], {}]}}`)
	f.Add(`{"params": {"service": "object", "method": "execute_kw", "args": ["odoo_test", 2, "admin", "res.partner", "web_search_read", [[["id", "in", [1, "a"]]], {"user_ids": {"fields": {"groups_id": {"fields": {"name": {}}}}}}], {}]}}`)
	f.Fuzz(func(t *testing.T, body string) {
		watchdog := time.AfterFunc(5*time.Second, func() { panic("slow: " + body) })
		defer watchdog.Stop()
		rec := serve(newDouble(t), jsonRequest(t.Context(), body))
		if rec.Code != http.StatusOK && rec.Code != http.StatusBadRequest {
			t.Fatalf("status %d", rec.Code)
		}
		if strings.Contains(rec.Body.String(), "odootest: internal error") {
			t.Fatalf("internal error for %s:\n%s", body, rec.Body)
		}
	})
}

// An XML-RPC dateTime written to a date field stores its date, as Odoo's
// Date.to_date does with the datetime xmlrpc.client decodes.
func TestXMLRPCDateTimeWritesADate(t *testing.T) {
	_, c := newClient(t)
	postXML(t, c.url+"/xmlrpc/2/object", xmlrpc.Call{Method: "execute_kw", Params: []any{
		"odoo_test", int64(UIDAdmin), KeyGlobal, "res.currency.rate", "write",
		[]any{[]any{int64(1)}, xmlrpc.Struct{{Name: "name", Value: xmlrpc.DateTime("20260131T10:00:00")}}}, xmlrpc.Struct{}}})
	got, _ := readOne(t, c, "res.currency.rate", 1, "name").Get("name")
	if got != "2026-01-31" {
		t.Errorf("name = %#v, want 2026-01-31", got)
	}
}
