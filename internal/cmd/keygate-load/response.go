package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
)

// The errors of readResponse, besides io.EOF (the connection closed
// before the response) and io.ErrUnexpectedEOF (it closed in the middle).
var (
	// errUnsupported is an answer that hit cannot read, whatever the
	// load: a body not framed by Content-Length, or an interim response.
	errUnsupported = errors.New("unsupported response")
	// errMalformed is an answer that is not HTTP/1.x.
	errMalformed = errors.New("malformed response")
)

// maxHeaderLines bounds the header lines of one response.
const maxHeaderLines = 100

// readResponse reads one response to a GET from r and discards its body.
// It returns the status code and whether the server closes the connection
// after it (Connection: close, or HTTP/1.0 without keep-alive). It reads
// only bodies framed by Content-Length: a chunked body or none of the
// two is errUnsupported. A line longer than r's buffer is errMalformed.
// It allocates only to report an error.
func readResponse(r *bufio.Reader) (status int, closing bool, err error) {
	line, err := readLine(r)
	if err != nil {
		return 0, false, err
	}
	status, http10, err := parseStatusLine(line)
	if err != nil {
		return 0, false, err
	}
	closing, length := http10, int64(-1)
	for n := 0; ; n++ {
		line, err := readLine(r)
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		if err != nil {
			return 0, false, fmt.Errorf("headers: %w", err)
		}
		if len(line) == 0 {
			break
		}
		if n == maxHeaderLines {
			return 0, false, fmt.Errorf("%w: more than %d header lines", errMalformed, maxHeaderLines)
		}
		if length, closing, err = parseHeader(line, length, closing, http10); err != nil {
			return 0, false, err
		}
	}
	if status == 204 || status == 304 {
		return status, closing, nil
	}
	if length < 0 {
		return 0, false, fmt.Errorf("%w: status %d without Content-Length: hit reads only bodies framed by Content-Length", errUnsupported, status)
	}
	if _, err := r.Discard(int(length)); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return 0, false, fmt.Errorf("body: %w", err)
	}
	return status, closing, nil
}

// readLine returns the next line of r without its line end ("\r\n" or
// "\n"), valid until the next read. A clean end of input is io.EOF, one
// in the middle of a line io.ErrUnexpectedEOF.
func readLine(r *bufio.Reader) ([]byte, error) {
	line, err := r.ReadSlice('\n')
	switch {
	case errors.Is(err, bufio.ErrBufferFull):
		return nil, fmt.Errorf("%w: a line longer than %d bytes", errMalformed, r.Size())
	case errors.Is(err, io.EOF) && len(line) > 0:
		return nil, io.ErrUnexpectedEOF
	case err != nil:
		return nil, err
	}
	line = line[:len(line)-1]
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line, nil
}

// parseStatusLine parses "HTTP/1.1 200 OK" (the reason is optional) and
// reports whether it is HTTP/1.0, which closes the connection by default.
func parseStatusLine(line []byte) (status int, http10 bool, err error) {
	ok := len(line) >= 12 && bytes.HasPrefix(line, []byte("HTTP/1.")) &&
		(line[7] == '0' || line[7] == '1') && line[8] == ' ' && (len(line) == 12 || line[12] == ' ')
	for i := 9; ok && i < 12; i++ {
		ok = '0' <= line[i] && line[i] <= '9'
		status = status*10 + int(line[i]-'0')
	}
	switch {
	case !ok || status < 100:
		return 0, false, fmt.Errorf("%w: status line %q", errMalformed, line)
	case status < 200:
		return 0, false, fmt.Errorf("%w: interim response %d", errUnsupported, status)
	}
	return status, line[7] == '0', nil
}

// parseHeader reads the header line into the response's body length
// (-1: none yet) and whether the connection closes after it.
func parseHeader(line []byte, length int64, closing, http10 bool) (int64, bool, error) {
	name, value, ok := bytes.Cut(line, []byte(":"))
	if !ok || len(name) == 0 || bytes.ContainsAny(name, " \t") {
		return 0, false, fmt.Errorf("%w: header line %q", errMalformed, line)
	}
	value = bytes.Trim(value, " \t")
	switch {
	case bytes.EqualFold(name, []byte("Content-Length")):
		n, ok := parseLength(value)
		if !ok || length >= 0 && n != length {
			return 0, false, fmt.Errorf("%w: Content-Length %q", errMalformed, value)
		}
		length = n
	case bytes.EqualFold(name, []byte("Transfer-Encoding")):
		return 0, false, fmt.Errorf("%w: Transfer-Encoding %q: hit reads only bodies framed by Content-Length", errUnsupported, value)
	case bytes.EqualFold(name, []byte("Connection")):
		if hasToken(value, "close") {
			closing = true
		} else if http10 && hasToken(value, "keep-alive") {
			closing = false
		}
	}
	return length, closing, nil
}

// parseLength parses a Content-Length: decimal digits only, below 1 GB.
func parseLength(v []byte) (int64, bool) {
	if len(v) == 0 || len(v) > 9 {
		return 0, false
	}
	var n int64
	for _, c := range v {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// hasToken reports whether the comma-separated list v holds token, in any
// case.
func hasToken(v []byte, token string) bool {
	for len(v) > 0 {
		var t []byte
		t, v, _ = bytes.Cut(v, []byte(","))
		if bytes.EqualFold(bytes.Trim(t, " \t"), []byte(token)) {
			return true
		}
	}
	return false
}
