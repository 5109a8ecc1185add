package odoo

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
)

// Odoo answers JSON as Python's json.dumps writes it; keygate keeps the
// order of an object's members and their values as Odoo wrote them.

// Member is one Member of a JSON object, its value kept as sent.
type Member struct {
	Key   string
	Value json.RawMessage
}

// Members decodes a JSON object into its members, in order, refusing
// anything else and trailing data.
func Members(raw []byte) ([]Member, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, errors.New("not a JSON object")
	}
	var out []Member
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		key, _ := tok.(string) // object keys are strings
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		out = append(out, Member{Key: key, Value: v})
	}
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("data after the JSON object")
	}
	return out, nil
}

// EncodeMembers writes an object with Python's json.dumps separators.
func EncodeMembers(ms []Member) json.RawMessage {
	b := []byte{'{'}
	for i, m := range ms {
		if i > 0 {
			b = append(b, ", "...)
		}
		k, _ := json.Marshal(m.Key) // a string always encodes
		b = append(b, k...)
		b = append(b, ": "...)
		b = append(b, m.Value...)
	}
	return append(b, '}')
}
