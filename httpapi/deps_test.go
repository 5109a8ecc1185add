package httpapi_test

import (
	"testing"

	"github.com/keygate/keygate/internal/testenv"
)

// TestDeps: httpapi is the HTTP plumbing the handlers share; it depends on
// no package that serves routes, and on no driver.
func TestDeps(t *testing.T) {
	testenv.CheckDeps(t,
		testenv.DepRule{Direct: true, Forbidden: []string{"gorm.io", "github.com/redis/go-redis", "github.com/jackc"}},
		testenv.DepRule{Forbidden: []string{
			"github.com/keygate/keygate/authz", "github.com/keygate/keygate/proxy", "github.com/keygate/keygate/rest",
			"github.com/keygate/keygate/odoo", "github.com/keygate/keygate/admin", "github.com/keygate/keygate/cmd",
		}},
	)
}
