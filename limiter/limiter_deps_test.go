package limiter

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestDeps fails when limiter depends, directly or not, on what it must
// stay apart from: HTTP, the web framework, the ORM and the rest of keygate.
func TestDeps(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	var bad []string
	for _, dep := range strings.Fields(string(out)) {
		if forbidden(dep) {
			bad = append(bad, dep)
		}
	}
	if diff := cmp.Diff([]string(nil), bad); diff != "" {
		t.Fatalf("forbidden dependencies (-want +got):\n%s", diff)
	}
}

func forbidden(dep string) bool {
	const self = "github.com/keygate/keygate/"
	switch {
	case dep == "net/http", strings.HasPrefix(dep, "net/http/"):
		return true
	case strings.HasPrefix(dep, "github.com/labstack/echo"), strings.HasPrefix(dep, "gorm.io/"):
		return true
	case strings.HasPrefix(dep, self) && dep != self+"limiter":
		return true
	}
	return false
}

func TestForbidden(t *testing.T) {
	want := map[string]bool{
		"net/http": true, "net/http/httptrace": true, "github.com/labstack/echo/v4": true,
		"gorm.io/gorm": true, "github.com/keygate/keygate/keystore": true,
		"github.com/keygate/keygate/limiter": false, "net/netip": false, "github.com/redis/go-redis/v9": false,
	}
	got := map[string]bool{}
	for dep := range want {
		got[dep] = forbidden(dep)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("forbidden (-want +got):\n%s", diff)
	}
}
