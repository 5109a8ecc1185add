// Package route matches request targets against the path globs of
// route:<METHOD>:<glob> scopes: Path normalizes a forwarded request target
// as nginx normalizes $uri, and Glob matches the result. Both read
// untrusted input, allocate nothing on their common paths, and are safe
// for concurrent use (a Glob is read-only once compiled). CompileGlob
// returns an error describing a pattern it refuses; Path reports false for
// a target without a usable path.
package route
