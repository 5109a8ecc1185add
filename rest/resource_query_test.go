package rest

import (
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/keygate/keygate/httpapi"
)

// queryVersions are the versions the query tests parse with: partners v2
// (built in) and contacts v1 (every type, testdata/resources-test.yaml).
func queryVersions(tb testing.TB) map[string]*version {
	tb.Helper()
	data, err := os.ReadFile("testdata/resources-test.yaml")
	if err != nil {
		tb.Fatal(err)
	}
	test, err := ParseResources("test", data)
	if err != nil {
		tb.Fatal(err)
	}
	return map[string]*version{
		"partners": DefaultResources().list[0].versions[1],
		"contacts": test.list[0].versions[0],
	}
}

func TestListQuery(t *testing.T) {
	vs := queryVersions(t)
	partnerFields := []string{"id", "name", "email", "phone", "street", "city", "country_id"}
	cases := []struct {
		version, query string
		want           listQuery
	}{
		{"partners", "", listQuery{page: 1, limit: 20, fields: partnerFields, order: "name asc, id asc", domain: []any{}}},
		{"partners", "page=3&limit=50&fields=city,+name,city&order=city+DESC,name", listQuery{page: 3, limit: 50,
			fields: []string{"id", "city", "name"}, order: "city desc, name asc, id asc", domain: []any{}}},
		{"partners", "limit=101&order=id+desc", listQuery{page: 1, limit: 100, fields: partnerFields, order: "id desc", domain: []any{}}},
		{"partners", "email=a%40b.c&name__ilike=%25x_&country_id__in=20,233", listQuery{page: 1, limit: 20, fields: partnerFields,
			order: "name asc, id asc", domain: []any{
				[]any{"country_id", "in", []any{int64(20), int64(233)}},
				[]any{"email", "=", "a@b.c"},
				[]any{"name", "ilike", "%x_"},
			}}},
		{"contacts", "is_company=false&write_date__gt=2026-11-28T10:00:00%2B02:00&parent_id__ilike=Deco&id__in=1,2&name=a&name=b",
			listQuery{page: 1, limit: 20, fields: vs["contacts"].read, order: "id asc", domain: []any{
				[]any{"id", "in", []any{int64(1), int64(2)}},
				[]any{"is_company", "=", false},
				[]any{"name", "=", "a"},
				[]any{"name", "=", "b"},
				[]any{"parent_id", "ilike", "Deco"},
				[]any{"write_date", ">", "2026-11-28 08:00:00"},
			}}},
	}
	for _, tc := range cases {
		t.Run(tc.version+"?"+tc.query, func(t *testing.T) {
			q, err := parseQuery(tc.query)
			if err != nil {
				t.Fatal(err)
			}
			got, err := vs[tc.version].listQuery(q)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(listQuery{})); diff != "" {
				t.Errorf("query (-want +got):\n%s", diff)
			}
		})
	}
}

// FuzzQueryToDomain: whatever the query, either it is refused with a 400
// or nothing reaches Odoo but declared fields, with their declared
// operators and values of their type, the page within bounds, readable
// fields and an order of readable fields.
func FuzzQueryToDomain(f *testing.F) {
	for _, seed := range []string{
		"", "page=2&limit=5", "name__ilike=deco&email=a%40b.c", "country_id__in=20,233", "order=name+desc,id",
		"fields=name,email", "is_company=true&write_date__lte=2026-11-28T08:35:53Z", "parent_id__ilike=x&parent_id__ne=3",
		"id__in=1,2,3&id__gt=-4", "name=%00", "|=1", "name__=x", "__ilike=x", "name__in=a,b", "order=name;drop",
		"limit=0&page=-1", "fields=password", "%zz", "name=a&name=b", "write_date__gt=2026-02-30T00:00:00Z",
	} {
		f.Add(seed)
	}
	vs := queryVersions(f)
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := parseQuery(raw)
		if err != nil {
			return
		}
		for name, v := range vs {
			lq, err := v.listQuery(q)
			var he *httpapi.Error
			switch {
			case errors.As(err, &he) && he.Status == http.StatusBadRequest:
				continue
			case err != nil:
				t.Fatalf("%s: %v is not a 400", name, err)
			}
			checkListQuery(t, v, lq)
		}
	})
}

func checkListQuery(t *testing.T, v *version, lq listQuery) {
	t.Helper()
	if lq.page < 1 || lq.limit < 1 || lq.limit > httpapi.MaxLimit {
		t.Fatalf("page %d, limit %d", lq.page, lq.limit)
	}
	if len(lq.fields) == 0 || lq.fields[0] != "id" {
		t.Fatalf("fields %v do not start with id", lq.fields)
	}
	for _, f := range lq.fields {
		if !v.readable[f] {
			t.Fatalf("field %q is not readable", f)
		}
	}
	for _, term := range strings.Split(lq.order, ", ") {
		name, dir, _ := strings.Cut(term, " ")
		if !v.readable[name] || (dir != "asc" && dir != "desc") {
			t.Fatalf("order term %q of %q", term, lq.order)
		}
	}
	raw, err := json.Marshal(lq.domain)
	if err != nil {
		t.Fatal(err)
	}
	var leaves [][3]json.RawMessage // fails on anything but [field, op, value] leaves
	if err := json.Unmarshal(raw, &leaves); err != nil {
		t.Fatalf("domain %s is not a list of leaves: %v", raw, err)
	}
	for _, leaf := range lq.domain {
		checkLeaf(t, v, leaf)
	}
}

func checkLeaf(t *testing.T, v *version, leaf any) {
	t.Helper()
	l, ok := leaf.([]any)
	if !ok || len(l) != 3 {
		t.Fatalf("leaf %#v", leaf)
	}
	name, _ := l[0].(string)
	op, _ := l[1].(string)
	declared := false
	for _, apiOp := range v.filters[name] {
		declared = declared || odooOperators[apiOp] == op
	}
	if !declared {
		t.Fatalf("leaf %#v: %q %q is not a declared filter", leaf, name, op)
	}
	if op == "in" || op == "not in" {
		list, ok := l[2].([]any)
		if !ok || len(list) == 0 || len(list) > maxInValues {
			t.Fatalf("leaf %#v: not a list of 1 to %d values", leaf, maxInValues)
		}
		for _, e := range list {
			checkValue(t, v.fields[name], op, e)
		}
		return
	}
	checkValue(t, v.fields[name], op, l[2])
}

func checkValue(t *testing.T, f *field, op string, val any) {
	t.Helper()
	ok := false
	switch x := val.(type) {
	case string:
		ok = x != "" && utf8.ValidString(x) && !strings.ContainsRune(x, 0) && textFits(f, op, x)
	case int64:
		ok = f.typ == typeInteger || (f.typ == typeMany2one && x > 0 && !strings.Contains(op, "like"))
	case float64:
		ok = f.typ == typeNumber && !math.IsInf(x, 0) && !math.IsNaN(x)
	case bool:
		ok = f.typ == typeBoolean
	}
	if !ok {
		t.Fatalf("%s %s: value %#v does not fit a %s field", f.name, op, val, f.typ)
	}
}

func textFits(f *field, op string, s string) bool {
	switch f.typ {
	case typeString, typeEmail:
		return true
	case typeMany2one:
		return strings.Contains(op, "like")
	case typeDate:
		_, err := time.Parse(isoDate, s)
		return err == nil
	case typeDatetime:
		_, err := time.Parse(odooDatetime, s)
		return err == nil
	}
	return false
}

// TestMany2oneWriteTakesAnIDOnly: a many2one is written with a record id
// (or {"id": <id>}, whose other members are dropped); a nested record,
// x2many commands, a name or an id that is no positive whole number are
// refused, so that no REST write creates or changes a record of the
// comodel.
func TestMany2oneWriteTakesAnIDOnly(t *testing.T) {
	v := queryVersions(t)["contacts"]
	const problem = `must be a record id or {"id": <id>}`
	for _, tc := range []struct {
		name, body string
		want       any // the value sent to Odoo, or the problem
	}{
		{"id", `7`, int64(7)},
		{"id_object", `{"id": 7}`, int64(7)},
		{"id_object_other_members_dropped", `{"id": 7, "name": "Atlantis", "code": "AT"}`, int64(7)},
		{"nested_record", `{"name": "Atlantis"}`, problem},
		{"create_command", `[[0, 0, {"name": "Atlantis"}]]`, problem},
		{"id_name_pair", `[7, "Belgium"]`, problem},
		{"name", `"Belgium"`, problem},
		{"zero", `0`, problem},
		{"negative", `-3`, problem},
		{"fraction", `7.5`, problem},
		{"object_id_a_record", `{"id": {"name": "Atlantis"}}`, problem},
	} {
		t.Run(tc.name, func(t *testing.T) {
			vals, bad := v.vals(map[string]json.RawMessage{"country_id": json.RawMessage(tc.body)}, modePatch)
			got := any(bad["country_id"])
			if bad == nil {
				got = vals["country_id"]
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("country_id %s (-want +got):\n%s", tc.body, diff)
			}
		})
	}
}
