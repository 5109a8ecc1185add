package authz

import (
	"net/netip"
	"testing"
)

// parseForwardedAddrTries is parseForwardedAddr as it was before it chose
// its parser by the entry's shape: every parser in turn.
func parseForwardedAddrTries(s string) (netip.Addr, bool) {
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap(), true
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap(), true
	}
	if len(s) > 2 && s[0] == '[' && s[len(s)-1] == ']' {
		if a, err := netip.ParseAddr(s[1 : len(s)-1]); err == nil && a.Is6() {
			return a.Unmap(), true
		}
	}
	return netip.Addr{}, false
}

// FuzzParseForwardedAddr: an X-Forwarded-For entry names the client (whose
// address the allowlists and the failed-auth limit judge) exactly as when
// every parser was tried in turn: choosing one by shape accepts nothing
// more and refuses nothing less.
func FuzzParseForwardedAddr(f *testing.F) {
	for _, s := range []string{"198.51.100.1", "198.51.100.1:80", "2001:db8::7", "[2001:db8::9]:443", "[2001:db8::9]",
		"::ffff:198.51.100.3", "[::ffff:1.2.3.4]:1", "fe80::1%eth0", "[fe80::1%eth0]:9", "1.2.3.4:", ":80", "[1.2.3.4]",
		"[::1", "::1]", "unknown", "", "1.2.3.4:99999", "[::1]:80:80"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, gotOK := parseForwardedAddr(s)
		want, wantOK := parseForwardedAddrTries(s)
		if got != want || gotOK != wantOK {
			t.Fatalf("%q: %v, %t; every parser in turn: %v, %t", s, got, gotOK, want, wantOK)
		}
	})
}
