package route

import "strings"

// maxDecodeLevels bounds how many times Normal percent-decodes a path
// looking for a hidden separator or dot: a target that still holds an
// escape after that many rounds is refused outright.
const maxDecodeLevels = 8

// Normal reports whether the path of a raw request target (query and
// fragment aside) is in normal form, the form in which every upstream
// reads the same path that keygate authorizes: it starts with "/" and
// holds no empty segment ("//"), no "." or ".." segment, no backslash, and
// no percent-encoded ".", "/" or "\" in either case at any level of
// encoding ("%2e", "%2F", "%5c", "%252e", "%25%32%65" …), nor NUL. A
// target that is not in normal form is refused rather than normalized:
// proxies and upstreams disagree on how to normalize it (nginx forwards
// $request_uri raw; many upstreams decode %2F, some treat "\" as "/"), and
// any disagreement lets a request reach a path that its key was not
// granted. Normal allocates only for a target with escapes.
func Normal(uri string) bool {
	if len(uri) > maxTargetLen {
		return false
	}
	p := stripQuery(stripAuthority(uri))
	if p == "" || p[0] != '/' || !plainSegments(p) {
		return false
	}
	for level := 0; strings.IndexByte(p, '%') >= 0; level++ {
		if level == maxDecodeLevels || hidesSeparator(p) {
			return false
		}
		dec, ok := unescapeLenient(p)
		if !ok {
			return false
		}
		if dec == p {
			return true
		}
		p = dec
	}
	return true
}

// plainSegments: no "//", no "\", no NUL, no "." or ".." segment.
func plainSegments(p string) bool {
	if strings.Contains(p, "//") || strings.IndexByte(p, '\\') >= 0 || strings.IndexByte(p, 0) >= 0 {
		return false
	}
	for i := 0; i < len(p); {
		j := strings.IndexByte(p[i+1:], '/')
		end := len(p)
		if j >= 0 {
			end = i + 1 + j
		}
		if seg := p[i+1 : end]; seg == "." || seg == ".." {
			return false
		}
		i = end
	}
	return true
}

// hidesSeparator: p holds an escape of ".", "/", "\" or NUL.
func hidesSeparator(p string) bool {
	for i := strings.IndexByte(p, '%'); i >= 0 && i+2 < len(p); {
		h, l := unhex(p[i+1]), unhex(p[i+2])
		if h >= 0 && l >= 0 {
			switch byte(h<<4 | l) {
			case '.', '/', '\\', 0:
				return true
			}
		}
		next := strings.IndexByte(p[i+1:], '%')
		if next < 0 {
			break
		}
		i += 1 + next
	}
	return false
}

// unescapeLenient decodes every valid %XX and keeps any other "%" as is,
// as most servers do; it refuses a decoded NUL.
func unescapeLenient(p string) (string, bool) {
	var b strings.Builder
	b.Grow(len(p))
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c == '%' && i+2 < len(p) {
			if h, l := unhex(p[i+1]), unhex(p[i+2]); h >= 0 && l >= 0 {
				c = byte(h<<4 | l)
				i += 2
			}
		}
		if c == 0 {
			return "", false
		}
		b.WriteByte(c)
	}
	return b.String(), true
}
