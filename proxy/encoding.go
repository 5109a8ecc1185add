package proxy

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"
)

// member is one member of a JSON object, its value kept as sent.
type member struct {
	key   string
	value json.RawMessage
}

// members decodes a JSON object into its members, in order, refusing
// anything else and trailing data.
func members(raw []byte) ([]member, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, errors.New("not a JSON object")
	}
	var out []member
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
		out = append(out, member{key: key, value: v})
	}
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("data after the JSON object")
	}
	return out, nil
}

// encodeMembers writes an object with Python's json.dumps separators.
func encodeMembers(ms []member) json.RawMessage {
	b := []byte{'{'}
	for i, m := range ms {
		if i > 0 {
			b = append(b, ", "...)
		}
		k, _ := json.Marshal(m.key) // a string always encodes
		b = append(b, k...)
		b = append(b, ": "...)
		b = append(b, m.value...)
	}
	return append(b, '}')
}

func writeBlob(c echo.Context, status int, contentType string, body []byte) error {
	c.Response().Header().Set("X-Content-Type-Options", "nosniff")
	return c.Blob(status, contentType, body)
}

func writeHTML(c echo.Context, status int, body string) error {
	return writeBlob(c, status, "text/html; charset=utf-8", []byte(body))
}

// werkzeugPage is the HTML page werkzeug answers an HTTP error with.
func werkzeugPage(status int, description string) string {
	text := http.StatusText(status)
	return "<!doctype html>\n<html lang=en>\n<title>" + strconv.Itoa(status) + " " + text + "</title>\n<h1>" +
		text + "</h1>\n<p>" + description + "</p>\n"
}
