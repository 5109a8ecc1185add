package proxy

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/keygate/keygate/authz"
	"github.com/keygate/keygate/httpapi"
)

// scanLimit is how much of a body the gateway reads looking for the
// call's password before it stops looking: within the bytes that
// httpapi.GuardBodies reads free of charge by default, so that the search
// works even while strangers hold the whole budget.
const scanLimit = httpapi.DefaultGrace

// validator is what the gateway's Authorizer may offer to check a key it
// found in a body without counting anything: *authz.Authorizer does.
type validator interface {
	Valid(ctx context.Context, req authz.Request) bool
}

// keyScanner reads the start of a call and returns its password argument
// (the third: execute_kw's and login's), when it is a string.
type keyScanner func(r io.Reader) (string, bool)

// readCallBody reads the body as readBody does; and when no key came in a
// header, it looks for the call's password as the body streams, within
// its first scanLimit bytes: a valid key there marks the request
// authenticated (httpapi.Authenticated), so that the rest of its body is
// not charged to strangers' budget. A bad key changes nothing: the call is
// decided, and answered, as usual once read.
func (g *Gateway) readCallBody(c echo.Context, scan keyScanner) ([]byte, error) {
	r := c.Request()
	if r.ContentLength > g.maxBody {
		return nil, errTooLarge
	}
	body := http.MaxBytesReader(c.Response(), r.Body, g.maxBody)
	var buf bytes.Buffer
	if v, ok := g.auth.(validator); ok {
		if req := g.auth.Request(r); req.Credential == "" {
			key, found := scan(io.LimitReader(io.TeeReader(body, &buf), scanLimit))
			if req.Credential = key; found && v.Valid(r.Context(), req) {
				httpapi.Authenticated(r)
			}
		}
	}
	b, err := readRest(buf.Bytes(), body, r.ContentLength)
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return nil, errTooLarge
	}
	return b, err
}

// readRest appends the rest of r to b, growing it by a quarter at a time
// (where bytes.Buffer would double) and never beyond the announced length
// n (when n ≥ 0), so that what a body holds stays close to what it sent:
// the budget of unauthenticated bytes counts bytes sent, and the heap
// should follow it.
func readRest(b []byte, r io.Reader, n int64) ([]byte, error) {
	for {
		if len(b) == cap(b) {
			b = grow(b, n)
		}
		m, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+m]
		if errors.Is(err, io.EOF) {
			return b, nil
		}
		if err != nil {
			return b, err
		}
	}
}

// grow returns b with room for a quarter more (at least 512 bytes), but
// no more than one byte past n when n is known, to see the end.
func grow(b []byte, n int64) []byte {
	extra := max(len(b)/4, 512)
	if rem := n + 1 - int64(len(b)); n >= 0 && rem > 0 {
		extra = int(min(int64(extra), rem))
	}
	nb := make([]byte, len(b), len(b)+extra)
	copy(nb, b)
	return nb
}

// jsonPassword finds params.args[2] of a JSON-RPC call.
func jsonPassword(r io.Reader) (string, bool) {
	dec := json.NewDecoder(r)
	if !enterJSON(dec, '{') || !findMember(dec, "params") || !enterJSON(dec, '{') ||
		!findMember(dec, "args") || !enterJSON(dec, '[') {
		return "", false
	}
	for range 2 {
		if !dec.More() || !skipJSON(dec) {
			return "", false
		}
	}
	if !dec.More() {
		return "", false
	}
	tok, err := dec.Token()
	s, ok := tok.(string)
	return s, ok && err == nil
}

func enterJSON(dec *json.Decoder, open json.Delim) bool {
	tok, err := dec.Token()
	return err == nil && tok == open
}

// findMember reads an object's members up to the one named name.
func findMember(dec *json.Decoder, name string) bool {
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return false
		}
		if tok == name {
			return true
		}
		if !skipJSON(dec) {
			return false
		}
	}
	return false
}

// skipJSON reads one value, whatever it holds.
func skipJSON(dec *json.Decoder) bool {
	depth := 0
	for {
		tok, err := dec.Token()
		if err != nil {
			return false
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			depth++
		case json.Delim('}'), json.Delim(']'):
			depth--
		}
		if depth == 0 {
			return true
		}
	}
}

// xmlPassword finds the third <param> of an XML-RPC <methodCall>, when
// its value is a string (<string> or untyped).
func xmlPassword(r io.Reader) (string, bool) {
	dec := xml.NewDecoder(r)
	var path []string
	param := 0
	for {
		tok, err := dec.Token()
		if err != nil {
			return "", false
		}
		switch t := tok.(type) {
		case xml.StartElement:
			path = append(path, t.Name.Local)
			if len(path) == 3 && t.Name.Local == "param" && path[0] == "methodCall" && path[1] == "params" {
				if param++; param == 3 {
					return xmlStringValue(dec)
				}
			}
		case xml.EndElement:
			if len(path) > 0 {
				path = path[:len(path)-1]
			}
		}
	}
}

// xmlStringValue reads <value>…</value> inside a <param> and returns it
// when it is a string.
func xmlStringValue(dec *xml.Decoder) (string, bool) {
	var text []byte
	inValue, typed := false, false
	for {
		tok, err := dec.Token()
		if err != nil {
			return "", false
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch {
			case !inValue && t.Name.Local == "value":
				inValue = true
			case inValue && !typed && t.Name.Local == "string":
				typed, text = true, text[:0]
			default:
				return "", false // another type, or not XML-RPC
			}
		case xml.CharData:
			if inValue {
				text = append(text, t...)
			}
		case xml.EndElement:
			if t.Name.Local == "value" || t.Name.Local == "string" {
				return string(text), inValue
			}
			return "", false
		}
	}
}
