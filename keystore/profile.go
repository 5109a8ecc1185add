package keystore

import (
	"reflect"
	"sync"
	"sync/atomic"
)

// profiles holds what cached keys share, by a number that their off-heap
// slots hold (cache): each distinct owner, credential and compiled policy
// once, however many keys have them. A profile lives while a cached key
// has it (a count of them), and its number is then free again.
//
// A reader finds a profile by its number without a lock: numbers index
// chunks that never move, and a number is reused only once no slot holds
// it, which the shard lock a reader holds rules out.
type profiles struct {
	chunks []atomic.Pointer[profileChunk] // never grown: at most limit numbers

	mu    sync.Mutex
	index map[profileKey]uint32 // the numbers of shared profiles
	refs  []int32               // slots holding each number
	free  []uint32              // numbers no slot holds
}

const profileChunkSize = 1024

type profileChunk [profileChunkSize]atomic.Pointer[profile]

// profile is what a cached key's Verified holds on the heap.
type profile struct {
	key          profileKey
	credentialID *string
}

// profileKey is a profile's identity.
type profileKey struct {
	id            string // the key's own id, when it is no canonical UUID
	owner         string
	credential    string
	hasCredential bool
	policy        any // compared as a pointer; see acquire
}

// shared reports whether profiles of k are shared (in the index): when
// its policy is nil or a pointer, compared by identity (Config.Compile
// shares the policies of keys alike); other values may not be comparable.
func (k *profileKey) shared() bool {
	return k.policy == nil || reflect.TypeOf(k.policy).Kind() == reflect.Pointer
}

// init makes room for limit numbers: the cache's bound on keys, plus as
// many for keys being cached while others are evicted.
func (ps *profiles) init(limit int) {
	ps.chunks = make([]atomic.Pointer[profileChunk], (2*limit+profileChunkSize-1)/profileChunkSize+1)
	ps.index = map[profileKey]uint32{}
}

// get returns profile n, which a slot holds.
func (ps *profiles) get(n uint32) *profile {
	return ps.chunks[n/profileChunkSize].Load()[n%profileChunkSize].Load()
}

// acquire returns the number of v's profile (with its id unless uuid) for
// one more slot; ok is false when every number is taken.
func (ps *profiles) acquire(v *Verified, uuid bool) (n uint32, ok bool) {
	k := profileKey{owner: v.Owner, policy: v.Policy}
	if !uuid {
		k.id = v.ID
	}
	if v.CredentialID != nil {
		k.credential, k.hasCredential = *v.CredentialID, true
	}
	shared := k.shared()
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if shared {
		if n, found := ps.index[k]; found {
			ps.refs[n]++
			return n, true
		}
	}
	if n, ok = ps.number(); !ok {
		return 0, false
	}
	p := &profile{key: k, credentialID: v.CredentialID}
	ps.chunks[n/profileChunkSize].Load()[n%profileChunkSize].Store(p)
	ps.refs[n] = 1
	if shared {
		ps.index[k] = n
	}
	return n, true
}

// number takes a free number, under ps.mu.
func (ps *profiles) number() (uint32, bool) {
	if len(ps.free) > 0 {
		n := ps.free[len(ps.free)-1]
		ps.free = ps.free[:len(ps.free)-1]
		return n, true
	}
	n := len(ps.refs)
	if n == len(ps.chunks)*profileChunkSize {
		return 0, false
	}
	if n%profileChunkSize == 0 {
		ps.chunks[n/profileChunkSize].Store(new(profileChunk))
	}
	ps.refs = append(ps.refs, 0)
	return uint32(n), true
}

// release lets go of number n for one slot.
func (ps *profiles) release(n uint32) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if ps.refs[n]--; ps.refs[n] > 0 {
		return
	}
	slot := &ps.chunks[n/profileChunkSize].Load()[n%profileChunkSize]
	if p := slot.Load(); p.key.shared() {
		delete(ps.index, p.key)
	}
	slot.Store(nil)
	ps.free = append(ps.free, n)
}

// verified makes the Verified of a key with profile p, state until and,
// unless p holds it, UUID id. Its id is a string of its own, not a view of
// the Verified (which would be one allocation less): whatever keeps the id
// past the request (pending usage, a credit lease) keeps those 48 bytes,
// not the whole Verified.
func (p *profile) verified(until int64, id *[16]byte) *Verified {
	v := &Verified{ID: p.key.id, Owner: p.key.owner, CredentialID: p.credentialID, Policy: p.key.policy, until: until}
	if v.ID == "" {
		var s [36]byte
		formatUUID(&s, id)
		v.ID = string(s[:])
	}
	return v
}

const hexDigits = "0123456789abcdef"

// parseUUID returns the 16 bytes of s when s is a UUID in canonical form
// (lowercase, with hyphens), which formatUUID gives back exactly.
func parseUUID(s string) (b [16]byte, ok bool) {
	if len(s) != 36 {
		return b, false
	}
	j := 0
	for i := 0; i < 36; {
		if i == 8 || i == 13 || i == 18 || i == 23 {
			if s[i] != '-' {
				return b, false
			}
			i++
			continue
		}
		hi, lo := unhex(s[i]), unhex(s[i+1])
		if hi > 15 || lo > 15 {
			return b, false
		}
		b[j] = hi<<4 | lo
		i, j = i+2, j+1
	}
	return b, true
}

func unhex(c byte) byte {
	switch {
	case '0' <= c && c <= '9':
		return c - '0'
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10
	}
	return 255
}

// formatUUID writes b into dst in canonical form.
func formatUUID(dst *[36]byte, b *[16]byte) {
	j := 0
	for i, c := range b {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			dst[j] = '-'
			j++
		}
		dst[j], dst[j+1] = hexDigits[c>>4], hexDigits[c&15]
		j += 2
	}
}
