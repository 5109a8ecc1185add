package keystore

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash/crc32"
	"log/slog"
	"math/big"
	"unsafe"
)

// Key format: <prefix>_<body><check>
//
//   - prefix: 1 to 16 characters, a lowercase letter then lowercase letters or
//     digits ("kg" by default);
//   - body: the 32 random bytes as a big-endian number in base62, zero-padded
//     to 43 characters;
//   - check: the CRC-32 (IEEE) of everything before it, in base62, zero-padded
//     to 6 characters.
//
// The base62 alphabet is 0-9A-Za-z, which sorts in ASCII order, so comparing
// two fixed-width encodings as strings compares their numbers.
const (
	alphabet      = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	bodyLen       = 43
	checkLen      = 6
	secretBytes   = 32
	maxPrefixLen  = 16
	displayLen    = 12
	DefaultPrefix = "kg"
)

// maxBody is the base62 encoding of 2^256-1: no 32-byte secret encodes above it.
var maxBody = encodeBig(new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 256), big.NewInt(1)), bodyLen)

// Key is a plaintext API key. It never prints itself: String, GoString and
// LogValue show only its display prefix. Reveal returns the secret, for the
// one answer that hands it to its owner.
type Key struct{ s string }

// Hash is the SHA-256 of a whole plaintext key: what the store keeps.
type Hash [sha256.Size]byte

// Generate returns a new random key with the given prefix.
func Generate(prefix string) (Key, error) {
	if err := ValidatePrefix(prefix); err != nil {
		return Key{}, err
	}
	var secret [secretBytes]byte
	if _, err := rand.Read(secret[:]); err != nil {
		return Key{}, fmt.Errorf("keystore: generate key: %w", err)
	}
	return fromSecret(prefix, secret), nil
}

// fromSecret encodes 32 secret bytes as a key (deterministic, for Generate
// and known-answer tests).
func fromSecret(prefix string, secret [secretBytes]byte) Key {
	head := prefix + "_" + encodeBig(new(big.Int).SetBytes(secret[:]), bodyLen)
	return Key{s: head + encodeUint(uint64(crc32.ChecksumIEEE([]byte(head))), checkLen)}
}

// ValidatePrefix reports whether p can start a key.
func ValidatePrefix(p string) error {
	if len(p) == 0 || len(p) > maxPrefixLen || p[0] < 'a' || p[0] > 'z' {
		return fmt.Errorf("keystore: key prefix %q: want a lowercase letter then up to 15 lowercase letters or digits", p)
	}
	for i := 1; i < len(p); i++ {
		if !(p[i] >= 'a' && p[i] <= 'z' || p[i] >= '0' && p[i] <= '9') {
			return fmt.Errorf("keystore: key prefix %q: want a lowercase letter then up to 15 lowercase letters or digits", p)
		}
	}
	return nil
}

// Parse checks the shape and checksum of s without touching storage. It
// accepts any well-formed prefix: which prefixes are in use is the store's
// business. It returns ErrMalformed for anything else, and does not allocate.
func Parse(s string) (Key, error) {
	if !wellFormed(s) {
		return Key{}, ErrMalformed
	}
	return Key{s: s}, nil
}

func wellFormed(s string) bool {
	if !plausible(s) {
		return false
	}
	n := len(s) - bodyLen - checkLen - 1
	body, check := s[n+1:n+1+bodyLen], s[n+1+bodyLen:]
	if body > maxBody {
		return false
	}
	for i := 0; i < len(body); i++ {
		if digit(body[i]) < 0 {
			return false
		}
	}
	sum, ok := decodeUint(check)
	return ok && sum == uint64(crc32.ChecksumIEEE(bytesOf(s[:len(s)-checkLen])))
}

// plausible is wellFormed's cheap half: the length, and the prefix before
// its '_'. It bounds what Verify hashes before its cache is asked.
func plausible(s string) bool {
	n := len(s) - bodyLen - checkLen - 1
	return n >= 1 && n <= maxPrefixLen && s[n] == '_' && ValidatePrefix(s[:n]) == nil
}

// Hash returns the SHA-256 of the whole key.
func (k Key) Hash() Hash { return HashString(k.s) }

// HashString hashes a presented credential without copying it.
func HashString(s string) Hash { return sha256.Sum256(bytesOf(s)) }

// Hex returns the hash in lowercase hexadecimal.
func (h Hash) Hex() string { return hex.EncodeToString(h[:]) }

// Prefix is the key's display prefix: its first 12 characters, enough to
// recognise a key in a list and far too few to guess it.
func (k Key) Prefix() string { return DisplayPrefix(k.s) }

// DisplayPrefix returns the first 12 characters of s.
func DisplayPrefix(s string) string {
	if len(s) < displayLen {
		return s
	}
	return s[:displayLen]
}

// Reveal returns the plaintext. Call it only to hand the key to its owner.
func (k Key) Reveal() string { return k.s }

// IsZero reports whether k holds no key.
func (k Key) IsZero() bool { return k.s == "" }

func (k Key) String() string               { return k.Prefix() + "…" }
func (k Key) GoString() string             { return "keystore.Key{" + k.Prefix() + "…}" }
func (k Key) LogValue() slog.Value         { return slog.StringValue(k.Prefix() + "…") }
func (k Key) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// bytesOf views s as bytes without copying; callers only read it.
func bytesOf(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }

func encodeBig(n *big.Int, width int) string {
	b := []byte(n.Text(62))
	for i, c := range b { // big.Int uses 0-9a-zA-Z; keygate uses 0-9A-Za-z.
		switch {
		case c >= 'a' && c <= 'z':
			b[i] = c - 'a' + 'A'
		case c >= 'A' && c <= 'Z':
			b[i] = c - 'A' + 'a'
		}
	}
	return pad(string(b), width)
}

func encodeUint(v uint64, width int) string {
	var b [16]byte
	i := len(b)
	for v > 0 {
		i--
		b[i] = alphabet[v%62]
		v /= 62
	}
	return pad(string(b[i:]), width)
}

func pad(s string, width int) string {
	for len(s) < width {
		s = "0" + s
	}
	return s
}

func decodeUint(s string) (uint64, bool) {
	var v uint64
	for i := 0; i < len(s); i++ {
		d := digit(s[i])
		if d < 0 {
			return 0, false
		}
		v = v*62 + uint64(d)
	}
	return v, true
}

func digit(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'A' && c <= 'Z':
		return int(c-'A') + 10
	case c >= 'a' && c <= 'z':
		return int(c-'a') + 36
	}
	return -1
}
