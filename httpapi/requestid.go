package httpapi

import (
	"encoding/binary"
	"encoding/hex"
	"math/rand/v2"
	"net/http"

	"github.com/labstack/echo/v4"
)

// MaxRequestIDLen is the longest X-Request-Id taken from a client.
const MaxRequestIDLen = 64

// assignRequestID gives a request its id (Chain's first step, and the
// fast path's), answered in X-Request-Id of res and logged, and returns
// it: the client's own X-Request-Id in req when ValidRequestID accepts it,
// else a new random one (32 hex digits). A client can thus neither flood
// the log and the answer with a huge id nor forge one that holds a
// separator. A new id costs two allocations, the client's none.
func assignRequestID(req, res http.Header) string {
	if v := req[echo.HeaderXRequestID]; len(v) > 0 && ValidRequestID(v[0]) {
		// The request's own value slice, capped at its first element: an
		// Add to the response's header copies it rather than overwrite a
		// second value of the request's (nginx sends one on every /auth).
		res[echo.HeaderXRequestID] = v[:1:1]
		return v[0]
	}
	id := newRequestID()
	res[echo.HeaderXRequestID] = []string{id}
	return id
}

// ValidRequestID reports whether a client's request id is usable as is:
// 1 to MaxRequestIDLen characters of [A-Za-z0-9._-].
func ValidRequestID(id string) bool {
	if id == "" || len(id) > MaxRequestIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		if !idChar[id[i]] {
			return false
		}
	}
	return true
}

var idChar = func() (t [256]bool) {
	for c := 'a'; c <= 'z'; c++ {
		t[c], t[c-'a'+'A'] = true, true
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	t['.'], t['_'], t['-'] = true, true, true
	return t
}()

// newRequestID returns 128 random bits in hex. math/rand/v2's global
// source is ChaCha8, seeded from the OS: unpredictable enough that no
// client can aim at another's id.
func newRequestID() string {
	var raw [16]byte
	binary.LittleEndian.PutUint64(raw[:8], rand.Uint64())
	binary.LittleEndian.PutUint64(raw[8:], rand.Uint64())
	var out [32]byte
	hex.Encode(out[:], raw[:])
	return string(out[:])
}
