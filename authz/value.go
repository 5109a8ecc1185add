package authz

import (
	"encoding/json"
	"math"
	"strconv"
)

// Reading decoded JSON and XML-RPC values. Numbers come as float64 or
// json.Number (JSON) and int64 or int (XML-RPC, tests).

// asInt reports v as a whole number.
func asInt(v any) (int64, bool) {
	switch n := v.(type) {
	case int64:
		return n, true
	case int:
		return int64(n), true
	case int32:
		return int64(n), true
	case float64:
		if n == math.Trunc(n) && math.Abs(n) < 1<<53 {
			return int64(n), true
		}
	case json.Number:
		i, err := strconv.ParseInt(string(n), 10, 64)
		return i, err == nil
	}
	return 0, false
}

// isScalar: a value that holds no other value.
func isScalar(v any) bool {
	switch v.(type) {
	case nil, bool, string, int64, int, int32, float64, json.Number:
		return true
	}
	return false
}

// isFalse: Python's False or None, Odoo's empty value.
func isFalse(v any) bool {
	b, ok := v.(bool)
	return v == nil || ok && !b
}

// idList reports whether v is a list of record ids.
func idList(v any) bool {
	l, ok := v.([]any)
	if !ok {
		return false
	}
	for _, e := range l {
		if _, ok := asInt(e); !ok {
			return false
		}
	}
	return true
}

// scalarList reports whether v is a list of scalars.
func scalarList(v any) bool {
	l, ok := v.([]any)
	if !ok {
		return false
	}
	for _, e := range l {
		if !isScalar(e) {
			return false
		}
	}
	return true
}

// stringList returns v as a list of strings.
func stringList(v any) ([]string, bool) {
	l, ok := v.([]any)
	if !ok {
		return nil, false
	}
	out := make([]string, len(l))
	for i, e := range l {
		if out[i], ok = e.(string); !ok {
			return nil, false
		}
	}
	return out, true
}
