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
