package authz_test

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/keygate/keygate/authz"
)

// gen builds random calls over the fixture schema and records, as it
// goes, every model and operation the call reaches: an oracle written
// from DESIGN's rule, apart from the checker's code.
type gen struct {
	r      *rand.Rand
	schema fixtureSchema
	needs  map[string]bool // "model:op"
	models []string
}

func newGen(tb testing.TB, seed uint64) *gen {
	s := schema(tb)
	models := make([]string, 0, len(s))
	for m := range s {
		models = append(models, m)
	}
	sort.Strings(models)
	return &gen{r: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), schema: s, needs: map[string]bool{}, models: models}
}

func (g *gen) need(model, op string) { g.needs[model+":"+op] = true }

// fields returns model's fields that the generator may use: plain ones,
// and relational ones whose comodel is in the fixtures, sorted.
func (g *gen) fields(model string, relational bool) []string {
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

func (g *gen) pick(l []string) string { return l[g.r.IntN(len(l))] }

// vals is a values object of model, with x2many commands nested up to
// depth.
func (g *gen) vals(model string, depth int) map[string]any {
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
			v[name] = g.commands(model, f, depth-1)
			continue
		}
		v[g.pick(g.fields(model, false))] = "x"
	}
	return v
}

// commands is an x2many value of field f, recording what each command
// reaches: 0 create, 1 write, 2 unlink on the comodel; 3, 5, 6 and plain
// id lists write and unlink, 4 write, on a one2many's comodel only.
func (g *gen) commands(model string, f authz.Field, depth int) any {
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

// path is a field path of up to hops relations from model, each
// relation recording read on its comodel. It returns the last field.
func (g *gen) path(model string, hops int) (string, authz.Field) {
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

// domain is a domain on model with prefix operators, dotted leaves and
// any sub-domains.
func (g *gen) domain(model string, depth int) []any {
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
		rel := f.Type == "many2one" || f.Type == "one2many" || f.Type == "many2many"
		switch {
		case rel && depth > 0 && g.r.IntN(2) == 0:
			g.need(f.Relation, "read")
			d = append(d, []any{p, []string{"any", "not any"}[g.r.IntN(2)], g.domain(f.Relation, depth-1)})
		case rel && g.r.IntN(3) == 0:
			g.need(f.Relation, "read")
			d = append(d, []any{p, "child_of", int64(1)})
		default:
			d = append(d, []any{p, "=", int64(3)})
		}
	}
	return d
}

// scopes is a random key: some of read, create, write, unlink on some of
// the fixture models.
func (g *gen) scopes() []string {
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

// call is a random create, write or search on a random model.
func (g *gen) call() *authz.Call {
	model := g.pick(g.models)
	switch g.r.IntN(4) {
	case 0:
		return &authz.Call{Model: model, Method: "create", Args: []any{g.vals(model, 3)}}
	case 1:
		return &authz.Call{Model: model, Method: "write", Args: []any{[]any{int64(1)}, g.vals(model, 3)}}
	case 2:
		return &authz.Call{Model: model, Method: "search_count", Args: []any{g.domain(model, 3)}}
	}
	p, _ := g.path(model, 2)
	return &authz.Call{Model: model, Method: "search_read", Kwargs: map[string]any{"domain": g.domain(model, 2), "fields": []any{p}}}
}

// checkProperty: a call is allowed exactly when every model and
// operation it reaches is granted: no call whose models are not all
// covered passes, and none that is covered is refused.
func checkProperty(t *testing.T, seed uint64) (allowed bool) {
	g := newGen(t, seed)
	scopes := g.scopes()
	c := g.call()
	var missing []string
	for n := range g.needs {
		if !slices.Contains(scopes, "odoo:"+n) {
			missing = append(missing, n)
		}
	}
	sort.Strings(missing)
	err := policy(t, scopes...).CheckCall(c, g.schema)
	var r *authz.Refusal
	switch {
	case err != nil && !asRefusal(err, &r):
		t.Fatalf("seed %d: CheckCall = %v, want nil or a refusal", seed, err)
	case err == nil && len(missing) > 0:
		t.Fatalf("seed %d: %s.%s allowed, but the key lacks %v\nargs %v\nkwargs %v", seed, c.Model, c.Method, missing, c.Args, c.Kwargs)
	case err != nil && len(missing) == 0:
		t.Fatalf("seed %d: %s.%s refused (%v), but the key has every scope it reaches\nargs %v\nkwargs %v", seed, c.Model, c.Method, err, c.Args, c.Kwargs)
	case err != nil && r.Scope != "" && !slices.Contains(missing, strings.TrimPrefix(r.Scope, "odoo:")):
		t.Fatalf("seed %d: refused for %s, which the oracle does not miss (%v)", seed, r.Scope, missing)
	}
	return err == nil
}

// TestCheckCallProperty runs the property over a fixed set of seeds, so
// that every test run covers it; FuzzCheckCall explores further.
func TestCheckCallProperty(t *testing.T) {
	const runs = 3000
	allowed := 0
	for seed := range uint64(runs) {
		if checkProperty(t, seed) {
			allowed++
		}
	}
	// Both answers must be common, or the property proves little.
	if allowed < runs/10 || allowed > runs*9/10 {
		t.Errorf("%d of %d random calls allowed: the generator no longer explores both answers", allowed, runs)
	}
	t.Logf("%d of %d random calls allowed", allowed, runs)
}

func FuzzCheckCall(f *testing.F) {
	for _, s := range []uint64{0, 1, 42, 1 << 40} {
		f.Add(binary.LittleEndian.AppendUint64(nil, s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) < 8 {
			b = append(b, make([]byte, 8-len(b))...)
		}
		checkProperty(t, binary.LittleEndian.Uint64(b))
	})
}

// FuzzCheckCallJSON feeds arbitrary JSON arguments: the check must never
// panic, and must answer nil, a refusal or the Schema's error.
func FuzzCheckCallJSON(f *testing.F) {
	for _, s := range []string{
		`[{"name": "p", "user_ids": [[0, 0, {"login": "x"}]]}]`,
		`[[["user_ids.login", "=like", "d%"]]]`,
		`[[1], {"child_ids": [[2, 44]], "category_id": [[6, 0, [1]]]}]`,
		`[[], ["n:count(user_ids)"], ["create_uid:day"]]`,
	} {
		for _, m := range []string{"create", "write", "search", "read_group", "web_read", "my_method"} {
			f.Add(m, s, `{"context": {"lang": "en_US"}}`)
		}
	}
	f.Fuzz(func(t *testing.T, method, args, kwargs string) {
		c := &authz.Call{Model: "res.partner", Method: method}
		a, ka := decodeLoose(args), decodeLoose(kwargs)
		c.Args, _ = a.([]any)
		c.Kwargs, _ = ka.(map[string]any)
		err := policy(t, "odoo:res.partner:*").CheckCall(c, schema(t))
		var r *authz.Refusal
		if err != nil && !asRefusal(err, &r) && !strings.Contains(err.Error(), errModelNotLoaded.Error()) {
			t.Fatalf("CheckCall = %v", err)
		}
		_ = fmt.Sprint(err)
	})
}
