package httpapi

import "net/http"

// stackReserve is the stack ReserveStack makes room for: with the frames
// below it (net/http's connection, about 1.3 KiB), it takes a goroutine's
// stack from its first 2 or 4 KiB straight to 8 KiB, which /auth's
// deepest path fits in (authz's check keeps it within 8 KiB).
const stackReserve = 4 << 10

// ReserveStack serves next on a goroutine stack grown, if it must grow,
// before next runs rather than within it.
//
// A connection's goroutine starts with a small stack (2 KiB, or the
// runtime's running average) and doubles it, by copying, whenever a call
// needs more; the garbage collector halves it again when an idle
// connection uses less than a quarter. Each copy rewrites every frame on
// the stack, looking up each frame's pointer map: grown deep inside
// /auth, about 15 frames down, it cost 3.3 µs a new goroutine, more than a
// whole cached /auth (cmd/keygate's BenchmarkServeAuthNewGoroutine: 7.0
// µs without ReserveStack, 3.7 with). Grown here, with three frames on the
// stack, it costs a fraction of that. On a stack already large enough,
// ReserveStack costs a call.
func ReserveStack(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reserveStack(0)
		next.ServeHTTP(w, r)
	})
}

// reserveStack has a frame of stackReserve bytes, which its prologue asks
// the runtime for (growing the stack when it lacks them), and which it
// never touches when n is 0: Go zeroes room only where it is declared.
//
//go:noinline
func reserveStack(n int) byte {
	if n == 0 {
		return 0
	}
	var room [stackReserve]byte
	room[n%stackReserve] = byte(n)
	return room[(n+1)%stackReserve]
}
