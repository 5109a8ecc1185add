// Package deploy holds keygate's deployment files — the root Dockerfile and
// docker-compose.yml, deploy/compose (Postgres init script, nginx gateway
// template) and the nginx variant in deploy/nginx — and the tests that load
// them with the Compose specification's own parser and BuildKit's Dockerfile
// parser, so that a broken wiring fails `go test` on a machine without
// Docker. It has no Go API.
//
// It is a module of its own (github.com/keygate/keygate/deploy, outside
// keygate's ./...) so that those parsers, which only these checks use, stay
// out of keygate's go.mod and build list; `make test` vets and tests it with
// `go -C deploy`.
package deploy
