package rest

import (
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/keygate/keygate/httpapi"
)

// Query parameters of a list: page, limit, fields, order, and filters
// "<field>=<value>" (eq) or "<field>__<operator>=<value>". A parameter
// the version does not declare is refused (400), so nothing reaches Odoo
// but declared fields with declared operators and values of their type.

const (
	// defaultLimit is a list's page size when the query names none.
	defaultLimit = 20
	// maxInValues bounds the values of one in or not_in filter.
	maxInValues = 100
	// odooDatetime is how Odoo writes datetimes: UTC, to the second.
	odooDatetime = "2006-01-02 15:04:05"
	isoDate      = "2006-01-02"
)

// listQuery is a checked list query.
type listQuery struct {
	page, limit int
	fields      []string // id first
	order       string   // Odoo's order
	domain      []any    // leaves [field, operator, value], implicitly and-ed
}

func (q listQuery) offset() int { return (q.page - 1) * q.limit }

// parseQuery parses a raw query strictly: a malformed one is a 400, not
// silently dropped pairs.
func parseQuery(raw string) (url.Values, error) {
	q, err := url.ParseQuery(raw)
	if err != nil {
		return nil, httpapi.Errorf(http.StatusBadRequest, "malformed query string")
	}
	return q, nil
}

// listQuery checks the query of GET /<resource>; every problem is in the
// 400's details, by parameter.
func (v *version) listQuery(q url.Values) (listQuery, error) {
	lq := listQuery{page: 1, limit: defaultLimit, fields: v.read, order: v.order, domain: []any{}}
	bad := map[string]string{}
	for _, name := range sortedKeys(q) {
		if err := v.listParam(&lq, name, q[name]); err != nil {
			bad[name] = err.Error()
		}
	}
	if len(bad) > 0 {
		return listQuery{}, &httpapi.Error{Status: http.StatusBadRequest, Message: "invalid query", Details: bad}
	}
	return lq, nil
}

func (v *version) listParam(lq *listQuery, name string, values []string) error {
	var err error
	switch name {
	case "page", "limit", "fields", "order":
		if len(values) != 1 {
			return fmt.Errorf("give %s once", name)
		}
	}
	switch name {
	case "page":
		lq.page, err = wholeNumber(values[0], math.MaxInt32)
	case "limit":
		lq.limit, err = wholeNumber(values[0], math.MaxInt32)
		lq.limit = min(lq.limit, httpapi.MaxLimit)
	case "fields":
		lq.fields, err = v.fieldsParam(values[0])
	case "order":
		lq.order, err = parseOrder(values[0], func(n string) bool { return v.readable[n] })
	default:
		var leaves []any
		leaves, err = v.filter(name, values)
		lq.domain = append(lq.domain, leaves...)
	}
	return err
}

// wholeNumber parses a number from 1 to hi.
func wholeNumber(s string, hi int) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > hi {
		return 0, fmt.Errorf("must be a whole number from 1")
	}
	return n, nil
}

// itemQuery checks the query of a request on one record: fields only.
func (v *version) itemQuery(q url.Values) ([]string, error) {
	fields := v.read
	bad := map[string]string{}
	for _, name := range sortedKeys(q) {
		var err error
		switch {
		case name != "fields":
			err = fmt.Errorf("unknown parameter (only fields is allowed here)")
		case len(q[name]) != 1:
			err = fmt.Errorf("give fields once")
		default:
			fields, err = v.fieldsParam(q[name][0])
		}
		if err != nil {
			bad[name] = err.Error()
		}
	}
	if len(bad) > 0 {
		return nil, &httpapi.Error{Status: http.StatusBadRequest, Message: "invalid query", Details: bad}
	}
	return fields, nil
}

// fieldsParam parses "name,email": readable fields, id always first.
func (v *version) fieldsParam(s string) ([]string, error) {
	out := []string{"id"}
	for _, n := range strings.Split(s, ",") {
		n = strings.TrimSpace(n)
		switch {
		case !v.readable[n]:
			return nil, fmt.Errorf("%q is not a readable field (readable: %s)", n, strings.Join(v.read, ", "))
		case !slices.Contains(out, n):
			out = append(out, n)
		}
	}
	return out, nil
}

// filter turns one filter parameter and its values into domain leaves.
func (v *version) filter(param string, values []string) ([]any, error) {
	name, op, hasOp := strings.Cut(param, "__")
	if !hasOp {
		op = "eq"
	}
	ops, ok := v.filters[name]
	if !ok {
		return nil, fmt.Errorf("unknown parameter (filters: %s; also page, limit, fields, order)", strings.Join(sortedKeys(v.filters), ", "))
	}
	if !slices.Contains(ops, op) {
		return nil, fmt.Errorf("operator %q is not allowed on %s (allowed: %s)", op, name, strings.Join(ops, ", "))
	}
	leaves := make([]any, 0, len(values))
	for _, s := range values {
		val, err := filterValue(v.fields[name], op, s)
		if err != nil {
			return nil, err
		}
		leaves = append(leaves, []any{name, odooOperators[op], val})
	}
	return leaves, nil
}

// filterValue converts a filter's text to the field's Odoo value: a
// comma-separated list for in and not_in.
func filterValue(f *field, op, s string) (any, error) {
	if op != "in" && op != "not_in" {
		return scalarValue(f, op, s)
	}
	parts := strings.Split(s, ",")
	if len(parts) > maxInValues {
		return nil, fmt.Errorf("at most %d values", maxInValues)
	}
	list := make([]any, 0, len(parts))
	for _, part := range parts {
		val, err := scalarValue(f, op, part)
		if err != nil {
			return nil, err
		}
		list = append(list, val)
	}
	return list, nil
}

func scalarValue(f *field, op, s string) (any, error) {
	switch {
	case s == "":
		return nil, fmt.Errorf("a value is required")
	case !utf8.ValidString(s) || strings.ContainsRune(s, 0):
		return nil, fmt.Errorf("must be UTF-8 text without NUL")
	}
	switch f.typ {
	case typeInteger:
		return parseInteger(s)
	case typeNumber:
		return parseNumber(s)
	case typeBoolean:
		return parseBoolean(s)
	case typeMany2one:
		return many2oneFilter(op, s)
	case typeDate:
		return parseDate(s)
	case typeDatetime:
		return parseDatetime(s)
	}
	return s, nil
}

func parseInteger(s string) (any, error) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return nil, fmt.Errorf("%q is not a whole number", s)
	}
	return n, nil
}

func parseNumber(s string) (any, error) {
	n, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(n, 0) || math.IsNaN(n) {
		return nil, fmt.Errorf("%q is not a number", s)
	}
	return n, nil
}

func parseBoolean(s string) (any, error) {
	switch s {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return nil, fmt.Errorf("%q is not true or false", s)
}

// many2oneFilter: a record id, or a text that like and ilike match
// against the related record's name, as Odoo does.
func many2oneFilter(op, s string) (any, error) {
	if strings.Contains(op, "like") {
		return s, nil
	}
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id < 1 {
		return nil, fmt.Errorf("%q is not a record id", s)
	}
	return id, nil
}

func parseDate(s string) (any, error) {
	if _, err := time.Parse(isoDate, s); err != nil {
		return nil, fmt.Errorf("%q is not a date (YYYY-MM-DD)", s)
	}
	return s, nil
}

// parseDatetime reads RFC 3339 and gives Odoo's UTC form.
func parseDatetime(s string) (any, error) {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil || t.Year() < 1 || t.UTC().Year() > 9999 {
		return nil, fmt.Errorf("%q is not an RFC 3339 date and time (2026-11-28T08:35:53Z)", s)
	}
	return t.UTC().Format(odooDatetime), nil
}
