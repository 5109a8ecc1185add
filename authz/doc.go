// Package authz decides whether a request may go on: the credential it
// presents (Authorization: Bearer or ApiKey, or X-API-Key), the target it
// asks for (forwarded by Traefik or nginx, believed only from trusted
// proxies), the key's scopes and IP allowlist, and its rate limits. It
// answers Traefik's forwardAuth and nginx's auth_request on /auth, and the
// Odoo gateway asks it too (NeedOdoo).
//
// The decision is Decide, a pure function of Facts: what the request is,
// what key verification said, and what the limiters answered, which
// Decide asks for one at a time so that a request is counted only when it
// would otherwise be allowed. Authorizer.Check does the I/O around it
// (keystore.Store.Verify, limiter Allow); Handler only reads the HTTP
// request and writes the Decision.
//
// Keys are compiled once, when they enter keystore's cache (Compile, set
// as keystore.Config.Compile): a cached key that is allowed costs no
// parsing and no I/O but its limiter's.
//
// # Scopes
//
//	admin                    the admin API (NeedAdmin)
//	odoo:<model>:<op>        NeedOdoo; op read, create, write, unlink,
//	                         call:<method> or *; model may be *
//	route:<METHOD>:<glob>    NeedRoute; METHOD may be * (GET grants HEAD
//	                         too, as in Go's ServeMux); in the glob, *
//	                         matches within a segment, ** across /, and a
//	                         whole "/**" segment zero or more segments
//
// A key may do only what a scope grants. Route globs are matched against
// the target's path normalized as nginx normalizes $uri (TargetPath).
//
// # Answers
//
// Decision.Status is 200, 401 (no credential; malformed, unknown, revoked
// or expired key), 403 (client address not in the key's allowlist; no
// scope; credits exhausted with no refill scheduled), 429 (the key's
// limits; the client's failed authentications; credits exhausted until
// their refill), 503 (key storage, limiter or credits unavailable) or 500
// (a stored policy that does not compile). A key with credits spends one
// (Config.Credits) last, once every other check allowed the request; the
// RateLimit fields then carry a "credits" policy with the balance. Decision.WriteHeaders writes the RateLimit-Policy and
// RateLimit fields (draft-ietf-httpapi-ratelimit-headers-10) whenever a
// limiter was asked, X-Keygate-Key-Id, -Owner and -Scopes on 200,
// WWW-Authenticate on 401 and Retry-After on 429. Denials are Decisions,
// not errors; Check returns no error.
//
// # Concurrency
//
// Authorizer, Handler and Policy are safe for concurrent use; Decide is
// pure. Records and policies are shared with keystore's cache: read only.
package authz
