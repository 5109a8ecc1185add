package authz_test

import (
	"testing"

	"github.com/keygate/keygate/internal/testenv"
)

// TestDeps fails when authz depends on what it must not: it reaches the
// database and Redis only through keystore and limiter, never talks to
// Odoo, and never depends on the packages that use it.
func TestDeps(t *testing.T) {
	testenv.CheckDeps(t,
		testenv.DepRule{Direct: true, Forbidden: []string{"gorm.io", "github.com/redis/go-redis", "github.com/jackc"}},
		testenv.DepRule{Forbidden: []string{
			"github.com/keygate/keygate/proxy", "github.com/keygate/keygate/rest", "github.com/keygate/keygate/odoo",
			"github.com/keygate/keygate/admin", "github.com/keygate/keygate/cmd",
		}},
	)
}
