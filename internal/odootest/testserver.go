package odootest

import "net/http/httptest"

// TB is the part of testing.TB that NewServer uses; pass a *testing.T or
// *testing.B. Taking this interface instead of testing.TB keeps the
// package (and so cmd/odoo-double) free of the testing package.
type TB interface {
	Helper()
	Cleanup(func())
	Fatalf(format string, args ...any)
}

// NewServer starts a double on a local port for a test and closes it when
// the test ends. It fails the test if cfg is invalid.
func NewServer(tb TB, cfg Config) (*Server, *httptest.Server) {
	tb.Helper()
	s, err := New(cfg)
	if err != nil {
		tb.Fatalf("odootest: %v", err)
	}
	ts := httptest.NewServer(s)
	tb.Cleanup(ts.Close)
	return s, ts
}
