// Package odoo holds what keygate knows of Odoo's models: their fields,
// learned with fields_get as a service account and cached (Metadata).
// The Odoo client itself still lives in package proxy, which gives
// Metadata the call that fetches fields (MetadataConfig.Fetch), so that
// this package never imports proxy.
//
// # Metadata
//
// Metadata caches each account's fields of each model for a TTL, with a
// bound on the number of (account, model) entries (otter, an S3-FIFO
// cache). Concurrent misses of one entry share one fetch; errors are
// never cached, so the next call asks Odoo again. A fetch runs with the
// caller's values but not its cancellation (another caller may be waiting
// for it), bounded by MetadataConfig.Timeout.
//
// # Concurrency and errors
//
// Metadata is safe for concurrent use; Close stops the cache's
// maintenance goroutine. Fields returns the fetch's errors, wrapped; an
// answer that is not fields_get's is ErrBadFields.
package odoo
