package odootest

import (
	"strings"
)

// termOperators are Odoo's TERM_OPERATORS: the operators a leaf may use.
var termOperators = map[string]bool{
	"=": true, "!=": true, "<=": true, "<": true, ">": true, ">=": true, "=?": true,
	"=like": true, "=ilike": true, "like": true, "not like": true, "ilike": true, "not ilike": true,
	"in": true, "not in": true, "child_of": true, "parent_of": true, "any": true, "not any": true,
}

// negations is TERM_OPERATORS_NEGATION, used to push a '!' into a leaf.
var negations = map[string]string{
	"<": ">=", ">": "<=", "<=": ">", ">=": "<", "=": "!=", "!=": "=",
	"in": "not in", "not in": "in", "like": "not like", "not like": "like",
	"ilike": "not ilike", "not ilike": "ilike", "any": "not any", "not any": "any",
}

// node is a parsed domain: a predicate on records of one model.
type node interface {
	match(e *env, r record) bool
}

type andNode struct{ a, b node }
type orNode struct{ a, b node }
type notNode struct{ n node }
type constNode bool

func (n andNode) match(e *env, r record) bool   { return n.a.match(e, r) && n.b.match(e, r) }
func (n orNode) match(e *env, r record) bool    { return n.a.match(e, r) || n.b.match(e, r) }
func (n notNode) match(e *env, r record) bool   { return !n.n.match(e, r) }
func (n constNode) match(_ *env, _ record) bool { return bool(n) }

// parseDomain parses a domain of model m as Odoo's expression does:
// normalize (implicit '&'), check each leaf, resolve fields. Errors are
// the ValueErrors Odoo raises, with the frames of expression.py.
func parseDomain(e *env, m *model, domain any) (node, *exception) {
	if domain == nil || domain == false {
		domain = []any{}
	}
	items, ok := asList(domain)
	if !ok {
		return nil, newException("builtins.AssertionError",
			"Domains to normalize must have a 'domain' form: a list or tuple of domain components", frExpressionInit787)
	}
	p := &domainParser{e: e, m: m, items: items}
	if err := p.checkArity(); err != nil {
		return nil, err
	}
	return p.parseAll()
}

type domainParser struct {
	e     *env
	m     *model
	items []any
	pos   int
}

// checkArity is normalize_domain's syntax check.
func (p *domainParser) checkArity() *exception {
	expected := 1
	for _, tok := range p.items {
		if expected == 0 {
			expected = 1
		}
		switch tok {
		case "!":
		case "&", "|":
			expected++
		default:
			expected--
		}
	}
	if expected != 0 && len(p.items) > 0 {
		return valueError("Domain "+pyRepr(p.items)+" is syntactically not correct.", frExpressionInit787)
	}
	return nil
}

// parseAll parses the items, joining the top-level expressions with '&'.
func (p *domainParser) parseAll() (node, *exception) {
	var root node = constNode(true)
	first := true
	for p.pos < len(p.items) {
		n, err := p.parseOne()
		if err != nil {
			return nil, err
		}
		if first {
			root, first = n, false
		} else {
			root = andNode{root, n}
		}
	}
	return root, nil
}

func (p *domainParser) parseOne() (node, *exception) {
	tok := p.items[p.pos]
	p.pos++
	switch tok {
	case "&", "|":
		a, err := p.parseOne()
		if err != nil {
			return nil, err
		}
		b, err := p.parseOne()
		if err != nil {
			return nil, err
		}
		if tok == "&" {
			return andNode{a, b}, nil
		}
		return orNode{a, b}, nil
	case "!":
		n, err := p.parseOne()
		if err != nil {
			return nil, err
		}
		return negate(n), nil
	}
	return parseLeaf(p.e, p.m, tok)
}

// negate pushes a '!' into a leaf with the negated operator, as Odoo's
// distribute_not does, so that NULLs are treated as Odoo treats them.
func negate(n node) node {
	if l, ok := n.(*leafNode); ok {
		if op, ok := negations[l.op]; ok {
			c := *l
			c.op = op
			return &c
		}
	}
	return notNode{n}
}

func invalidLeaf(tok any) *exception {
	text, ok := tok.(string)
	if list, isList := asList(tok); isList {
		text = pyReprTuple(list)
	} else if !ok {
		text = pyRepr(tok)
	}
	return valueError("Invalid leaf "+text, frExpressionInit787, frExpressionParse952,
		frExpressionPush939, frExpressionCheckLeaf739)
}

// parseLeaf checks a leaf (is_leaf) and resolves its field path.
func parseLeaf(e *env, m *model, tok any) (node, *exception) {
	leaf, ok := asList(tok)
	if !ok || len(leaf) != 3 {
		return nil, invalidLeaf(tok)
	}
	op, _ := leaf[1].(string)
	if c, ok := constLeaf(leaf); ok {
		return c, nil
	}
	left, _ := leaf[0].(string)
	if !termOperators[op] || left == "" {
		return nil, invalidLeaf(tok)
	}
	return resolveLeaf(e, m, leaf, strings.Split(left, "."), op, leaf[2], 0)
}

// constLeaf recognizes TRUE_LEAF (1, '=', 1) and FALSE_LEAF (0, '=', 1).
func constLeaf(leaf []any) (node, bool) {
	l, lok := asInt(leaf[0])
	r, rok := asInt(leaf[2])
	if _, isStr := leaf[0].(string); isStr || !lok || !rok || leaf[1] != "=" || r != 1 {
		return nil, false
	}
	return constNode(l == 1), true
}

// resolveLeaf resolves the field path of a leaf on m, depth relations
// down from the domain's model. An unknown field is refused as Odoo's
// _anyfy_leaves refuses it, one frame per relation followed.
func resolveLeaf(e *env, m *model, leaf []any, path []string, op string, value any, depth int) (node, *exception) {
	f, nerr := lookupField(e, m, path[0])
	if nerr != nil {
		return nil, nerr
	}
	if f == nil {
		frames := []frame{frExpressionInit781, frExpressionDomainCombineAnies599}
		for range depth {
			frames = append(frames, frExpressionAnyfyLeaves378)
		}
		frames = append(frames, frExpressionAnyfyLeaves374)
		return nil, valueError("Invalid field "+m.name+"."+path[0]+leafWord(e)+pyReprTuple(leaf), frames...)
	}
	if len(path) > 1 {
		if !f.relational() {
			return nil, valueError("Invalid field "+m.name+"."+strings.Join(path, ".")+leafWord(e)+pyReprTuple(leaf),
				frExpressionInit787, frExpressionParse952)
		}
		comodel := registry[f.relation]
		if comodel.describedOnly {
			return nil, notModelled("searching " + f.relation + " records through " + m.name + "." + f.name)
		}
		rest := []any{strings.Join(path[1:], "."), leaf[1], leaf[2]}
		sub, err := resolveLeaf(e, comodel, rest, path[1:], op, value, depth+1)
		if err != nil {
			return nil, err
		}
		return &leafNode{m: m, f: f, op: "any", sub: sub}, nil
	}
	if op == "any" || op == "not any" {
		return nil, notModelled("the " + pyRepr(op) + " operator")
	}
	if op == "=?" {
		if !truthy(value) && value != int64(0) {
			return constNode(true), nil
		}
		op = "="
	}
	op, value = normalizeLeaf(op, value)
	return &leafNode{m: m, f: f, op: op, value: value}, nil
}

// normalizeLeaf is normalize_leaf: '=' with a list is 'in', 'in' with a
// boolean is '='.
func normalizeLeaf(op string, value any) (string, any) {
	_, isList := asList(value)
	if isList && (op == "=" || op == "!=") {
		if op == "=" {
			return "in", value
		}
		return "not in", value
	}
	if b, isBool := value.(bool); isBool && (op == "in" || op == "not in") {
		if op == "in" {
			return "=", b
		}
		return "!=", b
	}
	return op, value
}

// activeFilter reports whether search must add ('active', '=', True):
// the model has an active field, the context's active_test is on, and no
// top-level leaf of the domain is on 'active'.
func activeFilter(e *env, m *model, domain any) bool {
	if !e.activeTest || !m.hasActive() {
		return false
	}
	items, _ := asList(domain)
	for _, it := range items {
		if leaf, ok := asList(it); ok && len(leaf) == 3 && leaf[0] == "active" {
			return false
		}
	}
	return true
}

// leafWord is how the version names a domain leaf in its messages: 19.0
// calls it a condition.
func leafWord(e *env) string {
	if e.version == "19.0" {
		return " in condition "
	}
	return " in leaf "
}
