package keystore

import (
	"context"
	"testing"

	"github.com/keygate/keygate/internal/testenv"
)

// TestOpenWaitsForListen: on Postgres, Open returns once LISTEN has taken
// effect. The listener's first connection drops the whole cache; had a key
// been cached before it, the key would be gone from the cache, and with the
// database down right after, its requests would fail (seen in CI, in
// TestFaultPostgresDown, when the listener connected late on a busy
// machine).
func TestOpenWaitsForListen(t *testing.T) {
	s, err := Open(context.Background(), Config{URL: testenv.Postgres(t)})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	if s.epoch.Load() == 0 {
		t.Fatal("Open returned before LISTEN took effect")
	}
}
