package odoo_test

import (
	"testing"

	"github.com/keygate/keygate/internal/testenv"
)

// TestDeps keeps odoo the client it is: it serves no HTTP (no Echo),
// takes no access decision (no authz), knows nothing of the keys or
// the limits (no keystore, no limiter, no database or Redis driver), and
// never depends on the packages that use it.
func TestDeps(t *testing.T) {
	testenv.CheckDeps(t,
		testenv.DepRule{Forbidden: []string{
			"github.com/labstack/echo", "gorm.io", "github.com/redis/go-redis", "github.com/jackc",
			"github.com/keygate/keygate/authz", "github.com/keygate/keygate/keystore", "github.com/keygate/keygate/limiter",
			"github.com/keygate/keygate/proxy", "github.com/keygate/keygate/rest", "github.com/keygate/keygate/admin",
			"github.com/keygate/keygate/cmd", "github.com/keygate/keygate/httpapi",
		}},
	)
}
