package migrations_test

import (
	"testing"

	"github.com/keygate/keygate/internal/testenv"
)

// TestDeps keeps migrations a leaf: SQL files and goose, nothing of keygate,
// no ORM and no HTTP.
func TestDeps(t *testing.T) {
	testenv.CheckDeps(t, testenv.DepRule{
		Forbidden: []string{"net/http", "gorm.io", "github.com/keygate/keygate"},
		Except:    []string{"github.com/keygate/keygate/migrations"},
	})
}
