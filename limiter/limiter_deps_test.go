package limiter

import (
	"testing"

	"github.com/keygate/keygate/internal/testenv"
)

// TestDeps fails when limiter depends, directly or not, on what it must
// stay apart from: HTTP, the web framework, the ORM and the rest of keygate
// but internal/offheap (Memory's table; it imports only the standard
// library, and should it ever import more of keygate, that fails here).
func TestDeps(t *testing.T) {
	testenv.CheckDeps(t, testenv.DepRule{
		Forbidden: []string{"net/http", "github.com/labstack/echo", "gorm.io", "github.com/keygate/keygate"},
		Except:    []string{"github.com/keygate/keygate/limiter", "github.com/keygate/keygate/internal/offheap"},
	})
}
