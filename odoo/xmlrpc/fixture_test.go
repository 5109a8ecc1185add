package xmlrpc

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// fixtureGlob finds the recorded Odoo XML-RPC exchanges.
const fixtureGlob = "../../internal/odootest/testdata/odoo/*/xmlrpc/*.json"

// fixture is one recorded exchange; bodies are XML strings, or absent.
type fixture struct {
	Name     string
	Request  string
	Response string
	XML      bool // the response is text/xml
}

// invalidCalls are fixtures whose request body is deliberately not a call.
var invalidCalls = map[string]bool{
	"18.0/xmlrpc/43-not-xml-body.json": true,
	"18.0/xmlrpc/45-get-xmlrpc.json":   true, // no body at all
}

func loadFixtures(tb testing.TB) []fixture {
	tb.Helper()
	paths, err := filepath.Glob(fixtureGlob)
	if err != nil || len(paths) == 0 {
		tb.Fatalf("no fixtures at %s (err %v)", fixtureGlob, err)
	}
	var fs []fixture
	for _, p := range paths {
		fs = append(fs, readFixture(tb, p))
	}
	return fs
}

func readFixture(tb testing.TB, path string) fixture {
	tb.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	var raw struct {
		Request struct {
			Body *string
		}
		Response struct {
			Headers map[string]string
			Body    any
		}
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		tb.Fatalf("%s: %v", path, err)
	}
	f := fixture{Name: fixtureName(path)}
	if raw.Request.Body != nil {
		f.Request = *raw.Request.Body
	}
	f.Response, _ = raw.Response.Body.(string)
	f.XML = strings.HasPrefix(raw.Response.Headers["Content-Type"], "text/xml")
	return f
}

// fixtureName is the path below the odoo directory, such as
// "18.0/xmlrpc/09-search-read.json".
func fixtureName(path string) string {
	dir, file := filepath.Split(path)
	proto := filepath.Base(dir)
	version := filepath.Base(filepath.Dir(filepath.Clean(dir)))
	return version + "/" + proto + "/" + file
}

func TestFixtureCallsRoundTrip(t *testing.T) {
	for _, f := range loadFixtures(t) {
		t.Run(f.Name, func(t *testing.T) {
			c, err := DecodeCall(strings.NewReader(f.Request))
			if invalidCalls[f.Name] {
				if !errors.Is(err, ErrSyntax) {
					t.Fatalf("DecodeCall error = %v, want ErrSyntax", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("DecodeCall: %v", err)
			}
			var buf bytes.Buffer
			if err := EncodeCall(&buf, c); err != nil {
				t.Fatalf("EncodeCall: %v", err)
			}
			if diff := cmp.Diff(f.Request, buf.String()); diff != "" {
				t.Errorf("EncodeCall(DecodeCall(body)) differs (-recorded +encoded):\n%s", diff)
			}
		})
	}
}

func TestFixtureResponsesRoundTrip(t *testing.T) {
	for _, f := range loadFixtures(t) {
		if !f.XML {
			continue
		}
		t.Run(f.Name, func(t *testing.T) {
			got := reencodeResponse(t, f.Response)
			if diff := cmp.Diff(f.Response, got); diff != "" {
				t.Errorf("re-encoded response differs (-recorded +encoded):\n%s", diff)
			}
		})
	}
}

// reencodeResponse decodes an answer and encodes it again, as a fault if
// it is one.
func reencodeResponse(tb testing.TB, body string) string {
	tb.Helper()
	v, err := DecodeResponse(strings.NewReader(body))
	var buf bytes.Buffer
	var fault *Fault
	switch {
	case errors.As(err, &fault):
		err = EncodeFault(&buf, *fault)
	case err != nil:
		tb.Fatalf("DecodeResponse: %v", err)
	default:
		err = EncodeResponse(&buf, v)
	}
	if err != nil {
		tb.Fatalf("encode: %v", err)
	}
	return buf.String()
}
