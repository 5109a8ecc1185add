package authz

import "strings"

// basicContext are the context keys every key may send, with the check
// of their values: they choose the language, time zone, archived records
// and companies of the answer, nothing more.
var basicContext = map[string]func(v any) bool{
	"lang":                func(v any) bool { _, ok := v.(string); return ok || isFalse(v) },
	"tz":                  func(v any) bool { _, ok := v.(string); return ok || isFalse(v) },
	"active_test":         func(v any) bool { _, ok := v.(bool); return ok },
	"allowed_company_ids": idList,
}

// context checks a client context sent with a call on model: keys other
// than basicContext need odoo:<model>:context. default_* keys also reach
// every record the call creates (nested creates included), which then
// need the context scope on their own models (see vals).
func (k *checker) context(model string, v any) error {
	if isFalse(v) {
		return nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return shape("context %v: want an object", v)
	}
	return eachKey(m, func(key string) error {
		if valid, basic := basicContext[key]; basic {
			if !valid(m[key]) {
				return shape("the value %v of context key %s", m[key], key)
			}
			return nil
		}
		if strings.HasPrefix(key, "default_") {
			k.defaults = true
		}
		return k.needFor(model, opContext, "context key "+key+" on "+model)
	})
}
