package xmlrpc

import (
	"testing"

	"github.com/keygate/keygate/internal/testenv"
)

// TestDeps keeps the codec a leaf: standard library only.
func TestDeps(t *testing.T) {
	testenv.CheckDeps(t, testenv.DepRule{StdlibOnly: true})
}
