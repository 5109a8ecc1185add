package xmlrpc

import (
	"encoding/base64"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"unicode/utf8"
)

// encoder builds a whole document in memory, so that a value it cannot
// encode leaves the writer untouched.
type encoder struct {
	buf []byte
	// odoo drops the control characters that Odoo's marshaller removes;
	// otherwise they are an error, since XML cannot carry them.
	odoo  bool
	depth int
}

func (e *encoder) str(s string) { e.buf = append(e.buf, s...) }

func (e *encoder) flush(w io.Writer) error {
	if _, err := w.Write(e.buf); err != nil {
		return fmt.Errorf("xmlrpc: write: %w", err)
	}
	return nil
}

// value writes v in the layout of Python's xmlrpc.client Marshaller.
func (e *encoder) value(v any) error {
	switch v := v.(type) {
	case nil:
		e.str("<value><nil/></value>")
	case bool:
		e.bool(v)
	case int:
		e.int(int64(v))
	case int32:
		e.int(int64(v))
	case int64:
		e.int(v)
	case float64:
		return e.double(v)
	case string:
		return e.scalar("string", v)
	case DateTime:
		return e.scalar("dateTime.iso8601", string(v))
	case Base64:
		e.base64(v)
	case []byte:
		e.base64(v)
	default:
		return e.composite(v)
	}
	return nil
}

func (e *encoder) composite(v any) error {
	if e.depth++; e.depth > maxEncodeDepth {
		return fmt.Errorf("%w: nested deeper than %d", ErrUnsupported, maxEncodeDepth)
	}
	defer func() { e.depth-- }()
	switch v := v.(type) {
	case []any:
		return array(e, v)
	case []string:
		return array(e, v)
	case []int64:
		return array(e, v)
	case []int:
		return array(e, v)
	case Struct:
		return e.structure(v)
	case map[string]any:
		return e.mapping(v)
	}
	return fmt.Errorf("%w: type %T", ErrUnsupported, v)
}

func array[T any](e *encoder, a []T) error {
	e.str("<value><array><data>\n")
	for i, v := range a {
		if err := e.value(v); err != nil {
			return fmt.Errorf("array item %d: %w", i, err)
		}
	}
	e.str("</data></array></value>\n")
	return nil
}

func (e *encoder) structure(s Struct) error {
	e.str("<value><struct>\n")
	for _, m := range s {
		if err := e.member(m.Name, m.Value); err != nil {
			return err
		}
	}
	e.str("</struct></value>\n")
	return nil
}

// mapping writes a map as a struct with its keys in sorted order.
func (e *encoder) mapping(m map[string]any) error {
	e.str("<value><struct>\n")
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if err := e.member(k, m[k]); err != nil {
			return err
		}
	}
	e.str("</struct></value>\n")
	return nil
}

func (e *encoder) member(name string, v any) error {
	e.str("<member>\n<name>")
	if err := e.text(name); err != nil {
		return fmt.Errorf("member name: %w", err)
	}
	e.str("</name>\n")
	if err := e.value(v); err != nil {
		return fmt.Errorf("member %q: %w", clip(name), err)
	}
	e.str("</member>\n")
	return nil
}

func (e *encoder) bool(b bool) {
	if b {
		e.str("<value><boolean>1</boolean></value>\n")
	} else {
		e.str("<value><boolean>0</boolean></value>\n")
	}
}

func (e *encoder) int(i int64) {
	e.str("<value><int>")
	e.buf = strconv.AppendInt(e.buf, i, 10)
	e.str("</int></value>\n")
}

func (e *encoder) double(f float64) error {
	e.str("<value><double>")
	var err error
	if e.buf, err = appendPythonFloat(e.buf, f); err != nil {
		return err
	}
	e.str("</double></value>\n")
	return nil
}

func (e *encoder) scalar(tag, s string) error {
	e.str("<value><" + tag + ">")
	if err := e.text(s); err != nil {
		return err
	}
	e.str("</" + tag + "></value>\n")
	return nil
}

// base64 writes b as Python's base64.encodebytes does: lines of 76
// characters, each ending in a newline.
func (e *encoder) base64(b []byte) {
	const chunk = 57 // bytes per 76-character line
	e.str("<value><base64>\n")
	for len(b) > 0 {
		n := min(len(b), chunk)
		e.buf = base64.StdEncoding.AppendEncode(e.buf, b[:n])
		e.buf = append(e.buf, '\n')
		b = b[n:]
	}
	e.str("</base64></value>\n")
}

// text escapes s as Python's xmlrpc.client does (&, < and >), and writes
// a carriage return as &#13; so that it survives XML's line-end handling.
func (e *encoder) text(s string) error {
	for i, r := range s {
		switch {
		case r == utf8.RuneError && !validRuneAt(s, i):
			return fmt.Errorf("%w: string is not valid UTF-8", ErrUnsupported)
		case r == '&':
			e.str("&amp;")
		case r == '<':
			e.str("&lt;")
		case r == '>':
			e.str("&gt;")
		case r == '\r':
			e.str("&#13;")
		case r < 0x20 && r != '\t' && r != '\n':
			if !e.odoo {
				return fmt.Errorf("%w: control character %U in string", ErrUnsupported, r)
			}
		case r == 0xFFFE || r == 0xFFFF:
			return fmt.Errorf("%w: character %U in string", ErrUnsupported, r)
		default:
			e.buf = utf8.AppendRune(e.buf, r)
		}
	}
	return nil
}

func validRuneAt(s string, i int) bool {
	_, size := utf8.DecodeRuneInString(s[i:])
	return size > 1
}
