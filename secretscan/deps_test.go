package secretscan_test

import (
	"testing"

	"github.com/keygate/keygate/internal/testenv"
)

// TestDeps: secretscan works through keystore's API; it never touches the
// database driver, Redis, or the other HTTP packages.
func TestDeps(t *testing.T) {
	testenv.CheckDeps(t, testenv.DepRule{Direct: true, Forbidden: []string{
		"gorm.io", "github.com/redis/go-redis", "github.com/keygate/keygate/admin",
		"github.com/keygate/keygate/proxy", "github.com/keygate/keygate/rest", "github.com/keygate/keygate/authz",
		"github.com/keygate/keygate/cmd",
	}})
}
