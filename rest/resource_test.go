package rest_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/keygate/keygate/rest"
)

// TestResourcesErrors: a resources file is checked whole, and every
// problem is reported at once, each with where it is.
func TestResourcesErrors(t *testing.T) {
	cases := []struct {
		name, yaml string
		want       []string
	}{
		{"not_yaml", "resources: [", []string{"not YAML: yaml: line 1: did not find expected node content"}},
		{"empty", "", []string{"resources: no resource is declared"}},
		{"unknown_top_level_key", "resource:\n  partners: {}\n", []string{`line 1: unknown key "resource"`, "resources: no resource is declared"}},
		{"file", "resources-invalid.yaml", []string{
			`line 27: unknown key "requried"`,
			"Bad Name: a resource name is lowercase letters, digits, - and _, starting with a letter",
			"empty: no model, fields or versions",
			"nothing.versions: at least one version (v1) is required",
			`partners.model: "res partner" is not an Odoo model name such as res.partner`,
			"partners.fields.Phone: a field name is an Odoo field name: lowercase letters, digits and single _, starting with a letter",
			"partners.fields.city__x: a field name is an Odoo field name: lowercase letters, digits and single _, starting with a letter",
			"partners.fields.count: max_length applies to string and email fields only",
			`partners.fields.email: type "mail" is not one of string, integer, number, boolean, email, many2one, date, datetime`,
			"partners.fields.id: id is an integer",
			`partners.fields.name: unknown key "maxlen" (a field has type and max_length)`,
			"partners.fields.tags: a field is a type, or a mapping of type and max_length",
			`partners.order: "name up": the direction is asc or desc`,
			`partners.versions.v1.read: "name" is listed twice`,
			`partners.versions.v1.read: "password" is not a declared field`,
			`partners.versions.v1.write: "city" is not readable in this version`,
			`partners.versions.v1.write: "email" is not readable in this version`,
			"partners.versions.v1.write: id is never writable",
			`partners.versions.v1.required: "phone" is not a declared field`,
			`partners.versions.v1.required: "name" is not writable in this version`,
			"partners.versions.v1.filters.city: not readable in v1: only readable fields can be filtered",
			"partners.versions.v1.filters.count: not readable in v1: only readable fields can be filtered",
			`partners.versions.v1.filters.name: operator "ilike" is listed twice`,
			`partners.versions.v1.filters.name: operator "contains" does not apply to a string field (allowed: eq, ne, lt, lte, gt, gte, like, ilike, not_like, not_ilike, in, not_in)`,
			"partners.versions.v1.filters.nope: not a declared field",
			`partners.versions.v1.order: cannot order by "password"`,
			"partners.versions.version2: a version is v followed by a number: v1, v2, ...",
		}},
		{"operators_by_type", `
resources:
  things:
    model: x.thing
    fields: {flag: boolean, when: date, parent: many2one, n: number}
    versions:
      v1:
        read: [flag, when, parent, n]
        filters: {flag: [in], when: [ilike], parent: [lt], n: [like, gte]}
`, []string{
			`things.versions.v1.filters.flag: operator "in" does not apply to a boolean field (allowed: eq, ne)`,
			`things.versions.v1.filters.n: operator "like" does not apply to a number field (allowed: eq, ne, lt, lte, gt, gte, in, not_in)`,
			`things.versions.v1.filters.parent: operator "lt" does not apply to a many2one field (allowed: eq, ne, in, not_in, like, ilike, not_like, not_ilike)`,
			`things.versions.v1.filters.when: operator "ilike" does not apply to a date field (allowed: eq, ne, lt, lte, gt, gte)`,
		}},
		{"operations", `
resources:
  things:
    model: x.thing
    fields: {name: string}
    versions: {v1: {read: [name], operations: [list, create, fly, list]}}
`, []string{
			`things.versions.v1.operations: create needs writable fields (write)`,
			`things.versions.v1.operations: "fly" is not one of list, get, create, update, delete`,
			`things.versions.v1.operations: "list" is listed twice`,
		}},
		{"order_syntax", `
resources:
  things:
    model: x.thing
    order: "name,,id"
    fields: {name: string}
    versions: {v1: {read: [name], order: "name asc desc"}}
`, []string{
			`things.order: "name,,id" is not a list of "field [asc|desc]" separated by commas`,
			`things.versions.v1.order: "name asc desc" is not a list of "field [asc|desc]" separated by commas`,
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			data := []byte(tc.yaml)
			if filepath.Ext(tc.yaml) == ".yaml" {
				data = readFile(t, filepath.Join("testdata", tc.yaml))
			}
			rs, err := rest.ParseResources("test.yaml", data)
			var re *rest.ResourcesError
			if !errors.As(err, &re) {
				t.Fatalf("got %v, %v; want a *ResourcesError", rs, err)
			}
			if diff := cmp.Diff(tc.want, re.Problems); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
			if re.Source != "test.yaml" {
				t.Errorf("source %q", re.Source)
			}
		})
	}
}

func readFile(tb testing.TB, path string) []byte {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func TestLoadResourcesMissingFile(t *testing.T) {
	if _, err := rest.LoadResources(filepath.Join(t.TempDir(), "nope.yaml")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("got %v, want a not-exist error", err)
	}
}

// TestResourcesRoutes: the built-in resources serve partners v1 and v2;
// a KEYGATE_RESOURCES file replaces them (it does not add to them).
func TestResourcesRoutes(t *testing.T) {
	crud := func(base string) [][2]string {
		return [][2]string{
			{"GET", base}, {"POST", base}, {"GET", base + "/:id"}, {"PUT", base + "/:id"}, {"PATCH", base + "/:id"}, {"DELETE", base + "/:id"},
		}
	}
	openapi := [][2]string{{"GET", "/api/openapi.json"}}
	cases := []struct {
		file string
		want [][2]string
	}{
		{"", concat(openapi, crud("/api/v1/partners"), crud("/api/v2/partners"))},
		{"resources-test.yaml", concat(openapi, crud("/api/v1/contacts"), crud("/api/v3/contacts")[1:5],
			[][2]string{{"GET", "/api/v1/countries"}, {"GET", "/api/v1/countries/:id"}})},
	}
	for _, tc := range cases {
		t.Run("file="+tc.file, func(t *testing.T) {
			h := newRESTHarness(t, restOptions{resources: tc.file})
			if diff := cmp.Diff(tc.want, h.routes, sortRoutes); diff != "" {
				t.Errorf("routes (-want +got):\n%s", diff)
			}
		})
	}
}

var sortRoutes = cmpopts.SortSlices(func(a, b [2]string) bool { return a[1]+" "+a[0] < b[1]+" "+b[0] })

func concat[T any](lists ...[]T) []T {
	var out []T
	for _, l := range lists {
		out = append(out, l...)
	}
	return out
}
