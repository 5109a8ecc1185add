package secretscan_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDeps: secretscan works through keystore's API; it never touches the
// database driver, Redis, or the other HTTP packages.
func TestDeps(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{join .Imports "\n"}}`, ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	imports := strings.Fields(string(out))
	if len(imports) == 0 {
		t.Fatal("go list found no imports: the check would pass vacuously")
	}
	forbidden := []string{"gorm.io/", "github.com/redis/go-redis", "github.com/keygate/keygate/admin",
		"github.com/keygate/keygate/proxy", "github.com/keygate/keygate/authz", "github.com/keygate/keygate/cmd"}
	for _, imp := range imports {
		for _, f := range forbidden {
			if strings.HasPrefix(imp, f) {
				t.Errorf("secretscan imports %s; it must not import %s", imp, f)
			}
		}
	}
}
