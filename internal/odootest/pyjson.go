package odootest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// marshalPython encodes v as Odoo's make_json_response does (Python's
// json.dumps with ensure_ascii=False): ", " and ": " separators, keys in
// insertion order, non-ASCII characters as they are, control characters
// escaped, floats as Python's repr (1.0, not 1).
func marshalPython(v any) ([]byte, error) {
	var b bytes.Buffer
	if err := encodePython(&b, v); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func encodePython(b *bytes.Buffer, v any) error {
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		b.WriteString(strconv.FormatBool(x))
	case int64:
		b.WriteString(strconv.FormatInt(x, 10))
	case int:
		b.WriteString(strconv.Itoa(x))
	case float64:
		b.WriteString(pyFloat(x))
	case string:
		writePythonString(b, x)
	case Object:
		return encodePythonObject(b, x)
	default:
		return encodePythonList(b, v)
	}
	return nil
}

func encodePythonList(b *bytes.Buffer, v any) error {
	items, ok := asList(v)
	if !ok {
		if s, isStrings := v.([]string); isStrings {
			items = make([]any, len(s))
			for i := range s {
				items[i] = s[i]
			}
		} else {
			return fmt.Errorf("odootest: cannot encode %T as JSON", v)
		}
	}
	b.WriteByte('[')
	for i, it := range items {
		if i > 0 {
			b.WriteString(", ")
		}
		if err := encodePython(b, it); err != nil {
			return err
		}
	}
	b.WriteByte(']')
	return nil
}

func encodePythonObject(b *bytes.Buffer, o Object) error {
	b.WriteByte('{')
	for i, p := range o {
		if i > 0 {
			b.WriteString(", ")
		}
		writePythonString(b, p.Key)
		b.WriteString(": ")
		if err := encodePython(b, p.Value); err != nil {
			return err
		}
	}
	b.WriteByte('}')
	return nil
}

// writePythonString writes s as json.dumps(ensure_ascii=False) does.
func writePythonString(b *bytes.Buffer, s string) {
	b.WriteByte('"')
	for _, r := range s {
		writePythonRune(b, r)
	}
	b.WriteByte('"')
}

func writePythonRune(b *bytes.Buffer, r rune) {
	switch r {
	case '"':
		b.WriteString(`\"`)
	case '\\':
		b.WriteString(`\\`)
	case '\n':
		b.WriteString(`\n`)
	case '\r':
		b.WriteString(`\r`)
	case '\t':
		b.WriteString(`\t`)
	case '\b':
		b.WriteString(`\b`)
	case '\f':
		b.WriteString(`\f`)
	default:
		if r < 0x20 {
			fmt.Fprintf(b, `\u%04x`, r)
		} else {
			b.WriteRune(r)
		}
	}
}

// errNotJSON is returned by decodeJSON for a body that does not parse.
var errNotJSON = errors.New("odootest: invalid JSON")

// decodeJSON decodes one JSON document into the double's value forms,
// keeping object keys in order (Object) and integers apart from floats.
// Trailing data is an error, as it is for Python's json.loads.
func decodeJSON(data []byte) (any, error) {
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	v, err := decodeJSONValue(d)
	if err != nil {
		return nil, errNotJSON
	}
	if _, err := d.Token(); err != io.EOF {
		return nil, errNotJSON
	}
	return v, nil
}

func decodeJSONValue(d *json.Decoder) (any, error) {
	tok, err := d.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		if t == '{' {
			return decodeJSONObject(d)
		}
		if t == '[' {
			return decodeJSONArray(d)
		}
		return nil, errNotJSON
	case json.Number:
		return decodeJSONNumber(t), nil
	}
	return tok, nil // nil, bool or string
}

func decodeJSONNumber(n json.Number) any {
	if i, err := n.Int64(); err == nil {
		return i
	}
	f, _ := n.Float64()
	return f
}

func decodeJSONObject(d *json.Decoder) (Object, error) {
	o := Object{}
	for d.More() {
		tok, err := d.Token()
		if err != nil {
			return nil, err
		}
		key, _ := tok.(string)
		v, err := decodeJSONValue(d)
		if err != nil {
			return nil, err
		}
		o = o.set(key, v)
	}
	_, err := d.Token() // '}'
	return o, err
}

func decodeJSONArray(d *json.Decoder) ([]any, error) {
	items := []any{}
	for d.More() {
		v, err := decodeJSONValue(d)
		if err != nil {
			return nil, err
		}
		items = append(items, v)
	}
	_, err := d.Token() // ']'
	return items, err
}
