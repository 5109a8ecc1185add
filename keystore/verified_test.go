package keystore_test

import (
	"net/http"
	"testing"

	"github.com/keygate/keygate/keystore"
)

// TestVerifiedHeaderValues: IDValue and OwnerValue are the key's id and
// owner as one-value header fields, and adding to them never writes into
// the cached key.
func TestVerifiedHeaderValues(t *testing.T) {
	r := &keystore.Record{ID: "0193-id", Owner: "shop", Status: keystore.StatusActive}
	v := r.Verified(nil)
	h := http.Header{}
	h["X-Id"], h["X-Owner"] = v.IDValue(), v.OwnerValue()
	h.Add("X-Id", "other")
	h.Add("X-Owner", "other")
	if v.ID != "0193-id" || v.Owner != "shop" {
		t.Fatalf("the verified key became %q, %q", v.ID, v.Owner)
	}
	if got := h.Values("X-Id"); len(got) != 2 || got[0] != "0193-id" {
		t.Errorf("X-Id %q", got)
	}
	if got := h.Values("X-Owner"); len(got) != 2 || got[0] != "shop" {
		t.Errorf("X-Owner %q", got)
	}
	if got := testing.AllocsPerRun(100, func() { h["X-Id"] = v.IDValue() }); got != 0 {
		t.Errorf("IDValue allocates %v times", got)
	}
}
