// Package callgen generates random Odoo calls for property tests of
// keygate's check across relations: nested x2many command trees, dotted
// domains with any sub-domains and child_of leaves, over the fields that
// real Odoo 18.0 described for the ten models scopes name
// (shared/odoo/18.0/metadata, embedded), with random keys. As it builds a
// call it records every model and operation the call reaches, by
// DESIGN.md's rule, written apart from authz's code: the oracle the
// tests compare the check with. Test-only; not safe for concurrent use.
package callgen

import (
	_ "embed"
	"encoding/json"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"sync"
)

// Field is a field as fields_get describes it.
type Field struct{ Type, Relation string }

// Schema is the fields of each model.
type Schema map[string]map[string]Field

//go:embed fields-18.0.json
var fields18 []byte

// Odoo18 returns the fields of real Odoo 18.0's ten models (res.partner,
// res.users, res.partner.category, res.partner.bank, res.country,
// res.company, res.groups, res.currency, ir.config_parameter,
// mail.message). The Schema is shared: read only.
var Odoo18 = sync.OnceValue(func() Schema {
	var s Schema
	if err := json.Unmarshal(fields18, &s); err != nil {
		panic("callgen: fields-18.0.json: " + err.Error())
	}
	return s
})

// Gen builds one random call and key.
type Gen struct {
	r      *rand.Rand
	schema Schema
	needs  map[string]bool // "model:op"
	models []string
}

// New returns a generator seeded with seed over s.
func New(seed uint64, s Schema) *Gen {
	models := make([]string, 0, len(s))
	for m := range s {
		models = append(models, m)
	}
	sort.Strings(models)
	return &Gen{r: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), schema: s, needs: map[string]bool{}, models: models}
}

// Call is a generated call.
type Call struct {
	Model, Method string
	Args          []any
	Kwargs        map[string]any
	// Op is the op of the call's own method: read, create or write.
	Op string
}

func (g *Gen) need(model, op string) { g.needs[model+":"+op] = true }

// Needs returns "model:op" for everything the calls made so far reach
// beyond their own model and method, sorted.
func (g *Gen) Needs() []string {
	out := make([]string, 0, len(g.needs))
	for n := range g.needs {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Missing returns the needs that scopes (odoo:<model>:<op> only) lack.
func (g *Gen) Missing(scopes []string) []string {
	var out []string
	for _, n := range g.Needs() {
		if !slices.Contains(scopes, "odoo:"+n) {
			out = append(out, n)
		}
	}
	return out
}

// relational reports whether f leads to a model of the schema.
func (g *Gen) relational(f Field) bool {
	return (f.Type == "many2one" || f.Type == "one2many" || f.Type == "many2many") && g.schema[f.Relation] != nil
}

// fields returns model's usable fields: plain ones, or relational ones
// whose comodel is in the schema, sorted.
func (g *Gen) fields(model string, relational bool) []string {
	var out []string
	for name, f := range g.schema[model] {
		rel := f.Type == "many2one" || f.Type == "one2many" || f.Type == "many2many"
		if rel && g.schema[f.Relation] == nil || rel != relational {
			continue
		}
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

func (g *Gen) pick(l []string) string { return l[g.r.IntN(len(l))] }

// vals is a values object of model, with x2many commands nested up to
// depth.
func (g *Gen) vals(model string, depth int) map[string]any {
	v := map[string]any{}
	for range 1 + g.r.IntN(3) {
		if depth > 0 && g.r.IntN(3) > 0 {
			name := g.pick(g.fields(model, true))
			f := g.schema[model][name]
			if _, dup := v[name]; dup { // a second value would hide what the first reached
				continue
			}
			if f.Type == "many2one" {
				v[name] = []any{int64(1), int64(7)}[g.r.IntN(2)]
				continue
			}
			v[name] = g.commands(f, depth-1)
			continue
		}
		v[g.pick(g.fields(model, false))] = "x"
	}
	return v
}

// commands is an x2many value of field f, recording what each command
// reaches: 0 create, 1 write, 2 unlink on the comodel; 3, 5, 6 and plain
// id lists write and unlink, 4 write, on a one2many's comodel only.
func (g *Gen) commands(f Field, depth int) any {
	o2m := f.Type == "one2many"
	if g.r.IntN(6) == 0 {
		if o2m {
			g.need(f.Relation, "write")
			g.need(f.Relation, "unlink")
		}
		return []any{int64(1), int64(2)}
	}
	var cmds []any
	for range 1 + g.r.IntN(3) {
		switch code := g.r.IntN(7); code {
		case 0:
			g.need(f.Relation, "create")
			cmds = append(cmds, []any{int64(0), int64(0), g.vals(f.Relation, depth)})
		case 1:
			g.need(f.Relation, "write")
			cmds = append(cmds, []any{int64(1), int64(5), g.vals(f.Relation, depth)})
		case 2:
			g.need(f.Relation, "unlink")
			cmds = append(cmds, []any{int64(2), int64(5)})
		case 3, 5, 6:
			if o2m {
				g.need(f.Relation, "write")
				g.need(f.Relation, "unlink")
			}
			cmds = append(cmds, map[int][]any{3: {int64(3), int64(5)}, 5: {int64(5)}, 6: {int64(6), int64(0), []any{int64(5)}}}[code])
		case 4:
			if o2m {
				g.need(f.Relation, "write")
			}
			cmds = append(cmds, []any{int64(4), int64(5)})
		}
	}
	return cmds
}

// path is a field path of up to hops relations from model, each relation
// followed recording read on its comodel. It returns the last field.
func (g *Gen) path(model string, hops int) (string, Field) {
	var parts []string
	for {
		if hops > 0 && g.r.IntN(2) == 0 {
			name := g.pick(g.fields(model, true))
			f := g.schema[model][name]
			parts = append(parts, name)
			if g.r.IntN(3) == 0 { // the path ends on the relational field itself
				return strings.Join(parts, "."), f
			}
			g.need(f.Relation, "read")
			model, hops = f.Relation, hops-1
			continue
		}
		name := g.pick(g.fields(model, false))
		return strings.Join(append(parts, name), "."), g.schema[model][name]
	}
}

// domain is a domain on model with prefix operators, dotted leaves, any
// sub-domains and child_of leaves.
func (g *Gen) domain(model string, depth int) []any {
	var d []any
	for i := range 1 + g.r.IntN(3) {
		if i > 0 {
			d = append(d, []string{"&", "|"}[g.r.IntN(2)])
			d[0], d[len(d)-1] = d[len(d)-1], d[0]
		}
		if g.r.IntN(4) == 0 {
			d = append(d, "!")
		}
		p, f := g.path(model, depth)
		switch {
		case g.relational(f) && depth > 0 && g.r.IntN(2) == 0:
			g.need(f.Relation, "read")
			d = append(d, []any{p, []string{"any", "not any"}[g.r.IntN(2)], g.domain(f.Relation, depth-1)})
		case g.relational(f) && g.r.IntN(3) == 0:
			g.need(f.Relation, "read")
			d = append(d, []any{p, "child_of", int64(1)})
		default:
			d = append(d, []any{p, "=", int64(3)})
		}
	}
	return d
}

// Scopes is a random key: some of read, create, write, unlink on some of
// the schema's models.
func (g *Gen) Scopes() []string {
	var s []string
	for _, m := range g.models {
		for _, op := range []string{"read", "create", "write", "unlink"} {
			if g.r.IntN(3) > 0 {
				s = append(s, "odoo:"+m+":"+op)
			}
		}
	}
	return s
}

// Call is a random create, write, search_count or search_read on a
// random model of models (all of the schema's when none).
func (g *Gen) Call(models ...string) Call {
	if len(models) == 0 {
		models = g.models
	}
	model := g.pick(models)
	switch g.r.IntN(4) {
	case 0:
		return Call{Model: model, Method: "create", Op: "create", Args: []any{g.vals(model, 3)}}
	case 1:
		return Call{Model: model, Method: "write", Op: "write", Args: []any{[]any{int64(1)}, g.vals(model, 3)}}
	case 2:
		return Call{Model: model, Method: "search_count", Op: "read", Args: []any{g.domain(model, 3)}}
	}
	p, _ := g.path(model, 2)
	return Call{Model: model, Method: "search_read", Op: "read", Kwargs: map[string]any{"domain": g.domain(model, 2), "fields": []any{p}}}
}
