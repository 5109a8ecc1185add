package keystore_test

import (
	"path/filepath"
	"testing"

	"github.com/keygate/keygate/keystore"
)

// BenchmarkVerifyCached is the key step of /auth for a cached key: the
// format check, the hash and the cache lookup.
func BenchmarkVerifyCached(b *testing.B) {
	s := openStore(b, "sqlite://"+filepath.Join(b.TempDir(), "keygate.db"), keystore.Config{})
	_, key, err := s.Create(ctx, "bench", keystore.Spec{Name: "bench", Scopes: []string{"route:GET:/api/**"}})
	if err != nil {
		b.Fatal(err)
	}
	plain := key.Reveal()
	if _, err := s.Verify(ctx, plain); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Verify(ctx, plain); err != nil {
			b.Fatal(err)
		}
	}
}
