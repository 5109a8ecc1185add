package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestTimedStats: every request through a timed handler is counted once,
// a GET of the stats takes what was recorded (the next GET starts from
// zero), and an unknown target is a 404.
func TestTimedStats(t *testing.T) {
	target := &timed{h: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })}
	srv := httptest.NewServer(target)
	defer srv.Close()
	stats := httptest.NewServer(statsHandler(map[string]*timed{"BARE": target}))
	defer stats.Close()
	get := func(url string) (int, string) {
		t.Helper()
		res, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		if err != nil {
			t.Fatal(err)
		}
		return res.StatusCode, string(b)
	}
	for range 3 {
		if code, _ := get(srv.URL); code != http.StatusNoContent {
			t.Fatalf("target answered %d", code)
		}
	}
	for _, want := range []string{"requests=3 ", "requests=0 "} {
		code, body := get(stats.URL + "/stats/BARE")
		if code != http.StatusOK || !strings.HasPrefix(body, want) || !strings.Contains(body, " p99_ms=") {
			t.Fatalf("stats: %d %q, want 200 starting %q", code, body, want)
		}
	}
	if code, _ := get(stats.URL + "/stats/NONE"); code != http.StatusNotFound {
		t.Fatalf("stats of an unknown target: %d, want 404", code)
	}
}
