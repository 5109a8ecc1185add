package main

import "github.com/keygate/keygate/authz"

// authz owns the scope grammar and the compiled policy; keystore checks a
// key's scopes when it is written and compiles them once when it is cached.
var (
	validateScope = authz.ValidateScope
	compilePolicy = authz.Compile
)
