package route

import "strings"

// maxTargetLen bounds the request target that route scopes are matched
// against; nginx's default large_client_header_buffers is 8k.
const maxTargetLen = 16 << 10

// Path returns the path of a request target, normalized as nginx
// normalizes $uri; authz.TargetPath documents it.
func Path(uri string) (string, bool) {
	if len(uri) > maxTargetLen {
		return "", false
	}
	p := stripQuery(stripAuthority(uri))
	if p == "" || p[0] != '/' {
		return "", false
	}
	if !strings.Contains(p, "%") && !strings.Contains(p, "//") && !strings.Contains(p, "/.") {
		if strings.IndexByte(p, 0) >= 0 {
			return "", false
		}
		return p, true
	}
	dec, ok := unescape(p)
	if !ok {
		return "", false
	}
	return resolveDots(dec)
}

// stripAuthority turns an absolute-form target into its path.
func stripAuthority(uri string) string {
	if uri == "" || uri[0] == '/' {
		return uri
	}
	i := strings.Index(uri, "://")
	if i <= 0 || strings.ContainsAny(uri[:i], "/?#") {
		return uri
	}
	rest := uri[i+3:]
	if j := strings.IndexAny(rest, "/?#"); j >= 0 {
		if rest[j] == '/' {
			return rest[j:]
		}
		return "/" + rest[j:]
	}
	return "/"
}

func stripQuery(p string) string {
	if i := strings.IndexAny(p, "?#"); i >= 0 {
		return p[:i]
	}
	return p
}

// unescape decodes every %XX; it refuses a bad escape and NUL.
func unescape(p string) ([]byte, bool) {
	out := make([]byte, 0, len(p))
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c == '%' {
			if i+2 >= len(p) {
				return nil, false
			}
			h, l := unhex(p[i+1]), unhex(p[i+2])
			if h < 0 || l < 0 {
				return nil, false
			}
			c = byte(h<<4 | l)
			i += 2
		}
		if c == 0 {
			return nil, false
		}
		out = append(out, c)
	}
	return out, true
}

func unhex(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c - 'a' + 10)
	case 'A' <= c && c <= 'F':
		return int(c - 'A' + 10)
	}
	return -1
}

// resolveDots removes "." and ".." segments and empty segments from an
// absolute path. The result ends with "/" when the path's last segment is
// empty, "." or "..". It refuses ".." above the root.
func resolveDots(p []byte) (string, bool) {
	out := make([]byte, 0, len(p))
	for i := 0; i < len(p); {
		j := i + 1 // p[i] == '/'
		k := j
		for k < len(p) && p[k] != '/' {
			k++
		}
		switch seg := p[j:k]; string(seg) {
		case "", ".":
		case "..":
			if len(out) == 0 {
				return "", false
			}
			out = out[:lastSlash(out)]
		default:
			out = append(append(out, '/'), seg...)
		}
		i = k
	}
	last := p[lastSlash(p)+1:]
	if string(last) == "" || string(last) == "." || string(last) == ".." {
		out = append(out, '/')
	}
	return string(out), true
}

func lastSlash(b []byte) int {
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] == '/' {
			return i
		}
	}
	return -1
}
