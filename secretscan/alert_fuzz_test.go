package secretscan

import (
	"encoding/json"
	"testing"
)

// FuzzDecodeAlerts: the body parser never panics, and what it accepts is
// an array whose entries round-trip.
func FuzzDecodeAlerts(f *testing.F) {
	for _, s := range []string{`[]`, `[{"token":"kg_x","type":"t","url":"u","source":"content"}]`, `null`, `[null]`,
		`[{"token":5}]`, `[{}] x`, `{"a":1}`, `[{"token":"\u0000"}]`, ``} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		alerts, err := decodeAlerts(body)
		if err != nil {
			return
		}
		b, err := json.Marshal(alerts)
		if err != nil {
			t.Fatal(err)
		}
		again, err := decodeAlerts(b)
		if err != nil || len(again) != len(alerts) {
			t.Fatalf("re-encoded alerts do not decode: %v", err)
		}
	})
}
