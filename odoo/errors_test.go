package odoo

import (
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
)

const traceback = "Traceback (most recent call last):\n  File \"/usr/lib/python3/dist-packages/odoo/http.py\", line 1954, in _transactioning\n" +
	"    return service_model.retrying(func, env=self.env)\n           ^^^^^^^^^^^^\n"

func TestStripTraceback(t *testing.T) {
	cases := map[string]struct{ in, want string }{
		"plain_message_unchanged":  {"Access Denied", "Access Denied"},
		"empty_unchanged":          {"", ""},
		"builtin_exception_line":   {traceback + "ValueError: Invalid field 'x' on model 'res.partner'\n", "ValueError: Invalid field 'x' on model 'res.partner'"},
		"qualified_exception_line": {traceback + "xml.parsers.expat.ExpatError: no element found: line 1, column 0\n", "xml.parsers.expat.ExpatError: no element found: line 1, column 0"},
		"multi_line_message_kept":  {traceback + "odoo.exceptions.ValidationError: first line\nsecond line\n", "odoo.exceptions.ValidationError: first line\nsecond line"},
		"chained_keeps_the_last": {traceback + "KeyError: 'a'\n\nDuring handling of the above exception, another exception occurred:\n\n" +
			traceback + "TypeError: cannot marshal None unless allow_none is enabled\n", "TypeError: cannot marshal None unless allow_none is enabled"},
		"frames_only":         {traceback, "Odoo Server Error"},
		"text_before_dropped": {"context\n" + traceback + "KeyError: 'nope'", "KeyError: 'nope'"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			got := StripTraceback(c.in)
			if got != c.want {
				t.Errorf("StripTraceback = %q, want %q", got, c.want)
			}
			if strings.Contains(got, "dist-packages") {
				t.Errorf("a file path survived: %q", got)
			}
		})
	}
}

// TestDecodeAnswerCutsSQL: an Odoo error that quotes the SQL it generated
// (real Odoo 18.0, shared/odoo/18.0/relations/39) is an *OdooError with
// its first line only, so that no caller of the Client (the REST facade)
// passes the SQL on.
func TestDecodeAnswerCutsSQL(t *testing.T) {
	b, err := os.ReadFile("testdata/sql-error-18.0.json")
	if err != nil {
		t.Fatal(err)
	}
	const first = `invalid input syntax for type integer: "abc"`
	_, err = decodeAnswer(b)
	var oe *OdooError
	if !errors.As(err, &oe) || oe.Message != first {
		t.Errorf("decodeAnswer = %v, want the first line only", err)
	}
}

func TestCutSQLLeavesOtherMessages(t *testing.T) {
	for _, msg := range []string{"The operation cannot be completed: Contacts require a name", "first line\nsecond line", ""} {
		if got := CutSQL("odoo.exceptions.ValidationError", msg); got != msg {
			t.Errorf("CutSQL(%q) = %q: a message that quotes no SQL must stay whole", msg, got)
		}
	}
}

// TestJSON2ResultCutsSQL: a JSON-2 error (Odoo 19) that quotes SQL
// becomes an *OdooError of its first line only, as decodeAnswer's, so
// that JSON-RPC, XML-RPC and call_kw partners of an Odoo 19 never see it.
func TestJSON2ResultCutsSQL(t *testing.T) {
	const first = `invalid input syntax for type integer: "abc"`
	body, _ := json.Marshal(map[string]any{"name": "psycopg2.errors.InvalidTextRepresentation",
		"message": first + "\nLINE 1: ...rtner\".\"id\" = 'abc')) AN...\n     ^\n", "arguments": []any{}, "context": map[string]any{}})
	_, err := json2Result(JSON2Answer{Status: 500, Body: body})
	var oe *OdooError
	if !errors.As(err, &oe) || oe.Message != first {
		t.Errorf("json2Result = %v, want the first line only", err)
	}
}
