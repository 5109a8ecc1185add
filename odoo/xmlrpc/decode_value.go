package xmlrpc

import (
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// wrappedValue reads <value>...</value>.
func (p *parser) wrappedValue() (any, error) {
	if err := p.expectStart("value"); err != nil {
		return nil, err
	}
	return p.value()
}

// value reads the content of a <value> whose start was just read, and its
// end. Text with no element inside is an untyped string.
func (p *parser) value() (any, error) {
	if p.values++; p.values > p.lim.MaxValues {
		return nil, fmt.Errorf("%w: more than %d values", ErrLimit, p.lim.MaxValues)
	}
	var text strings.Builder
	for {
		tok, err := p.next()
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.CharData:
			text.Write(t)
			continue
		case xml.EndElement:
			return text.String(), nil
		case xml.StartElement:
			if isSpace(text.String()) {
				return p.typedValue(t)
			}
		}
		return nil, unexpected(tok, "a value")
	}
}

// typedValue reads a typed element such as <int> and the </value> after it.
func (p *parser) typedValue(se xml.StartElement) (any, error) {
	if err := plain(se); err != nil {
		return nil, err
	}
	v, err := p.typed(se.Name.Local)
	if err != nil {
		return nil, err
	}
	return v, p.ends(1)
}

func (p *parser) typed(name string) (any, error) {
	switch name {
	case "array":
		return p.array()
	case "struct":
		return p.structure()
	}
	parse, ok := scalars[name]
	if !ok {
		return nil, fmt.Errorf("%w: unknown value type <%s>", ErrSyntax, clip(name))
	}
	text, err := p.text()
	if err != nil {
		return nil, err
	}
	v, err := parse(text)
	if err != nil {
		return nil, fmt.Errorf("%w: <%s>: %w", ErrSyntax, name, err)
	}
	return v, nil
}

var scalars = map[string]func(string) (any, error){
	"string":           func(s string) (any, error) { return s, nil },
	"int":              parseInt,
	"i4":               parseInt,
	"i8":               parseInt,
	"boolean":          parseBool,
	"double":           parseDouble,
	"dateTime.iso8601": func(s string) (any, error) { return DateTime(s), nil },
	"base64":           parseBase64,
	"nil":              parseNil,
}

func (p *parser) enter() error {
	if p.depth++; p.depth > p.lim.MaxDepth {
		return fmt.Errorf("%w: nested deeper than %d", ErrLimit, p.lim.MaxDepth)
	}
	return nil
}

// array reads <data> and its values, up to and including </array>.
func (p *parser) array() (any, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer func() { p.depth-- }()
	if err := p.expectStart("data"); err != nil {
		return nil, err
	}
	a := []any{}
	for {
		tok, err := p.element()
		if err != nil {
			return nil, err
		}
		if _, ok := tok.(xml.EndElement); ok {
			return a, p.ends(1)
		}
		if err := isStart(tok, "value"); err != nil {
			return nil, err
		}
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		a = append(a, v)
	}
}

// structure reads members up to and including </struct>.
func (p *parser) structure() (any, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer func() { p.depth-- }()
	s := Struct{}
	var seen map[string]bool
	for {
		tok, err := p.element()
		if err != nil {
			return nil, err
		}
		if _, ok := tok.(xml.EndElement); ok {
			return s, nil
		}
		m, err := p.member(tok)
		if err != nil {
			return nil, err
		}
		if seen, err = checkDuplicate(s, seen, m.Name); err != nil {
			return nil, err
		}
		s = append(s, m)
	}
}

// member reads <member><name>..</name><value>..</value></member>.
func (p *parser) member(tok xml.Token) (Member, error) {
	if err := isStart(tok, "member"); err != nil {
		return Member{}, err
	}
	if err := p.expectStart("name"); err != nil {
		return Member{}, err
	}
	name, err := p.text()
	if err != nil {
		return Member{}, err
	}
	v, err := p.wrappedValue()
	if err != nil {
		return Member{}, err
	}
	return Member{Name: name, Value: v}, p.ends(1)
}

// checkDuplicate refuses a member name already in s: Python keeps the last
// one and a gateway might check the first. Small structs are scanned; a
// set is built once a struct grows past a few members.
func checkDuplicate(s Struct, seen map[string]bool, name string) (map[string]bool, error) {
	const scan = 16
	switch {
	case len(s) < scan:
		if _, dup := s.Get(name); !dup {
			return seen, nil
		}
	case seen == nil:
		seen = make(map[string]bool, 2*len(s))
		for _, m := range s {
			seen[m.Name] = true
		}
		fallthrough
	default:
		if !seen[name] {
			seen[name] = true
			return seen, nil
		}
	}
	return nil, fmt.Errorf("%w: duplicate struct member %q", ErrSyntax, clip(name))
}

func parseInt(s string) (any, error) {
	return strconv.ParseInt(strings.Trim(s, " \t\r\n"), 10, 64)
}

func parseBool(s string) (any, error) {
	switch s {
	case "0":
		return false, nil
	case "1":
		return true, nil
	}
	return nil, fmt.Errorf("bad boolean %q", clip(s))
}

// parseDouble accepts decimal notation only: no hexadecimal, infinity,
// NaN or digit separators, and no value too large for a float64.
func parseDouble(s string) (any, error) {
	s = strings.Trim(s, " \t\r\n")
	for _, c := range []byte(s) {
		if !(c >= '0' && c <= '9' || c == '.' || c == '-' || c == '+' || c == 'e' || c == 'E') {
			return nil, fmt.Errorf("bad double %q", clip(s))
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return nil, err
	}
	if math.IsInf(f, 0) {
		return nil, fmt.Errorf("double out of range %q", clip(s))
	}
	return f, nil
}

// parseBase64 accepts standard base64, with line breaks and spaces
// anywhere, as Python's decoder does.
func parseBase64(s string) (any, error) {
	s = strings.Map(func(r rune) rune {
		if r == ' ' || r == '\t' || r == '\r' || r == '\n' {
			return -1
		}
		return r
	}, s)
	b, err := base64.StdEncoding.Strict().DecodeString(s)
	if err != nil {
		return nil, err
	}
	return Base64(b), nil
}

func parseNil(s string) (any, error) {
	if !isSpace(s) {
		return nil, fmt.Errorf("text in <nil/>")
	}
	return nil, nil
}
