package offheap

import (
	"math/rand/v2"
	"runtime"
	"testing"
)

type value struct {
	A uint64
	B [3]int32
}

// TestTableAgreesWithMap runs random Puts, Gets and Deletes (and now and
// then a DeleteFunc or Clear) on a Table and a Go map, over few keys so that
// probe chains collide, wrap around the end and shift back, and through
// growth and shrinking; after every step the two must hold the same.
func TestTableAgreesWithMap(t *testing.T) {
	for _, keys := range []int{10, 300, 5000} {
		r := rand.New(rand.NewPCG(1, uint64(keys)))
		tab, ref := New[value](), map[uint64]value{}
		key := func() uint64 {
			k := uint64(r.IntN(keys))
			if k%2 == 1 {
				k *= 0x9e3779b97f4a7c15 // spread, but some keys small: 0 and 1 are one
			}
			return k
		}
		for step := range 200_000 {
			k := key()
			switch op := r.IntN(100); {
			case op < 45:
				v, fresh := tab.Put(k)
				_, had := ref[fix(k)]
				if fresh == had {
					t.Fatalf("keys %d, step %d: Put(%d) fresh %v, map had it: %v", keys, step, k, fresh, had)
				}
				v.A++
				v.B[2] = int32(step)
				ref[fix(k)] = *v
			case op < 85:
				if got := tab.Delete(k); got != hasKey(ref, fix(k)) {
					t.Fatalf("keys %d, step %d: Delete(%d) = %v", keys, step, k, got)
				}
				delete(ref, fix(k))
			case op < 99:
				v := tab.Get(k)
				want, ok := ref[fix(k)]
				if (v != nil) != ok || (ok && *v != want) {
					t.Fatalf("keys %d, step %d: Get(%d) = %v, want %v, %v", keys, step, k, v, want, ok)
				}
			case r.IntN(20) == 0:
				tab.Clear()
				clear(ref)
			default:
				odd := func(s *Slot[value]) bool { return s.Val.A%2 == 1 }
				n := 0
				for k, v := range ref {
					if v.A%2 == 1 {
						delete(ref, k)
						n++
					}
				}
				if got := tab.DeleteFunc(odd); got != n {
					t.Fatalf("keys %d, step %d: DeleteFunc removed %d, want %d", keys, step, got, n)
				}
			}
			if tab.Len() != len(ref) {
				t.Fatalf("keys %d, step %d: Len %d, map holds %d", keys, step, tab.Len(), len(ref))
			}
			if step%1000 == 0 {
				same(t, tab, ref)
			}
		}
		same(t, tab, ref)
	}
}

func hasKey(m map[uint64]value, k uint64) bool {
	_, ok := m[k]
	return ok
}

// same fails unless tab holds what ref does, every key where Get finds it
// and within the load bounds.
func same(t *testing.T, tab *Table[value], ref map[uint64]value) {
	t.Helper()
	n := 0
	tab.Range(func(s *Slot[value]) bool {
		n++
		if want, ok := ref[s.Key()]; !ok || want != s.Val {
			t.Fatalf("slot %d = %v, map has %v, %v", s.Key(), s.Val, want, ok)
		}
		if tab.Get(s.Key()) != &s.Val {
			t.Fatalf("Get(%d) does not find its slot", s.Key())
		}
		return true
	})
	if n != len(ref) {
		t.Fatalf("Range visited %d, map holds %d", n, len(ref))
	}
	if c := tab.Cap(); tab.Len()*100 > c*maxLoadNum || (c > least[value]() && tab.Len()*4 < c) {
		t.Fatalf("%d keys in %d slots", tab.Len(), c)
	}
}

// TestRangeFrom: from any start, RangeFrom visits n distinct keys (all,
// when fewer), and stops when f says so.
func TestRangeFrom(t *testing.T) {
	tab := New[value]()
	for k := range uint64(100) {
		tab.Put(k + 2)
	}
	for _, r := range []uint64{0, 1 << 63, ^uint64(0), 12345} {
		seen := map[uint64]bool{}
		tab.RangeFrom(r, 8, func(s *Slot[value]) bool { seen[s.Key()] = true; return true })
		if len(seen) != 8 {
			t.Fatalf("from %d: %d keys, want 8", r, len(seen))
		}
		seen = map[uint64]bool{}
		tab.RangeFrom(r, 1000, func(s *Slot[value]) bool { seen[s.Key()] = true; return true })
		if len(seen) != 100 {
			t.Fatalf("from %d, n 1000: %d keys, want all 100", r, len(seen))
		}
		calls := 0
		tab.RangeFrom(r, 8, func(*Slot[value]) bool { calls++; return false })
		if calls != 1 {
			t.Fatalf("from %d: %d calls after f returned false", r, calls)
		}
	}
}

// TestNewRefusesPointers: a value the collector would have to scan is
// refused.
func TestNewRefusesPointers(t *testing.T) {
	for name, f := range map[string]func(){
		"string":  func() { New[string]() },
		"pointer": func() { New[*int]() },
		"struct of slice": func() {
			New[struct {
				A int
				B []byte
			}]()
		},
		"array of any": func() { New[[2]any]() },
		"uintptr":      func() { New[uintptr]() },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: New did not panic", name)
				}
			}()
			f()
		}()
	}
	New[struct {
		A [4]byte
		B int64
		C struct{ D [2]uint32 }
	}]() // pointer-free: no panic
}

// TestTableIsOffHeap: a million values leave Go's heap as it was, and
// Clear gives their memory back.
func TestTableIsOffHeap(t *testing.T) {
	if !Outside {
		t.Skip("no mmap here: slots are on the heap")
	}
	live := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	before := live()
	tab := New[value]()
	spread := func(k uint64) uint64 { return k*0x9e3779b97f4a7c15 + 1 }
	for k := range uint64(1_000_000) {
		v, _ := tab.Put(spread(k))
		v.A = k
	}
	after := live()
	grown := after - min(before, after)
	size := uint64(tab.Cap()) * 32
	if grown > size/100 {
		t.Fatalf("the heap grew by %d bytes with %d bytes of slots", grown, size)
	}
	if m := Mapped(); m < int64(size) {
		t.Fatalf("Mapped() = %d with %d bytes of slots", m, size)
	}
	if v := tab.Get(spread(5)); v == nil || v.A != 5 {
		t.Fatalf("key 5: %v", v)
	}
	m := Mapped()
	tab.Clear()
	if tab.Len() != 0 || tab.Cap() != 0 || tab.Get(1) != nil {
		t.Fatalf("after Clear: Len %d, Cap %d", tab.Len(), tab.Cap())
	}
	if freed := m - Mapped(); freed < int64(size) { // more when the cleanups of earlier tests' tables ran
		t.Fatalf("Clear gave back %d bytes of %d", freed, size)
	}
}

// BenchmarkTableGet: a hit among 100,000 keys.
func BenchmarkTableGet(b *testing.B) {
	tab := New[value]()
	keys := make([]uint64, 100_000)
	for i := range keys {
		keys[i] = rand.Uint64()
		tab.Put(keys[i])
	}
	i := 0
	for b.Loop() {
		if tab.Get(keys[i%len(keys)]) == nil {
			b.Fatal("miss")
		}
		i++
	}
}

// FuzzTable runs the operations a fuzzer's bytes spell on a Table and a Go
// map, keys from a few bits so that chains collide and wrap, and fails
// when they differ.
func FuzzTable(f *testing.F) {
	f.Add([]byte{0, 1, 0, 2, 0, 3, 1, 2, 2, 1, 3, 0})
	f.Add([]byte{0, 0, 0, 255, 1, 0, 4, 0, 0, 7})
	f.Fuzz(func(t *testing.T, ops []byte) {
		tab, ref := New[value](), map[uint64]value{}
		for i := 0; i+1 < len(ops); i += 2 {
			k := uint64(ops[i+1]) * 0x9e3779b97f4a7c15 >> (ops[i+1] % 3 * 20)
			switch ops[i] % 5 {
			case 0, 1:
				v, _ := tab.Put(k)
				v.A += uint64(i) + 1
				ref[fix(k)] = *v
			case 2:
				tab.Delete(k)
				delete(ref, fix(k))
			case 3:
				v := tab.Get(k)
				if want, ok := ref[fix(k)]; (v != nil) != ok || (ok && *v != want) {
					t.Fatalf("op %d: Get(%d) = %v, want %v, %v", i/2, k, v, want, ok)
				}
			case 4:
				tab.DeleteFunc(func(s *Slot[value]) bool { return s.Key()%3 == uint64(ops[i+1])%3 })
				for k := range ref {
					if k%3 == uint64(ops[i+1])%3 {
						delete(ref, k)
					}
				}
			}
		}
		same(t, tab, ref)
	})
}
