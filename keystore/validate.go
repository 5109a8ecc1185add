package keystore

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"strings"
	"time"
	"unicode/utf8"
)

const (
	maxTextLen     = 200
	maxListLen     = 100
	maxMetadataLen = 16 << 10
)

// checked is a validated key definition, normalized for storage.
type checked struct {
	Name, Owner                     string
	Scopes, RateLimits, IPAllowlist []string
	ExpiresAt                       *time.Time
	Metadata                        json.RawMessage
	CredentialID                    *string
	Credits                         *Credits
}

func (s *Store) check(c *checked, now time.Time, newKey bool) error {
	var v ValidationError
	checkText(&v, "name", c.Name, true)
	checkText(&v, "owner", c.Owner, false)
	c.Scopes = checkList(&v, "scopes", c.Scopes, s.cfg.ValidateScope)
	c.RateLimits = checkList(&v, "rate_limits", c.RateLimits, s.cfg.ValidateRateLimit)
	c.IPAllowlist = checkNetworks(&v, c.IPAllowlist)
	if c.ExpiresAt != nil {
		t := c.ExpiresAt.UTC().Truncate(time.Microsecond) // what Postgres keeps
		c.ExpiresAt = &t
	}
	if newKey && c.ExpiresAt != nil && !c.ExpiresAt.After(now) {
		v.add("expires_at", "must be in the future")
	}
	c.Metadata = checkMetadata(&v, c.Metadata)
	if c.CredentialID != nil && strings.TrimSpace(*c.CredentialID) == "" {
		v.add("credential_id", "must not be empty; use null for the default service account")
	}
	c.Credits = checkCredits(&v, c.Credits)
	return v.err()
}

func checkText(v *ValidationError, field, s string, required bool) {
	switch {
	case required && strings.TrimSpace(s) == "":
		v.add(field, "is required")
	case !utf8.ValidString(s):
		v.add(field, "must be valid UTF-8")
	case utf8.RuneCountInString(s) > maxTextLen:
		v.add(field, fmt.Sprintf("must be at most %d characters", maxTextLen))
	}
}

func checkList(v *ValidationError, field string, l []string, each func(string) error) []string {
	if len(l) > maxListLen {
		v.add(field, fmt.Sprintf("must have at most %d entries", maxListLen))
		return l
	}
	out := make([]string, 0, len(l))
	for i, e := range l {
		e = strings.TrimSpace(e)
		if err := checkEntry(e, each); err != nil {
			v.add(fmt.Sprintf("%s[%d]", field, i), err.Error())
			continue
		}
		out = append(out, e)
	}
	return out
}

func checkEntry(e string, each func(string) error) error {
	if e == "" || strings.ContainsAny(e, " \t\r\n") || len(e) > maxTextLen {
		return fmt.Errorf("must be a non-empty word of at most %d characters", maxTextLen)
	}
	if each != nil {
		return each(e)
	}
	return nil
}

// checkNetworks accepts CIDRs and bare addresses, stored as canonical CIDRs.
func checkNetworks(v *ValidationError, l []string) []string {
	out := checkList(v, "ip_allowlist", l, nil)
	for i, e := range out {
		p, err := ParseNetwork(e)
		if err != nil {
			v.add(fmt.Sprintf("ip_allowlist[%d]", i), err.Error())
			continue
		}
		out[i] = p.String()
	}
	return out
}

// ParseNetwork parses a CIDR ("203.0.113.0/24", "2001:db8::/32") or a single
// address, which becomes a /32 or /128.
func ParseNetwork(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("must be an IP address or CIDR, got %q", s)
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("must be an IP address or CIDR, got %q", s)
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

func checkMetadata(v *ValidationError, m json.RawMessage) json.RawMessage {
	if len(m) == 0 || string(m) == "null" {
		return []byte("{}")
	}
	if len(m) > maxMetadataLen {
		v.add("metadata", fmt.Sprintf("must be at most %d bytes of JSON", maxMetadataLen))
		return m
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(m, &obj); err != nil {
		v.add("metadata", "must be a JSON object")
		return m
	}
	out, _ := json.Marshal(obj) // compact, keys sorted
	return out
}
