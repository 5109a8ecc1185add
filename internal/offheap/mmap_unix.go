//go:build unix

package offheap

import (
	"fmt"
	"syscall"
)

// Outside is whether a Table's slots are outside Go's heap here.
const Outside = true

// alloc maps n bytes of zeroed memory of the process's own.
func alloc(n int) []byte {
	b, err := syscall.Mmap(-1, 0, n, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		panic(fmt.Sprintf("offheap: mmap %d bytes: %v", n, err)) // as the runtime does when out of memory
	}
	return b
}

func freeBytes(b []byte) {
	if b != nil {
		if err := syscall.Munmap(b); err != nil {
			panic(fmt.Sprintf("offheap: munmap: %v", err))
		}
	}
}
