package types

import "unsafe"

// ListArena hands out the list values ([]any of int64 or float64 elements) of many rows from shared
// slabs. A list built one element at a time costs an allocation per boxed element and scatters the
// elements over the heap, so a writer walking a million LAST_K lists spends its time on cache
// misses; from an arena a batch's lists and elements lie contiguously, a few allocations in all.
//
// The interfaces point into the arena's value slabs instead of to individually allocated boxes. Go's
// garbage collector follows interior pointers, so a slab lives as long as any value boxed in it, and
// nothing ever writes through these interfaces: the values are as immutable as ordinary boxes. An
// arena is not safe for concurrent use; give each worker its own.
type ListArena struct {
	anys   []any
	ints   []int64
	floats []float64
}

// slabLen is the number of elements per slab: large enough that slab allocations are rare, small
// enough that a few long-lived lists do not pin much memory.
const slabLen = 16 << 10

// Int64s returns n fresh int64 slots to fill before boxing them with BoxInt64s.
func (a *ListArena) Int64s(n int) []int64 {
	if cap(a.ints)-len(a.ints) < n {
		a.ints = make([]int64, 0, max(n, slabLen))
	}
	s := a.ints[len(a.ints) : len(a.ints)+n : len(a.ints)+n]
	a.ints = a.ints[:len(a.ints)+n]
	return s
}

// Float64s returns n fresh float64 slots to fill before boxing them with BoxFloat64s.
func (a *ListArena) Float64s(n int) []float64 {
	if cap(a.floats)-len(a.floats) < n {
		a.floats = make([]float64, 0, max(n, slabLen))
	}
	s := a.floats[len(a.floats) : len(a.floats)+n : len(a.floats)+n]
	a.floats = a.floats[:len(a.floats)+n]
	return s
}

func (a *ListArena) list(n int) []any {
	if cap(a.anys)-len(a.anys) < n {
		a.anys = make([]any, 0, max(n, slabLen))
	}
	s := a.anys[len(a.anys) : len(a.anys)+n : len(a.anys)+n]
	a.anys = a.anys[:len(a.anys)+n]
	return s
}

// eface is the layout of an empty interface.
type eface struct {
	typ  unsafe.Pointer
	data unsafe.Pointer
}

var (
	int64Type   = (*eface)(unsafe.Pointer(&[]any{int64(0)}[0])).typ
	float64Type = (*eface)(unsafe.Pointer(&[]any{float64(0)}[0])).typ
)

// BoxInt64s returns a list whose elements are vals, which must come from a.Int64s and must not be
// changed afterwards.
func (a *ListArena) BoxInt64s(vals []int64) []any {
	out := a.list(len(vals))
	for i := range vals {
		var v any
		e := (*eface)(unsafe.Pointer(&v))
		e.typ, e.data = int64Type, unsafe.Pointer(&vals[i])
		out[i] = v
	}
	return out
}

// BoxFloat64s returns a list whose elements are vals, which must come from a.Float64s and must not
// be changed afterwards.
func (a *ListArena) BoxFloat64s(vals []float64) []any {
	out := a.list(len(vals))
	for i := range vals {
		var v any
		e := (*eface)(unsafe.Pointer(&v))
		e.typ, e.data = float64Type, unsafe.Pointer(&vals[i])
		out[i] = v
	}
	return out
}
