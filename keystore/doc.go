// Package keystore keeps keygate's API keys and everything stored about
// them. It is a leaf: it knows nothing of HTTP, Redis or Odoo (TestDeps).
//
// It does these things:
//
//   - Key format (key.go): Generate makes <prefix>_<43 base62><6 base62
//     CRC32>; Parse checks shape and checksum without storage; Hash is the
//     SHA-256 the store keeps. A Key never prints itself: String, GoString
//     and LogValue show its display prefix only.
//   - Lifecycle (keys.go, validate.go, record.go): Create, Get, List,
//     Update, Revoke and Rotate on Postgres or SQLite through GORM, schema
//     from package migrations. The plaintext is returned once, by Create
//     and Rotate, and never stored.
//   - Verification cache (cache.go, profile.go, verify.go, verified.go,
//     cached.go, intern.go): Verify answers from a bounded in-process cache (positive
//     TTL, shorter negative TTL, unknown hashes held apart so that they
//     never evict a key, errors never cached) and fills a miss with one
//     lookup by hash of the few columns a Verified holds (id, owner,
//     credential, state, the policy Config.Compile makes), held off Go's
//     heap (internal/offheap) but for what keys share (profile.go: owner,
//     credential, policy), held once. VerifyCached
//     answers from the cache alone (authz refuses a client over its
//     failed-auth limit without a lookup).
//   - Invalidation: every change to a key sends its hash on Postgres
//     LISTEN/NOTIFY (channel keygate_keys), so every replica drops it from
//     its cache at once; with SQLite, a watcher of PRAGMA data_version does
//     the same in process. Changes to service accounts go the same way
//     (keygate_credentials; OnCredentialChange).
//   - Usage batching (usage.go): RecordUse counts allowed and denied
//     requests per key and hour and the last-used time in memory, written
//     every Config.FlushInterval (and by Flush and Close) a transaction per
//     shard of keys, each shard taken just before it is written.
//     Verification never writes per request.
//   - Credits (credits.go): the durable balance of each key's usage quota,
//     handed to the limiter in leases (TakeCredits) with the refill applied
//     there, and changed atomically by AdjustCredits.
//   - Web sessions (session.go): the session ids of /web/session/
//     authenticate, stored as SHA-256 hashes, bounded per key and in all,
//     with idle and absolute expiry.
//   - Audit (audit.go) of every management call, with its actor;
//     RevokeLeaked (leak.go) for secret-scanning alerts; and the credential
//     vault (credential.go, reseal.go): Odoo service accounts whose secrets
//     are sealed with XChaCha20-Poly1305 under KEYGATE_SECRET_KEY (former
//     keys open, never seal; Reseal moves every secret to the current
//     key), the credential id bound as additional data.
//
// # Concurrency
//
// A Store, its Vault and a Sealer are safe for concurrent use. A Verified
// that Verify returns is the caller's own; its owner, credential id and
// policy are shared with other keys and must not be modified. Close stops
// the listener and the flush loop after a last flush.
//
// # Errors
//
// Verify returns exactly one of ErrMalformed, ErrUnknown, ErrRevoked or
// ErrExpired (the last two with the key), or ErrUnavailable when storage
// could not answer. Management calls return ErrNotFound, ErrConflict, a
// *ValidationError (which matches ErrInvalid) naming each bad field, or
// ErrUnavailable; the vault adds ErrNoSecretKey and ErrSealed. Every error
// is wrapped with the operation and is compared with errors.Is.
package keystore
