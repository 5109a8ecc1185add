package xmlrpc

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDeps keeps the codec a leaf: standard library only.
func TestDeps(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, dep := range strings.Fields(string(out)) {
		if strings.Contains(strings.Split(dep, "/")[0], ".") && dep != "github.com/keygate/keygate/proxy/xmlrpc" {
			t.Errorf("xmlrpc imports %s; it must use the standard library only", dep)
		}
	}
}
