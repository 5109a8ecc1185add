//go:build !unix

package offheap

import "unsafe"

// Outside is whether a Table's slots are outside Go's heap here.
const Outside = false

// alloc returns n bytes of zeroed memory, here on Go's heap (8-byte
// aligned, as slots need): there is no mmap.
func alloc(n int) []byte {
	w := make([]uint64, (n+7)/8)
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(w))), n)
}

func freeBytes([]byte) {}
