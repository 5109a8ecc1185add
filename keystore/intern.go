package keystore

import (
	"encoding/json"
	"strings"
	"sync"
	"unique"
)

// maxSharedLists bounds how many distinct lists an interner keeps; lists
// beyond it are cached as they are, unshared.
const maxSharedLists = 4096

// emptyObject is the metadata of most keys, shared by their cached records.
var emptyObject = json.RawMessage("{}")

// interner makes the records in the verification cache share what keys
// have in common (most keys of a deployment carry one of a few scope and
// rate-limit lists, and many keys one owner), so that 100,000 cached keys
// hold each distinct value once. Cached records are read-only, which is
// what makes sharing safe.
type interner struct {
	mu    sync.Mutex
	lists map[string][]string // by the list's elements joined with NUL
}

// record replaces r's shareable values by their shared copies.
func (in *interner) record(r *Record) {
	r.Scopes, r.RateLimits, r.IPAllowlist = in.list(r.Scopes), in.list(r.RateLimits), in.list(r.IPAllowlist)
	r.Owner = unique.Make(r.Owner).Value()
	r.Status = Status(unique.Make(string(r.Status)).Value())
	if string(r.Metadata) == "{}" {
		r.Metadata = emptyObject
	}
}

func (in *interner) list(l []string) []string {
	if len(l) == 0 {
		return l
	}
	k := strings.Join(l, "\x00")
	in.mu.Lock()
	defer in.mu.Unlock()
	if shared, ok := in.lists[k]; ok {
		return shared
	}
	if in.lists == nil {
		in.lists = map[string][]string{}
	}
	if len(in.lists) < maxSharedLists {
		in.lists[k] = l
	}
	return l
}
