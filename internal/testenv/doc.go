// Package testenv gives tests the real services they need: a fresh Postgres
// database and a Redis key prefix per test, so that tests run in parallel.
//
// Each function uses the server named by an environment variable
// (KEYGATE_TEST_POSTGRES_URL, KEYGATE_TEST_REDIS_URL), else the one on its
// standard loopback port, else starts a throwaway server from the installed
// binaries. When none is installed the test fails, naming the Debian package
// to install. Nothing here ever skips a test.
package testenv
