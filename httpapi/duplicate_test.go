package httpapi

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/labstack/echo/v4"
)

func TestBindRefusesDuplicateMembers(t *testing.T) {
	type inner struct {
		B int `json:"b"`
	}
	type body struct {
		Name  string         `json:"name"`
		Email string         `json:"email"`
		Meta  map[string]any `json:"meta"`
		List  []inner        `json:"list"`
	}
	for _, tc := range []struct {
		name, body string
		status     int // 0: accepted
		path       string
	}{
		{"distinct_members_are_accepted", `{"name":"a","email":"e","meta":{"name":1},"list":[{"b":1},{"b":2}]}`, 0, ""},
		{"a_repeated_top_level_member_is_400", `{"name":"a","name":"b"}`, 400, "/name"},
		{"a_repeated_member_spelt_with_an_escape_is_400", `{"name":"a","\u006eame":"b"}`, 400, "/name"},
		{"a_repeated_member_in_a_nested_object_is_400", `{"meta":{"x":1,"y":{"z":1,"z":2}}}`, 400, "/meta/y/z"},
		{"a_repeated_member_in_an_array_element_is_400", `{"list":[{"b":1},{"b":1,"b":2}]}`, 400, "/list/1/b"},
		{"a_member_repeated_in_another_case_is_400", `{"name":"a","email":"e","NAME":"b"}`, 400, "/NAME"},
		{"a_member_repeated_with_a_kelvin_sign_is_400", `{"meta":{"k":1,"\u212a":2}}`, 400, "/meta/\u212a"},
		{"a_member_repeated_in_another_case_in_an_array_element_is_400", `{"list":[{"b":1,"B":2}]}`, 400, "/list/0/B"},
		{"the_same_name_in_sibling_objects_is_accepted", `{"list":[{"b":1},{"b":1}],"meta":{"b":{"b":1}}}`, 0, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var v body
			err := bindString(t, tc.body, &v)
			if tc.status == 0 {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			e, ok := err.(*Error)
			if !ok {
				t.Fatalf("got %v, want a %d", err, tc.status)
			}
			want := Error{Status: tc.status, Message: `duplicate member "` + tc.path + `" in the request body`}
			if diff := cmp.Diff(want, Error{Status: e.Status, Message: e.Message}); diff != "" {
				t.Fatalf("(-want +got):\n%s", diff)
			}
		})
	}
}

func bindString(t testing.TB, body string, v any) error {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
	req.Header.Set(echo.HeaderContentType, echo.MIMEApplicationJSON)
	c := echo.New().NewContext(req, httptest.NewRecorder())
	return Bind(c, v, DefaultBodyLimit)
}

// FuzzDuplicateKey checks duplicateKey against an independent count: a
// valid JSON text has no duplicate member exactly when its number of
// members (colons outside strings) equals the number of entries of the
// maps it decodes to, counting keys that bytes.EqualFold deems equal
// (one struct field for encoding/json) once.
func FuzzDuplicateKey(f *testing.F) {
	for _, s := range []string{`{}`, `{"a":1,"a":2}`, `{"a":{"b":[{"c":1,"c":2}]}}`, `[{"a":":"},{"a":"\""}]`,
		`{"\u0061":1,"a":2}`, `"x"`, `{"a":[1,{"a":{}}],"b":{"a":1}}`, `{"a":1e999}`, `{"a":1,"A":2}`, `{"k":{"\u212a":1,"K":2}}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		_, dup, err := duplicateKey(body)
		var v any
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.UseNumber()
		if dec.Decode(&v) != nil || dec.More() || !json.Valid(body) {
			return // not one JSON value: decodeStrict refuses it first
		}
		if err != nil {
			t.Fatalf("valid JSON refused: %v", err)
		}
		if want := colons(body) != entries(v); dup != want {
			t.Fatalf("duplicate %v, want %v", dup, want)
		}
	})
}

func colons(b []byte) int {
	n, in := 0, false
	for i := 0; i < len(b); i++ {
		switch c := b[i]; {
		case in && c == '\\':
			i++
		case c == '"':
			in = !in
		case !in && c == ':':
			n++
		}
	}
	return n
}

func entries(v any) int {
	n := 0
	switch v := v.(type) {
	case map[string]any:
		var keys []string
	next:
		for k, e := range v {
			n += entries(e)
			for _, seen := range keys {
				if bytes.EqualFold([]byte(k), []byte(seen)) {
					continue next
				}
			}
			keys = append(keys, k)
		}
		n += len(keys)
	case []any:
		for _, e := range v {
			n += entries(e)
		}
	}
	return n
}
