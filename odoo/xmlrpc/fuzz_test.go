package xmlrpc

import (
	"bytes"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// typeSeeds hold every value type, for both fuzz targets.
var typeSeeds = []string{
	"<nil/>", "<boolean>1</boolean>", "<i4>-3</i4>", "<i8>9223372036854775807</i8>", "<double>-1.5e-07</double>",
	"<string>a&amp;b&#13;</string>", " untyped ", "<dateTime.iso8601>20260101T10:00:00</dateTime.iso8601>",
	"<base64>\naGk=\n</base64>", "<array><data><value><int>1</int></value><value/></data></array>",
	"<struct><member><name>a</name><value><struct></struct></value></member></struct>",
}

func FuzzDecodeCall(f *testing.F) {
	for _, fx := range loadFixtures(f) {
		f.Add([]byte(fx.Request))
	}
	for _, s := range typeSeeds {
		f.Add([]byte(oneParam(s)))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := DecodeCall(bytes.NewReader(data))
		if err != nil {
			return
		}
		var first bytes.Buffer
		if err := EncodeCall(&first, c); err != nil {
			t.Fatalf("EncodeCall of a decoded call: %v", err)
		}
		again, err := DecodeCall(bytes.NewReader(first.Bytes()))
		if err != nil {
			t.Fatalf("DecodeCall of an encoded call: %v\n%s", err, first.Bytes())
		}
		if diff := cmp.Diff(c, again); diff != "" {
			t.Fatalf("decode(encode(call)) differs (-first +again):\n%s", diff)
		}
		var second bytes.Buffer
		if err := EncodeCall(&second, again); err != nil || !bytes.Equal(first.Bytes(), second.Bytes()) {
			t.Fatalf("encoding is not stable (err %v):\n%s\n%s", err, first.Bytes(), second.Bytes())
		}
	})
}

func FuzzDecodeResponse(f *testing.F) {
	for _, fx := range loadFixtures(f) {
		f.Add([]byte(fx.Response))
	}
	for _, s := range typeSeeds {
		f.Add([]byte("<methodResponse><params><param><value>" + s + "</value></param></params></methodResponse>"))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		v, fault, ok := decodeAnswer(t, data)
		if !ok {
			return
		}
		first := encodeAnswer(t, v, fault)
		v2, fault2, ok := decodeAnswer(t, first)
		if !ok {
			t.Fatalf("DecodeResponse of an encoded answer failed:\n%s", first)
		}
		if diff := cmp.Diff(v, v2); diff != "" {
			t.Fatalf("decode(encode(value)) differs (-first +again):\n%s", diff)
		}
		if diff := cmp.Diff(fault, fault2); diff != "" {
			t.Fatalf("decode(encode(fault)) differs (-first +again):\n%s", diff)
		}
		if second := encodeAnswer(t, v2, fault2); !bytes.Equal(first, second) {
			t.Fatalf("encoding is not stable:\n%s\n%s", first, second)
		}
	})
}

// decodeAnswer decodes a response; ok is false when it was refused.
func decodeAnswer(tb testing.TB, data []byte) (v any, fault *Fault, ok bool) {
	tb.Helper()
	v, err := DecodeResponse(bytes.NewReader(data))
	if errors.As(err, &fault) {
		return nil, fault, true
	}
	return v, nil, err == nil
}

func encodeAnswer(tb testing.TB, v any, fault *Fault) []byte {
	tb.Helper()
	var buf bytes.Buffer
	var err error
	if fault != nil {
		err = EncodeFault(&buf, *fault)
	} else {
		err = EncodeResponse(&buf, v)
	}
	if err != nil {
		tb.Fatalf("encoding a decoded answer: %v", err)
	}
	return buf.Bytes()
}
