package route

import (
	"errors"
	"math/bits"
	"strings"
	"unicode/utf8"
)

// maxGlobTokens bounds a path glob so that its matcher's state fits in a
// fixed bit set.
const maxGlobTokens = 255

// Glob matches request paths:
//
//   - "*" matches any run of characters other than "/", empty included;
//   - "**" matches any run of characters, "/" included;
//   - "/**" as a whole segment (followed by "/" or the end) matches zero or
//     more whole segments, so "/api/**" matches "/api", "/api/" and
//     "/api/v1/x", and "/a/**/b" matches "/a/b" and "/a/x/y/b";
//   - every other character matches itself.
//
// Matching runs a bit-set simulation of the pattern's automaton: time
// linear in the path for a given pattern, no backtracking, no allocation.
type Glob struct {
	pattern string
	kind    globKind
	lit     string // globLiteral: the path; globPrefix: the part before "/**"
	toks    []token
}

type globKind uint8

const (
	globLiteral globKind = iota // no wildcard
	globPrefix                  // literal + "/**"
	globGeneral
)

type tokKind uint8

const (
	tokByte     tokKind = iota // one given byte
	tokStar                    // *: any run without '/'
	tokAny                     // **: any run
	tokSlashAny                // "/" before a whole-segment "**": optional with it
)

type token struct {
	kind tokKind
	c    byte
}

var (
	errGlobSlash = errors.New("path glob must start with /")
	errGlobStars = errors.New("path glob has three or more * in a row")
	errGlobLong  = errors.New("path glob is too long")
	errGlobChars = errors.New("path glob has a space, control character, ? or #")
	errGlobUTF8  = errors.New("path glob is not valid UTF-8")
)

// CompileGlob parses a path glob. It must start with "/", be valid UTF-8
// of at most 255 bytes without spaces, control characters, "?" or "#",
// and have no run of three stars.
func CompileGlob(p string) (Glob, error) {
	switch {
	case p == "" || p[0] != '/':
		return Glob{}, errGlobSlash
	case strings.Contains(p, "***"):
		return Glob{}, errGlobStars
	case len(p) > maxGlobTokens:
		return Glob{}, errGlobLong
	case strings.IndexFunc(p, func(r rune) bool { return r <= ' ' || r == 0x7f || r == '?' || r == '#' }) >= 0:
		return Glob{}, errGlobChars
	case !utf8.ValidString(p):
		return Glob{}, errGlobUTF8
	}
	g := Glob{pattern: p}
	switch {
	case !strings.Contains(p, "*"):
		g.kind, g.lit = globLiteral, p
	case strings.HasSuffix(p, "/**") && !strings.Contains(p[:len(p)-3], "*"):
		g.kind, g.lit = globPrefix, p[:len(p)-3]
	default:
		g.kind, g.toks = globGeneral, tokenize(p)
	}
	return g, nil
}

func tokenize(p string) []token {
	toks := make([]token, 0, len(p))
	for i := 0; i < len(p); i++ {
		switch {
		case p[i] == '/' && wholeSegmentStars(p, i+1):
			toks = append(toks, token{kind: tokSlashAny}, token{kind: tokAny})
			i += 2
		case strings.HasPrefix(p[i:], "**"):
			toks = append(toks, token{kind: tokAny})
			i++
		case p[i] == '*':
			toks = append(toks, token{kind: tokStar})
		default:
			toks = append(toks, token{kind: tokByte, c: p[i]})
		}
	}
	return toks
}

// wholeSegmentStars reports whether p[i:] starts with "**" followed by "/"
// or the end.
func wholeSegmentStars(p string, i int) bool {
	return strings.HasPrefix(p[i:], "**") && (i+2 == len(p) || p[i+2] == '/')
}

// Match reports whether path matches the glob. It does not allocate.
func (g *Glob) Match(path string) bool {
	switch g.kind {
	case globLiteral:
		return path == g.lit
	case globPrefix:
		return path == g.lit || len(path) > len(g.lit) && path[len(g.lit)] == '/' && path[:len(g.lit)] == g.lit
	}
	return g.run(path)
}

// String returns the pattern.
func (g *Glob) String() string { return g.pattern }

// stateSet holds automaton states 0..maxGlobTokens: state i means "the
// first i tokens have matched".
type stateSet [4]uint64

func (s *stateSet) add(i int)      { s[i>>6] |= 1 << (i & 63) }
func (s *stateSet) has(i int) bool { return s[i>>6]&(1<<(i&63)) != 0 }
func (s *stateSet) empty() bool    { return s[0]|s[1]|s[2]|s[3] == 0 }

func (g *Glob) run(path string) bool {
	var cur stateSet
	cur.add(0)
	g.closure(&cur)
	for i := 0; i < len(path); i++ {
		var next stateSet
		g.step(&cur, &next, path[i])
		if next.empty() {
			return false
		}
		g.closure(&next)
		cur = next
	}
	return cur.has(len(g.toks))
}

// step moves every state of cur over byte c into next.
func (g *Glob) step(cur, next *stateSet, c byte) {
	n := len(g.toks)
	for w := range cur {
		for word := cur[w]; word != 0; word &= word - 1 {
			q := w<<6 | bits.TrailingZeros64(word)
			if q >= n {
				continue
			}
			switch t := g.toks[q]; t.kind {
			case tokByte:
				if t.c == c {
					next.add(q + 1)
				}
			case tokStar:
				if c != '/' {
					next.add(q)
				}
			case tokAny:
				next.add(q)
			case tokSlashAny:
				if c == '/' {
					next.add(q + 1)
				}
			}
		}
	}
}

// closure adds the states reached without reading: past a star (which may
// match nothing) and past a whole "/**". Those edges only go forward, so
// one pass over the set bits, lowest first, reaches them all.
func (g *Glob) closure(s *stateSet) {
	n := len(g.toks)
	for w := range s {
		var seen uint64
		for word := s[w]; word != 0; word = s[w] &^ seen {
			b := bits.TrailingZeros64(word)
			seen |= 1 << b
			q := w<<6 | b
			if q >= n {
				continue
			}
			switch g.toks[q].kind {
			case tokStar, tokAny:
				s.add(q + 1)
			case tokSlashAny:
				s.add(q + 2)
			}
		}
	}
}
