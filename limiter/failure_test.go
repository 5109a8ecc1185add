package limiter

import (
	"context"
	"errors"
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestFailureID(t *testing.T) {
	tests := []struct {
		ip     string
		want   string
		prefix string // FailurePrefix's
	}{
		{"203.0.113.7", "authfail:203.0.113.7", "203.0.113.7/32"},
		{"::ffff:203.0.113.7", "authfail:203.0.113.7", "203.0.113.7/32"},
		{"2001:db8:1:2:3:4:5:6", "authfail:2001:db8:1:2::/64", "2001:db8:1:2::/64"},
		{"2001:db8:1:2::9", "authfail:2001:db8:1:2::/64", "2001:db8:1:2::/64"},
		{"fe80::1%eth0", "authfail:fe80::/64", "fe80::/64"},
	}
	for _, tc := range tests {
		got, err := FailureID(netip.MustParseAddr(tc.ip))
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("FailureID(%s) (-want +got):\n%s", tc.ip, diff)
		}
		if p := FailurePrefix(netip.MustParseAddr(tc.ip)); p.String() != tc.prefix {
			t.Errorf("FailurePrefix(%s) = %s, want %s", tc.ip, p, tc.prefix)
		}
	}
	if _, err := FailureID(netip.Addr{}); !errors.Is(err, ErrInvalidRequest) {
		t.Errorf("FailureID(zero) = %v, want ErrInvalidRequest", err)
	}
}

// TestAllowFailure runs the failed-authentication limit on every
// implementation: per address, IPv6 per /64, apart from other ids.
func TestAllowFailure(t *testing.T) {
	steps := []struct {
		ip   string
		want bool
	}{
		{"203.0.113.7", true},
		{"203.0.113.7", true},
		{"203.0.113.7", false},
		{"::ffff:203.0.113.7", false},
		{"203.0.113.8", true},
		{"2001:db8::1", true},
		{"2001:db8::2", true},
		{"2001:db8::3", false},
		{"2001:db8:0:1::1", true},
	}
	for _, impl := range implementations() {
		t.Run(impl.name, func(t *testing.T) {
			l := impl.new(t, newFakeClock().Now)
			allow(t, l, "203.0.113.7", "1/1m") // a key id that looks like an address
			limit := mustLimit(t, "2/1m")
			var got, want []bool
			for _, s := range steps {
				d, err := AllowFailure(context.Background(), l, netip.MustParseAddr(s.ip), limit)
				if err != nil {
					t.Fatal(err)
				}
				got, want = append(got, d.Allowed), append(want, s.want)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Fatalf("allowed (-want +got):\n%s", diff)
			}
		})
	}
}
