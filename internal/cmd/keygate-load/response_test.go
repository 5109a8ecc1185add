package main

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// answer is what readResponse returned, and what it left unread.
type answer struct {
	Status  int
	Closing bool
	Rest    string
}

var responseCases = []struct {
	name    string
	in      string
	want    answer
	wantErr error
}{
	{
		name: "content_length_body_is_skipped",
		in:   "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nDate: today\r\n\r\nhelloNEXT",
		want: answer{Status: 200, Rest: "NEXT"},
	},
	{
		name: "empty_body",
		in:   "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\nNEXT",
		want: answer{Status: 200, Rest: "NEXT"},
	},
	{
		name: "no_content_has_no_body",
		in:   "HTTP/1.1 204 No Content\r\nDate: today\r\n\r\nNEXT",
		want: answer{Status: 204, Rest: "NEXT"},
	},
	{
		name: "not_modified_has_no_body",
		in:   "HTTP/1.1 304 Not Modified\r\nContent-Length: 7\r\n\r\nNEXT",
		want: answer{Status: 304, Rest: "NEXT"},
	},
	{
		name: "other_statuses_are_answers",
		in:   "HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}",
		want: answer{Status: 401},
	},
	{
		name: "reason_is_optional",
		in:   "HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n",
		want: answer{Status: 200},
	},
	{
		name: "header_names_in_any_case",
		in:   "HTTP/1.1 200 OK\r\ncontent-LENGTH:3\r\n\r\nabc",
		want: answer{Status: 200},
	},
	{
		name: "bare_line_feeds",
		in:   "HTTP/1.1 200 OK\nContent-Length: 1\n\nxNEXT",
		want: answer{Status: 200, Rest: "NEXT"},
	},
	{
		name: "repeated_equal_content_length",
		in:   "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx",
		want: answer{Status: 200},
	},
	{
		name: "connection_close_closes",
		in:   "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
		want: answer{Status: 200, Closing: true},
	},
	{
		name: "close_in_a_token_list",
		in:   "HTTP/1.1 200 OK\r\nConnection: upgrade,  Close \r\nContent-Length: 0\r\n\r\n",
		want: answer{Status: 200, Closing: true},
	},
	{
		name: "http_1_0_closes_by_default",
		in:   "HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n",
		want: answer{Status: 200, Closing: true},
	},
	{
		name: "http_1_0_keep_alive_stays_open",
		in:   "HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 0\r\n\r\n",
		want: answer{Status: 200},
	},
	{
		name:    "chunked_is_refused",
		in:      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
		wantErr: errUnsupported,
	},
	{
		name:    "missing_content_length_is_refused",
		in:      "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nhello",
		wantErr: errUnsupported,
	},
	{
		name:    "interim_response_is_refused",
		in:      "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
		wantErr: errUnsupported,
	},
	{name: "closed_before_the_answer", in: "", wantErr: io.EOF},
	{name: "truncated_status_line", in: "HTTP/1.1 20", wantErr: io.ErrUnexpectedEOF},
	{name: "truncated_headers", in: "HTTP/1.1 200 OK\r\nContent-Len", wantErr: io.ErrUnexpectedEOF},
	{name: "headers_without_their_end", in: "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n", wantErr: io.ErrUnexpectedEOF},
	{name: "truncated_body", in: "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", wantErr: io.ErrUnexpectedEOF},
	{name: "not_http", in: "SSH-2.0-OpenSSH_9.2\r\n", wantErr: errMalformed},
	{name: "http_2_status_line", in: "HTTP/2 200\r\n\r\n", wantErr: errMalformed},
	{name: "status_not_three_digits", in: "HTTP/1.1 20x OK\r\n\r\n", wantErr: errMalformed},
	{name: "status_below_100", in: "HTTP/1.1 099 Odd\r\n\r\n", wantErr: errMalformed},
	{name: "status_run_on", in: "HTTP/1.1 2000 OK\r\n\r\n", wantErr: errMalformed},
	{name: "negative_content_length", in: "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", wantErr: errMalformed},
	{name: "content_length_not_a_number", in: "HTTP/1.1 200 OK\r\nContent-Length: 1e3\r\n\r\n", wantErr: errMalformed},
	{name: "conflicting_content_lengths", in: "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nxy", wantErr: errMalformed},
	{name: "header_without_colon", in: "HTTP/1.1 200 OK\r\nContent-Length 0\r\n\r\n", wantErr: errMalformed},
	{name: "folded_header", in: "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n close\r\n\r\n", wantErr: errMalformed},
	{name: "space_before_colon", in: "HTTP/1.1 200 OK\r\nContent-Length : 0\r\n\r\n", wantErr: errMalformed},
	{name: "too_many_headers", in: "HTTP/1.1 200 OK\r\n" + strings.Repeat("X: y\r\n", maxHeaderLines+1) + "Content-Length: 0\r\n\r\n", wantErr: errMalformed},
	{name: "line_longer_than_the_buffer", in: "HTTP/1.1 200 OK\r\nX: " + strings.Repeat("y", readBuffer) + "\r\n\r\n", wantErr: errMalformed},
}

func TestReadResponse(t *testing.T) {
	for _, tc := range responseCases {
		t.Run(tc.name, func(t *testing.T) {
			r := bufio.NewReaderSize(strings.NewReader(tc.in), readBuffer)
			status, closing, err := readResponse(r)
			if !errors.Is(err, tc.wantErr) || (err == nil) != (tc.wantErr == nil) {
				t.Fatalf("readResponse(%q) error %v, want %v", tc.in, err, tc.wantErr)
			}
			if err != nil {
				return
			}
			rest, _ := io.ReadAll(r)
			got := answer{Status: status, Closing: closing, Rest: string(rest)}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("readResponse(%q) (-want +got):\n%s", tc.in, diff)
			}
		})
	}
}

// TestReadResponseDoesNotAllocate reads answers as the hot path of hit
// does.
func TestReadResponseDoesNotAllocate(t *testing.T) {
	in := strings.Repeat("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\nDate: today\r\n\r\n{}", 200)
	src := strings.NewReader(in)
	r := bufio.NewReaderSize(src, readBuffer)
	allocs := testing.AllocsPerRun(100, func() {
		if _, _, err := readResponse(r); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("readResponse: %v allocations per answer, want 0", allocs)
	}
}

// FuzzReadResponse reads answers from any input until an error: it must
// not panic nor loop, and where net/http reads the first answer too, the
// two must agree on its status and on closing the connection.
func FuzzReadResponse(f *testing.F) {
	for _, tc := range responseCases {
		f.Add([]byte(tc.in))
	}
	f.Add([]byte("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\nHTTP/1.0 404 Not Found\r\nContent-Length: 1\r\n\r\nx"))
	f.Fuzz(func(t *testing.T, data []byte) {
		// A small buffer, so that long lines are tried too.
		r := bufio.NewReaderSize(bytes.NewReader(data), 64)
		for i := 0; ; i++ {
			status, closing, err := readResponse(r)
			if err != nil {
				return
			}
			if status < 200 || status > 999 {
				t.Fatalf("answer %d: status %d", i, status)
			}
			if i == 0 {
				checkAgainstNetHTTP(t, data, status, closing)
			}
			if i > len(data)/12 {
				t.Fatalf("%d answers from %d bytes", i+1, len(data))
			}
		}
	})
}

func checkAgainstNetHTTP(t *testing.T, data []byte, status int, closing bool) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, "http://127.0.0.1/", nil)
	res, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(data)), req)
	if err != nil {
		return
	}
	res.Body.Close()
	if res.StatusCode != status || res.Close != closing {
		t.Fatalf("status %d, closing %v; net/http: %d, %v", status, closing, res.StatusCode, res.Close)
	}
}
