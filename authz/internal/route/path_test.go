package route

import (
	"strings"
	"testing"
)

// FuzzTargetPath checks the forwarded-URI handling: a path it returns is
// absolute, clean (no empty, "." or ".." segment), without NUL, and a
// fixed point when it holds no "%".
func FuzzTargetPath(f *testing.F) {
	for _, s := range []string{"/", "/a/../b", "/a%2F..%2Fb", "http://h/x?y", "/.%2e/", "//a//", "/a/./b/.", "/%", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, uri string) {
		p, ok := Path(uri)
		if !ok {
			return
		}
		if p == "" || p[0] != '/' || strings.Contains(p, "//") || strings.IndexByte(p, 0) >= 0 {
			t.Fatalf("Path(%q) = %q: not a clean absolute path", uri, p)
		}
		for _, seg := range strings.Split(p[1:], "/") {
			if seg == "." || seg == ".." {
				t.Fatalf("Path(%q) = %q keeps a dot segment", uri, p)
			}
		}
		if !strings.Contains(p, "%") && !strings.ContainsAny(p, "?#") {
			if again, ok := Path(p); !ok || again != p {
				t.Fatalf("Path(%q) = %q, but Path(%q) = %q, %v", uri, p, p, again, ok)
			}
		}
	})
}

func TestPathDoesNotAllocateForCleanPaths(t *testing.T) {
	if n := testing.AllocsPerRun(100, func() { _, _ = Path("/api/v1/partners/42?fields=name") }); n != 0 {
		t.Errorf("Path allocates %v times, want 0", n)
	}
}
