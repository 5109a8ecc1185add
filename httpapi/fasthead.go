package httpapi

import (
	"bytes"
	"fmt"
	"net/http"
	"net/textproto"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"golang.org/x/net/http/httpguts"
)

// headerRule is what the fast path does with a request field, by its
// lower-case name.
type headerRule struct {
	canonical string // kept under this name in Exchange.Header
	kind      headerKind
}

type headerKind uint8

const (
	keepField   headerKind = iota // given to the handler
	hostField                     // the request's Host
	lengthField                   // Content-Length: 0 only
	refuseField                   // asks for more than a plain answer: net/http's
)

// headerRules are the rules of the fields a FastServer looks at: keep,
// and the ones that decide whether the request is the fast path's.
func headerRules(keep []string) map[string]headerRule {
	rules := map[string]headerRule{}
	for _, name := range append(slices.Clone(keep), echo.HeaderXRequestID) {
		if len(name) > maxRuleName {
			panic(fmt.Sprintf("httpapi: FastConfig.Headers: %q is longer than %d bytes", name, maxRuleName))
		}
		name = http.CanonicalHeaderKey(name)
		rules[strings.ToLower(name)] = headerRule{canonical: name, kind: keepField}
	}
	for name, r := range map[string]headerRule{
		"host":              {kind: hostField},
		"content-length":    {kind: lengthField},
		"transfer-encoding": {kind: refuseField},
		"connection":        {kind: refuseField},
		"upgrade":           {kind: refuseField},
		"expect":            {kind: refuseField},
	} {
		rules[name] = r
	}
	return rules
}

// maxRuleName is the longest field name a rule can have (NewFastServer
// refuses a longer one in FastConfig.Headers): a longer field is no
// rule's, and need not be lowered.
const maxRuleName = 64

// route returns the fast path's route of the request head b begins with,
// and its method (the route's own string), and whether it has one: its
// request line must be "METHOD TARGET HTTP/1.1" with a route's target and
// one of its methods. It does not allocate, so that a request for
// net/http costs the fast path nothing.
func (s *FastServer) route(b []byte) (*fastRoute, string, bool) {
	line, _, ok := bytes.Cut(b, []byte("\r\n"))
	if !ok {
		return nil, "", false
	}
	method, rest, ok := bytes.Cut(line, []byte(" "))
	if !ok {
		return nil, "", false
	}
	target, version, ok := bytes.Cut(rest, []byte(" "))
	if !ok || string(version) != "HTTP/1.1" {
		return nil, "", false
	}
	r, ok := s.routes[string(target)]
	if !ok {
		return nil, "", false
	}
	for _, m := range r.methods {
		if m == string(method) {
			return r, m, true
		}
	}
	return nil, "", false
}

// parseHead reads the fields of head (a request line that route accepted,
// field lines and the empty line) into x, and reports whether the request
// is the fast path's: every line ends with "\r\n"; every field is a token,
// a colon and a value of valid bytes (no line folded, no space before the
// colon); one valid Host; no body; no field of refuseField. Anything else,
// valid or not, is net/http's to read and answer. The values are
// substrings of head.
func (fc *fastConn) parseHead(head string, x *Exchange) bool {
	_, rest, _ := strings.Cut(head, "\r\n")
	x.Host = ""
	hosts := 0
	var line string
	for {
		line, rest, _ = strings.Cut(rest, "\r\n")
		if line == "" {
			// headEnd ends a head at its first empty line: this is it,
			// unless a bare "\n" ended a line before ("a\n\r\n").
			return rest == "" && hosts == 1
		}
		if strings.IndexByte(line, '\n') >= 0 {
			return false
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok || !httpguts.ValidHeaderFieldName(name) {
			return false
		}
		value = strings.Trim(value, " \t")
		if !httpguts.ValidHeaderFieldValue(value) {
			return false
		}
		if len(name) > maxRuleName {
			continue
		}
		var lower [maxRuleName]byte
		for i := 0; i < len(name); i++ {
			c := name[i]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			lower[i] = c
		}
		rule, ok := fc.s.keep[string(lower[:len(name)])]
		if !ok {
			continue
		}
		switch rule.kind {
		case keepField:
			fc.keepValue(x.Header, rule.canonical, value)
		case hostField:
			hosts++
			x.Host = value
			if !httpguts.ValidHostHeader(value) {
				return false
			}
		case lengthField:
			if value != "0" {
				return false
			}
		case refuseField:
			return false
		}
	}
}

// keepValue adds value to h's field name, in fc.vals while the field has
// one value, as net/http's textproto does.
func (fc *fastConn) keepValue(h http.Header, name, value string) {
	if v, ok := h[name]; ok {
		h[name] = append(v, value)
		return
	}
	fc.vals = append(fc.vals, value)
	n := len(fc.vals)
	h[name] = fc.vals[n-1 : n : n]
}

// appendAnswer appends x's answer as net/http writes a handler's that
// finished: the status line, the handler's fields sorted by name (values
// with CR and LF as spaces, trimmed), Date, Content-Length, the body.
func (fc *fastConn) appendAnswer(b []byte, x *Exchange, now time.Time) []byte {
	b = append(b, "HTTP/1.1 "...)
	b = strconv.AppendInt(b, int64(x.status), 10)
	b = append(b, ' ')
	if text := http.StatusText(x.status); text != "" {
		b = append(b, text...)
	} else {
		b = append(b, "status code "...)
		b = strconv.AppendInt(b, int64(x.status), 10)
	}
	b = append(b, "\r\n"...)
	keys := fc.keys[:0]
	for k := range x.res {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	fc.keys = keys
	for _, k := range keys {
		if !httpguts.ValidHeaderFieldName(k) {
			continue
		}
		for _, v := range x.res[k] {
			b = append(b, k...)
			b = append(b, ": "...)
			b = append(b, textproto.TrimString(newlineToSpace.Replace(v))...)
			b = append(b, "\r\n"...)
		}
	}
	b = append(b, "Date: "...)
	b = append(b, fc.dateOf(now)...)
	b = append(b, "\r\n"...)
	if bodyAllowed(x.status) {
		b = append(b, "Content-Length: "...)
		b = strconv.AppendInt(b, int64(len(x.body)), 10)
		b = append(b, "\r\n"...)
	}
	b = append(b, "\r\n"...)
	return append(b, x.body...)
}

var newlineToSpace = strings.NewReplacer("\n", " ", "\r", " ")

// bodyAllowed is net/http's bodyAllowedForStatus.
func bodyAllowed(status int) bool {
	return !(status >= 100 && status <= 199 || status == http.StatusNoContent || status == http.StatusNotModified)
}

// dateOf is now's Date field, formatted once a second.
func (fc *fastConn) dateOf(now time.Time) []byte {
	if sec := now.Unix(); sec != fc.dateAt {
		now.UTC().AppendFormat(fc.date[:0], http.TimeFormat)
		fc.dateAt = sec
	}
	return fc.date[:]
}
