package rest_test

import (
	"testing"

	"github.com/keygate/keygate/internal/testenv"
)

// TestDeps keeps the REST facade on its side of the design: it asks
// authz (through the gateway's check, proxy.CheckCall) and calls Odoo
// through odoo's Client; it never touches the database or Redis drivers
// itself, and nothing of admin or cmd.
func TestDeps(t *testing.T) {
	testenv.CheckDeps(t,
		testenv.DepRule{Direct: true, Forbidden: []string{"gorm.io", "github.com/redis/go-redis", "github.com/jackc"}},
		testenv.DepRule{Forbidden: []string{"github.com/keygate/keygate/admin", "github.com/keygate/keygate/cmd"}},
	)
}
