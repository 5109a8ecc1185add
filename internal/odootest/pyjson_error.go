package odootest

import (
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// pyJSONError is the message of the JSONDecodeError Python's json.loads
// raises for a document that is not JSON ("Expecting value: line 1
// column 11 (char 10)"), as far as its scanner's errors go; positions
// count characters, as Python's do.
func pyJSONError(data []byte) string {
	if !utf8.Valid(data) {
		return "'utf-8' codec can't decode the body" // not recorded: Python names the byte
	}
	p := &pyScanner{s: []rune(string(data))}
	msg, pos := p.document()
	if msg == "" {
		return "Expecting value: line 1 column 1 (char 0)" // the double refused what Python takes
	}
	line, col := 1, pos+1
	for i, r := range p.s[:pos] {
		if r == '\n' {
			line, col = line+1, pos-i
		}
	}
	return msg + ": line " + strconv.Itoa(line) + " column " + strconv.Itoa(col) + " (char " + strconv.Itoa(pos) + ")"
}

type pyScanner struct{ s []rune }

// pyScanError is a JSONDecodeError: its message and position.
type pyScanError struct {
	msg string
	pos int
}

var pyNumber = regexp.MustCompile(`^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?`)

func (p *pyScanner) ws(i int) int {
	for i < len(p.s) && strings.ContainsRune(" \t\n\r", p.s[i]) {
		i++
	}
	return i
}

// document is json.loads: a value, then only whitespace. It returns the
// error, or "" when the document is JSON.
func (p *pyScanner) document() (string, int) {
	end, err := p.value(p.ws(0))
	if err != nil {
		return err.msg, err.pos
	}
	if end = p.ws(end); end != len(p.s) {
		return "Extra data", end
	}
	return "", 0
}

func (p *pyScanner) value(i int) (int, *pyScanError) {
	if i >= len(p.s) {
		return 0, &pyScanError{"Expecting value", i}
	}
	rest := string(p.s[i:])
	switch c := p.s[i]; {
	case c == '"':
		return p.str(i + 1)
	case c == '{':
		return p.object(i + 1)
	case c == '[':
		return p.array(i + 1)
	}
	for _, lit := range []string{"null", "true", "false", "NaN", "Infinity", "-Infinity"} {
		if strings.HasPrefix(rest, lit) {
			return i + len(lit), nil
		}
	}
	if m := pyNumber.FindString(rest); m != "" {
		return i + len(m), nil
	}
	return 0, &pyScanError{"Expecting value", i}
}

func (p *pyScanner) str(i int) (int, *pyScanError) {
	begin := i - 1
	for i < len(p.s) {
		switch c := p.s[i]; {
		case c == '"':
			return i + 1, nil
		case c == '\\':
			if i+1 >= len(p.s) {
				return 0, &pyScanError{"Unterminated string starting at", begin}
			}
			if p.s[i+1] == 'u' {
				if i+6 > len(p.s) || !isHex(string(p.s[i+2:i+6])) {
					return 0, &pyScanError{"Invalid \\uXXXX escape", i + 1}
				}
				i += 6
				continue
			}
			if !strings.ContainsRune(`"\/bfnrt`, p.s[i+1]) {
				return 0, &pyScanError{"Invalid \\escape", i}
			}
			i += 2
		case c < 0x20:
			return 0, &pyScanError{"Invalid control character at", i}
		default:
			i++
		}
	}
	return 0, &pyScanError{"Unterminated string starting at", begin}
}

func isHex(s string) bool {
	_, err := strconv.ParseUint(s, 16, 16)
	return err == nil && len(s) == 4
}

func (p *pyScanner) object(i int) (int, *pyScanError) {
	i = p.ws(i)
	if i < len(p.s) && p.s[i] == '}' {
		return i + 1, nil
	}
	for {
		if i >= len(p.s) || p.s[i] != '"' {
			return 0, &pyScanError{"Expecting property name enclosed in double quotes", i}
		}
		end, err := p.str(i + 1)
		if err != nil {
			return 0, err
		}
		i = p.ws(end)
		if i >= len(p.s) || p.s[i] != ':' {
			return 0, &pyScanError{"Expecting ':' delimiter", i}
		}
		if i, err = p.value(p.ws(i + 1)); err != nil {
			return 0, err
		}
		i = p.ws(i)
		switch {
		case i < len(p.s) && p.s[i] == '}':
			return i + 1, nil
		case i < len(p.s) && p.s[i] == ',':
			i = p.ws(i + 1)
		default:
			return 0, &pyScanError{"Expecting ',' delimiter", i}
		}
	}
}

func (p *pyScanner) array(i int) (int, *pyScanError) {
	i = p.ws(i)
	if i < len(p.s) && p.s[i] == ']' {
		return i + 1, nil
	}
	for {
		var err *pyScanError
		if i, err = p.value(i); err != nil {
			return 0, err
		}
		i = p.ws(i)
		switch {
		case i < len(p.s) && p.s[i] == ']':
			return i + 1, nil
		case i < len(p.s) && p.s[i] == ',':
			i = p.ws(i + 1)
		default:
			return 0, &pyScanError{"Expecting ',' delimiter", i}
		}
	}
}
