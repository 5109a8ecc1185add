package route

import (
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestGlob(t *testing.T) {
	tests := []struct {
		pattern string
		match   []string
		miss    []string
	}{
		{"/api/**", []string{"/api", "/api/", "/api/x", "/api/x/y/z"}, []string{"/", "/apix", "/ap", "/x/api"}},
		{"/api/*", []string{"/api/", "/api/x"}, []string{"/api", "/api/x/y"}},
		{"/api/*/items", []string{"/api/1/items", "/api//items"}, []string{"/api/1/2/items", "/api/items"}},
		{"/a/**/b", []string{"/a/b", "/a/x/b", "/a/x/y/b"}, []string{"/a/xb", "/ab", "/a/b/c", "/axb"}},
		{"/**", []string{"/", "/a", "/a/b/"}, nil},
		{"/*", []string{"/", "/a"}, []string{"/a/b"}},
		{"/api**", []string{"/api", "/apix", "/api/x/y"}, []string{"/ap"}},
		{"/**.pdf", []string{"/a.pdf", "/x/y.pdf", "/.pdf"}, []string{"/a.pdfx", "/pdf"}},
		{"/a*b*c", []string{"/abc", "/aXbYc", "/abbbc"}, []string{"/ab", "/aX/bc"}},
		{"/exact", []string{"/exact"}, []string{"/exact/", "/exac", "/exactly"}},
		{"/**/**", []string{"/", "/a", "/a/b"}, nil},
		{"/x/**/", []string{"/x/", "/x/a/"}, []string{"/x", "/x/a"}},
	}
	for _, tt := range tests {
		g, err := CompileGlob(tt.pattern)
		if err != nil {
			t.Fatalf("CompileGlob(%q): %v", tt.pattern, err)
		}
		for _, p := range tt.match {
			if !g.Match(p) {
				t.Errorf("%q does not match %q, want a match", tt.pattern, p)
			}
		}
		for _, p := range tt.miss {
			if g.Match(p) {
				t.Errorf("%q matches %q, want no match", tt.pattern, p)
			}
		}
	}
}

// globRegexp is the reference meaning of a glob, as a regular expression.
func globRegexp(p string) *regexp.Regexp {
	var b strings.Builder
	b.WriteString(`\A`)
	for i := 0; i < len(p); i++ {
		switch {
		case p[i] == '/' && wholeSegmentStars(p, i+1):
			b.WriteString(`(?:/.*)?`)
			i += 2
		case strings.HasPrefix(p[i:], "**"):
			b.WriteString(`.*`)
			i++
		case p[i] == '*':
			b.WriteString(`[^/]*`)
		default:
			b.WriteString(regexp.QuoteMeta(p[i : i+1]))
		}
	}
	b.WriteString(`\z`)
	return regexp.MustCompile(b.String())
}

// FuzzRouteGlob checks the matcher, and its literal and prefix fast
// paths, against a regular expression of the same meaning.
func FuzzRouteGlob(f *testing.F) {
	f.Add("/api/**", "/api/x/y")
	f.Add("/a/**/b", "/a/b")
	f.Add("/a*b**c/*", "/aXbY/Zc/d")
	f.Add("/x", "/x")
	f.Add("/**/**/**/**/**/z", "/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/y")
	f.Fuzz(func(t *testing.T, pattern, path string) {
		g, err := CompileGlob(pattern)
		if err != nil || !utf8.ValidString(path) { // regexp reads runes, the glob bytes
			return
		}
		want := globRegexp(pattern).MatchString(path)
		if got := g.Match(path); got != want {
			t.Fatalf("glob %q on %q: %v, regexp says %v", pattern, path, got, want)
		}
		general := Glob{pattern: pattern, kind: globGeneral, toks: tokenize(pattern)}
		if got := general.Match(path); got != want {
			t.Fatalf("general matcher %q on %q: %v, regexp says %v", pattern, path, got, want)
		}
	})
}

func TestGlobMatchDoesNotAllocate(t *testing.T) {
	g, _ := CompileGlob("/a/**/b*/c")
	path := "/a/x/y/z/bbb/c"
	if n := testing.AllocsPerRun(100, func() { g.Match(path) }); n != 0 {
		t.Errorf("match allocates %v times, want 0", n)
	}
}

func BenchmarkGlob(b *testing.B) {
	for _, bc := range []struct{ name, pattern, path string }{
		{"prefix", "/api/**", "/api/v1/partners/42"},
		{"general", "/api/*/partners/**/x", "/api/v1/partners/a/b/c/x"},
	} {
		g, _ := CompileGlob(bc.pattern)
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				g.Match(bc.path)
			}
		})
	}
}
