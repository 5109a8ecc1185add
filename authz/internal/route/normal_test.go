package route

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestNormal(t *testing.T) {
	for _, tc := range []struct {
		name string
		uri  string
		want bool
	}{
		{"a_plain_path_is_normal", "/public/x", true},
		{"the_root_is_normal", "/", true},
		{"a_trailing_slash_is_normal", "/public/", true},
		{"a_query_is_not_part_of_the_path", "/public/x?next=/../admin&a=%2e%2e", true},
		{"dots_inside_a_name_are_normal", "/.well-known/a..b/c.d/...", true},
		{"an_escaped_letter_is_normal", "/api/%41bc", true},
		{"an_escaped_percent_of_a_letter_is_normal", "/api/%2541", true},
		{"an_absolute_form_target_is_judged_by_its_path", "http://h/public/x", true},
		{"a_dot_dot_segment_is_not", "/admin/../public/x", false},
		{"a_dot_segment_is_not", "/public/./x", false},
		{"a_trailing_dot_dot_is_not", "/public/..", false},
		{"a_trailing_dot_is_not", "/public/.", false},
		{"a_double_slash_is_not", "/public//x", false},
		{"a_leading_double_slash_is_not", "//public/x", false},
		{"a_backslash_is_not", "/public/..\\admin/x", false},
		{"escaped_dots_are_not", "/admin/%2e%2e/public/x", false},
		{"escaped_dots_in_upper_case_are_not", "/admin/%2E%2E/public/x", false},
		{"an_escaped_slash_is_not", "/admin/x/..%2f..%2fpublic/x", false},
		{"an_escaped_slash_in_upper_case_is_not", "/admin/x/..%2F..%2Fpublic/x", false},
		{"an_escaped_backslash_is_not", "/public/..%5cadmin/x", false},
		{"an_escaped_backslash_in_upper_case_is_not", "/public/..%5Cadmin/x", false},
		{"a_doubly_escaped_dot_is_not", "/admin/%252e%252e/public/x", false},
		{"a_triply_escaped_slash_is_not", "/admin/x/..%25252f..%25252fpublic/x", false},
		{"an_escape_built_from_escapes_is_not", "/admin/%%32%65%%32%65/public/x", false},
		{"an_escaped_nul_is_not", "/public/x%00", false},
		{"a_nul_is_not", "/public/x\x00", false},
		{"too_many_levels_of_escaping_are_not", "/a/%" + strings.Repeat("25", 9) + "41", false},
		{"a_relative_path_is_not", "public/x", false},
		{"an_empty_target_is_not", "", false},
		{"an_asterisk_is_not", "*", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, Normal(tc.uri)); diff != "" {
				t.Fatalf("Normal(%q) (-want +got):\n%s", tc.uri, diff)
			}
		})
	}
}

// FuzzNormal: a target Normal accepts has a path that no normalization
// changes. Decoded once, as an upstream decodes it, it is what Path
// authorizes; and no further round of decoding makes a separator or a
// dot segment appear.
func FuzzNormal(f *testing.F) {
	for _, s := range []string{"/public/x", "/admin/../public/x", "/a/%2e%2e/b", "/a/%252f", "/%41", "/a%", "/a%%32%65",
		"/a/..%5cb", "/a//b", "/a/.b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, uri string) {
		if !Normal(uri) {
			return
		}
		p, ok := Path(uri)
		raw := stripQuery(stripAuthority(uri))
		dec, lenient := unescapeLenient(raw)
		if !lenient {
			t.Fatalf("Normal(%q) but it decodes to NUL", uri)
		}
		if ok && p != dec {
			t.Fatalf("Normal(%q): Path %q, decoded %q", uri, p, dec)
		}
		for range maxDecodeLevels {
			if strings.Contains(dec, "//") || strings.Contains(dec, "\\") || !plainSegments(dec) {
				t.Fatalf("Normal(%q) but decoding gives %q", uri, dec)
			}
			dec, _ = unescapeLenient(dec)
		}
	})
}

func TestNormalDoesNotAllocateForPlainPaths(t *testing.T) {
	if n := testing.AllocsPerRun(100, func() { Normal("/api/v1/partners/42?limit=10") }); n != 0 {
		t.Fatalf("%v allocations", n)
	}
}
