package odootest

import (
	"embed"
	"encoding/json"
	"io/fs"
	"path"
)

// The field descriptions real Odoo gave for the models a gateway's scopes
// name (testdata/odoo/<version>/metadata: fields_get of every field, with
// the attributes string, type, required, readonly, relation,
// relation_field and store). fields_get answers from them, so that what
// keygate learns from the double is what it would learn from Odoo; the
// double models a subset of these fields (model.fields), and a call that
// uses a field that is only described says so (NotImplementedError)
// rather than pretending it does not exist.
//
//go:embed testdata/odoo/18.0/metadata/*.json testdata/odoo/19.0/metadata/*.json
var metadataFS embed.FS

// fieldDesc is one field as Odoo's fields_get described it.
type fieldDesc struct {
	name  string
	attrs Object // attributes, in the order Odoo sent them
	// fixed marks the web client's virtual group fields of 18.0's
	// res.users (sel_groups_*, in_group_*): Odoo sends them with their
	// own keys whatever attributes were asked for.
	fixed bool
}

// modelDesc is a model's fields_get, in Odoo's field order.
type modelDesc struct {
	fields []fieldDesc
	byName map[string]*fieldDesc
}

// catalogs maps a version and a model name to Odoo's description of it.
var catalogs = map[string]map[string]*modelDesc{}

func init() {
	for _, version := range []string{"18.0", "19.0"} {
		catalogs[version] = map[string]*modelDesc{}
		dir := path.Join("testdata/odoo", version, "metadata")
		entries, err := fs.ReadDir(metadataFS, dir)
		if err != nil {
			panic(err)
		}
		for _, ent := range entries {
			name, desc := loadModelDesc(path.Join(dir, ent.Name()))
			catalogs[version][name] = desc
		}
	}
}

// loadModelDesc reads one recorded fields_get exchange: the model it asked
// about and the fields Odoo answered.
func loadModelDesc(file string) (string, *modelDesc) {
	data, err := metadataFS.ReadFile(file)
	if err != nil {
		panic(err)
	}
	var fx struct {
		Request struct {
			Body json.RawMessage `json:"body"`
		} `json:"request"`
		Response struct {
			Body json.RawMessage `json:"body"`
		} `json:"response"`
	}
	if err := json.Unmarshal(data, &fx); err != nil {
		panic(file + ": " + err.Error())
	}
	req, err := decodeJSON(fx.Request.Body)
	if err != nil {
		panic(file + ": " + err.Error())
	}
	params, _ := req.(Object).Get("params")
	args, _ := params.(Object).Get("args")
	model := args.([]any)[3].(string)
	resp, err := decodeJSON(fx.Response.Body)
	if err != nil {
		panic(file + ": " + err.Error())
	}
	result, _ := resp.(Object).Get("result")
	desc := &modelDesc{byName: map[string]*fieldDesc{}}
	for _, p := range result.(Object) {
		attrs := p.Value.(Object)
		_, fixed := attrs.Get("exportable")
		desc.fields = append(desc.fields, fieldDesc{name: p.Key, attrs: attrs, fixed: fixed})
	}
	for i := range desc.fields {
		desc.byName[desc.fields[i].name] = &desc.fields[i]
	}
	return model, desc
}

// relatedModel reports whether a field the version's catalog describes
// relates to model: a model that exists in that Odoo, though the double
// does not model it.
func relatedModel(version, model string) bool {
	for _, desc := range catalogs[version] {
		for _, f := range desc.fields {
			if rel, _ := f.attrs.Get("relation"); rel == model {
				return true
			}
		}
	}
	return false
}

// description is Odoo's description of model m on the env's version, or
// nil when the recordings have none (res.currency.rate).
func (e *env) description(m *model) *modelDesc {
	return catalogs[e.version][m.name]
}

// lookupField resolves the name of a field of m as the env's Odoo version
// knows it: the double's field; or, for a field Odoo describes that the
// double does not model, a NotImplementedError saying so; or nil, nil for
// a field this version of Odoo does not have (the caller raises Odoo's
// ValueError). A field the double models but the version's description
// lacks (mobile and groups_id on 19.0) does not exist on that version.
func lookupField(e *env, m *model, name string) (*field, *exception) {
	f := m.byName[name]
	desc := e.description(m)
	if desc == nil {
		return f, nil
	}
	if desc.byName[name] == nil {
		return nil, nil
	}
	if f == nil {
		return nil, notModelled("field " + m.name + "." + name + " (Odoo " + e.version +
			" describes it in fields_get)")
	}
	return f, nil
}

// knownFields are the fields of m the env's version has, in the double's
// order: what a read without a field list returns.
func knownFields(e *env, m *model) []*field {
	desc := e.description(m)
	if desc == nil {
		return m.fields
	}
	out := make([]*field, 0, len(m.fields))
	for _, f := range m.fields {
		if desc.byName[f.name] != nil {
			out = append(out, f)
		}
	}
	return out
}
