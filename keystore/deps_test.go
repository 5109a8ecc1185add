package keystore_test

import (
	"testing"

	"github.com/keygate/keygate/internal/testenv"
)

// TestDeps keeps keystore a leaf: no HTTP, no web framework, no Redis, and
// nothing else of keygate but internal/offheap, a table with no
// dependencies of its own.
func TestDeps(t *testing.T) {
	testenv.CheckDeps(t, testenv.DepRule{
		Forbidden: []string{"net/http", "github.com/labstack/echo", "github.com/redis/go-redis", "github.com/keygate/keygate"},
		Except:    []string{"github.com/keygate/keygate/keystore", "github.com/keygate/keygate/internal/offheap"},
	})
}
