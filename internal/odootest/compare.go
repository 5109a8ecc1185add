package odootest

import (
	"strings"
	"unicode/utf8"
)

// matchScalar evaluates "stored op value" for a field holding one value
// (a many2one holds its id), with Odoo's SQL semantics for NULL (nil).
func matchScalar(f *field, v any, op string, value any) bool {
	switch op {
	case "=":
		return equal(f, v, value)
	case "!=":
		return !equal(f, v, value)
	case "in":
		return inList(f, v, value)
	case "not in":
		return !inList(f, v, value)
	case "<", ">", "<=", ">=":
		return v != nil && ordered(compareLoose(v, value), op)
	case "like", "ilike", "=like", "=ilike":
		return v != nil && like(v, op, value)
	case "not like", "not ilike":
		return v == nil || !like(v, strings.TrimPrefix(op, "not "), value)
	}
	return false
}

// equal is "field = value": False means IS NULL (or false, or the empty
// string for a text field); anything else compares values.
func equal(f *field, v any, value any) bool {
	if f.typ == tBoolean {
		return truthy(v) == truthy(value)
	}
	if value == nil || value == false {
		return v == nil || v == ""
	}
	if v == nil {
		return false
	}
	return compareLoose(v, value) == 0
}

func inList(f *field, v any, value any) bool {
	items, ok := asList(value)
	if !ok {
		items = []any{value}
	}
	for _, it := range items {
		if equal(f, v, it) {
			return true
		}
	}
	return false
}

// compareLoose compares a stored value with a domain value, converting
// the domain value as Postgres would cast a literal.
func compareLoose(v, value any) int {
	switch x := v.(type) {
	case string:
		s, ok := value.(string)
		if !ok {
			s, _ = storedString(value).(string)
		}
		return strings.Compare(x, s)
	case bool:
		return compareValues(x, truthy(value))
	}
	fa, _ := asFloat(v)
	fb, ok := asFloat(value)
	if !ok {
		return 1
	}
	switch {
	case fa < fb:
		return -1
	case fa > fb:
		return 1
	}
	return 0
}

func ordered(c int, op string) bool {
	switch op {
	case "<":
		return c < 0
	case ">":
		return c > 0
	case "<=":
		return c <= 0
	}
	return c >= 0
}

// like evaluates SQL LIKE / ILIKE. like and ilike wrap the value in '%',
// =like and =ilike take it as the pattern; '%' and '_' in the value are
// wildcards either way, as they are in Odoo.
func like(v any, op string, value any) bool {
	s, ok := v.(string)
	if !ok {
		s, _ = storedString(v).(string)
	}
	pattern, ok := value.(string)
	if !ok {
		pattern, _ = storedString(value).(string)
	}
	if op == "like" || op == "ilike" {
		pattern = "%" + pattern + "%"
	}
	if op == "ilike" || op == "=ilike" {
		s, pattern = strings.ToLower(s), strings.ToLower(pattern)
	}
	return likeMatch(s, pattern)
}

// likeToken is one element of a LIKE pattern.
type likeToken struct {
	r    rune
	kind byte // 'c' a character, '_' any one character, '%' any run
}

func likeTokens(p string) []likeToken {
	var toks []likeToken
	for len(p) > 0 {
		r, n := utf8.DecodeRuneInString(p)
		p = p[n:]
		switch {
		case r == '\\' && len(p) > 0:
			r, n = utf8.DecodeRuneInString(p)
			p = p[n:]
			toks = append(toks, likeToken{r, 'c'})
		case r == '%':
			if len(toks) == 0 || toks[len(toks)-1].kind != '%' {
				toks = append(toks, likeToken{kind: '%'})
			}
		case r == '_':
			toks = append(toks, likeToken{kind: '_'})
		default:
			toks = append(toks, likeToken{r, 'c'})
		}
	}
	return toks
}

// likeMatch matches s against a LIKE pattern ('%' any run, '_' any one
// character, '\' escapes), in O(len(s) * len(pattern)): the greedy
// algorithm that backtracks to the last '%' only.
func likeMatch(s, p string) bool {
	text, toks := []rune(s), likeTokens(p)
	i, j, star, mark := 0, 0, -1, 0
	for i < len(text) {
		switch {
		case j < len(toks) && (toks[j].kind == '_' || toks[j].kind == 'c' && toks[j].r == text[i]):
			i, j = i+1, j+1
		case j < len(toks) && toks[j].kind == '%':
			star, mark = j, i
			j++
		case star >= 0:
			mark++
			i, j = mark, star+1
		default:
			return false
		}
	}
	for j < len(toks) && toks[j].kind == '%' {
		j++
	}
	return j == len(toks)
}
