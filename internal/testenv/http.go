package testenv

import (
	"io"
	"net/http"
	"testing"
)

// Do sends req with http.DefaultClient and returns the response with its
// whole body, read and closed. A failed request or read fails tb.
func Do(tb testing.TB, req *http.Request) (*http.Response, []byte) {
	tb.Helper()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatalf("testenv: %s %s: %v", req.Method, req.URL, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		tb.Fatalf("testenv: %s %s: read the body: %v", req.Method, req.URL, err)
	}
	return res, body
}

// Recorder is an http.ResponseWriter for benchmarks: it discards the body
// and keeps its header map between requests, so that a benchmark measures
// the handler, not the recorder. Code is the status last written (0 when
// none was).
type Recorder struct {
	Code int
	h    http.Header
}

// NewRecorder returns an empty Recorder.
func NewRecorder() *Recorder { return &Recorder{h: http.Header{}} }

// Header returns the header map, kept between requests.
func (w *Recorder) Header() http.Header { return w.h }

// Write discards b.
func (w *Recorder) Write(b []byte) (int, error) { return len(b), nil }

// WriteHeader records code.
func (w *Recorder) WriteHeader(code int) { w.Code = code }

// Reset empties the header map, keeping its storage, and Code.
func (w *Recorder) Reset() {
	clear(w.h)
	w.Code = 0
}
