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
	anys    []any
	ints    []int64
	floats  []float64
	headers [][]any // the lists' slice headers, which boxing a list would otherwise allocate one by one
}

// slabLen is the number of elements per slab: large enough that slab allocations are rare, small
// enough that a few long-lived lists do not pin much memory.
const slabLen = 16 << 10

// Int64s returns n fresh int64 slots to fill before boxing them with BoxInt64s.
func (a *ListArena) Int64s(n int) []int64 { return take(&a.ints, n) }

// Float64s returns n fresh float64 slots to fill before boxing them with BoxFloat64s.
func (a *ListArena) Float64s(n int) []float64 { return take(&a.floats, n) }

func (a *ListArena) list(n int) []any { return take(&a.anys, n) }

// take hands out the next n elements of *slab, starting a new slab when it is full.
func take[T any](slab *[]T, n int) []T {
	s := *slab
	if s == nil || cap(s)-len(s) < n { // a nil slab would make an empty list nil, unlike a box's
		s = make([]T, 0, max(n, slabLen))
	}
	out := s[len(s) : len(s)+n : len(s)+n]
	*slab = s[:len(s)+n]
	return out
}

// eface is the layout of an empty interface.
type eface struct {
	typ  unsafe.Pointer
	data unsafe.Pointer
}

var (
	int64Type   = (*eface)(unsafe.Pointer(&[]any{int64(0)}[0])).typ
	float64Type = (*eface)(unsafe.Pointer(&[]any{float64(0)}[0])).typ
	listType    = (*eface)(unsafe.Pointer(&[]any{[]any(nil)}[0])).typ
)

// BoxInt64s returns a list value (an any holding a []any) whose elements are vals, which must come
// from a.Int64s and must not be changed afterwards.
func (a *ListArena) BoxInt64s(vals []int64) any {
	return a.boxList(box(a.list(len(vals)), vals, int64Type))
}

// BoxFloat64s is BoxInt64s for float64 elements from a.Float64s.
func (a *ListArena) BoxFloat64s(vals []float64) any {
	return a.boxList(box(a.list(len(vals)), vals, float64Type))
}

// boxList returns l as an any whose slice header lives in the arena.
func (a *ListArena) boxList(l []any) any {
	h := take(&a.headers, 1)
	h[0] = l
	var v any
	e := (*eface)(unsafe.Pointer(&v))
	e.typ, e.data = listType, unsafe.Pointer(&h[0])
	return v
}

// box makes out[i] an interface of type typ pointing at vals[i].
func box[T int64 | float64](out []any, vals []T, typ unsafe.Pointer) []any {
	for i := range vals {
		var v any
		e := (*eface)(unsafe.Pointer(&v))
		e.typ, e.data = typ, unsafe.Pointer(&vals[i])
		out[i] = v
	}
	return out
}
