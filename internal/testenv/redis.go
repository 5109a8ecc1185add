package testenv

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// RedisURLEnv names the variable that points the tests at a Redis server.
const RedisURLEnv = "KEYGATE_TEST_REDIS_URL"

const (
	localRedisAddr = "127.0.0.1:6379"
	pingTimeout    = 200 * time.Millisecond
	startTimeout   = 10 * time.Second
	redisReady     = "Ready to accept connections"
)

// redisURLs remembers the URL given to each test, so that RedisURL and
// KeyPrefix of one test agree on one server.
var redisURLs sync.Map // testing.TB → string

// RedisURL returns the URL of a Redis server for tb: $KEYGATE_TEST_REDIS_URL
// if set; else redis://127.0.0.1:6379/0 if a server there answers PING
// within 200ms; else a throwaway redis-server that lives as long as tb. If
// redis-server is not installed, tb fails naming the package to install.
// Calls with the same tb return the same URL.
func RedisURL(tb testing.TB) string {
	tb.Helper()
	if u, ok := redisURLs.Load(tb); ok {
		return u.(string)
	}
	u := findRedis(tb)
	redisURLs.Store(tb, u)
	tb.Cleanup(func() { redisURLs.Delete(tb) })
	return u
}

func findRedis(tb testing.TB) string {
	tb.Helper()
	if u := os.Getenv(RedisURLEnv); u != "" {
		return u
	}
	if ping(localRedisAddr, pingTimeout) == nil {
		return "redis://" + localRedisAddr + "/0"
	}
	return StartRedis(tb).URL()
}

// ping sends a PING in the protocol's inline form and wants +PONG.
func ping(addr string, timeout time.Duration) error {
	c, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.SetDeadline(time.Now().Add(timeout)); err != nil {
		return err
	}
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil || line != "+PONG\r\n" {
		return fmt.Errorf("ping %s: %q, %v", addr, line, err)
	}
	return nil
}

// KeyPrefix returns a prefix unique to tb ("kgtest:" and 16 hex digits), so
// that tests sharing RedisURL(tb)'s server can run in parallel. When tb
// ends, every key of that server containing the prefix is deleted.
func KeyPrefix(tb testing.TB) string {
	tb.Helper()
	url := RedisURL(tb)
	var b [8]byte
	_, _ = rand.Read(b[:]) // never fails
	prefix := "kgtest:" + hex.EncodeToString(b[:])
	tb.Cleanup(func() {
		if err := deleteKeys(url, prefix); err != nil {
			tb.Errorf("testenv: delete keys %s*: %v", prefix, err)
		}
	})
	return prefix
}

// deleteKeys deletes the keys containing prefix, wherever it is in the key
// (limiter keys start with a hash tag: "{prefix:...}").
func deleteKeys(url, prefix string) error {
	opt, err := redis.ParseURL(url)
	if err != nil {
		return err
	}
	c := redis.NewClient(opt)
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var keys []string
	it := c.Scan(ctx, 0, "*"+prefix+"*", 1000).Iterator()
	for it.Next(ctx) {
		keys = append(keys, it.Val())
	}
	if err := it.Err(); err != nil || len(keys) == 0 {
		return err
	}
	return c.Unlink(ctx, keys...).Err()
}

// RedisServer is a throwaway redis-server on a loopback port of its own,
// without persistence, stopped when its test ends. Stop and Start simulate
// an outage. Start must be called from the test's goroutine; Stop from
// any.
type RedisServer struct {
	tb   testing.TB
	bin  string
	dir  string
	port int
	// conf, args and ready shape other servers than StartRedis's (see
	// cluster.go): a config file given first, more arguments, and the log
	// line that says it is ready (default redisReady).
	conf  func(port int) string
	args  []string
	ready string

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{}
}

// StartRedis starts a throwaway redis-server for tb. If redis-server is not
// installed, tb fails naming the package to install.
func StartRedis(tb testing.TB) *RedisServer {
	tb.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		tb.Fatalf("testenv: redis-server not found (install it: apt-get install redis-server, or set %s): %v", RedisURLEnv, err)
	}
	return startServer(tb, &RedisServer{tb: tb, bin: bin, dir: tb.TempDir()})
}

// startServer starts s on a free port, trying three ports.
func startServer(tb testing.TB, s *RedisServer) *RedisServer {
	tb.Helper()
	tb.Cleanup(s.Stop)
	for try := 0; ; try++ {
		s.port = FreePort(tb)
		err := s.start()
		if err == nil {
			return s
		}
		if try == 2 {
			tb.Fatalf("testenv: %v", err)
		}
	}
}

// URL returns redis://127.0.0.1:<port>/0.
func (s *RedisServer) URL() string { return "redis://" + s.Addr() + "/0" }

// Addr returns 127.0.0.1:<port>.
func (s *RedisServer) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)) }

// Start starts the server again on the same port, with no data, and
// returns once it accepts connections. It does nothing if it runs.
func (s *RedisServer) Start() {
	s.tb.Helper()
	if err := s.start(); err != nil {
		s.tb.Fatalf("testenv: %v", err)
	}
}

// Stop kills the server and waits for it to exit. It does nothing if the
// server is stopped.
func (s *RedisServer) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	<-s.exited
	s.cmd = nil
}

func (s *RedisServer) start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		return nil
	}
	var args []string
	if s.conf != nil {
		args = append(args, s.conf(s.port))
	}
	args = append(args, "--port", strconv.Itoa(s.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", s.dir, "--logfile", "", "--daemonize", "no")
	cmd := exec.Command(s.bin, append(args, s.args...)...)
	marker := s.ready
	if marker == "" {
		marker = redisReady
	}
	ready, exited, err := run(cmd, filepath.Join(s.dir, "redis.log"), marker)
	if err != nil {
		return err
	}
	if err := s.await(cmd, ready, exited); err != nil {
		return err
	}
	s.cmd, s.exited = cmd, exited
	return nil
}

// await waits until the server is ready, has exited or is too slow.
func (s *RedisServer) await(cmd *exec.Cmd, ready, exited chan struct{}) error {
	timer := time.NewTimer(startTimeout)
	defer timer.Stop()
	select {
	case <-ready:
		return nil
	case <-exited:
	case <-timer.C:
		_ = cmd.Process.Kill()
		<-exited
	}
	log, _ := os.ReadFile(filepath.Join(s.dir, "redis.log"))
	return fmt.Errorf("redis-server on %s did not start:\n%s", s.Addr(), log)
}

// run starts cmd with its output copied to logPath. ready is closed when
// the output says the server accepts connections, exited when it exited.
func run(cmd *exec.Cmd, logPath, marker string) (ready, exited chan struct{}, err error) {
	log, err := os.Create(logPath)
	if err != nil {
		return nil, nil, err
	}
	r, w, err := os.Pipe()
	if err != nil {
		log.Close()
		return nil, nil, err
	}
	cmd.Stdout, cmd.Stderr = w, w
	err = cmd.Start()
	w.Close()
	if err != nil {
		r.Close()
		log.Close()
		return nil, nil, err
	}
	ready, exited = make(chan struct{}), make(chan struct{})
	go follow(cmd, r, log, marker, ready, exited)
	return ready, exited, nil
}

func follow(cmd *exec.Cmd, r, log *os.File, marker string, ready, exited chan struct{}) {
	defer close(exited)
	sc := bufio.NewScanner(r)
	for waiting := true; sc.Scan(); {
		fmt.Fprintln(log, sc.Text())
		if waiting && strings.Contains(sc.Text(), marker) {
			close(ready)
			waiting = false
		}
	}
	_, _ = io.Copy(log, r) // what a too long line left
	r.Close()
	_ = cmd.Wait()
	log.Close()
}
