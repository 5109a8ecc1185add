package rest

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// The REST facade's resources: a name, an Odoo model, typed fields, and per
// API version what is read, written, required, filtered and the default
// order. They come from YAML (resources.yaml is the built-in set) and are
// validated once, at start; after that they are read only.

//go:embed resources.yaml
var defaultResourcesYAML []byte

// Resources is a validated set of REST resources. It is read only and safe
// for concurrent use.
type Resources struct {
	list []*resource // by name
}

// ResourcesError lists every problem of a resources file, found at once.
type ResourcesError struct {
	// Source names the file ("built-in" for resources.yaml).
	Source string
	// Problems are "<path>: <what is wrong>", such as
	// "partners.versions.v2.write: \"id\" is never writable".
	Problems []string
}

func (e *ResourcesError) Error() string {
	return fmt.Sprintf("rest: resources %s: %d problem(s):\n  - %s", e.Source, len(e.Problems), strings.Join(e.Problems, "\n  - "))
}

// DefaultResources returns the built-in resources (resources.yaml):
// partners → res.partner, versions v1 and v2.
func DefaultResources() *Resources {
	rs, err := ParseResources("built-in", defaultResourcesYAML)
	if err != nil {
		panic(err) // resources.yaml is tested: TestResourcesRoutes
	}
	return rs
}

// LoadResources reads the resources file at path (KEYGATE_RESOURCES). The
// file replaces the built-in resources entirely; "" means the built-in
// ones. Every problem is reported at once in a *ResourcesError.
func LoadResources(path string) (*Resources, error) {
	if path == "" {
		return DefaultResources(), nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("rest: resources: %w", err)
	}
	return ParseResources(path, data)
}

// ParseResources parses and validates a resources document; source names
// it in errors.
func ParseResources(source string, data []byte) (*Resources, error) {
	var f resourcesFile
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var p problems
	if err := dec.Decode(&f); err != nil && !errors.Is(err, io.EOF) {
		var te *yaml.TypeError
		if !errors.As(err, &te) {
			return nil, &ResourcesError{Source: source, Problems: []string{"not YAML: " + err.Error()}}
		}
		p = append(p, yamlProblems(te)...)
	}
	rs := buildResources(&f, &p)
	if len(p) > 0 {
		return nil, &ResourcesError{Source: source, Problems: p}
	}
	return rs, nil
}

// The YAML shapes.
type (
	resourcesFile struct {
		Resources map[string]*resourceSpec `yaml:"resources"`
	}
	resourceSpec struct {
		Model    string                  `yaml:"model"`
		Order    string                  `yaml:"order"`
		Fields   map[string]fieldSpec    `yaml:"fields"`
		Versions map[string]*versionSpec `yaml:"versions"`
	}
	fieldSpec struct {
		Type      string
		MaxLength int
		problems  []string // of its YAML shape, reported with its path
	}
	versionSpec struct {
		Read       []string            `yaml:"read"`
		Write      []string            `yaml:"write"`
		Required   []string            `yaml:"required"`
		Filters    map[string][]string `yaml:"filters"`
		Order      string              `yaml:"order"`
		Operations []string            `yaml:"operations"`
	}
)

// UnmarshalYAML reads a field as its type alone ("email") or as a mapping
// ({type: email, max_length: 254}). Unknown keys are kept as problems, so
// that they are reported with the field's path and the rest still read.
func (f *fieldSpec) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.ScalarNode:
		f.Type = n.Value
		return nil
	case yaml.MappingNode:
	default:
		f.problems = append(f.problems, "a field is a type, or a mapping of type and max_length")
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		switch k.Value {
		case "type":
			f.Type = v.Value
		case "max_length":
			if err := v.Decode(&f.MaxLength); err != nil || f.MaxLength < 0 {
				f.problems = append(f.problems, "max_length must be a whole number from 0")
			}
		default:
			f.problems = append(f.problems, fmt.Sprintf("unknown key %q (a field has type and max_length)", k.Value))
		}
	}
	return nil
}

var unknownKey = regexp.MustCompile(`field (\S+) not found in type \S+`)

// yamlProblems turns the decoder's errors into the file's words.
func yamlProblems(te *yaml.TypeError) []string {
	out := make([]string, 0, len(te.Errors))
	for _, e := range te.Errors {
		out = append(out, unknownKey.ReplaceAllString(e, `unknown key "$1"`))
	}
	return out
}

// problems collects what is wrong with a resources document.
type problems []string

func (p *problems) add(path, format string, args ...any) {
	*p = append(*p, path+": "+fmt.Sprintf(format, args...))
}

// fieldType is what a field holds, in JSON and in Odoo.
type fieldType string

const (
	typeString   fieldType = "string"
	typeInteger  fieldType = "integer"
	typeNumber   fieldType = "number"
	typeBoolean  fieldType = "boolean"
	typeEmail    fieldType = "email"
	typeMany2one fieldType = "many2one"
	typeDate     fieldType = "date"
	typeDatetime fieldType = "datetime"
)

// typeOperators are the filter operators each type allows, in the order
// messages list them.
var typeOperators = map[fieldType][]string{
	typeString:   {"eq", "ne", "lt", "lte", "gt", "gte", "like", "ilike", "not_like", "not_ilike", "in", "not_in"},
	typeEmail:    {"eq", "ne", "lt", "lte", "gt", "gte", "like", "ilike", "not_like", "not_ilike", "in", "not_in"},
	typeInteger:  {"eq", "ne", "lt", "lte", "gt", "gte", "in", "not_in"},
	typeNumber:   {"eq", "ne", "lt", "lte", "gt", "gte", "in", "not_in"},
	typeBoolean:  {"eq", "ne"},
	typeMany2one: {"eq", "ne", "in", "not_in", "like", "ilike", "not_like", "not_ilike"},
	typeDate:     {"eq", "ne", "lt", "lte", "gt", "gte"},
	typeDatetime: {"eq", "ne", "lt", "lte", "gt", "gte"},
}

// odooOperators maps the API's operators to Odoo's domain operators.
var odooOperators = map[string]string{
	"eq": "=", "ne": "!=", "lt": "<", "lte": "<=", "gt": ">", "gte": ">=",
	"like": "like", "ilike": "ilike", "not_like": "not like", "not_ilike": "not ilike",
	"in": "in", "not_in": "not in",
}

var fieldTypeNames = "string, integer, number, boolean, email, many2one, date, datetime"

// field is one field of a resource: its Odoo name is its API name.
type field struct {
	name      string
	typ       fieldType
	maxLength int // in characters; 0: no limit
}

// version is one API version of a resource.
type version struct {
	name     string // "v1"
	read     []string
	write    []string
	required []string
	filters  map[string][]string // field → API operators
	order    string              // Odoo order, ending with the id
	ops      map[string]bool     // list, get, create, update, delete
	fields   map[string]*field   // the resource's
	readable map[string]bool
	writable map[string]bool
	needed   map[string]bool
}

// resource is one REST resource.
type resource struct {
	name     string
	model    string
	fields   map[string]*field
	versions []*version // v1, v2, ...
}

var (
	resourceName = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,63}$`)
	modelName    = regexp.MustCompile(`^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$`)
	fieldName    = regexp.MustCompile(`^[a-z][a-z0-9_]{0,62}$`)
	versionName  = regexp.MustCompile(`^v[1-9][0-9]{0,2}$`)
)

func buildResources(f *resourcesFile, p *problems) *Resources {
	if len(f.Resources) == 0 {
		p.add("resources", "no resource is declared")
	}
	rs := &Resources{}
	for _, name := range sortedKeys(f.Resources) {
		if r := buildResource(name, f.Resources[name], p); r != nil {
			rs.list = append(rs.list, r)
		}
	}
	return rs
}

func buildResource(name string, s *resourceSpec, p *problems) *resource {
	if s == nil {
		p.add(name, "no model, fields or versions")
		return nil
	}
	if !resourceName.MatchString(name) {
		p.add(name, "a resource name is lowercase letters, digits, - and _, starting with a letter")
	}
	if !modelName.MatchString(s.Model) {
		p.add(name+".model", "%q is not an Odoo model name such as res.partner", s.Model)
	}
	r := &resource{name: name, model: s.Model, fields: buildFields(name, s.Fields, p)}
	order := "id asc"
	if s.Order != "" {
		order = checkOrder(name+".order", s.Order, r.fields, p)
	}
	if len(s.Versions) == 0 {
		p.add(name+".versions", "at least one version (v1) is required")
	}
	for _, vn := range sortedVersions(s.Versions) {
		r.versions = append(r.versions, buildVersion(r, vn, s.Versions[vn], order, p))
	}
	return r
}

// buildFields checks the fields. A field with a problem is still
// declared, so that its uses do not add problems of their own.
func buildFields(res string, specs map[string]fieldSpec, p *problems) map[string]*field {
	fields := map[string]*field{"id": {name: "id", typ: typeInteger}}
	for _, name := range sortedKeys(specs) {
		path, s := res+".fields."+name, specs[name]
		for _, problem := range s.problems {
			p.add(path, "%s", problem)
		}
		if !fieldName.MatchString(name) || strings.Contains(name, "__") {
			p.add(path, "a field name is an Odoo field name: lowercase letters, digits and single _, starting with a letter")
		}
		switch typ := fieldType(s.Type); {
		case typ == "" && len(s.problems) > 0: // its shape is reported
		case typeOperators[typ] == nil:
			p.add(path, "type %q is not one of %s", s.Type, fieldTypeNames)
		case name == "id" && typ != typeInteger:
			p.add(path, "id is an integer")
			continue
		case s.MaxLength > 0 && typ != typeString && typ != typeEmail:
			p.add(path, "max_length applies to string and email fields only")
		}
		fields[name] = &field{name: name, typ: fieldType(s.Type), maxLength: s.MaxLength}
	}
	return fields
}

func buildVersion(r *resource, name string, s *versionSpec, order string, p *problems) *version {
	path := r.name + ".versions." + name
	if !versionName.MatchString(name) {
		p.add(path, "a version is v followed by a number: v1, v2, ...")
	}
	if s == nil {
		s = &versionSpec{}
	}
	v := &version{name: name, fields: r.fields, order: order}
	v.read = fieldList(path+".read", s.Read, r.fields, nil, "", p)
	v.read = append([]string{"id"}, slices.DeleteFunc(v.read, func(n string) bool { return n == "id" })...)
	v.readable = setOf(v.read)
	v.write = fieldList(path+".write", s.Write, r.fields, v.readable, "readable", p)
	if slices.Contains(v.write, "id") {
		p.add(path+".write", "id is never writable")
	}
	v.writable = setOf(v.write)
	v.required = fieldList(path+".required", s.Required, r.fields, v.writable, "writable", p)
	v.needed = setOf(v.required)
	v.filters = buildFilters(path+".filters", s.Filters, v, p)
	if s.Order != "" {
		v.order = checkOrder(path+".order", s.Order, r.fields, p)
	}
	v.ops = buildOperations(path+".operations", s.Operations, len(v.write) > 0, p)
	return v
}

// allOperations are what a version may serve, in the order messages list
// them.
var allOperations = []string{"list", "get", "create", "update", "delete"}

// buildOperations checks the operations a version serves. By default:
// all of them when it has writable fields, list and get otherwise.
func buildOperations(path string, ops []string, writable bool, p *problems) map[string]bool {
	if ops == nil {
		ops = allOperations[:2]
		if writable {
			ops = allOperations
		}
	}
	out := map[string]bool{}
	for _, op := range ops {
		switch {
		case !slices.Contains(allOperations, op):
			p.add(path, "%q is not one of %s", op, strings.Join(allOperations, ", "))
		case (op == "create" || op == "update") && !writable:
			p.add(path, "%s needs writable fields (write)", op)
		case out[op]:
			p.add(path, "%q is listed twice", op)
		}
		out[op] = true
	}
	return out
}

// fieldList checks a list of field names: declared, unique, and in within
// (described by word) when within is not nil: written fields must be
// readable, required ones writable.
func fieldList(path string, names []string, fields map[string]*field, within map[string]bool, word string, p *problems) []string {
	seen := map[string]bool{}
	var out []string
	for _, n := range names {
		switch {
		case fields[n] == nil:
			p.add(path, "%q is not a declared field", n)
		case seen[n]:
			p.add(path, "%q is listed twice", n)
		case within != nil && !within[n]:
			p.add(path, "%q is not %s in this version", n, word)
		default:
			out = append(out, n)
		}
		seen[n] = true
	}
	return out
}

func buildFilters(path string, specs map[string][]string, v *version, p *problems) map[string][]string {
	filters := map[string][]string{}
	for _, name := range sortedKeys(specs) {
		f, ops := v.fields[name], specs[name]
		switch {
		case f == nil:
			p.add(path+"."+name, "not a declared field")
		case !v.readable[name]:
			p.add(path+"."+name, "not readable in %s: only readable fields can be filtered", v.name)
		case len(ops) == 0:
			p.add(path+"."+name, "no operator: list at least eq")
		default:
			filters[name] = checkOperators(path+"."+name, f, ops, p)
		}
	}
	return filters
}

func checkOperators(path string, f *field, ops []string, p *problems) []string {
	allowed := typeOperators[f.typ]
	if allowed == nil {
		return nil // the field's type is reported
	}
	var out []string
	for _, op := range ops {
		switch {
		case slices.Contains(out, op):
			p.add(path, "operator %q is listed twice", op)
		case !slices.Contains(allowed, op):
			p.add(path, "operator %q does not apply to a %s field (allowed: %s)", op, f.typ, strings.Join(allowed, ", "))
		default:
			out = append(out, op)
		}
	}
	return out
}

func checkOrder(path, spec string, fields map[string]*field, p *problems) string {
	order, err := parseOrder(spec, func(n string) bool { return fields[n] != nil })
	if err != nil {
		p.add(path, "%v", err)
	}
	return order
}

// parseOrder turns an order such as "name desc, id" into Odoo's
// "name desc, id asc", each field allowed by ok. The id ends every order
// (added as "id asc" when absent) so that pages never overlap.
func parseOrder(spec string, ok func(string) bool) (string, error) {
	var terms []string
	seen := map[string]bool{}
	for _, term := range strings.Split(spec, ",") {
		words := strings.Fields(term)
		if len(words) == 0 || len(words) > 2 {
			return "", fmt.Errorf("%q is not a list of \"field [asc|desc]\" separated by commas", spec)
		}
		dir := "asc"
		if len(words) == 2 {
			dir = strings.ToLower(words[1])
		}
		switch name := words[0]; {
		case !ok(name):
			return "", fmt.Errorf("cannot order by %q", name)
		case dir != "asc" && dir != "desc":
			return "", fmt.Errorf("%q: the direction is asc or desc", strings.TrimSpace(term))
		case seen[name]:
			return "", fmt.Errorf("%q is ordered by twice", name)
		default:
			seen[name] = true
			terms = append(terms, name+" "+dir)
		}
	}
	if !seen["id"] {
		terms = append(terms, "id asc")
	}
	return strings.Join(terms, ", "), nil
}

func setOf(names []string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// sortedVersions orders v1, v2, v10 by number; malformed names last.
func sortedVersions(m map[string]*versionSpec) []string {
	keys := sortedKeys(m)
	num := func(s string) int {
		n, err := strconv.Atoi(strings.TrimPrefix(s, "v"))
		if err != nil || !versionName.MatchString(s) {
			return 1 << 30
		}
		return n
	}
	sort.SliceStable(keys, func(i, j int) bool { return num(keys[i]) < num(keys[j]) })
	return keys
}

// routes lists the resources' versions, for logs and the OpenAPI
// document: "/api/v1/partners".
func (rs *Resources) routes() []string {
	var out []string
	for _, r := range rs.list {
		for _, v := range r.versions {
			out = append(out, "/api/"+v.name+"/"+r.name)
		}
	}
	return out
}
