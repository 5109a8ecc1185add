package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"unicode"
	"unicode/utf8"
)

// errNotJSON: duplicateKey met a body it cannot read; decodeStrict has
// already answered malformed bodies, so this cannot reach a client.
var errNotJSON = errors.New("httpapi: malformed JSON")

// duplicateKey returns the first member name that appears twice in one
// object of body, at any depth, as a JSON pointer-like path ("/a/0/b").
// encoding/json keeps the last of duplicate members silently; a client
// and keygate (or a proxy in front of it) that read the same body
// differently is how a check gets bypassed, so such bodies are refused.
// Names are compared as encoding/json matches them to struct fields,
// case-insensitively (bytes.EqualFold): "scopes" and "Scopes" land in
// the same field, the last one winning, so they are duplicates too.
func duplicateKey(body []byte) (string, bool, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var stack []*frame
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return "", false, nil
		}
		if err != nil {
			return "", false, errNotJSON
		}
		top := (*frame)(nil)
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if top != nil && top.object && top.wantKey {
			if d, ok := tok.(json.Delim); ok && d == '}' {
				stack = stack[:len(stack)-1]
				valueDone(stack)
				continue
			}
			name, _ := tok.(string)
			folded := foldName(name)
			if _, dup := top.names[folded]; dup {
				return pathOf(stack, name), true, nil
			}
			top.names[folded] = struct{}{}
			top.key, top.wantKey = name, false
			continue
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, &frame{object: true, wantKey: true, names: map[string]struct{}{}})
		case json.Delim('['):
			stack = append(stack, &frame{})
		case json.Delim(']'):
			stack = stack[:len(stack)-1]
			valueDone(stack)
		default:
			valueDone(stack)
		}
	}
}

// frame is one open object or array.
type frame struct {
	object  bool
	wantKey bool
	key     string              // object: the member being read
	index   int                 // array: the element being read
	names   map[string]struct{} // object: the members read, by foldName
}

// valueDone moves the innermost container past the value just read.
func valueDone(stack []*frame) {
	if len(stack) == 0 {
		return
	}
	top := stack[len(stack)-1]
	if top.object {
		top.wantKey = true
	} else {
		top.index++
	}
}

func pathOf(stack []*frame, name string) string {
	var b bytes.Buffer
	for _, f := range stack[:len(stack)-1] {
		if f.object {
			fmt.Fprintf(&b, "/%s", f.key)
		} else {
			fmt.Fprintf(&b, "/%d", f.index)
		}
	}
	fmt.Fprintf(&b, "/%s", name)
	return b.String()
}

// foldName maps names that bytes.EqualFold deems equal (how
// encoding/json matches a member to a struct field) to one string: each
// rune becomes the smallest rune of its Unicode fold set.
func foldName(name string) string {
	b := make([]byte, 0, len(name))
	for _, r := range name {
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			r = min(r, f)
		}
		b = utf8.AppendRune(b, r)
	}
	return string(b)
}
