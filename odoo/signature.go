package odoo

import (
	"encoding/json"
	"fmt"
)

// Translating between execute_kw (positional args, then kwargs) and JSON-2
// (named arguments only, ids for record methods).

// signature is what JSON-2 needs of a method: whether it is a record
// method (execute_kw's first argument is then the ids) and the names of
// its other parameters, in order, as Odoo 19 names them.
type signature struct {
	records bool
	params  []string
}

// signatures are the ORM's public methods that partners call. A call of
// another method is named only when it has no positional argument.
var signatures = map[string]signature{
	"search":               {false, []string{"domain", "offset", "limit", "order"}},
	"search_count":         {false, []string{"domain", "limit"}},
	"search_read":          {false, []string{"domain", "fields", "offset", "limit", "order"}},
	"search_fetch":         {false, []string{"domain", "field_names", "offset", "limit", "order"}},
	"read":                 {true, []string{"fields", "load"}},
	"create":               {false, []string{"vals_list"}},
	"write":                {true, []string{"vals"}},
	"unlink":               {true, nil},
	"copy":                 {true, []string{"default"}},
	"copy_data":            {true, []string{"default"}},
	"exists":               {true, nil},
	"name_search":          {false, []string{"name", "domain", "operator", "limit"}},
	"name_create":          {false, []string{"name"}},
	"fields_get":           {false, []string{"allfields", "attributes"}},
	"default_get":          {false, []string{"fields"}},
	"web_search_read":      {false, []string{"domain", "specification", "offset", "limit", "order", "count_limit"}},
	"web_read":             {true, []string{"specification"}},
	"web_save":             {true, []string{"vals", "specification"}},
	"read_group":           {false, []string{"domain", "fields", "groupby", "offset", "limit", "orderby", "lazy"}},
	"formatted_read_group": {false, []string{"domain", "groupby", "aggregates", "having", "offset", "limit", "order"}},
	"action_archive":       {true, nil},
	"action_unarchive":     {true, nil},
	"toggle_active":        {true, nil},
	"check_access_rights":  {false, []string{"operation", "raise_exception"}},
	"check_access_rule":    {true, []string{"operation"}},
	"check_access":         {true, []string{"operation"}},
	"has_access":           {true, []string{"operation"}},
	"context_get":          {false, nil},
}

// named turns execute_kw's args and kwargs into JSON-2's named arguments.
// errNotNamed: positional arguments of a method keygate has no signature
// for (the caller then keeps to JSON-RPC). A TypeError-like *OdooError for
// too many arguments or one given twice, as Python would raise.
func named(model, method string, args []any, kwargs map[string]any) (map[string]any, error) {
	sig, known := signatures[method]
	if !known && len(args) > 0 {
		return nil, errNotNamed
	}
	out := make(map[string]any, len(args)+len(kwargs))
	if sig.records && len(args) > 0 {
		out["ids"] = idList(args[0])
		args = args[1:]
	}
	if len(args) > len(sig.params) {
		return nil, &OdooError{Name: ExcTypeError, Message: fmt.Sprintf("%s.%s() takes %d positional arguments but %d were given",
			model, method, len(sig.params), len(args))}
	}
	for i, v := range args {
		out[sig.params[i]] = v
	}
	for k, v := range kwargs {
		if _, twice := out[k]; twice {
			return nil, &OdooError{Name: ExcTypeError, Message: fmt.Sprintf("%s.%s() got multiple values for argument '%s'", model, method, k)}
		}
		out[k] = v
	}
	return out, nil
}

// idList is ids as JSON-2 takes them: a list (execute_kw also takes one id).
func idList(v any) any {
	switch v.(type) {
	case []any, []int64, []int:
		return v
	}
	return []any{v}
}

// CreatedIDs is what JSON-2's create answers: always a list of ids, where
// execute_kw answers one id for one dict.
func CreatedIDs(raw json.RawMessage) json.RawMessage {
	if len(raw) > 0 && raw[0] != '[' && string(raw) != "null" {
		return json.RawMessage("[" + string(raw) + "]")
	}
	return raw
}

// singleCreate reports a create of one dict, whose execute_kw answer is
// one id where JSON-2 answers a list.
func singleCreate(method string, args []any, kwargs map[string]any) bool {
	if method != "create" {
		return false
	}
	v, ok := kwargs["vals_list"]
	if !ok && len(args) > 0 {
		v = args[0]
	}
	switch v := v.(type) {
	case map[string]any:
		return true
	case json.RawMessage:
		return len(v) > 0 && v[0] == '{'
	}
	return false
}

// firstID unwraps [id] into id.
func firstID(raw json.RawMessage) json.RawMessage {
	var ids []json.RawMessage
	if json.Unmarshal(raw, &ids) == nil && len(ids) == 1 {
		return ids[0]
	}
	return raw
}
