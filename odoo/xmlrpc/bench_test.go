package xmlrpc

import (
	"io"
	"path/filepath"
	"strings"
	"testing"
)

// searchRead is the recorded execute_kw search_read exchange.
func searchRead(tb testing.TB) fixture {
	tb.Helper()
	return readFixture(tb, filepath.Join(filepath.Dir(fixtureGlob), "..", "..", "18.0", "xmlrpc", "09-search-read.json"))
}

func BenchmarkDecodeCall(b *testing.B) {
	body := searchRead(b).Request
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeCall(strings.NewReader(body)); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeResponse(b *testing.B) {
	body := searchRead(b).Response
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeResponse(strings.NewReader(body)); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodeResponse(b *testing.B) {
	body := searchRead(b).Response
	v, err := DecodeResponse(strings.NewReader(body))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if err := EncodeResponse(io.Discard, v); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodeCall(b *testing.B) {
	c, err := DecodeCall(strings.NewReader(searchRead(b).Request))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := EncodeCall(io.Discard, c); err != nil {
			b.Fatal(err)
		}
	}
}
