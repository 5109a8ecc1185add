package authz_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDeps fails when authz depends on what it must not: it reaches the
// database and Redis only through keystore and limiter, and never depends
// on the packages that use it.
func TestDeps(t *testing.T) {
	direct := goList(t, "{{join .Imports \"\\n\"}}")
	all := goList(t, "{{join .Deps \"\\n\"}}")
	checks := []struct {
		list      []string
		forbidden []string
	}{
		{direct, []string{"gorm.io/", "github.com/redis/go-redis", "github.com/jackc/"}},
		{all, []string{
			"github.com/keygate/keygate/proxy", "github.com/keygate/keygate/admin", "github.com/keygate/keygate/cmd",
			// authz never talks to Odoo: model metadata comes through Schema
			"github.com/keygate/keygate/odoo",
		}},
	}
	for _, c := range checks {
		for _, p := range c.list {
			for _, bad := range c.forbidden {
				if strings.HasPrefix(p, bad) {
					t.Errorf("authz depends on %s", p)
				}
			}
		}
	}
}

func goList(t *testing.T, format string) []string {
	t.Helper()
	out, err := exec.Command("go", "list", "-f", format, ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	return strings.Fields(string(out))
}
