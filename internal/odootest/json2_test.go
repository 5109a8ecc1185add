package odootest

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// json2NotReplayed are the 19.0/json2 cases whose answers show 19.0's
// demo data, which the double does not hold (its data is 18.0's, see
// doc.go): they read only, so leaving them out changes nothing for the
// cases after them.
var json2NotReplayed = map[string]string{
	"01-search-read":        "19.0's companies (Gemini Furniture in San Marino, LightsUp)",
	"02-read":               "19.0's write_date of the demo partners",
	"04-read-false-values":  "19.0's ids (Wood Corner is 8) and dates",
	"05-search-count":       "19.0 has 10 companies, 18.0 9",
	"06-search":             "19.0's ids (Wood Corner is 8)",
	"08-name-search":        "19.0's ids (Wood Corner is 8)",
	"09-web-search-read":    "19.0's Acme Corporation (9) and company count",
	"12-no-database-header": "19.0 has 38 active partners, 18.0 37",
	"13-bearer-capitalised": "19.0 has 38 active partners, 18.0 37",
}

// TestFixturesJSON2 replays 19.0/json2 in order against one fresh 19.0
// double: status, headers, and the body byte for byte, but for the debug
// of an error, which must be the recorded traceback's last line (the
// double holds no 19.0 frames).
func TestFixturesJSON2(t *testing.T) {
	_, ts := NewServer(t, Config{Version: "19.0", Database: "odoo19_test", Now: fixtureClock})
	for _, fx := range loadFixtures(t, "19.0/json2") {
		name := strings.TrimSuffix(fx.Case, ".json")
		t.Run(name, func(t *testing.T) {
			if why, ok := json2NotReplayed[name]; ok {
				t.Skip("not replayed: " + why)
			}
			replayAbridged(t, ts.URL, fx, nil, true)
		})
	}
}

// replayAbridged is replay for answers whose tracebacks the double
// abridges: an error's debug (JSON-2's "debug", JSON-RPC's
// error.data.debug) must be "Traceback (most recent call last):\n"
// followed by the end of the recorded one; the rest byte for byte.
// header, when not nil, adds request headers (a session cookie). With
// abridged false, debug too must be Odoo's, byte for byte.
func replayAbridged(t *testing.T, base string, fx fixture, header http.Header, abridged bool) *http.Response {
	t.Helper()
	resp := sendWith(t, base, fx, header)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != fx.Response.Status {
		t.Errorf("status = %d, want %d", resp.StatusCode, fx.Response.Status)
	}
	want := map[string]string{}
	for k, v := range fx.Response.Headers {
		if k != "Set-Cookie" {
			// net/http trims header values, on both ends: Odoo's
			// "Bearer " arrives as "Bearer".
			want[k] = strings.TrimSpace(v)
		}
	}
	if diff := cmp.Diff(want, keptHeaders(resp, want)); diff != "" {
		t.Errorf("headers (-want +got):\n%s", diff)
	}
	if string(fx.Response.Body) == "null" { // JSON-2's None
		if string(body) != "null" {
			t.Errorf("body = %s, want null", body)
		}
		return resp
	}
	wantBody := fx.Response.Body
	if abridged {
		wantBody = withDebugOf(t, wantBody, body)
	}
	compareBody(t, wantBody, body)
	return resp
}

// withDebugOf returns the fixture body with its debug replaced by the
// double's, after checking that the double's is the abridged form of it.
func withDebugOf(t *testing.T, want json.RawMessage, got []byte) json.RawMessage {
	t.Helper()
	wantValue, err := decodeJSON(want)
	if err != nil {
		return want // a text body
	}
	gotValue, err := decodeJSON(got)
	if err != nil {
		return want
	}
	wantDebug, wp := debugOf(wantValue)
	gotDebug, gp := debugOf(gotValue)
	if wp == nil || gp == nil {
		return want
	}
	const head = "Traceback (most recent call last):\n"
	if wantDebug != gotDebug && (!strings.HasPrefix(gotDebug, head) || !strings.HasSuffix(wantDebug, "\n"+strings.TrimPrefix(gotDebug, head))) {
		t.Errorf("debug %q is not the end of the recorded traceback:\n%s", gotDebug, wantDebug)
	}
	wp.Value = gotDebug
	out, err := marshalPython(wantValue)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// debugOf finds the debug text of a JSON-2 or JSON-RPC error body.
func debugOf(v any) (string, *Pair) {
	o, ok := v.(Object)
	if !ok {
		return "", nil
	}
	if errv, ok := o.Get("error"); ok {
		eo, _ := errv.(Object)
		data, _ := eo.Get("data")
		return debugOf(data)
	}
	for i := range o {
		if o[i].Key == "debug" {
			s, _ := o[i].Value.(string)
			return s, &o[i]
		}
	}
	return "", nil
}

// fixtureHeaders are a response's headers: a header Odoo sent more than
// once (Set-Cookie) is recorded as a list, kept here joined by newlines.
type fixtureHeaders map[string]string

func (h *fixtureHeaders) UnmarshalJSON(data []byte) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return err
	}
	*h = fixtureHeaders{}
	for k, v := range raw {
		var one string
		if json.Unmarshal(v, &one) == nil {
			(*h)[k] = one
			continue
		}
		var many []string
		if err := json.Unmarshal(v, &many); err != nil {
			return err
		}
		(*h)[k] = strings.Join(many, "\n")
	}
	return nil
}

// sendWith is send with extra request headers.
func sendWith(t *testing.T, base string, fx fixture, header http.Header) *http.Response {
	t.Helper()
	if header == nil {
		return send(t, base, fx)
	}
	fx.Request.Headers = cloneHeaders(fx.Request.Headers)
	for k := range header {
		fx.Request.Headers[k] = header.Get(k)
	}
	return send(t, base, fx)
}

func cloneHeaders(h map[string]string) map[string]string {
	out := make(map[string]string, len(h))
	for k, v := range h {
		out[k] = v
	}
	return out
}
