package odootest

import (
	"strconv"
	"strings"
)

// A domain value the database cannot take reaches PostgreSQL in Odoo: a
// string compared with an integer column (['id', '=', 'abc']) fails the
// query with psycopg2's InvalidTextRepresentation, whose message quotes
// the SQL around the value as libpq prints it ("LINE 1: ..." and a caret).
// The double renders its search as SQL in the shape of Odoo 18's query
// (each condition in parentheses, the active test first, res.partner's
// multi-company record rule after the domain) and quotes it the same way:
// the recorded case (18.0/relations/39) is Odoo's text; for other domains
// the window is the double's rendering, whose text beyond the recorded one
// (the record rule, conditions the double does not render as SQL) is
// invented.

const clsInvalidText = "psycopg2.errors.InvalidTextRepresentation"

// sqlCastError returns the database error a search with this parsed domain
// raises, or nil when every value fits its column.
func sqlCastError(e *env, m *model, root node, active bool) *exception {
	r := &sqlRenderer{table: sqlTable(m.name), cursor: -1, v19: e.version == "19.0"}
	var where node = root
	if active {
		where = andNode{activeLeaf{}, root}
	}
	r.b.WriteString(`SELECT "` + r.table + `"."id" FROM "` + r.table + `" WHERE `)
	if r.v19 { // 19.0: no parentheses around each condition, one around the domain
		r.b.WriteString("(")
		r.node(where)
		r.b.WriteString(")")
	} else {
		r.node(where)
	}
	if r.cursor < 0 {
		return nil
	}
	if m.name == "res.partner" {
		r.b.WriteString(` AND (("res_partner"."company_id" IN (1)) OR ("res_partner"."company_id" IS NULL))`)
	}
	r.b.WriteString(` ORDER BY "` + r.table + `"."id"`)
	msg := `invalid input syntax for type integer: "` + r.bad + `"` + "\n" + errorPosition(r.b.String(), r.cursor)
	return newException(clsInvalidText, msg)
}

// activeLeaf is the condition search adds for active_test.
type activeLeaf struct{}

func (activeLeaf) match(*env, record) bool { return true }

type sqlRenderer struct {
	table  string
	v19    bool // Odoo 19.0's SQL: "IS TRUE", "IN" for "=", fewer parentheses
	b      strings.Builder
	cursor int    // offset of the first value the column cannot take, or -1
	bad    string // that value
}

func (r *sqlRenderer) node(n node) {
	switch x := n.(type) {
	case andNode:
		if r.v19 {
			r.node(x.a)
			r.b.WriteString(" AND ")
			r.node(x.b)
			return
		}
		r.pair(x.a, " AND ", x.b)
	case orNode:
		r.pair(x.a, " OR ", x.b)
	case notNode:
		r.b.WriteString("(NOT ")
		r.node(x.n)
		r.b.WriteString(")")
	case constNode:
		r.b.WriteString(strings.ToUpper(strconv.FormatBool(bool(x))))
	case activeLeaf:
		if r.v19 {
			r.b.WriteString(`"` + r.table + `"."active" IS TRUE`)
			return
		}
		r.b.WriteString(`("` + r.table + `"."active" = true)`)
	case *leafNode:
		r.leaf(x)
	default:
		r.b.WriteString("TRUE")
	}
}

func (r *sqlRenderer) pair(a node, op string, b node) {
	r.b.WriteString("(")
	r.node(a)
	r.b.WriteString(op)
	r.node(b)
	r.b.WriteString(")")
}

var sqlOperators = map[string]string{
	"=": "=", "!=": "!=", "<": "<", ">": ">", "<=": "<=", ">=": ">=", "in": "IN", "not in": "NOT IN",
}

// leaf renders a condition on a column; conditions the double does not
// render as SQL (relations, hierarchies, patterns) are TRUE.
func (r *sqlRenderer) leaf(l *leafNode) {
	op, ok := sqlOperators[l.op]
	if l.sub != nil || l.f.relational() || l.f.computed || !ok {
		r.b.WriteString("TRUE")
		return
	}
	items, isList := asList(l.value)
	if r.v19 && (op == "=" || op == "!=") {
		op, items, isList = map[string]string{"=": "IN", "!=": "NOT IN"}[op], []any{l.value}, true
	}
	open, close := "(", ")"
	if r.v19 {
		open, close = "", ""
	}
	r.b.WriteString(open + `"` + r.table + `"."` + l.f.name + `" ` + op + " ")
	if !isList {
		r.literal(l.f, l.value)
		r.b.WriteString(close)
		return
	}
	r.b.WriteString("(")
	for i, it := range items {
		if i > 0 {
			r.b.WriteString(", ")
		}
		r.literal(l.f, it)
	}
	r.b.WriteString(")" + close)
}

func (r *sqlRenderer) literal(f *field, v any) {
	s, isStr := v.(string)
	if !isStr {
		if v == nil || v == false {
			r.b.WriteString("NULL")
		} else {
			r.b.WriteString(pyRepr(v))
		}
		return
	}
	integer := f.typ == tInteger
	if _, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64); integer && err != nil && r.cursor < 0 {
		r.cursor, r.bad = r.b.Len(), s
	}
	r.b.WriteString("'" + strings.ReplaceAll(s, "'", "''") + "'")
}

// errorPosition is libpq's reportErrorPosition for a one-line query: the
// line, cut to 60 columns around the cursor (at least 10 after it), with
// "..." where it was cut, and a caret under the cursor.
func errorPosition(query string, cursor int) string {
	const display, minRightCut = 60, 10
	begin, end := 0, len(query)
	beginCut, endCut := false, false
	if end-begin > display {
		if cursor+minRightCut <= display {
			end, endCut = display, true
		} else {
			if cursor+minRightCut < end {
				end, endCut = cursor+minRightCut, true
			}
			if end-begin > display {
				begin, beginCut = end-display, true
			}
		}
	}
	line := "LINE 1: "
	caret := len(line) + cursor - begin
	if beginCut {
		line += "..."
		caret += 3
	}
	line += query[begin:end]
	if endCut {
		line += "..."
	}
	return line + "\n" + strings.Repeat(" ", caret) + "^\n"
}
