package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/keygate/keygate/internal/testenv"
)

// The real binary tunes GOGC for KEYGATE_GC_FLOOR (16 MiB by default): with
// the little a fresh keygate holds, GOGC rises above Go's 100, at most to
// 400 (at which Go's least heap goal, 4 MiB at 100, is 16 MiB). With
// KEYGATE_GC_FLOOR=0, or GOGC in its environment, it stays Go's.
func TestGCFloorInTheBinary(t *testing.T) {
	bin := buildBinary(t)
	for _, c := range []struct {
		name     string
		env      []string
		tuned    bool
		logsGOGC bool
	}{
		{"default", nil, true, false},
		{"KEYGATE_GC_FLOOR=0", []string{"KEYGATE_GC_FLOOR=0"}, false, false},
		{"GOGC=100", []string{"GOGC=100"}, false, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			pub, adm := testenv.FreeAddr(t), testenv.FreeAddr(t)
			env := []string{}
			for _, kv := range os.Environ() {
				if !strings.HasPrefix(kv, "GOGC=") && !strings.HasPrefix(kv, "KEYGATE_") {
					env = append(env, kv)
				}
			}
			cmd := exec.Command(bin, "serve")
			cmd.Env = append(env, "KEYGATE_LISTEN="+pub, "KEYGATE_ADMIN_LISTEN="+adm,
				"KEYGATE_DATABASE_URL=sqlite://"+filepath.Join(dir, "keygate.db"), "KEYGATE_ADMIN_TOKEN="+testToken)
			cmd.Env = append(cmd.Env, c.env...)
			logs := &testenv.LockedBuffer{}
			cmd.Stdout, cmd.Stderr = logs, logs
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
			if pollStatus(t, func() int { return healthStatus("http://" + pub) }, 200) != 200 {
				t.Fatalf("keygate did not start:\n%s", logs)
			}
			var gogc int
			if c.tuned {
				pollStatus(t, func() int {
					gogc = metricGOGC(t, "http://"+adm)
					if gogc > 100 {
						return 1
					}
					return 0
				}, 1)
				if gogc <= 100 || gogc > 400 {
					t.Errorf("go_gc_gogc_percent %d, want from 101 to 400", gogc)
				}
				return
			}
			// As much as keygate's start took the default above past 100:
			// collections ran, and some requests.
			for range 200 {
				healthStatus("http://" + pub)
			}
			if gogc = metricGOGC(t, "http://"+adm); gogc != 100 {
				t.Errorf("go_gc_gogc_percent %d, want Go's default 100", gogc)
			}
			if got := strings.Contains(logs.String(), "GOGC is set"); got != c.logsGOGC {
				t.Errorf("the log says GOGC is set: %v, want %v\n%s", got, c.logsGOGC, logs)
			}
		})
	}
}

var gogcMetric = regexp.MustCompile(`(?m)^go_gc_gogc_percent (\d+)$`)

func metricGOGC(t testing.TB, admin string) int {
	t.Helper()
	body := scrape(t, admin+"/metrics")
	m := gogcMetric.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("/metrics has no go_gc_gogc_percent:\n%.2000s", body)
	}
	n, _ := strconv.Atoi(m[1])
	return n
}
