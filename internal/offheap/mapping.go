package offheap

import (
	"os"
	"sync/atomic"
	"unsafe"
)

// mapped is the memory of every Table's slots, in bytes.
var mapped atomic.Int64

// Mapped is the memory of every Table's slots in the process, in bytes: it
// is not in Go's heap, nor in runtime.MemStats.
func Mapped() int64 { return mapped.Load() }

// mapping is the memory a Table's slots are in.
type mapping struct{ b []byte }

// allocate gives m zeroed memory for at least n slots, as many more as fill
// its last page, and returns them.
func allocate[V any](m *mapping, n int) []Slot[V] {
	n = slotsFor[V](n)
	m.b = alloc(n * int(unsafe.Sizeof(Slot[V]{})))
	mapped.Add(int64(len(m.b)))
	return unsafe.Slice((*Slot[V])(unsafe.Pointer(unsafe.SliceData(m.b))), n)
}

// slotsFor is the number of slots in the whole pages that n slots take.
func slotsFor[V any](n int) int {
	size, page := int(unsafe.Sizeof(Slot[V]{})), os.Getpagesize()
	return (n*size + page - 1) / page * page / size
}

// take returns m's memory, leaving m without: the caller frees it.
func (m *mapping) take() []byte {
	b := m.b
	m.b = nil
	return b
}

func (m *mapping) free() { release(m.take()) }

// release frees b, taken from a mapping.
func release(b []byte) {
	mapped.Add(-int64(len(b)))
	freeBytes(b)
}
