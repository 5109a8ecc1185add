// Package offheap holds Table, a hash table of pointer-free values whose
// slots live outside Go's heap.
//
// Why outside: Go's collector lets the heap grow by GOGC % of what is live
// before it collects (100 % by default), so every byte of a long-lived
// table on the heap costs about two of the process's resident memory.
// keygate holds one entry per key in its verification cache and one per
// key in its memory limiter, 100,000 of each at once: on the heap they
// made up three quarters of what was live, and their headroom most of the
// rest of keygate's resident set (README, Performance). A table in memory
// of its own (mmap) costs its size once, and the collector never scans it.
//
// The price is that a Table's memory is not the garbage collector's:
//   - V must hold no pointer (no pointer, string, slice, map, interface,
//     func or channel): the collector would not see what it points to.
//     New panics otherwise.
//   - A *V (or *Slot) from Get, Put, Range, RangeFrom or DeleteFunc is
//     valid until the next Put, Delete, DeleteFunc or Clear of the
//     table, which may move or unmap the slots: use it under the lock that
//     guards the table, and copy out what outlives it. It does not keep
//     the Table alive: keep the Table reachable while using it.
//   - The race detector does not see accesses to the slots: the lock that
//     guards the table is all there is.
//
// A Table is not safe for concurrent use; its memory is given back when
// the Table is garbage collected (or at once by Clear). On systems without
// mmap its slots are an ordinary Go slice.
package offheap

import (
	"fmt"
	"math/bits"
	"reflect"
	"runtime"
)

// Table is an open-addressing hash table (linear probing, backward-shift
// deletion) from uint64 keys to values V. Keys should be uniformly
// random (hashes): they are mixed, but not rehashed. Key 0 is stored as
// key 1 (the two are one key), since 0 marks a free slot.
//
// It holds at most 85 % of its slots; when it grows past that, or a
// removal leaves it under a quarter full, it is rebuilt at 60 %.
type Table[V any] struct {
	slots []Slot[V]
	n     int
	mem   *mapping // the memory of slots; a separate object, for the cleanup
}

// Slot is a key and its value.
type Slot[V any] struct {
	key uint64 // 0: free
	Val V
}

// least is the least number of slots a table has: a page's worth, or
// minSlots.
func least[V any]() int { return slotsFor[V](minSlots) }

// Key is the slot's key.
func (s *Slot[V]) Key() uint64 { return s.key }

const (
	maxLoadNum, maxLoadDen = 85, 100 // grow past this
	fillNum, fillDen       = 60, 100 // rebuild to this
	minSlots               = 16
)

// New returns an empty table; it takes memory at its first Put. It panics
// when V holds a pointer.
func New[V any]() *Table[V] {
	if t := reflect.TypeFor[V](); hasPointers(t) {
		panic(fmt.Sprintf("offheap: %v holds pointers", t))
	}
	t := &Table[V]{mem: &mapping{}}
	runtime.AddCleanup(t, (*mapping).free, t.mem)
	return t
}

// hasPointers reports whether values of t hold a pointer the garbage
// collector would have to see.
func hasPointers(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64, reflect.Complex64, reflect.Complex128:
		return false
	case reflect.Array:
		return t.Len() > 0 && hasPointers(t.Elem())
	case reflect.Struct:
		for i := range t.NumField() {
			if hasPointers(t.Field(i).Type) {
				return true
			}
		}
		return false
	}
	return true // pointers, strings, slices, maps, interfaces, funcs, channels, uintptr
}

// Len is the number of keys held.
func (t *Table[V]) Len() int { return t.n }

// Cap is the number of slots: the table's memory is Cap × the size of a
// Slot[V].
func (t *Table[V]) Cap() int { return len(t.slots) }

func fix(key uint64) uint64 {
	if key == 0 {
		return 1
	}
	return key
}

// home is key's first slot: the high bits of the mixed key, scaled to the
// number of slots (not a power of two).
func (t *Table[V]) home(key uint64) int {
	hi, _ := bits.Mul64(key*0x9e3779b97f4a7c15, uint64(len(t.slots)))
	return int(hi)
}

func (t *Table[V]) next(i int) int {
	if i++; i == len(t.slots) {
		return 0
	}
	return i
}

// Get returns key's value, or nil.
func (t *Table[V]) Get(key uint64) *V {
	if t.n == 0 {
		return nil
	}
	key = fix(key)
	for i := t.home(key); ; i = t.next(i) {
		switch s := &t.slots[i]; s.key {
		case key:
			return &s.Val
		case 0:
			return nil
		}
	}
}

// Put returns key's value, inserting a zero one (fresh) when key has none.
func (t *Table[V]) Put(key uint64) (v *V, fresh bool) {
	key = fix(key)
	if (t.n+1)*maxLoadDen > len(t.slots)*maxLoadNum {
		if v := t.Get(key); v != nil {
			return v, false
		}
		t.resize(t.n + 1)
	}
	for i := t.home(key); ; i = t.next(i) {
		switch s := &t.slots[i]; s.key {
		case key:
			return &s.Val, false
		case 0:
			s.key = key
			t.n++
			return &s.Val, true
		}
	}
}

// Delete removes key; false when it held none.
func (t *Table[V]) Delete(key uint64) bool {
	if t.n == 0 {
		return false
	}
	key = fix(key)
	for i := t.home(key); ; i = t.next(i) {
		switch t.slots[i].key {
		case key:
			t.remove(i)
			return true
		case 0:
			return false
		}
	}
}

// remove frees slot i, and shrinks the table when it is under a quarter
// full.
func (t *Table[V]) remove(i int) {
	t.shift(i)
	t.shrink()
}

// shift frees slot i, shifting back the slots after it that may not be
// left behind a free slot (their home is not after i, cyclically).
func (t *Table[V]) shift(i int) {
	for j := t.next(i); t.slots[j].key != 0; j = t.next(j) {
		// The slot at j may move to i when its home h is not in (i, j].
		h := t.home(t.slots[j].key)
		if (i < j && (h <= i || h > j)) || (i > j && h <= i && h > j) {
			t.slots[i] = t.slots[j]
			i = j
		}
	}
	t.slots[i] = Slot[V]{}
	t.n--
}

func (t *Table[V]) shrink() {
	if t.n*4 < len(t.slots) && len(t.slots) > least[V]() {
		t.resize(t.n)
	}
}

// Range calls f with every slot until f returns false. f must not Put or
// Delete; see DeleteFunc.
func (t *Table[V]) Range(f func(s *Slot[V]) bool) {
	for i := range t.slots {
		if t.slots[i].key != 0 && !f(&t.slots[i]) {
			return
		}
	}
}

// RangeFrom is Range starting at a slot chosen by r (any number; a random
// one gives a random start), visiting at most n keys.
func (t *Table[V]) RangeFrom(r uint64, n int, f func(s *Slot[V]) bool) {
	if t.n == 0 {
		return
	}
	hi, _ := bits.Mul64(r, uint64(len(t.slots)))
	for i, seen := int(hi), 0; seen < min(n, t.n); i = t.next(i) {
		if t.slots[i].key != 0 {
			seen++
			if !f(&t.slots[i]) {
				return
			}
		}
	}
}

// DeleteFunc removes every key for which del returns true and returns how
// many it removed, shrinking the table as Delete does. del may be called
// again with a slot it kept (one that a removal moved back past the end),
// so it must decide by the slot alone.
func (t *Table[V]) DeleteFunc(del func(s *Slot[V]) bool) int {
	removed := 0
	for i := 0; i < len(t.slots); {
		if s := &t.slots[i]; s.key != 0 && del(s) {
			t.shift(i) // and look at what moved into i
			removed++
			continue
		}
		i++
	}
	t.shrink()
	return removed
}

// Clear removes every key and gives the memory back.
func (t *Table[V]) Clear() {
	t.n = 0
	t.slots = nil
	t.mem.free()
}

// resize rebuilds the table with room for n keys at 60 % (at least least
// slots).
func (t *Table[V]) resize(n int) {
	old, oldMem := t.slots, t.mem.take()
	t.slots = allocate[V](t.mem, max(least[V](), n*fillDen/fillNum+1))
	t.n = 0
	for i := range old {
		if k := old[i].key; k != 0 {
			j := t.home(k)
			for t.slots[j].key != 0 {
				j = t.next(j)
			}
			t.slots[j] = old[i]
			t.n++
		}
	}
	release(oldMem)
}
