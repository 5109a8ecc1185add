package odoo_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDeps fails when odoo depends on what it must not: it serves no HTTP
// and takes no access decision, and the client that feeds it lives in
// proxy, which imports odoo, never the other way.
func TestDeps(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{join .Deps "\n"}}`, ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, p := range strings.Fields(string(out)) {
		for _, bad := range []string{
			"github.com/keygate/keygate/proxy", "github.com/keygate/keygate/authz", "github.com/keygate/keygate/cmd",
			"github.com/labstack/echo",
		} {
			if strings.HasPrefix(p, bad) {
				t.Errorf("odoo depends on %s", p)
			}
		}
	}
}
