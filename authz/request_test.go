package authz_test

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/keygate/keygate/authz"
)

var loopback = authz.DefaultTrustedProxies

func TestFromHTTP(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fd00::/8")}
	tests := []struct {
		name    string
		remote  string
		target  string
		header  http.Header
		trusted []netip.Prefix
		want    authz.Request
	}{
		{
			name: "bearer_credential", remote: "203.0.113.9:5000", target: "/auth",
			header: hdr("Authorization", "Bearer kg_abc"),
			want:   authz.Request{Method: "GET", Host: "keygate", URI: "/auth", Proto: "http", ClientIP: addr("203.0.113.9"), Credential: "kg_abc"},
		},
		{
			name: "scheme_is_case_insensitive", remote: "203.0.113.9:5000", target: "/auth",
			header: hdr("Authorization", "bEaReR   kg_abc  "),
			want:   authz.Request{Method: "GET", Host: "keygate", URI: "/auth", Proto: "http", ClientIP: addr("203.0.113.9"), Credential: "kg_abc"},
		},
		{
			name: "apikey_scheme", remote: "203.0.113.9:5000", target: "/auth",
			header: hdr("Authorization", "ApiKey kg_abc"),
			want:   authz.Request{Method: "GET", Host: "keygate", URI: "/auth", Proto: "http", ClientIP: addr("203.0.113.9"), Credential: "kg_abc"},
		},
		{
			name: "x_api_key", remote: "203.0.113.9:5000", target: "/auth",
			header: hdr("X-API-Key", " kg_abc "),
			want:   authz.Request{Method: "GET", Host: "keygate", URI: "/auth", Proto: "http", ClientIP: addr("203.0.113.9"), Credential: "kg_abc"},
		},
		{
			name: "basic_scheme_is_no_credential_but_x_api_key_is", remote: "203.0.113.9:5000", target: "/auth",
			header: hdr("Authorization", "Basic dXNlcjpwdw==", "X-Api-Key", "kg_x"),
			want:   authz.Request{Method: "GET", Host: "keygate", URI: "/auth", Proto: "http", ClientIP: addr("203.0.113.9"), Credential: "kg_x"},
		},
		{
			name: "empty_bearer_is_no_credential", remote: "203.0.113.9:5000", target: "/auth",
			header: hdr("Authorization", "Bearer "),
			want:   authz.Request{Method: "GET", Host: "keygate", URI: "/auth", Proto: "http", ClientIP: addr("203.0.113.9")},
		},
		{
			name: "forwarded_headers_of_an_untrusted_peer_are_ignored", remote: "203.0.113.9:5000", target: "/auth",
			header: hdr("X-Forwarded-Method", "DELETE", "X-Forwarded-Uri", "/admin", "X-Forwarded-Host", "evil",
				"X-Forwarded-For", "198.51.100.1", "X-Original-URI", "/admin", "X-Forwarded-Proto", "https"),
			want: authz.Request{Method: "GET", Host: "keygate", URI: "/auth", Proto: "http", ClientIP: addr("203.0.113.9")},
		},
		{
			name: "traefik_headers_from_loopback", remote: "127.0.0.1:40000", target: "/auth",
			header: hdr("X-Forwarded-Method", "POST", "X-Forwarded-Uri", "/api/v1/x?a=1", "X-Forwarded-Host", "api.example.com",
				"X-Forwarded-Proto", "https", "X-Forwarded-For", "198.51.100.7"),
			want: authz.Request{Method: "POST", Host: "api.example.com", URI: "/api/v1/x?a=1", Proto: "https", ClientIP: addr("198.51.100.7")},
		},
		{
			name: "nginx_headers_from_ipv6_loopback", remote: "[::1]:40000", target: "/auth",
			header: hdr("X-Original-Method", "PUT", "X-Original-URI", "/api/x", "X-Forwarded-For", "2001:db8::7"),
			want:   authz.Request{Method: "PUT", Host: "keygate", URI: "/api/x", Proto: "http", ClientIP: addr("2001:db8::7")},
		},
		{
			name: "traefik_headers_win_over_nginx_headers", remote: "127.0.0.1:40000", target: "/auth",
			header: hdr("X-Forwarded-Method", "GET", "X-Original-Method", "DELETE", "X-Forwarded-Uri", "/a", "X-Original-URI", "/b"),
			want:   authz.Request{Method: "GET", Host: "keygate", URI: "/a", Proto: "http", ClientIP: addr("127.0.0.1")},
		},
		{
			name: "rightmost_untrusted_forwarded_address_is_the_client", remote: "10.1.1.1:1", target: "/auth", trusted: trusted,
			header: hdr("X-Forwarded-For", "1.1.1.1, 198.51.100.2", "X-Forwarded-For", "10.9.9.9, 10.2.2.2"),
			want:   authz.Request{Method: "GET", Host: "keygate", URI: "/auth", Proto: "http", ClientIP: addr("198.51.100.2")},
		},
		{
			name: "all_forwarded_addresses_trusted_gives_the_leftmost", remote: "10.1.1.1:1", target: "/auth", trusted: trusted,
			header: hdr("X-Forwarded-For", "10.3.3.3, fd00::1"),
			want:   authz.Request{Method: "GET", Host: "keygate", URI: "/auth", Proto: "http", ClientIP: addr("10.3.3.3")},
		},
		{
			name: "forwarded_addresses_with_ports_and_brackets", remote: "10.1.1.1:1", target: "/auth", trusted: trusted,
			header: hdr("X-Forwarded-For", "[2001:db8::9]:443, 10.2.2.2:80"),
			want:   authz.Request{Method: "GET", Host: "keygate", URI: "/auth", Proto: "http", ClientIP: addr("2001:db8::9")},
		},
		{
			name: "garbage_stops_the_walk_at_the_last_good_address", remote: "10.1.1.1:1", target: "/auth", trusted: trusted,
			header: hdr("X-Forwarded-For", "198.51.100.1, unknown, 10.2.2.2"),
			want:   authz.Request{Method: "GET", Host: "keygate", URI: "/auth", Proto: "http", ClientIP: addr("10.2.2.2")},
		},
		{
			name: "ipv4_mapped_peer_is_ipv4", remote: "[::ffff:127.0.0.1]:1", target: "/auth",
			header: hdr("X-Forwarded-For", "::ffff:198.51.100.3"),
			want:   authz.Request{Method: "GET", Host: "keygate", URI: "/auth", Proto: "http", ClientIP: addr("198.51.100.3")},
		},
		{
			name: "nil_trusted_trusts_no_one", remote: "127.0.0.1:1", target: "/auth", trusted: []netip.Prefix{},
			header: hdr("X-Forwarded-Uri", "/admin"),
			want:   authz.Request{Method: "GET", Host: "keygate", URI: "/auth", Proto: "http", ClientIP: addr("127.0.0.1")},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, tt.target, nil)
			r.Host, r.RemoteAddr, r.Header = "keygate", tt.remote, tt.header
			trusted := tt.trusted
			if trusted == nil {
				trusted = loopback
			}
			got := authz.FromHTTP(r, trusted)
			if diff := cmp.Diff(tt.want, got, cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); diff != "" {
				t.Errorf("FromHTTP (-want +got):\n%s", diff)
			}
		})
	}
}

func addr(s string) netip.Addr { return netip.MustParseAddr(s) }

// trustedPeer says, independently of FromHTTP, whether a RemoteAddr is a
// loopback peer.
func trustedPeer(remote string) bool {
	a, err := netip.ParseAddr(remote)
	if ap, err2 := netip.ParseAddrPort(remote); err2 == nil {
		a, err = ap.Addr(), nil
	}
	if err != nil {
		return false
	}
	a = a.Unmap()
	return loopback[0].Contains(a) || loopback[1].Contains(a)
}

func TestRequestNeverLogsItsCredential(t *testing.T) {
	r := authz.Request{Method: "GET", URI: "/x", Credential: "kg_secret"}
	if s := r.LogValue().String(); strings.Contains(s, "kg_secret") {
		t.Errorf("LogValue %q shows the credential", s)
	}
}

func TestFromHTTPDoesNotAllocate(t *testing.T) {
	r := httptest.NewRequest(http.MethodGet, "http://keygate/auth", nil)
	r.RemoteAddr = "127.0.0.1:40000"
	r.Header = hdr("Authorization", "Bearer kg_abc", "X-Forwarded-Method", "GET", "X-Forwarded-Uri", "/api/v1/x",
		"X-Forwarded-For", "198.51.100.1, 127.0.0.1", "X-Forwarded-Host", "api")
	if n := testing.AllocsPerRun(100, func() { _ = authz.FromHTTP(r, loopback) }); n != 0 {
		t.Errorf("FromHTTP allocates %v times, want 0", n)
	}
}

// TestFromHTTPDoesNotAllocateForAnyAddressForm: each form that
// X-Forwarded-For may hold is parsed by the one parser that takes it (a
// failed parse allocates its error), and still read as the client.
func TestFromHTTPDoesNotAllocateForAnyAddressForm(t *testing.T) {
	for form, want := range map[string]string{
		"198.51.100.1": "198.51.100.1", "198.51.100.1:80": "198.51.100.1", "2001:db8::1": "2001:db8::1",
		"[2001:db8::1]": "2001:db8::1", "[2001:db8::1]:443": "2001:db8::1", "[::ffff:198.51.100.2]:80": "198.51.100.2",
	} {
		r := httptest.NewRequest(http.MethodGet, "http://keygate/auth", nil)
		r.RemoteAddr = "127.0.0.1:40000"
		r.Header = hdr("X-Forwarded-For", form+", 127.0.0.1:9")
		if got := authz.FromHTTP(r, loopback).ClientIP; got != addr(want) {
			t.Errorf("%q: client %v, want %s", form, got, want)
		}
		if n := testing.AllocsPerRun(100, func() { _ = authz.FromHTTP(r, loopback) }); n != 0 {
			t.Errorf("%q: FromHTTP allocates %v times, want 0", form, n)
		}
	}
}

// FuzzFromHTTP feeds arbitrary header values and peers: FromHTTP must not
// panic, must take the credential only from the three places, and must
// ignore forwarded headers unless the peer is trusted.
func FuzzFromHTTP(f *testing.F) {
	f.Add("127.0.0.1:1", "Bearer kg_x", "", "GET", "/a?b", "1.2.3.4, 127.0.0.1", "/o")
	f.Add("[::1]:1", "apikey  k", "x", "", "", "[2001:db8::1]:80,,", "")
	f.Add("203.0.113.1:9", "Basic x", "kg_y", "POST", "http://h/p", "garbage", "/o?x")
	f.Add("@", "Bearer", " ", "\x00", "%zz", ",,,", "")
	f.Fuzz(func(t *testing.T, remote, authorization, apiKey, method, uri, xff, originalURI string) {
		r := httptest.NewRequest(http.MethodGet, "/auth", nil)
		r.Host, r.RemoteAddr = "keygate", remote
		r.Header = http.Header{
			"Authorization": {authorization}, "X-Api-Key": {apiKey}, "X-Forwarded-Method": {method},
			"X-Forwarded-Uri": {uri}, "X-Forwarded-For": {xff}, "X-Original-Uri": {originalURI},
		}
		got := authz.FromHTTP(r, loopback)
		if got.Credential != "" && !strings.Contains(authorization, got.Credential) && !strings.Contains(apiKey, got.Credential) {
			t.Fatalf("credential %q comes from neither header", got.Credential)
		}
		if got.Credential != strings.TrimSpace(got.Credential) {
			t.Fatalf("credential %q not trimmed", got.Credential)
		}
		if !trustedPeer(remote) {
			if got.URI != "/auth" || got.Method != http.MethodGet || got.Host != "keygate" {
				t.Fatalf("untrusted peer %q changed the target: %+v", remote, got)
			}
		}
		authz.NeedRoute(got.Method, got.URI) // must not panic
	})
}
