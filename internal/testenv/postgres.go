package testenv

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
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

// startPostgres runs a throwaway cluster for this test process, in a
// temporary folder. The postmaster is this process's child and is killed
// when the process ends, however it ends (see postmaster).
func startPostgres() (string, error) {
	s, err := newPostgresServer()
	if err != nil {
		return "", err
	}
	if err := s.startOnFreePort(); err != nil {
		return "", err
	}
	return s.URL(), nil
}

// errPortTaken: the port chosen for a new cluster was free when chosen,
// and taken by another process before the postmaster listened on it.
var errPortTaken = errors.New("its port was taken meanwhile")

// startOnFreePort starts a new cluster, on another free port each time its
// port was taken between pgFreePort and the postmaster's bind (tests that
// listen on 127.0.0.1:0 in parallel can take it).
func (s *PostgresServer) startOnFreePort() error {
	for attempt := 1; ; attempt++ {
		err := s.start()
		if err == nil || !errors.Is(err, errPortTaken) || attempt == 5 {
			return err
		}
		s.port = pgFreePort()
	}
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

// asPostgresUser makes cmd run as the postgres user when this process is
// root, since Postgres refuses to run as root, and kills it with SIGKILL
// when this process dies (Pdeathsig), so that no server outlives the tests
// whatever way they end: a panic, a timeout, a signal.
func asPostgresUser(cmd *exec.Cmd, dir string) error {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if os.Geteuid() != 0 {
		return nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return fmt.Errorf("running as root needs the postgres user: %w", err)
	}
	uid, _ := strconv.ParseUint(u.Uid, 10, 32)
	gid, _ := strconv.ParseUint(u.Gid, 10, 32)
	cmd.SysProcAttr.Credential = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	return filepath.WalkDir(dir, func(p string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, int(uid), int(gid))
	})
}

func runAsPostgresUser(dir, bin string, args ...string) error {
	cmd := exec.Command(bin, args...)
	if err := asPostgresUser(cmd, dir); err != nil {
		return err
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
// test may stop and start again on the same port (for fault tests). Its
// postmaster is a child of the test process: it dies with it.
type PostgresServer struct {
	tb   testing.TB // nil for the process-wide server
	dir  string
	port int
	bin  string // the postgres binary

	mu   sync.Mutex
	proc *exec.Cmd
	done chan struct{} // closed when proc has exited
}

// StartPostgres initializes and starts a private cluster; it is stopped and
// removed when the test ends.
func StartPostgres(tb testing.TB) *PostgresServer {
	tb.Helper()
	s, err := newPostgresServer()
	if err != nil {
		tb.Fatal(err)
	}
	s.tb = tb
	tb.Cleanup(func() { s.stop(); os.RemoveAll(s.dir) })
	if err := s.startOnFreePort(); err != nil {
		tb.Fatal(err)
	}
	return s
}

func newPostgresServer() (*PostgresServer, error) {
	initdb, err := findPostgresBin("initdb")
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "keygate-pg-") // not t.TempDir: the postgres user must reach it
	if err != nil {
		return nil, err
	}
	s := &PostgresServer{dir: dir, port: pgFreePort(), bin: filepath.Join(filepath.Dir(initdb), "postgres")}
	if err := runAsPostgresUser(dir, initdb, "-D", s.data(), "-U", "postgres", "-A", "trust", "--no-sync"); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("initdb: %w", err)
	}
	return s, nil
}

func (s *PostgresServer) data() string { return filepath.Join(s.dir, "data") }

// URL names the cluster's postgres database.
func (s *PostgresServer) URL() string {
	return "postgres://postgres@127.0.0.1:" + strconv.Itoa(s.port) + "/postgres?sslmode=disable"
}

// Start starts the cluster and waits until it accepts connections.
func (s *PostgresServer) Start() {
	s.tb.Helper()
	if err := s.start(); err != nil {
		s.tb.Fatal(err)
	}
}

// Stop stops the cluster at once, dropping every connection.
func (s *PostgresServer) Stop() { s.stop() }

// start runs the postmaster in the foreground as this process's child and
// waits until it accepts connections.
func (s *PostgresServer) start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	log, err := os.OpenFile(filepath.Join(s.dir, "log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	defer log.Close()
	var from int64
	if fi, err := log.Stat(); err == nil {
		from = fi.Size()
	}
	cmd := exec.Command(s.bin, "-D", s.data(), "-p", strconv.Itoa(s.port), "-k", s.dir,
		"-c", "listen_addresses=127.0.0.1", "-c", "fsync=off")
	cmd.Stdout, cmd.Stderr = log, log
	if err := asPostgresUser(cmd, s.dir); err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start postgres: %w", err)
	}
	s.proc, s.done = cmd, make(chan struct{})
	go func(done chan struct{}) { _ = cmd.Wait(); close(done) }(s.done)
	return s.waitReady(s.done, from)
}

// waitReady waits until the cluster answers, or its postmaster, which
// began writing its log at offset from, exits.
func (s *PostgresServer) waitReady(done <-chan struct{}, from int64) error {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-done:
			out, _ := os.ReadFile(filepath.Join(s.dir, "log"))
			out = out[min(from, int64(len(out))):] // this start's lines
			if bytes.Contains(out, []byte("Address already in use")) {
				return fmt.Errorf("postgres on port %d: %w: %s", s.port, errPortTaken, out)
			}
			return fmt.Errorf("postgres exited at start: %s", out)
		default:
		}
		if pingPostgres(s.URL()) == nil {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("postgres on port %d not ready after 30s", s.port)
}

// stop sends the immediate-shutdown signal (SIGQUIT) and waits for the
// postmaster to exit; SIGKILL after 10 s.
func (s *PostgresServer) stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc == nil {
		return
	}
	_ = s.proc.Process.Signal(syscall.SIGQUIT)
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		_ = s.proc.Process.Kill()
		<-s.done
	}
	s.proc = nil
}
