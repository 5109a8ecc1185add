package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// errNotJSON: duplicateKey met a body it cannot read; decodeStrict has
// already answered malformed bodies, so this cannot reach a client.
var errNotJSON = errors.New("httpapi: malformed JSON")

// duplicateKey returns the first member name that appears twice in one
// object of body, at any depth, as a JSON pointer-like path ("/a/0/b").
// encoding/json keeps the last of duplicate members silently; a client
// and keygate (or a proxy in front of it) that read the same body
// differently is how a check gets bypassed, so such bodies are refused.
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
			if _, dup := top.names[name]; dup {
				return pathOf(stack, name), true, nil
			}
			top.names[name] = struct{}{}
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
	key     string // object: the member being read
	index   int    // array: the element being read
	names   map[string]struct{}
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
