package odootest

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/keygate/keygate/internal/testenv"
)

// webNotCompared are the web cases whose body shows 19.0's data where the
// double holds 18.0's: the rest of the exchange (status, headers, cookie)
// is replayed, and the body's uid is checked against the double's data.
var webNotCompared = map[string]string{
	"19.0/web/12-authenticate-demo": "19.0's demo user is uid 5 (partner 6); the double's, 18.0's, is uid 6 (partner 7)",
}

var placeholder = regexp.MustCompile(`SESSION_ID_[0-9]+`)

// TestFixturesWeb replays 18.0/web and 19.0/web, in order, against one
// fresh double each: the session API and the path variants. Session ids
// are the double's own (84 characters of URL-safe base64): each
// SESSION_ID_n placeholder stands for the id the double handed out where
// the recording shows it first, and must be that id wherever it shows
// again. Set-Cookie is compared attribute by attribute, its Expires
// against the double's clock, set to the time of each recorded request.
// The web recordings were made on a rebuilt database: their partners'
// write_date and web.base.url (Odoo sets it to the URL the admin logs in
// on) are mapped to the double's. 18.0's tracebacks must be Odoo's byte
// for byte; 19.0's are abridged to their last line.
func TestFixturesWeb(t *testing.T) {
	for _, tc := range []struct {
		dir           string
		cfg           Config
		recordedWrite string
		recordedURL   string
	}{
		{"18.0/web", Config{Version: "18.0"}, "2026-12-05 11:35:30", "http://127.0.0.1:8069"},
		{"19.0/web", Config{Version: "19.0", Database: "odoo19_test"}, "2026-12-05 11:35:29", "http://127.0.0.1:8070"},
	} {
		t.Run(tc.dir, func(t *testing.T) {
			clock := testenv.NewClock(time.Time{}) // the double reads it from its own goroutines
			tc.cfg.Now = clock.Now
			_, ts := NewServer(t, tc.cfg)
			ids := map[string]string{}
			for _, fx := range loadFixtures(t, tc.dir) {
				name := strings.TrimSuffix(fx.Case, ".json")
				t.Run(name, func(t *testing.T) {
					if at, ok := requestTime(fx); ok {
						clock.Set(at)
					}
					header := http.Header{}
					if c := fx.Request.Headers["Cookie"]; c != "" {
						header.Set("Cookie", placeholder.ReplaceAllStringFunc(c, func(p string) string {
							if ids[p] == "" {
								t.Fatalf("%s sent before the double handed it out", p)
							}
							return ids[p]
						}))
					}
					fx.Response.Body = bytes.ReplaceAll(fx.Response.Body, []byte(`"`+tc.recordedWrite+`"`), []byte(`"`+seedWritten+`"`))
					fx.Response.Body = bytes.ReplaceAll(fx.Response.Body, []byte(`"`+tc.recordedURL+`"`), []byte(`"`+ts.URL+`"`))
					why, skipBody := webNotCompared[tc.dir+"/"+name]
					if skipBody {
						t.Logf("body not compared: %s", why)
						fx.Response.Body = nil
					}
					resp := replayWeb(t, ts.URL, fx, header, tc.cfg.Version == "19.0")
					checkCookies(t, fx.Response.Headers["Set-Cookie"], resp.Header.Values("Set-Cookie"), ids, clock.Now())
				})
			}
		})
	}
}

// replayWeb is replayAbridged, or, for a body left out, status and
// headers only.
func replayWeb(t *testing.T, base string, fx fixture, header http.Header, abridged bool) *http.Response {
	t.Helper()
	if fx.Response.Body != nil {
		return replayAbridged(t, base, fx, header, abridged)
	}
	resp := sendWith(t, base, fx, header)
	defer resp.Body.Close()
	var env struct {
		Result struct {
			UID int64 `json:"uid"`
		} `json:"result"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&env); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != fx.Response.Status || env.Result.UID != UIDDemo {
		t.Errorf("status %d uid %d, want %d uid %d", resp.StatusCode, env.Result.UID, fx.Response.Status, UIDDemo)
	}
	return resp
}

// requestTime is when the recorded request was made, as its first
// Set-Cookie's Expires (a year after the request) shows.
func requestTime(fx fixture) (time.Time, bool) {
	m := regexp.MustCompile(`Expires=([^;]+);`).FindStringSubmatch(fx.Response.Headers["Set-Cookie"])
	if m == nil {
		return time.Time{}, false
	}
	exp, err := http.ParseTime(m[1])
	if err != nil {
		return time.Time{}, false
	}
	return exp.AddDate(-1, 0, 0), true
}

// checkCookies compares Set-Cookie headers attribute by attribute: a
// placeholder value maps to the double's session id (new placeholders to
// new, well-formed ids), Expires is a year after the request, and the
// recorded Expires within a second of that (Odoo reads its clock per
// cookie).
func checkCookies(t *testing.T, recorded string, got []string, ids map[string]string, now time.Time) {
	t.Helper()
	var want []string
	if recorded != "" {
		want = strings.Split(recorded, "\n")
	}
	if len(got) != len(want) {
		t.Fatalf("Set-Cookie = %q, want %q", got, want)
	}
	expires := now.AddDate(1, 0, 0)
	for i := range want {
		wantAttrs, gotAttrs := strings.Split(want[i], "; "), strings.Split(got[i], "; ")
		if len(wantAttrs) != len(gotAttrs) {
			t.Errorf("Set-Cookie %q, want %q", got[i], want[i])
			continue
		}
		for j := range wantAttrs {
			w, g := wantAttrs[j], gotAttrs[j]
			switch {
			case j == 0 && placeholder.MatchString(w):
				checkSessionID(t, w, g, ids)
			case strings.HasPrefix(w, "Expires="):
				recordedExp, err := http.ParseTime(strings.TrimPrefix(w, "Expires="))
				if err != nil || recordedExp.Before(expires) || recordedExp.After(expires.Add(time.Second)) {
					t.Errorf("recorded %s is not a year after the request (%v)", w, now)
				}
				if want := "Expires=" + expires.Format(http.TimeFormat); g != want {
					t.Errorf("cookie attribute %q, want %q", g, want)
				}
			default:
				if diff := cmp.Diff(w, g); diff != "" {
					t.Errorf("cookie attribute (-want +got):\n%s", diff)
				}
			}
		}
	}
}

func checkSessionID(t *testing.T, want, got string, ids map[string]string) {
	t.Helper()
	p := strings.TrimPrefix(want, "session_id=")
	id, ok := strings.CutPrefix(got, "session_id=")
	if !ok {
		t.Fatalf("cookie %q, want session_id", got)
	}
	if raw, err := base64.URLEncoding.DecodeString(id); err != nil || len(id) != 84 || len(raw) != 63 {
		t.Errorf("session id %q is not 84 characters of URL-safe base64", id)
	}
	if known, ok := ids[p]; ok {
		if id != known {
			t.Errorf("%s: session id %q, want the one handed out before, %q", p, id, known)
		}
		return
	}
	for other, known := range ids {
		if known == id {
			t.Errorf("%s: session id is %s's", p, other)
		}
	}
	ids[p] = id
}
