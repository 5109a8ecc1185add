package odootest

import (
	"math"
	"strconv"
)

// Pair is one key and value of an Object.
type Pair struct {
	Key   string
	Value any
}

// Object is a JSON object (an XML-RPC struct) that keeps its keys in order,
// as a Python dict does. Odoo's answers depend on that order: read returns
// id first, then the requested fields in the requested order.
//
// Values held in an Object, and everywhere else in the double, are the
// decoded forms of JSON and XML-RPC: nil, bool, int64, float64, string,
// []any and Object.
type Object []Pair

// Get returns the value of key and whether it is present.
func (o Object) Get(key string) (any, bool) {
	for _, p := range o {
		if p.Key == key {
			return p.Value, true
		}
	}
	return nil, false
}

// set replaces the value of key in place, or appends it, as a Python dict
// assignment does.
func (o Object) set(key string, v any) Object {
	for i, p := range o {
		if p.Key == key {
			o[i].Value = v
			return o
		}
	}
	return append(o, Pair{key, v})
}

// asInt returns v as an integer when it is one (Python's int, bool included).
func asInt(v any) (int64, bool) {
	switch x := v.(type) {
	case int64:
		return x, true
	case int:
		return int64(x), true
	case bool:
		if x {
			return 1, true
		}
		return 0, true
	case float64:
		if x == math.Trunc(x) && !math.IsInf(x, 0) {
			return int64(x), true
		}
	}
	return 0, false
}

// asFloat returns v as a number.
func asFloat(v any) (float64, bool) {
	if f, ok := v.(float64); ok {
		return f, true
	}
	if i, ok := asInt(v); ok {
		return float64(i), true
	}
	return 0, false
}

// truthy is Python's bool(v).
func truthy(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case bool:
		return x
	case int64:
		return x != 0
	case int:
		return x != 0
	case float64:
		return x != 0
	case string:
		return x != ""
	case []any:
		return len(x) > 0
	case []int64:
		return len(x) > 0
	case Object:
		return len(x) > 0
	}
	return true
}

// asList returns v as a list when it is a list (or a tuple).
func asList(v any) ([]any, bool) {
	switch x := v.(type) {
	case []any:
		return x, true
	case []int64:
		out := make([]any, len(x))
		for i, id := range x {
			out[i] = id
		}
		return out, true
	}
	return nil, false
}

// pyRepr formats v as Python's repr does, for messages that quote values
// (domain leaves, KeyError). Lists print as tuples when tuple is true.
func pyRepr(v any) string {
	switch x := v.(type) {
	case nil:
		return "None"
	case bool:
		if x {
			return "True"
		}
		return "False"
	case int64:
		return strconv.FormatInt(x, 10)
	case int:
		return strconv.Itoa(x)
	case float64:
		return pyFloat(x)
	case string:
		return pyReprString(x)
	case []any:
		return pyReprSeq(x, "[", "]")
	case Object:
		return pyReprDict(x)
	}
	return "<?>"
}

// pyReprTuple formats a list as a Python tuple: ('name', '~~', 1).
func pyReprTuple(items []any) string {
	if len(items) == 1 {
		return "(" + pyRepr(items[0]) + ",)"
	}
	return pyReprSeq(items, "(", ")")
}

func pyReprSeq(items []any, open, close string) string {
	s := open
	for i, it := range items {
		if i > 0 {
			s += ", "
		}
		s += pyRepr(it)
	}
	return s + close
}

func pyReprDict(o Object) string {
	s := "{"
	for i, p := range o {
		if i > 0 {
			s += ", "
		}
		s += pyReprString(p.Key) + ": " + pyRepr(p.Value)
	}
	return s + "}"
}

// pyReprString quotes s as Python's repr of a str: single quotes unless the
// text holds a single quote and no double quote.
func pyReprString(s string) string {
	quote := byte('\'')
	if containsByte(s, '\'') && !containsByte(s, '"') {
		quote = '"'
	}
	out := []byte{quote}
	for _, r := range s {
		out = appendReprRune(out, r, quote)
	}
	return string(append(out, quote))
}

func appendReprRune(out []byte, r rune, quote byte) []byte {
	switch {
	case r == '\\' || r == rune(quote):
		return append(out, '\\', byte(r))
	case r == '\n':
		return append(out, '\\', 'n')
	case r == '\r':
		return append(out, '\\', 'r')
	case r == '\t':
		return append(out, '\\', 't')
	case r < 0x20 || r == 0x7f:
		return append(out, []byte("\\x"+hex2(int(r)))...)
	}
	return append(out, string(r)...)
}

func hex2(n int) string {
	const digits = "0123456789abcdef"
	return string([]byte{digits[n>>4&0xf], digits[n&0xf]})
}

func containsByte(s string, b byte) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == b {
			return true
		}
	}
	return false
}

// pyFloat formats f as Python's repr of a float: 1.0, 5.864, 1e+16.
func pyFloat(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	}
	abs := math.Abs(f)
	if abs != 0 && (abs < 1e-4 || abs >= 1e16) {
		return strconv.FormatFloat(f, 'e', -1, 64)
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	for i := 0; i < len(s); i++ {
		if s[i] == '.' {
			return s
		}
	}
	return s + ".0"
}

func itoa(i int64) string { return strconv.FormatInt(i, 10) }
