package proxy_test

import (
	"context"
	"testing"

	"github.com/keygate/keygate/internal/gatewaytest"
)

var ctx = context.Background()

// harness is keygate's gateway in front of an Odoo double, wired as cmd
// wires it (gatewaytest.Harness), with the proxy tests' own helpers.
type harness struct{ *gatewaytest.Harness }

func newHarness(tb testing.TB, opts gatewaytest.Options) *harness {
	tb.Helper()
	return &harness{gatewaytest.New(tb, opts)}
}
