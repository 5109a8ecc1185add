package keystore

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Vectors computed independently (Python: zlib.crc32, hashlib.sha256, a
// plain base62 loop over int.from_bytes(secret, "big")).
var keyVectors = []struct {
	secret string
	key    string
	sha256 string
}{
	{"0000000000000000000000000000000000000000000000000000000000000000",
		"kg_00000000000000000000000000000000000000000003j9wpc",
		"18d0cfbf9ea1ba7f27a3b027d6bd7c5e51e12bd90cd2ee8dc97b04ec8dc7dba2"},
	{"ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
		"kg_yhjskwdA6OZ1AL1YmHWZWm8LLG7HjnuCA2j5rOw8Xp11l6iTA",
		"6d5db167b1c698a480a33a8982129fed4252d30ff5dd48caac611e918a8bc1bf"},
	{"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
		"kg_003aUlTJC7tjlCTQj2uNU3MFagCXG9LRKRcwGkBIDlf4DqIjo",
		"cdef46ad8c1926f1e2efa9fa637bd48d870cffb86ac984055520ce1d20d5ae7c"},
}

func TestKnownAnswers(t *testing.T) {
	for _, v := range keyVectors {
		var secret [32]byte
		b, _ := hex.DecodeString(v.secret)
		copy(secret[:], b)
		k := fromSecret("kg", secret)
		got := struct{ Key, Hash string }{k.Reveal(), k.Hash().Hex()}
		want := struct{ Key, Hash string }{v.key, v.sha256}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("secret %s (-want +got):\n%s", v.secret, diff)
		}
		if _, err := Parse(v.key); err != nil {
			t.Errorf("Parse(%s) = %v, want ok", v.key, err)
		}
	}
}

func TestGenerateShape(t *testing.T) {
	seen := map[string]bool{}
	for range 200 {
		k, err := Generate("kg")
		if err != nil {
			t.Fatal(err)
		}
		s := k.Reveal()
		if len(s) != 3+43+6 || !strings.HasPrefix(s, "kg_") || seen[s] {
			t.Fatalf("Generate = %q: want kg_ + 49 base62 characters, unique", s)
		}
		seen[s] = true
		if _, err := Parse(s); err != nil {
			t.Fatalf("Parse(Generate()) = %v", err)
		}
		if k.Prefix() != s[:12] {
			t.Fatalf("Prefix = %q, want %q", k.Prefix(), s[:12])
		}
	}
}

func TestParseRejects(t *testing.T) {
	good := keyVectors[2].key
	flip := func(i int, c byte) string { b := []byte(good); b[i] = c; return string(b) }
	cases := map[string]string{
		"empty":                "",
		"no_prefix":            good[3:],
		"bad_checksum":         flip(len(good)-1, 'p'),
		"body_changed":         flip(10, 'Z'),
		"non_base62":           flip(10, '-'),
		"too_short":            good[:len(good)-1],
		"too_long":             good + "0",
		"uppercase_prefix":     "KG" + good[2:],
		"body_above_2^256":     "kg_zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz" + "000000",
		"prefix_too_long":      strings.Repeat("a", 17) + good[2:],
		"missing_underscore":   "kgx" + good[3:],
		"bearer_word_included": "Bearer " + good,
	}
	for name, in := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := Parse(in); !errors.Is(err, ErrMalformed) {
				t.Errorf("Parse(%q) = %v, want ErrMalformed", in, err)
			}
		})
	}
}

func TestOtherPrefixes(t *testing.T) {
	for _, p := range []string{"a", "acme", "shop2", "abcdefghijklmnop"} {
		k, err := Generate(p)
		if err != nil {
			t.Fatalf("Generate(%q): %v", p, err)
		}
		if _, err := Parse(k.Reveal()); err != nil {
			t.Errorf("Parse of a %q key: %v", p, err)
		}
	}
	for _, p := range []string{"", "Kg", "1kg", "k_g", "abcdefghijklmnopq"} {
		if _, err := Generate(p); err == nil {
			t.Errorf("Generate(%q) succeeded, want an error", p)
		}
	}
}

func TestKeyNeverPrintsItself(t *testing.T) {
	k, _ := Generate("kg")
	secret := k.Reveal()
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("issued", "key", k)
	text, _ := k.MarshalText()
	outputs := []string{fmt.Sprint(k), fmt.Sprintf("%v %+v %#v %s %q", k, k, k, k, k), logs.String(), string(text)}
	for _, out := range outputs {
		if strings.Contains(out, secret[12:]) {
			t.Errorf("output %q contains the secret part of the key", out)
		}
		if !strings.Contains(out, k.Prefix()) {
			t.Errorf("output %q lacks the display prefix", out)
		}
	}
}

func TestParseDoesNotAllocate(t *testing.T) {
	key := keyVectors[2].key
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := Parse(key); err != nil {
			t.Fatal(err)
		}
		_ = HashString(key)
	})
	if allocs != 0 {
		t.Errorf("Parse+HashString allocate %v times per run, want 0", allocs)
	}
}

func FuzzParse(f *testing.F) {
	for _, v := range keyVectors {
		f.Add(v.key)
	}
	f.Add("kg_")
	f.Add("x_" + strings.Repeat("0", 49))
	f.Fuzz(func(t *testing.T, s string) {
		k, err := Parse(s)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("Parse(%q) = %v, want ErrMalformed", s, err)
			}
			return
		}
		// A key that parses has a valid prefix, 49 base62 characters, and a
		// checksum that a one-character change breaks.
		i := strings.LastIndexByte(s, '_')
		if ValidatePrefix(s[:i]) != nil || len(s)-i-1 != bodyLen+checkLen || k.Reveal() != s {
			t.Fatalf("Parse accepted %q", s)
		}
		b := []byte(s)
		b[len(b)-1] = alphabet[(digit(b[len(b)-1])+1)%62]
		if _, err := Parse(string(b)); err == nil {
			t.Fatalf("Parse accepted %q with a changed checksum", b)
		}
	})
}

func BenchmarkParseAndHash(b *testing.B) {
	key := keyVectors[2].key
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(key); err != nil {
			b.Fatal(err)
		}
		_ = HashString(key)
	}
}

func BenchmarkGenerate(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Generate("kg"); err != nil {
			b.Fatal(err)
		}
	}
}
