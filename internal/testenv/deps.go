package testenv

import (
	"os/exec"
	"strings"
	"testing"
)

// DepRule is one "never imports" rule of a package, checked by CheckDeps
// with `go list` on the package in the test's working directory (the
// package under test), test files excluded.
type DepRule struct {
	// Direct limits the rule to the package's own imports; otherwise every
	// package it depends on, directly or not, is checked.
	Direct bool
	// Forbidden lists import paths: an entry matches itself and the paths
	// below it ("gorm.io" matches gorm.io/gorm, "net/http" matches
	// net/http/httptrace but not net/netip).
	Forbidden []string
	// StdlibOnly forbids every package outside the standard library.
	StdlibOnly bool
	// Except lists paths that no entry of Forbidden or StdlibOnly matches
	// (the package itself, say).
	Except []string
}

// CheckDeps fails tb for each dependency of the package under test that a
// rule forbids, and when go list finds no dependency at all (the check
// would pass vacuously).
func CheckDeps(tb testing.TB, rules ...DepRule) {
	tb.Helper()
	imports, deps := goList(tb, "{{join .Imports \"\\n\"}}"), goList(tb, "{{join .Deps \"\\n\"}}")
	if len(imports) == 0 || len(deps) == 0 {
		tb.Fatal("testenv: go list found no dependencies: the check would pass vacuously")
	}
	for _, r := range rules {
		list, how := deps, "depends on"
		if r.Direct {
			list, how = imports, "imports"
		}
		for _, p := range list {
			if r.Forbids(p) {
				tb.Errorf("the package %s %s, which its rules forbid", how, p)
			}
		}
	}
}

// Forbids reports whether the rule forbids the import path p.
func (r DepRule) Forbids(p string) bool {
	for _, e := range r.Except {
		if p == e {
			return false
		}
	}
	if r.StdlibOnly && strings.Contains(strings.SplitN(p, "/", 2)[0], ".") {
		return true
	}
	for _, f := range r.Forbidden {
		f = strings.TrimSuffix(f, "/")
		if p == f || strings.HasPrefix(p, f+"/") {
			return true
		}
	}
	return false
}

func goList(tb testing.TB, format string) []string {
	tb.Helper()
	out, err := exec.Command("go", "list", "-f", format, ".").Output()
	if err != nil {
		tb.Fatalf("testenv: go list: %v", err)
	}
	return strings.Fields(string(out))
}
