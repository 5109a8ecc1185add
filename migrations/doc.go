// Package migrations holds keygate's schema as versioned SQL files, one
// folder per dialect (postgres, sqlite), embedded in the binary, and runs
// them with goose.
//
// On Postgres every run holds a session advisory lock, so replicas that start
// at once against one database apply each migration exactly once; the others
// wait for the lock and then find nothing to do. SQLite is a single-writer
// file and needs no lock.
//
// A Runner is not safe for concurrent use; separate Runners are.
// Errors are wrapped goose errors, plus ErrDialect for an unknown dialect.
package migrations
