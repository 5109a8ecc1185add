package testenv

import "runtime"

// Heap collects garbage and returns the Go heap's live bytes (HeapAlloc)
// and the bytes of its spans in use (HeapInuse), for benchmarks that
// report the memory something holds.
func Heap() (alloc, inuse int64) {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc), int64(m.HeapInuse)
}
