package testenv

import (
	"bufio"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

const childEnv = "KEYGATE_TESTENV_CHILD"

// TestPostgresDiesWithTestProcess starts a throwaway cluster in a child test
// process that then exits without any cleanup, as a test binary killed by
// -timeout does, and checks that the server is gone with it.
func TestPostgresDiesWithTestProcess(t *testing.T) {
	if os.Getenv(childEnv) == "1" {
		u, err := startPostgres()
		if err != nil {
			t.Fatal(err)
		}
		os.Stdout.WriteString("URL " + u + "\n")
		os.Exit(0) // no Cleanup, no deferred stop
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestPostgresDiesWithTestProcess$")
	cmd.Env = append(os.Environ(), childEnv+"=1")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	addr := ""
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		if u, ok := strings.CutPrefix(sc.Text(), "URL "); ok {
			addr = strings.TrimPrefix(strings.Split(u, "/")[2], "postgres@")
		}
	}
	if addr == "" {
		t.Fatalf("child printed no URL:\n%s", out)
	}
	// The kernel delivers SIGKILL at once; the port closes as soon as the
	// postmaster is reaped. Poll a bounded number of times.
	for range 200 {
		c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond)
		if err != nil {
			return
		}
		c.Close()
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("postgres at %s still accepts connections after its test process exited", addr)
}

// TestStartPostgresStopStart checks the fault-test server: it serves, stops
// (refusing connections), and serves again on the same port.
func TestStartPostgresStopStart(t *testing.T) {
	s := StartPostgres(t)
	if err := pingPostgres(s.URL()); err != nil {
		t.Fatalf("after start: %v", err)
	}
	s.Stop()
	if err := pingPostgres(s.URL()); err == nil {
		t.Fatal("after stop: still answering")
	}
	s.Start()
	if err := pingPostgres(s.URL()); err != nil {
		t.Fatalf("after restart: %v", err)
	}
}

// TestStartPostgresTakesAnotherPort: a cluster whose chosen port another
// process took before the postmaster listened starts on another.
func TestStartPostgresTakesAnotherPort(t *testing.T) {
	s, err := newPostgresServer()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.stop(); os.RemoveAll(s.dir) })
	taken, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)))
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	if err := s.startOnFreePort(); err != nil {
		t.Fatal(err)
	}
	if s.port == taken.Addr().(*net.TCPAddr).Port {
		t.Fatalf("started on the taken port %d", s.port)
	}
	if err := pingPostgres(s.URL()); err != nil {
		t.Fatal(err)
	}
}
