package admin_test

import (
	"testing"

	"github.com/keygate/keygate/internal/testenv"
)

// TestDeps: the admin API works over keystore; it never reaches Odoo, the
// gateway or the drivers directly, and never depends on cmd.
func TestDeps(t *testing.T) {
	testenv.CheckDeps(t,
		testenv.DepRule{Direct: true, Forbidden: []string{"gorm.io", "github.com/redis/go-redis", "github.com/jackc"}},
		testenv.DepRule{Forbidden: []string{
			"github.com/keygate/keygate/proxy", "github.com/keygate/keygate/rest", "github.com/keygate/keygate/odoo",
			"github.com/keygate/keygate/cmd",
		}},
	)
}
