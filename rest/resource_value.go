package rest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/mail"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/keygate/keygate/odoo"
)

// Values between Odoo and the REST API. Reads: Odoo's false is null but
// on booleans, a many2one ([id, "name"] from read, {"id", "display_name"}
// from web_read) is {"id", "name"}, a datetime "2026-11-28 08:35:53" is
// "2026-11-28T08:35:53Z". Writes: each value is checked against its
// field's type and validation, null clears a field (Odoo's false).

// object is a JSON object whose members keep their order.
type object []odoo.Member

// MarshalJSON writes the members in order.
func (o object) MarshalJSON() ([]byte, error) { return odoo.EncodeMembers(o), nil }

var jsonNull = json.RawMessage("null")

// errBadAnswer: Odoo answered with a shape keygate does not read.
var errBadAnswer = fmt.Errorf("%w: unexpected answer", odoo.ErrBadGateway)

// object converts one record as Odoo answers it to the API's object of
// fields, in that order.
func (v *version) object(raw json.RawMessage, fields []string) (object, error) {
	var rec map[string]json.RawMessage
	if err := json.Unmarshal(raw, &rec); err != nil {
		return nil, fmt.Errorf("%w: a record is not an object", errBadAnswer)
	}
	out := make(object, 0, len(fields))
	for _, name := range fields {
		val, err := v.fields[name].jsonValue(rec[name])
		if err != nil {
			return nil, fmt.Errorf("%w: field %s: %w", errBadAnswer, name, err)
		}
		out = append(out, odoo.Member{Key: name, Value: val})
	}
	return out, nil
}

// jsonValue converts Odoo's value of f to the API's.
func (f *field) jsonValue(raw json.RawMessage) (json.RawMessage, error) {
	raw = bytes.TrimSpace(raw)
	switch {
	case len(raw) == 0, string(raw) == "null":
		return jsonNull, nil
	case string(raw) == "false" && f.typ != typeBoolean:
		return jsonNull, nil
	case f.typ == typeMany2one:
		return many2oneJSON(raw)
	case f.typ == typeDatetime:
		return datetimeJSON(raw)
	}
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// many2oneJSON reads [id, "name"] (read) or {"id", "display_name"}
// (web_read) and writes {"id", "name"}.
func many2oneJSON(raw json.RawMessage) (json.RawMessage, error) {
	var ref struct {
		ID   int64  `json:"id"`
		Name string `json:"name"`
	}
	var pair []json.RawMessage
	var web struct {
		ID          int64  `json:"id"`
		DisplayName string `json:"display_name"`
	}
	switch {
	case json.Unmarshal(raw, &pair) == nil && len(pair) == 2:
		if json.Unmarshal(pair[0], &ref.ID) != nil || json.Unmarshal(pair[1], &ref.Name) != nil {
			return nil, errors.New("not [id, name]")
		}
	case json.Unmarshal(raw, &web) == nil && web.ID > 0:
		ref.ID, ref.Name = web.ID, web.DisplayName
	default:
		return nil, errors.New("not a many2one value")
	}
	return json.Marshal(ref)
}

func datetimeJSON(raw json.RawMessage) (json.RawMessage, error) {
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, err
	}
	t, err := time.Parse(odooDatetime, s)
	if err != nil {
		return nil, err
	}
	return json.Marshal(t.Format(time.RFC3339))
}

// writeMode is how a body changes a record.
type writeMode int

const (
	modeCreate  writeMode = iota // POST: required fields present
	modeReplace                  // PUT: required fields present, absent ones cleared
	modePatch                    // PATCH: the fields given only
)

// vals checks a request body against the version's writable fields and
// returns Odoo's vals, or every problem by field.
func (v *version) vals(body map[string]json.RawMessage, mode writeMode) (map[string]any, map[string]string) {
	vals, bad := map[string]any{}, map[string]string{}
	for name, raw := range body {
		switch {
		case v.writable[name]:
			val, problem := v.fields[name].odooValue(raw, v.needed[name])
			if problem != "" {
				bad[name] = problem
				continue
			}
			vals[name] = val
		case v.readable[name]:
			bad[name] = "read-only field"
		default:
			bad[name] = "unknown field (writable: " + strings.Join(v.write, ", ") + ")"
		}
	}
	v.completeVals(vals, body, bad, mode)
	if len(bad) > 0 {
		return nil, bad
	}
	return vals, nil
}

// completeVals checks that required fields are there (create, replace),
// clears the absent ones (replace), and refuses an empty patch.
func (v *version) completeVals(vals map[string]any, body map[string]json.RawMessage, bad map[string]string, mode writeMode) {
	if mode == modePatch {
		if len(body) == 0 {
			bad["body"] = "no field to change (writable: " + strings.Join(v.write, ", ") + ")"
		}
		return
	}
	for _, name := range v.write {
		_, given := body[name]
		switch {
		case given:
		case v.needed[name]:
			bad[name] = "required"
		case mode == modeReplace:
			vals[name] = false
		}
	}
}

// odooValue checks one value of f and converts it for Odoo; the problem
// is "" when it is fine.
func (f *field) odooValue(raw json.RawMessage, required bool) (any, string) {
	raw = bytes.TrimSpace(raw)
	if string(raw) == "null" {
		if required || f.typ == typeBoolean {
			return nil, "must not be null"
		}
		return false, ""
	}
	switch f.typ {
	case typeInteger:
		return integerValue(raw)
	case typeNumber:
		return numberValue(raw)
	case typeBoolean:
		return booleanValue(raw)
	case typeMany2one:
		return many2oneValue(raw)
	}
	s, problem := stringValue(raw, f.maxLength, required)
	if problem != "" {
		return nil, problem
	}
	return f.textValue(s)
}

// textValue checks the text of a string, email, date or datetime field;
// "" clears the last three, as null does.
func (f *field) textValue(s string) (any, string) {
	if s == "" && f.typ != typeString {
		return false, ""
	}
	switch f.typ {
	case typeEmail:
		if a, err := mail.ParseAddress(s); err != nil || a.Name != "" || a.Address != s {
			return nil, "must be an email address such as name@example.com"
		}
	case typeDate:
		if _, err := time.Parse(isoDate, s); err != nil {
			return nil, "must be a date: YYYY-MM-DD"
		}
	case typeDatetime:
		t, err := parseDatetime(s)
		if err != nil {
			return nil, "must be an RFC 3339 date and time such as 2026-11-28T08:35:53Z"
		}
		return t, ""
	}
	return s, ""
}

func stringValue(raw json.RawMessage, maxLength int, required bool) (string, string) {
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return "", "must be a string"
	}
	switch n := utf8.RuneCountInString(s); {
	case strings.ContainsRune(s, 0):
		return "", "must not contain NUL characters"
	case required && strings.TrimSpace(s) == "":
		return "", "must not be empty"
	case maxLength > 0 && n > maxLength:
		return "", fmt.Sprintf("must be at most %d characters long (is %d)", maxLength, n)
	}
	return s, ""
}

func integerValue(raw json.RawMessage) (any, string) {
	n, err := strconv.ParseInt(string(raw), 10, 32)
	if err != nil {
		return nil, "must be a whole number from -2147483648 to 2147483647"
	}
	return n, ""
}

func numberValue(raw json.RawMessage) (any, string) {
	if len(raw) == 0 || raw[0] == '"' {
		return nil, "must be a number"
	}
	n, err := strconv.ParseFloat(string(raw), 64)
	if err != nil || math.IsInf(n, 0) {
		return nil, "must be a number"
	}
	return n, ""
}

func booleanValue(raw json.RawMessage) (any, string) {
	switch string(raw) {
	case "true":
		return true, ""
	case "false":
		return false, ""
	}
	return nil, "must be true or false"
}

// many2oneValue takes a record id, or an object with one ({"id": 20,
// "name": "Belgium"}, as reads answer).
func many2oneValue(raw json.RawMessage) (any, string) {
	const problem = `must be a record id or {"id": <id>}`
	if len(raw) > 0 && raw[0] == '{' {
		var ref struct {
			ID json.RawMessage `json:"id"`
		}
		if json.Unmarshal(raw, &ref) != nil {
			return nil, problem
		}
		raw = ref.ID
	}
	id, err := strconv.ParseInt(string(raw), 10, 32)
	if err != nil || id < 1 {
		return nil, problem
	}
	return id, ""
}
