package authz_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/keygate/keygate/authz"
)

func TestTargetPath(t *testing.T) {
	tests := []struct {
		uri  string
		want string
		ok   bool
	}{
		{"/", "/", true},
		{"/api/v1/x", "/api/v1/x", true},
		{"/api/v1/x?a=1&b=/../admin", "/api/v1/x", true},
		{"/api/v1/x#frag", "/api/v1/x", true},
		{"/api//v1///x", "/api/v1/x", true},
		{"/api/./v1/x/.", "/api/v1/x/", true},
		{"/api/v1/../admin", "/api/admin", true},
		{"/api/v1/..", "/api/", true},
		{"/api/%2e%2E/admin", "/admin", true},
		{"/api/a%2F..%2F..%2Fadmin", "/admin", true},
		{"/api/%41%62c", "/api/Abc", true},
		{"/api/%25", "/api/%", true},
		{"/api/", "/api/", true},
		{"/.well-known/x", "/.well-known/x", true},
		{"http://host:8080/api/x?q", "/api/x", true},
		{"https://host", "/", true},
		{"https://host?x", "/", true},
		{"/..", "", false},
		{"/a/../../b", "", false},
		{"/%2e%2e/b", "", false},
		{"/bad%zz", "", false},
		{"/bad%4", "", false},
		{"/nul%00", "", false},
		{"/nul\x00", "", false},
		{"", "", false},
		{"api/x", "", false},
		{"*", "", false},
		{"/" + strings.Repeat("a", 17<<10), "", false},
	}
	for _, tt := range tests {
		got, ok := authz.TargetPath(tt.uri)
		if diff := cmp.Diff([]any{tt.want, tt.ok}, []any{got, ok}); diff != "" {
			t.Errorf("TargetPath(%q) (-want +got):\n%s", tt.uri, diff)
		}
	}
}
