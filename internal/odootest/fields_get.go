package odootest

import "sort"

// fieldAttributes are the description attributes fields_get returns when
// none are asked for (a subset of Odoo's).
var fieldAttributes = []string{
	"name", "readonly", "relation", "required", "searchable", "selection", "sortable", "store", "string", "type",
}

// runFieldsGet is fields_get: the description of the asked fields (all by
// default), in the model's field order, attributes sorted by name as Odoo
// sends them. For the models of the recorded metadata the fields, their
// order and the recorded attributes are Odoo's (catalog.go); other
// attributes are given for the fields the double models.
func runFieldsGet(c *call) (any, *exception) {
	names, err := stringList(c.args["allfields"])
	if err != nil {
		return nil, err
	}
	attrs, err := stringList(c.args["attributes"])
	if err != nil {
		return nil, err
	}
	if len(attrs) == 0 {
		attrs = fieldAttributes
	}
	attrs = append([]string(nil), attrs...)
	sort.Strings(attrs)
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	out := Object{}
	if desc := c.e.description(c.m); desc != nil {
		for _, d := range desc.fields {
			if len(names) > 0 && !want[d.name] {
				continue
			}
			if d.fixed {
				out = append(out, Pair{d.name, d.attrs})
				continue
			}
			out = append(out, Pair{d.name, describeRecorded(d, c.m.byName[d.name], attrs)})
		}
		return out, nil
	}
	for _, f := range c.m.fields {
		if len(names) == 0 || want[f.name] {
			out = append(out, Pair{f.name, describeField(f, attrs)})
		}
	}
	return out, nil
}

// describeRecorded gives the asked attributes of a recorded field: Odoo's
// recorded value, else the double's own for a field it models.
func describeRecorded(d fieldDesc, f *field, attrs []string) Object {
	o := Object{}
	for _, a := range attrs {
		if v, ok := d.attrs.Get(a); ok {
			o = append(o, Pair{a, v})
			continue
		}
		if a == "name" {
			o = append(o, Pair{a, d.name})
			continue
		}
		if recordedAttributes[a] || f == nil {
			continue // Odoo sent none: the attribute does not apply
		}
		if v, ok := fieldAttribute(f, a); ok {
			o = append(o, Pair{a, v})
		}
	}
	return o
}

// recordedAttributes are the attributes the metadata recordings asked
// for: where Odoo sent none, the attribute does not apply to the field.
var recordedAttributes = map[string]bool{
	"string": true, "type": true, "required": true, "readonly": true, "relation": true,
	"relation_field": true, "store": true,
}

func describeField(f *field, attrs []string) Object {
	d := Object{}
	for _, a := range attrs {
		if v, ok := fieldAttribute(f, a); ok {
			d = append(d, Pair{a, v})
		}
	}
	return d
}

func fieldAttribute(f *field, attr string) (any, bool) {
	stored := f.name != "display_name" && f.typ != tOne2many
	switch attr {
	case "name":
		return f.name, true
	case "readonly":
		return f.readonly, true
	case "required":
		return f.required, true
	case "string":
		return f.label, true
	case "type":
		return f.typ, true
	case "store":
		return stored, true
	case "searchable":
		return true, true
	case "sortable":
		return stored && !f.x2many(), true
	case "relation":
		return f.relation, f.relational()
	case "relation_field":
		return f.inverse, f.typ == tOne2many && f.inverse != ""
	case "selection":
		return selectionList(f.selection), f.typ == tSelection
	}
	return nil, false
}

func selectionList(sel [][2]string) []any {
	out := make([]any, len(sel))
	for i, opt := range sel {
		out[i] = []any{opt[0], opt[1]}
	}
	return out
}
