package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"

	"github.com/labstack/echo/v4"
)

// DefaultBodyLimit is the admin API's request size limit.
const DefaultBodyLimit = 64 << 10

// Bind decodes the JSON body into v strictly: the content type must be
// JSON, unknown fields, duplicate member names (in any object, at any
// depth) and trailing data are refused (400), and a body over
// limit bytes is 413. An empty body decodes as {}.
func Bind(c echo.Context, v any, limit int64) error {
	r := c.Request()
	if ct := r.Header.Get(echo.HeaderContentType); ct != "" {
		if mt, _, _ := mime.ParseMediaType(ct); mt != echo.MIMEApplicationJSON {
			return Errorf(http.StatusUnsupportedMediaType, "Content-Type must be application/json")
		}
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if errors.Is(err, ErrBusy) {
		return Busy(c)
	}
	if err != nil {
		return &Error{Status: http.StatusBadRequest, Message: "could not read the request body", Cause: err}
	}
	if int64(len(body)) > limit {
		return Errorf(http.StatusRequestEntityTooLarge, "request body is larger than %d bytes", limit)
	}
	return decodeStrict(body, v)
}

func decodeStrict(body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		body = []byte("{}")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return &Error{Status: http.StatusBadRequest, Message: jsonMessage(err), Cause: err}
	}
	if dec.More() {
		return Errorf(http.StatusBadRequest, "request body must hold a single JSON object")
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return Errorf(http.StatusBadRequest, "request body must hold a single JSON object")
	}
	if path, dup, err := duplicateKey(body); dup || err != nil {
		return &Error{Status: http.StatusBadRequest, Message: fmt.Sprintf("duplicate member %q in the request body", path), Cause: err}
	}
	return nil
}

func jsonMessage(err error) string {
	var (
		syn *json.SyntaxError
		typ *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &syn):
		return fmt.Sprintf("malformed JSON at byte %d", syn.Offset)
	case errors.As(err, &typ):
		if typ.Field != "" {
			return fmt.Sprintf("field %q must be %s", typ.Field, typ.Type)
		}
		return "request body must be a JSON object"
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "malformed JSON: unexpected end"
	}
	if msg := err.Error(); len(msg) > len("json: unknown field ") && msg[:20] == "json: unknown field " {
		return "unknown field " + msg[20:]
	}
	return "malformed JSON"
}
