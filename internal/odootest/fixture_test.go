package odootest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// fixture is one recorded exchange of testdata/odoo (see its README).
type fixture struct {
	Case    string `json:"case"`
	Request struct {
		Method  string            `json:"method"`
		Path    string            `json:"path"`
		Headers map[string]string `json:"headers"`
		Body    json.RawMessage   `json:"body"`
	} `json:"request"`
	Response struct {
		Status  int             `json:"status"`
		Headers fixtureHeaders  `json:"headers"`
		Body    json.RawMessage `json:"body"`
	} `json:"response"`
}

// fixtureClock is the time of the attempt quoted by the SQL error of
// 18.0/jsonrpc/51, so that the double's traceback quotes the same time.
func fixtureClock() time.Time {
	return time.Date(2026, 11, 28, 9, 0, 43, 355678000, time.UTC)
}

// fixtureConfig is the double of the server a version's fixtures were
// recorded on: 19.0's database is odoo19_test.
func fixtureConfig(version string) Config {
	cfg := Config{Version: version, Now: fixtureClock}
	if version == "19.0" {
		cfg.Database = "odoo19_test"
	}
	return cfg
}

// loadFixtures reads the fixtures of one directory in NN order.
func loadFixtures(tb testing.TB, dir string) []fixture {
	tb.Helper()
	paths, err := filepath.Glob(filepath.Join("testdata", "odoo", dir, "*.json"))
	if err != nil || len(paths) == 0 {
		tb.Fatalf("no fixtures in %s: %v", dir, err)
	}
	sort.Strings(paths)
	out := make([]fixture, len(paths))
	for i, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			tb.Fatal(err)
		}
		if err := json.Unmarshal(data, &out[i]); err != nil {
			tb.Fatalf("%s: %v", p, err)
		}
		out[i].Case = filepath.Base(p)
	}
	return out
}

// TestFixtures replays every recorded 18.0 exchange, in order, against one
// fresh double per directory: status, the headers the fixture lists (and
// no X-Content-Type-Options or Allow it does not list), and the body. JSON
// bodies must be equal with their keys in the same order, and byte for
// byte what Odoo's json.dumps writes for the recorded value; XML bodies
// byte for byte. The metadata directories (fields_get of the models
// scopes name) are replayed on both versions.
func TestFixtures(t *testing.T) {
	for _, dir := range []string{"18.0/jsonrpc", "18.0/xmlrpc", "18.0/metadata", "19.0/metadata"} {
		t.Run(dir, func(t *testing.T) {
			_, ts := NewServer(t, fixtureConfig(path.Dir(dir)))
			for _, fx := range loadFixtures(t, dir) {
				t.Run(strings.TrimSuffix(fx.Case, ".json"), func(t *testing.T) {
					replay(t, ts.URL, fx)
				})
			}
		})
	}
}

func replay(t *testing.T, base string, fx fixture) {
	t.Helper()
	compareBody(t, fx.Response.Body, sendAndCheckHead(t, base, fx))
}

// sendAndCheckHead sends the fixture's request, checks the answer's status
// and kept headers against the fixture, and returns the answer's body.
func sendAndCheckHead(t *testing.T, base string, fx fixture) []byte {
	t.Helper()
	resp := send(t, base, fx)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != fx.Response.Status {
		t.Errorf("status = %d, want %d", resp.StatusCode, fx.Response.Status)
	}
	if diff := cmp.Diff(map[string]string(fx.Response.Headers), keptHeaders(resp, fx.Response.Headers)); diff != "" {
		t.Errorf("headers (-want +got):\n%s", diff)
	}
	return body
}

// send sends the fixture's request: a JSON string body is sent as its
// text, any other JSON value as JSON, null as no body.
func send(t *testing.T, base string, fx fixture) *http.Response {
	t.Helper()
	var body io.Reader
	if raw := fx.Request.Body; len(raw) > 0 && string(raw) != "null" {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			body = strings.NewReader(s)
		} else {
			body = bytes.NewReader(raw)
		}
	}
	req, err := http.NewRequest(fx.Request.Method, base+fx.Request.Path, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range fx.Request.Headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// keptHeaders returns the response headers of the kinds the recorder kept.
func keptHeaders(resp *http.Response, want map[string]string) map[string]string {
	got := map[string]string{}
	for _, k := range []string{"Content-Type", "Connection", "X-Content-Type-Options", "Allow", "WWW-Authenticate"} {
		if v := resp.Header.Get(k); v != "" {
			got[k] = v
		}
	}
	if resp.Close && got["Connection"] == "" {
		got["Connection"] = "close" // net/http consumes the header
	}
	return got
}

func compareBody(t *testing.T, want json.RawMessage, got []byte) {
	t.Helper()
	var text string
	if json.Unmarshal(want, &text) == nil {
		if diff := cmp.Diff(text, string(got)); diff != "" {
			t.Errorf("body (-want +got):\n%s", diff)
		}
		return
	}
	wantValue, err := decodeJSON(want)
	if err != nil {
		t.Fatalf("fixture body: %v", err)
	}
	gotValue, err := decodeJSON(got)
	if err != nil {
		t.Fatalf("body is not JSON: %v\n%s", err, got)
	}
	if diff := cmp.Diff(wantValue, gotValue); diff != "" {
		t.Errorf("body (-want +got), keys in order:\n%s", diff)
	}
	wantBytes, err := marshalPython(wantValue)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(wantBytes), string(got)); diff != "" {
		t.Errorf("body bytes (-json.dumps of the fixture +got):\n%s", diff)
	}
}

// TestFixturesInSync checks that testdata/odoo is the shared recording,
// file for file, when the shared folder is there (../shared/odoo from the
// repository root, as on the team's machines). Elsewhere (a CI checkout
// holds only the repository) there is nothing to compare with: the test
// says so and passes.
func TestFixturesInSync(t *testing.T) {
	shared := filepath.Join("..", "..", "..", "shared", "odoo")
	if _, err := os.Stat(shared); err != nil {
		t.Logf("%s not found: nothing to compare testdata/odoo with", shared)
		return
	}
	want := treeFiles(t, shared)
	got := treeFiles(t, filepath.Join("testdata", "odoo"))
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("testdata/odoo differs from %s (-shared +testdata):\n%s", shared, diff)
	}
}

// treeFiles maps each file under root to its content.
func treeFiles(tb testing.TB, root string) map[string]string {
	tb.Helper()
	files := map[string]string{}
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		rel, _ := filepath.Rel(root, path)
		files[filepath.ToSlash(rel)] = string(data)
		return err
	})
	if err != nil {
		tb.Fatal(err)
	}
	return files
}

// TestFixturesRelations replays 18.0/relations (x2many commands that
// create, write, delete and link records of other models; dotted paths in
// domains, orders, fields, groupbys and specifications) in order against
// one fresh double, exactly as TestFixtures does, tracebacks included.
func TestFixturesRelations(t *testing.T) {
	_, ts := NewServer(t, fixtureConfig("18.0"))
	for _, fx := range loadFixtures(t, "18.0/relations") {
		t.Run(strings.TrimSuffix(fx.Case, ".json"), func(t *testing.T) {
			replay(t, ts.URL, fx)
		})
	}
}

// replayByException is replay with tracebacks compared by their exception.
func replayByException(t *testing.T, base string, fx fixture) {
	t.Helper()
	body := sendAndCheckHead(t, base, fx)
	want, err := decodeJSON(fx.Response.Body)
	if err != nil {
		t.Fatalf("fixture body: %v", err)
	}
	got, err := decodeJSON(body)
	if err != nil {
		t.Fatalf("body is not JSON: %v\n%s", err, body)
	}
	want, got = abridgeDebug(want), abridgeDebug(got)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("body (-want +got), keys in order, tracebacks by their last line:\n%s", diff)
	}
	wantBytes, err := marshalPython(want)
	if err != nil {
		t.Fatal(err)
	}
	gotBytes, err := marshalPython(got)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(wantBytes), string(gotBytes)); diff != "" {
		t.Errorf("body bytes (-want +got):\n%s", diff)
	}
}

// abridgeDebug replaces the traceback of a JSON-RPC error (error.data.debug)
// by its exception: the text from the exception's name (data.name,
// "builtins." left out) to the end, which holds its message. A traceback
// without it is kept whole.
func abridgeDebug(v any) any {
	o, ok := v.(Object)
	if !ok {
		return v
	}
	errv, ok := o.Get("error")
	if !ok {
		return v
	}
	data, _ := errv.(Object).Get("data")
	debug, _ := data.(Object).Get("debug")
	text, _ := debug.(string)
	name, _ := data.(Object).Get("name")
	short, _ := name.(string)
	short = strings.TrimPrefix(short, "builtins.")
	if i := strings.LastIndex(text, "\n"+short+":"); i >= 0 {
		data.(Object).set("debug", text[i+1:])
	}
	return v
}

// relations19NotReplayed are the cases of 19.0/relations the double's
// 19.0 mode does not replay, and why: it answers with 18.0's data (see
// doc.go), so cases whose answer depends on 19.0's data are not sent, and
// neither are the ones that would change the state the others start from.
var relations19NotReplayed = map[string]string{
	"07-read-m2m-before":                   "partner 9's tags are [7] in 19.0's data, [7, 6] in 18.0's",
	"16-write-o2m-link-user":               "the demo user is uid 5 in 19.0's data, uid 6 in 18.0's",
	"17-read-user-partner-after-link":      "the demo user is uid 5 in 19.0's data",
	"18-read-partners-user-ids-after-link": "the demo user's partner is 6 in 19.0's data",
	"19-write-user-partner-restore":        "the demo user is uid 5 in 19.0's data",
	"20-read-user-partner-restored":        "the demo user is uid 5 in 19.0's data",
	"22-read-created-user":                 "the new user is uid 7 in 19.0's data (8 in 18.0's), and group_ids is not modelled",
	"23-unlink-created-user":               "unlinks uid 7, the new user in 19.0's data, the portal user in 18.0's",
	"24-unlink-created-user-partner":       "follows 23",
	"27-search-count-dotted-group-ids":     "group_ids (19.0's name of groups_id) is not modelled",
	"28-search-count-dotted-country-code":  "19.0's data has no Belgian partner",
	"33-read-group-create-uid":             "OdooBot created 37 partners in 19.0's data, 36 in 18.0's",
	"34-read-group-country":                "19.0's partners are in other countries",
	"37-name-search-domain":                "Marc Demo is partner 6 in 19.0's data, 7 in 18.0's",
	"38-web-search-read-follow-relation":   "Marc Demo is partner 6 in 19.0's data, 7 in 18.0's",
}

// TestFixturesRelations19 replays 19.0/relations against the double's
// 19.0 mode as TestFixturesRelations does 18.0's, but for the cases of
// relations19NotReplayed (reported as skipped, with the reason), and with
// a traceback compared by its exception, from the exception's name to the
// end: the double's 19.0 tracebacks are 18.0's frames.
func TestFixturesRelations19(t *testing.T) {
	_, ts := NewServer(t, fixtureConfig("19.0"))
	for _, fx := range loadFixtures(t, "19.0/relations") {
		name := strings.TrimSuffix(fx.Case, ".json")
		t.Run(name, func(t *testing.T) {
			if reason := relations19NotReplayed[name]; reason != "" {
				t.Skip("not replayed: " + reason)
			}
			replayByException(t, ts.URL, fx)
		})
	}
}
