package authz

import (
	"slices"
	"strings"
)

// kind is what an Odoo method takes in one parameter, and so how the
// check reads it.
type kind uint8

const (
	pScalar     kind = iota // a value or a list of values (ids, names, flags)
	pIDs                    // record ids: an id, a list of ids, false
	pCreateVals             // create's vals_list: values or a list of them
	pWriteVals              // write's values
	pNewVals                // values of records made otherwise (copy's default, web_save's)
	pDomain                 // a search domain
	pFields                 // a list of field paths
	pOrder                  // an order string
	pAggOrder               // an order string with aggregates (read_group)
	pAggFields              // read_group's fields, aggregates
	pGroupby                // a groupby: string or list
	pGroupAgg               // web_read_group's 2nd and 3rd: aggregates and groupby, in either order
	pNameOp                 // name_search's operator, applied to the model's name field
	pSpec                   // a web_read specification
	pExport                 // export_data's "/" paths
	pImport                 // load's "/" paths
	pRows                   // load's rows: lists of values
)

type param struct {
	name string
	kind kind
}

// signature is a method's parameters in order (ids first for the methods
// that take records); aliases are further keyword names (name_search's
// domain is args on 18.0, domain on 19.0).
type signature struct {
	params  []param
	aliases map[string]kind
}

// signatures are the methods whose parameters the check knows. Any other
// method (reached through a call:<method> scope) is read by generic.
var signatures = map[string]signature{
	"create":       {params: []param{{"vals_list", pCreateVals}}},
	"write":        {params: []param{{"ids", pIDs}, {"vals", pWriteVals}}},
	"unlink":       {params: []param{{"ids", pIDs}}},
	"read":         {params: []param{{"ids", pIDs}, {"fields", pFields}, {"load", pScalar}}},
	"search":       {params: []param{{"domain", pDomain}, {"offset", pScalar}, {"limit", pScalar}, {"order", pOrder}, {"count", pScalar}}},
	"search_count": {params: []param{{"domain", pDomain}, {"limit", pScalar}}},
	"search_read": {params: []param{{"domain", pDomain}, {"fields", pFields}, {"offset", pScalar}, {"limit", pScalar},
		{"order", pOrder}, {"load", pScalar}}},
	"search_fetch": {params: []param{{"domain", pDomain}, {"field_names", pFields}, {"offset", pScalar}, {"limit", pScalar},
		{"order", pOrder}}},
	"fields_get": {params: []param{{"allfields", pScalar}, {"attributes", pScalar}}},
	"name_search": {params: []param{{"name", pScalar}, {"args", pDomain}, {"operator", pNameOp}, {"limit", pScalar}},
		aliases: map[string]kind{"domain": pDomain}},
	"name_create": {params: []param{{"name", pScalar}}},
	"read_group": {params: []param{{"domain", pDomain}, {"fields", pAggFields}, {"groupby", pGroupby}, {"offset", pScalar},
		{"limit", pScalar}, {"orderby", pAggOrder}, {"lazy", pScalar}}},
	// web_read_group is (domain, fields, groupby, ...) on 18.0 and
	// (domain, groupby, aggregates, ...) on 19.0: positionally, each list
	// is read both ways.
	"web_read_group": {params: []param{{"domain", pDomain}, {"fields", pGroupAgg}, {"groupby", pGroupAgg}, {"limit", pScalar},
		{"offset", pScalar}, {"orderby", pAggOrder}, {"lazy", pScalar}},
		aliases: map[string]kind{"aggregates": pGroupAgg, "order": pAggOrder}},
	"formatted_read_group": {params: []param{{"domain", pDomain}, {"groupby", pGroupby}, {"aggregates", pAggFields},
		{"having", pDomain}, {"offset", pScalar}, {"limit", pScalar}, {"order", pAggOrder}}},
	"web_search_read": {params: []param{{"domain", pDomain}, {"specification", pSpec}, {"offset", pScalar}, {"limit", pScalar},
		{"order", pOrder}, {"count_limit", pScalar}}},
	"web_read":    {params: []param{{"ids", pIDs}, {"specification", pSpec}}},
	"web_save":    {params: []param{{"ids", pIDs}, {"vals", pNewVals}, {"specification", pSpec}, {"next_id", pScalar}}},
	"copy":        {params: []param{{"ids", pIDs}, {"default", pNewVals}}},
	"copy_data":   {params: []param{{"ids", pIDs}, {"default", pNewVals}}},
	"export_data": {params: []param{{"ids", pIDs}, {"fields_to_export", pExport}}},
	"load":        {params: []param{{"fields", pImport}, {"data", pRows}}},
	"default_get": {params: []param{{"fields_list", pFields}}},
	"name_get":    {params: []param{{"ids", pIDs}}},
}

// call checks the whole call: the context first (its default_* keys
// reach the values), then each argument as its parameter takes it.
func (k *checker) call(c *Call) error {
	if err := k.context(c.Model, c.Kwargs["context"]); err != nil {
		return err
	}
	sig, known := signatures[c.Method]
	if !known {
		return k.generic(c)
	}
	if len(c.Args) > len(sig.params) {
		return shape("%s.%s: %d positional arguments, it takes at most %d", c.Model, c.Method, len(c.Args), len(sig.params))
	}
	for i, a := range c.Args {
		if err := k.arg(sig.params[i].kind, a); err != nil {
			return err
		}
	}
	return eachKey(c.Kwargs, func(name string) error {
		if name == "context" {
			return nil
		}
		kd, ok := sig.kind(name)
		if !ok {
			return shape("%s.%s: unknown argument %q", c.Model, c.Method, name)
		}
		return k.arg(kd, c.Kwargs[name])
	})
}

func (s *signature) kind(name string) (kind, bool) {
	if i := slices.IndexFunc(s.params, func(p param) bool { return p.name == name }); i >= 0 {
		return s.params[i].kind, true
	}
	kd, ok := s.aliases[name]
	return kd, ok
}

// arg checks one argument of the call's model as kd says.
func (k *checker) arg(kd kind, v any) error {
	m := k.model
	switch kd {
	case pScalar:
		if !isScalar(v) && !scalarList(v) {
			return shape("argument %v of %s: want a value or a list of values", v, m)
		}
	case pIDs:
		if !isID(v) && !idList(v) && !isFalse(v) {
			return shape("record ids %v of %s", v, m)
		}
	case pCreateVals:
		return k.createVals(v)
	case pWriteVals:
		return k.vals(m, v, false, 0)
	case pNewVals:
		if isFalse(v) {
			return nil
		}
		return k.vals(m, v, true, 0)
	case pDomain:
		return k.domain(m, v, 0)
	case pFields:
		return k.fieldList(m, v)
	case pOrder, pAggOrder:
		return k.order(m, v, kd == pAggOrder)
	case pAggFields:
		return k.aggList(m, v)
	case pGroupby:
		return k.groupby(m, v)
	case pGroupAgg:
		return k.groupAgg(m, v)
	case pNameOp:
		return nameOperator(m, v)
	case pSpec:
		return k.spec(m, v, 0)
	case pExport:
		return k.exportPaths(m, v)
	case pImport:
		return k.importPaths(m, v)
	case pRows:
		return k.rows(v)
	}
	return nil
}

// createVals: create takes one values object or a list of them.
func (k *checker) createVals(v any) error {
	l, ok := v.([]any)
	if !ok {
		return k.vals(k.model, v, true, 0)
	}
	for _, e := range l {
		if err := k.vals(k.model, e, true, 0); err != nil {
			return err
		}
	}
	return nil
}

// rows: load's data is a list of rows of values.
func (k *checker) rows(v any) error {
	l, ok := v.([]any)
	if !ok {
		return shape("rows to import of %s: want a list of lists", k.model)
	}
	for _, r := range l {
		if !scalarList(r) {
			return shape("rows to import of %s: want a list of lists of values", k.model)
		}
	}
	return nil
}

// generic reads the arguments of a method whose parameters keygate does
// not know, strictly: values and lists of values pass; an object is
// taken as values for a new record of the model (every key a known
// field, x2many commands checked); a list of objects as many such; any
// other list must read as a domain. Anything else is refused.
func (k *checker) generic(c *Call) error {
	for _, a := range c.Args {
		if err := k.opaque(a); err != nil {
			return err
		}
	}
	return eachKey(c.Kwargs, func(name string) error {
		if name == "context" {
			return nil
		}
		return k.opaque(c.Kwargs[name])
	})
}

func (k *checker) opaque(v any) error {
	switch {
	case isScalar(v), scalarList(v):
		return nil
	case isObject(v):
		return k.vals(k.model, v, true, 0)
	case objectList(v):
		return k.createVals(v)
	}
	return k.domain(k.model, v, 0)
}

func isObject(v any) bool {
	_, ok := v.(map[string]any)
	return ok
}

func objectList(v any) bool {
	l, ok := v.([]any)
	if !ok || len(l) == 0 {
		return false
	}
	return !slices.ContainsFunc(l, func(e any) bool { return !isObject(e) })
}

// nameOperator checks name_search's operator, which Odoo applies in a leaf
// on the model's name field: a comparison of the domain operators, or
// false for the default. Those that follow a relation (any, child_of, …)
// are refused: the check does not know which field that name is.
func nameOperator(model string, v any) error {
	if isFalse(v) {
		return nil
	}
	op, ok := v.(string)
	switch strings.ToLower(op) {
	case "any", "not any", "any!", "not any!", "child_of", "parent_of":
		ok = false
	}
	if !ok || !domainOps[strings.ToLower(op)] {
		return shape("name_search operator %v on %s", v, model)
	}
	return nil
}
