package keystore

import "sync"

// maxShared bounds how many distinct owners, and credentials, an interner
// keeps; values beyond it are cached as they are, unshared.
const maxShared = 4096

// interner makes the keys in the verification cache share what keys have
// in common (many keys have one owner, or one service account), so that
// 100,000 cached keys hold each distinct value once. Cached keys are
// read-only, which is what makes sharing safe. (Their lists are not kept:
// the policy compiled from them is, and Config.Compile shares that.)
type interner struct {
	mu          sync.Mutex
	owners      map[string]string
	credentials map[string]*string
}

// share replaces r's owner and credential id by their shared copies.
func (in *interner) share(r *Record) {
	in.mu.Lock()
	defer in.mu.Unlock()
	r.Owner = shareValue(&in.owners, r.Owner, r.Owner)
	if r.CredentialID != nil {
		r.CredentialID = shareValue(&in.credentials, *r.CredentialID, r.CredentialID)
	}
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
