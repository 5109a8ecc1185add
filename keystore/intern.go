package keystore

import (
	"encoding/json"
	"strings"
	"sync"
)

// maxShared bounds how many distinct lists, and owners, an interner
// keeps; values beyond it are cached as they are, unshared.
const maxShared = 4096

// emptyObject is the metadata of most keys, shared by their cached records.
var emptyObject = json.RawMessage("{}")

// interner makes the records in the verification cache share what keys
// have in common (most keys of a deployment carry one of a few scope and
// rate-limit lists, and many keys one owner), so that 100,000 cached keys
// hold each distinct value once. Cached records are read-only, which is
// what makes sharing safe.
type interner struct {
	mu     sync.Mutex
	lists  map[string][]string // by the list's elements joined with NUL
	owners map[string]string
}

// record replaces r's shareable values by their shared copies.
func (in *interner) record(r *Record) {
	in.mu.Lock()
	defer in.mu.Unlock()
	r.Scopes, r.RateLimits, r.IPAllowlist = in.list(r.Scopes), in.list(r.RateLimits), in.list(r.IPAllowlist)
	r.Owner = shareValue(&in.owners, r.Owner, r.Owner)
	switch r.Status { // the constants, not the driver's copies
	case StatusActive:
		r.Status = StatusActive
	case StatusRevoked:
		r.Status = StatusRevoked
	}
	if string(r.Metadata) == "{}" {
		r.Metadata = emptyObject
	}
}

func (in *interner) list(l []string) []string {
	if len(l) == 0 {
		return l
	}
	return shareValue(&in.lists, strings.Join(l, "\x00"), l)
}

// shareValue returns the value kept under k in *m, keeping v there first
// when k is absent and room remains. The caller holds the lock.
func shareValue[V any](m *map[string]V, k string, v V) V {
	if shared, ok := (*m)[k]; ok {
		return shared
	}
	if *m == nil {
		*m = map[string]V{}
	}
	if len(*m) < maxShared {
		(*m)[k] = v
	}
	return v
}
