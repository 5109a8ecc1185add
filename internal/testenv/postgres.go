package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

const defaultPostgres = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

var (
	pgOnce sync.Once
	pgBase string
	pgErr  error
)

// Postgres creates an empty database for this test and returns its URL. The
// database is dropped when the test ends.
func Postgres(tb testing.TB) string {
	tb.Helper()
	pgOnce.Do(func() { pgBase, pgErr = postgresServer() })
	if pgErr != nil {
		tb.Fatalf("testenv: no Postgres: %v", pgErr)
	}
	name := "kgtest_" + pgRandomHex(6)
	admin(tb, pgBase, "CREATE DATABASE "+name)
	tb.Cleanup(func() { admin(tb, pgBase, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)") })
	u, _ := url.Parse(pgBase)
	u.Path = "/" + name
	return u.String()
}

func admin(tb testing.TB, base, stmt string) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		tb.Fatalf("testenv: connect to Postgres: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, stmt); err != nil {
		tb.Fatalf("testenv: %s: %v", stmt, err)
	}
}

func postgresServer() (string, error) {
	base := os.Getenv("KEYGATE_TEST_POSTGRES_URL")
	if base != "" {
		return base, pingPostgres(base)
	}
	if pingPostgres(defaultPostgres) == nil {
		return defaultPostgres, nil
	}
	return startPostgres()
}

func pingPostgres(u string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, u)
	if err != nil {
		return err
	}
	return conn.Close(ctx)
}

// startPostgres runs a throwaway cluster for this test process. It lives in
// a temporary folder and stops when the process exits (the postmaster dies
// with its parent's pipe).
func startPostgres() (string, error) {
	initdb, err := findPostgresBin("initdb")
	if err != nil {
		return "", err
	}
	dir, err := os.MkdirTemp("", "keygate-pg-")
	if err != nil {
		return "", err
	}
	port := pgFreePort()
	data := filepath.Join(dir, "data")
	if err := runAsPostgresUser(dir, initdb, "-D", data, "-U", "postgres", "-A", "trust", "--no-sync"); err != nil {
		return "", fmt.Errorf("initdb: %w", err)
	}
	pgctl := filepath.Join(filepath.Dir(initdb), "pg_ctl")
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off", port, dir)
	if err := runAsPostgresUser(dir, pgctl, "-D", data, "-o", opts, "-w", "-l", filepath.Join(dir, "log"), "start"); err != nil {
		return "", fmt.Errorf("pg_ctl start: %w", err)
	}
	return "postgres://postgres@127.0.0.1:" + strconv.Itoa(port) + "/postgres?sslmode=disable", nil
}

func findPostgresBin(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/" + name)
	if len(matches) > 0 {
		return matches[len(matches)-1], nil
	}
	return "", fmt.Errorf("no Postgres server on 127.0.0.1:5432 and no %s installed: apt-get install postgresql", name)
}

// runAsPostgresUser runs a server binary; as root it drops to the postgres
// user, since Postgres refuses to run as root.
func runAsPostgresUser(dir, bin string, args ...string) error {
	cmd := exec.Command(bin, args...)
	if os.Geteuid() == 0 {
		if err := exec.Command("chown", "-R", "postgres", dir).Run(); err != nil {
			return fmt.Errorf("chown %s to postgres: %w", dir, err)
		}
		cmd = exec.Command("runuser", append([]string{"-u", "postgres", "--", bin}, args...)...)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%w: %s", err, out)
	}
	return nil
}

func pgFreePort() int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 55432 // unlikely to be taken; initdb reports it if it is
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func pgRandomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// PostgresServer is a throwaway Postgres cluster of one test, which the
// test may stop and start again on the same port (for fault tests).
type PostgresServer struct {
	tb   testing.TB
	dir  string
	port int
	ctl  string
}

// StartPostgres initializes and starts a private cluster; it is stopped and
// removed when the test ends.
func StartPostgres(tb testing.TB) *PostgresServer {
	tb.Helper()
	initdb, err := findPostgresBin("initdb")
	if err != nil {
		tb.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "keygate-pg-") // not t.TempDir: the postgres user must reach it
	if err != nil {
		tb.Fatal(err)
	}
	s := &PostgresServer{tb: tb, dir: dir, port: pgFreePort(), ctl: filepath.Join(filepath.Dir(initdb), "pg_ctl")}
	tb.Cleanup(func() { s.pgctl("stop", "-m", "immediate"); os.RemoveAll(dir) })
	if err := runAsPostgresUser(dir, initdb, "-D", s.data(), "-U", "postgres", "-A", "trust", "--no-sync"); err != nil {
		tb.Fatalf("initdb: %v", err)
	}
	s.Start()
	return s
}

func (s *PostgresServer) data() string { return filepath.Join(s.dir, "data") }

// URL names the cluster's postgres database.
func (s *PostgresServer) URL() string {
	return "postgres://postgres@127.0.0.1:" + strconv.Itoa(s.port) + "/postgres?sslmode=disable"
}

// Start starts the cluster and waits until it accepts connections.
func (s *PostgresServer) Start() {
	s.tb.Helper()
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off", s.port, s.dir)
	if err := s.pgctl("start", "-w", "-o", opts, "-l", filepath.Join(s.dir, "log")); err != nil {
		s.tb.Fatalf("pg_ctl start: %v", err)
	}
}

// Stop stops the cluster at once, dropping every connection.
func (s *PostgresServer) Stop() {
	s.tb.Helper()
	if err := s.pgctl("stop", "-w", "-m", "immediate"); err != nil {
		s.tb.Fatalf("pg_ctl stop: %v", err)
	}
}

func (s *PostgresServer) pgctl(args ...string) error {
	return runAsPostgresUser(s.dir, s.ctl, append([]string{"-D", s.data()}, args...)...)
}
