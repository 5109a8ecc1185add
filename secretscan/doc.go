// Package secretscan is keygate's endpoint for GitHub's secret scanning
// partner program: POST /secret-scanning/github on the public listener.
//
// GitHub sends every string matching keygate's key pattern that it finds in
// a public repository, gist or package, signed with ECDSA P-256 / SHA-256
// over the raw body; the signing keys are published at
// https://api.github.com/meta/public_keys/secret_scanning. A Handler checks
// the signature against that document (cached, fetched again when an
// unknown key identifier arrives, at most once per RefreshInterval),
// revokes every reported token that is a key of this keygate (through the
// keystore, so every replica refuses it), and answers GitHub's feedback
// format: [{"token_hash", "token_type", "label"}].
//
// A request whose signature does not verify is refused with 401 and changes
// nothing. Tokens are never logged; revoked keys are logged by id. A
// Handler is safe for concurrent use and starts no goroutine.
package secretscan
