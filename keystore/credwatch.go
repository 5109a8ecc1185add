package keystore

import (
	"sync"

	"gorm.io/gorm"
)

// credentialChannel carries the id of every changed or deleted credential
// between replicas (Postgres NOTIFY), as notifyChannel carries key hashes.
const credentialChannel = "keygate_credentials"

// AllCredentials is the id that OnCredentialChange's callbacks receive when
// any credential may have changed: a replica's listener reconnected (what
// was announced meanwhile is lost), or another process wrote to the SQLite
// file.
const AllCredentials = ""

// credentialWatchers are the callbacks of OnCredentialChange.
type credentialWatchers struct {
	mu   sync.Mutex
	next int
	fns  map[int]func(id string)
}

// OnCredentialChange registers fn, called with the id of each service
// account (credential) that is changed or deleted, on this replica and on
// every other one: locally once the change commits, and again when the
// Postgres notification arrives (so fn must be idempotent; with SQLite,
// changes by other processes are noticed within WatchInterval). fn gets
// AllCredentials when any credential may have changed. Caches of anything
// derived from an account (its uid, Odoo's model metadata, its version)
// subscribe here and drop what they hold for id. fn must return quickly and
// must not call the Store. The returned function unsubscribes.
func (s *Store) OnCredentialChange(fn func(id string)) (cancel func()) {
	w := &s.credWatch
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.fns == nil {
		w.fns = map[int]func(string){}
	}
	n := w.next
	w.next++
	w.fns[n] = fn
	return func() {
		w.mu.Lock()
		defer w.mu.Unlock()
		delete(w.fns, n)
	}
}

// credentialChanged calls every subscriber with id.
func (s *Store) credentialChanged(id string) {
	w := &s.credWatch
	w.mu.Lock()
	fns := make([]func(string), 0, len(w.fns))
	for _, fn := range w.fns {
		fns = append(fns, fn)
	}
	w.mu.Unlock()
	for _, fn := range fns {
		fn(id)
	}
}

// notifyCredential announces a change to credential id to every replica
// when tx commits (Postgres).
func (s *Store) notifyCredential(tx *gorm.DB, id string) error {
	if s.dialect != DialectPostgres {
		return nil
	}
	return tx.Exec("SELECT pg_notify(?, ?)", credentialChannel, id).Error
}
