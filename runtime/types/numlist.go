package types

import (
	"fmt"
	"runtime"
	"sync"
)

// NumList is the compact form of a list column of integers or doubles whose elements are never null,
// as LAST_K and FIRST_K produce them: row i's elements are Ints[Off[i]:Off[i+1]] (Floats for
// floating-point elements), and a null row has none. Boxed, every element costs an interface and a
// box besides its eight bytes, which the garbage collector must trace: a million LAST_K(10) lists
// take three times the memory and most of a collection's marking time. Only the backfill's
// aggregation builds compact columns (for the output writer); Expanded turns one into the boxed
// form that everything else reads.
type NumList struct {
	Off    []int // len rows+1; offsets into Ints or Floats, absolute (a Slice shares them)
	Ints   []int64
	Floats []float64
}

// CompactListType reports whether columns of type t can be held as a NumList.
func CompactListType(t *Type) bool {
	if t.Kind != List || t.Elem == nil {
		return false
	}
	s := storage(t.Elem.Kind)
	return s == storeInt || s == storeFloat
}

// NewCompactListColumn returns an empty compact column of type t (see CompactListType) with room for
// n rows.
func NewCompactListColumn(t *Type, n int) *Column {
	if !CompactListType(t) {
		panic(fmt.Sprintf("types: %s lists cannot be compact", t))
	}
	off := make([]int, 1, n+1)
	return &Column{Type: t, List: &NumList{Off: off}}
}

func (l *NumList) floats(t *Type) bool { return storage(t.Elem.Kind) == storeFloat }

// AppendInts appends a row of m integer elements and returns them to fill. The column must be a
// compact list of integers.
func (c *Column) AppendInts(m int) []int64 { return appendRow(c, &c.List.Ints, m) }

// AppendFloats is AppendInts for a compact list of doubles.
func (c *Column) AppendFloats(m int) []float64 { return appendRow(c, &c.List.Floats, m) }

func appendRow[T int64 | float64](c *Column, vals *[]T, m int) []T {
	n := len(*vals)
	*vals = append(*vals, make([]T, m)...)
	c.List.Off = append(c.List.Off, n+m)
	if c.Nulls != nil {
		c.Nulls = append(c.Nulls, false)
	}
	return (*vals)[n : n+m]
}

// listValue boxes row i of a compact column (not null).
func (c *Column) listValue(i int) any {
	l := c.List
	lo, hi := l.Off[i], l.Off[i+1]
	out := make([]any, hi-lo)
	if l.floats(c.Type) {
		for j, v := range l.Floats[lo:hi] {
			out[j] = v
		}
	} else {
		for j, v := range l.Ints[lo:hi] {
			out[j] = v
		}
	}
	return out
}

// appendList appends a boxed list to a compact column; false when it has a null or foreign element
// (the caller then expands the column).
func (c *Column) appendList(v any) bool {
	items, ok := v.([]any)
	if !ok {
		return false
	}
	if c.List.floats(c.Type) {
		ok = appendElems(c, &c.List.Floats, items)
	} else {
		ok = appendElems(c, &c.List.Ints, items)
	}
	return ok
}

// appendElems appends a row of items, all of type T, to a compact column whose elements are vals;
// false, with nothing appended, when one is of another type or nil.
func appendElems[T int64 | float64](c *Column, vals *[]T, items []any) bool {
	for _, x := range items {
		if _, ok := x.(T); !ok {
			return false
		}
	}
	for _, x := range items {
		*vals = append(*vals, x.(T))
	}
	c.List.Off = append(c.List.Off, len(*vals))
	if c.Nulls != nil {
		c.Nulls = append(c.Nulls, false)
	}
	return true
}

// Expanded returns c in the boxed form (c itself unless it is compact).
func (c *Column) Expanded() *Column {
	if c.List == nil {
		return c
	}
	out := &Column{Type: c.Type, Nulls: c.Nulls, Values: make([]any, c.Len())}
	for i := range out.Values {
		if !c.IsNull(i) {
			out.Values[i] = c.listValue(i)
		}
	}
	return out
}

// expand turns c into the boxed form in place.
func (c *Column) expand() {
	e := c.Expanded()
	c.List, c.Values, c.Nulls = nil, e.Values, e.Nulls
}

// ExpandedBatch returns b with every compact column boxed (b itself when it has none).
func ExpandedBatch(b *Batch) *Batch {
	out := b
	for i, c := range b.Cols {
		if c.List == nil {
			continue
		}
		if out == b {
			out = &Batch{Schema: b.Schema, Cols: append([]*Column(nil), b.Cols...)}
		}
		out.Cols[i] = c.Expanded()
	}
	return out
}

// appendRows appends the rows of src (a list of the same element type).
func (l *NumList) appendRows(src *NumList) {
	lo, hi := src.Off[0], src.Off[len(src.Off)-1]
	base := len(l.Ints) + len(l.Floats)
	if hi > lo && src.Floats != nil {
		l.Floats = append(l.Floats, src.Floats[lo:hi]...)
	} else if hi > lo {
		l.Ints = append(l.Ints, src.Ints[lo:hi]...)
	}
	for _, o := range src.Off[1:] {
		l.Off = append(l.Off, base+o-lo)
	}
}

// takeLists is TakeFrom for compact columns: row i is row idx[i] of the concatenation of srcs. Rows
// are located and measured, then copied, in parallel ranges (a million LAST_K lists are tens of
// megabytes); the copy reads each row's location from the first pass instead of looking it up
// again at random.
func takeLists(out *Column, srcs []*Column, bases, idx []int32) {
	floats := srcs[0].List.floats(out.Type)
	n := len(idx)
	l := &NumList{Off: make([]int, n+1)}
	// Row i's elements are ln[i] from at[i] on in source src[i].
	at := make([]int, n)
	ln := make([]int32, n)
	src := make([]uint16, n)
	parts := runtime.GOMAXPROCS(0)
	if n < 1<<14 || len(srcs) > 1<<16 {
		parts = 1
	}
	sums := make([]int, parts+1)
	parallel(parts, func(p int) {
		total := 0
		for i := p * n / parts; i < (p+1)*n/parts; i++ {
			j := idx[i]
			if j < 0 {
				continue
			}
			s := srcOf(bases, j)
			off := srcs[s].List.Off
			r := int(j - bases[s])
			at[i], src[i], ln[i] = off[r], uint16(s), int32(off[r+1]-off[r])
			total += off[r+1] - off[r]
		}
		sums[p+1] = total
	})
	for p := range parts {
		sums[p+1] += sums[p]
	}
	if floats {
		l.Floats = make([]float64, sums[parts])
	} else {
		l.Ints = make([]int64, sums[parts])
	}
	parallel(parts, func(p int) {
		o := sums[p]
		for i := p * n / parts; i < (p+1)*n/parts; i++ {
			m := int(ln[i])
			l.Off[i] = o
			if m > 0 {
				sl := srcs[src[i]].List
				if floats {
					copy(l.Floats[o:o+m], sl.Floats[at[i]:at[i]+m])
				} else {
					copy(l.Ints[o:o+m], sl.Ints[at[i]:at[i]+m])
				}
				o += m
			}
		}
	})
	l.Off[n] = sums[parts]
	out.List = l
}

// parallel runs fn(0..parts-1) on their own goroutines and waits for them.
func parallel(parts int, fn func(int)) {
	if parts == 1 {
		fn(0)
		return
	}
	var wg sync.WaitGroup
	for p := range parts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			fn(p)
		}()
	}
	wg.Wait()
}

// srcOf is the source of concatenated row j.
func srcOf(bases []int32, j int32) int {
	s := len(bases) - 1
	for bases[s] > j {
		s--
	}
	return s
}
