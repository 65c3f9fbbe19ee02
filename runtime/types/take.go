package types

import (
	"fmt"
	"unsafe"
)

// Take returns a column of len(idx) rows where row i is c's row idx[i], or null when idx[i] < 0.
func (c *Column) Take(idx []int32) *Column { return TakeFrom([]*Column{c}, idx) }

// TakeFrom is Take over the concatenation of srcs (columns of one type) without building it: row i
// is row idx[i] of srcs[0] ++ srcs[1] ++ ..., or null when idx[i] < 0.
func TakeFrom(srcs []*Column, idx []int32) *Column {
	compact := 0
	for _, c := range srcs {
		if c.List != nil {
			compact++
		}
	}
	if compact > 0 && compact < len(srcs) {
		// Mixed forms: take from the boxed form of every source.
		boxed := make([]*Column, len(srcs))
		for s, c := range srcs {
			boxed[s] = c.Expanded()
		}
		srcs = boxed
	}
	out := &Column{Type: srcs[0].Type}
	n := len(idx)
	// bases[s] is the first row of srcs[s] in the concatenation.
	bases := make([]int32, len(srcs))
	needNulls := false
	total := int32(0)
	for s, c := range srcs {
		bases[s] = total
		total += int32(c.Len())
		needNulls = needNulls || c.Nulls != nil
	}
	if !needNulls {
		for _, j := range idx {
			if j < 0 {
				needNulls = true
				break
			}
		}
	}
	if needNulls {
		nulls := make([][]bool, len(srcs))
		for s, c := range srcs {
			nulls[s] = c.Nulls
		}
		out.Nulls = make([]bool, n)
		gather(out.Nulls, nulls, bases, idx, true, false)
	}
	if srcs[0].List != nil {
		takeLists(out, srcs, bases, idx)
		return out
	}
	switch storage(out.Type.Kind) {
	case storeBool:
		out.Bools = gatherCol(srcs, bases, idx, func(c *Column) []bool { return c.Bools })
	case storeInt:
		out.Ints = gatherCol(srcs, bases, idx, func(c *Column) []int64 { return c.Ints })
	case storeFloat:
		out.Floats = gatherCol(srcs, bases, idx, func(c *Column) []float64 { return c.Floats })
	case storeString:
		out.Strs = gatherCol(srcs, bases, idx, func(c *Column) []string { return c.Strs })
	case storeBytes:
		out.Bytes = gatherCol(srcs, bases, idx, func(c *Column) [][]byte { return c.Bytes })
	default:
		out.Values = gatherCol(srcs, bases, idx, func(c *Column) []any { return c.Values })
	}
	return out
}

func gatherCol[T any](srcs []*Column, bases, idx []int32, data func(*Column) []T) []T {
	vals := make([][]T, len(srcs))
	for s, c := range srcs {
		vals[s] = data(c)
	}
	out := make([]T, len(idx))
	var zero T
	gather(out, vals, bases, idx, zero, zero)
	return out
}

// gather sets dst[i] to row idx[i] of the concatenation of srcs (whose first rows are bases): missing
// when idx[i] < 0, absent when that row's source slice is nil (a column without nulls has nil Nulls).
func gather[T any](dst []T, srcs [][]T, bases, idx []int32, missing, absent T) {
	if len(srcs) == 1 {
		src := srcs[0]
		if src == nil {
			for i, j := range idx {
				dst[i] = absent
				if j < 0 {
					dst[i] = missing
				}
			}
			return
		}
		for i, j := range idx {
			if j < 0 {
				dst[i] = missing
			} else {
				dst[i] = src[j]
			}
		}
		return
	}
	for i, j := range idx {
		if j < 0 {
			dst[i] = missing
			continue
		}
		s := srcOf(bases, j)
		if src := srcs[s]; src != nil {
			dst[i] = src[j-bases[s]]
		} else {
			dst[i] = absent
		}
	}
}

// AppendColumn appends every row of src (same type) to c.
func (c *Column) AppendColumn(src *Column) {
	switch {
	case c.List != nil && src.List == nil:
		c.expand()
	case c.List == nil && src.List != nil:
		src = src.Expanded()
	}
	n := c.Len()
	if src.Nulls != nil || c.Nulls != nil {
		if c.Nulls == nil {
			c.Nulls = make([]bool, n, n+src.Len())
		}
		if src.Nulls != nil {
			c.Nulls = append(c.Nulls, src.Nulls...)
		} else {
			c.Nulls = append(c.Nulls, make([]bool, src.Len())...)
		}
	}
	switch storage(c.Type.Kind) {
	case storeBool:
		c.Bools = append(c.Bools, src.Bools...)
	case storeInt:
		c.Ints = append(c.Ints, src.Ints...)
	case storeFloat:
		c.Floats = append(c.Floats, src.Floats...)
	case storeString:
		c.Strs = append(c.Strs, src.Strs...)
	case storeBytes:
		c.Bytes = append(c.Bytes, src.Bytes...)
	default:
		if c.List != nil {
			c.List.appendRows(src.List)
			return
		}
		c.Values = append(c.Values, src.Values...)
	}
}

// Concat appends batches with the same schema into one new batch.
func Concat(schema Schema, batches []*Batch) *Batch {
	total := 0
	for _, b := range batches {
		total += b.Len()
	}
	out := NewBatch(schema, total)
	for _, b := range batches {
		for i, c := range b.Cols {
			out.Cols[i].AppendColumn(c)
		}
	}
	return out
}

// Slice returns rows [lo, hi) of c as a column sharing c's storage (not to be appended to).
func (c *Column) Slice(lo, hi int) *Column {
	out := &Column{Type: c.Type}
	if c.Nulls != nil {
		out.Nulls = c.Nulls[lo:hi:hi]
	}
	if l := c.List; l != nil {
		out.List = &NumList{Off: l.Off[lo : hi+1 : hi+1], Ints: l.Ints, Floats: l.Floats}
		return out
	}
	switch storage(c.Type.Kind) {
	case storeBool:
		out.Bools = c.Bools[lo:hi:hi]
	case storeInt:
		out.Ints = c.Ints[lo:hi:hi]
	case storeFloat:
		out.Floats = c.Floats[lo:hi:hi]
	case storeString:
		out.Strs = c.Strs[lo:hi:hi]
	case storeBytes:
		out.Bytes = c.Bytes[lo:hi:hi]
	default:
		out.Values = c.Values[lo:hi:hi]
	}
	return out
}

// Windows returns one empty column per entry of sizes, all of type t, that append into consecutive
// row ranges of one shared column: parallel readers fill a column in place instead of each building
// its own to be concatenated. join returns the whole column once every window holds exactly its
// size in rows (a window that outgrew its range, which callers avoid, is copied back in).
func Windows(t *Type, sizes []int) (parts []*Column, join func() (*Column, error)) {
	total := 0
	for _, n := range sizes {
		total += n
	}
	whole := NewColumn(t, total)
	parts = make([]*Column, len(sizes))
	off := 0
	for i, n := range sizes {
		parts[i] = &Column{Type: t}
		switch storage(t.Kind) {
		case storeBool:
			parts[i].Bools = whole.Bools[off : off : off+n]
		case storeInt:
			parts[i].Ints = whole.Ints[off : off : off+n]
		case storeFloat:
			parts[i].Floats = whole.Floats[off : off : off+n]
		case storeString:
			parts[i].Strs = whole.Strs[off : off : off+n]
		case storeBytes:
			parts[i].Bytes = whole.Bytes[off : off : off+n]
		default:
			parts[i].Values = whole.Values[off : off : off+n]
		}
		off += n
	}
	join = func() (*Column, error) {
		off := 0
		for i, p := range parts {
			n := sizes[i]
			if p.Len() != n {
				return nil, fmt.Errorf("column window %d holds %d rows, want %d", i, p.Len(), n)
			}
			switch storage(t.Kind) {
			case storeBool:
				copyUnlessSame(whole.Bools[off:off+n], p.Bools)
			case storeInt:
				copyUnlessSame(whole.Ints[off:off+n], p.Ints)
			case storeFloat:
				copyUnlessSame(whole.Floats[off:off+n], p.Floats)
			case storeString:
				copyUnlessSame(whole.Strs[off:off+n], p.Strs)
			case storeBytes:
				copyUnlessSame(whole.Bytes[off:off+n], p.Bytes)
			default:
				copyUnlessSame(whole.Values[off:off+n], p.Values)
			}
			if p.Nulls != nil {
				if whole.Nulls == nil {
					whole.Nulls = make([]bool, total)
				}
				copy(whole.Nulls[off:off+n], p.Nulls)
			}
			off += n
		}
		switch storage(t.Kind) {
		case storeBool:
			whole.Bools = whole.Bools[:total]
		case storeInt:
			whole.Ints = whole.Ints[:total]
		case storeFloat:
			whole.Floats = whole.Floats[:total]
		case storeString:
			whole.Strs = whole.Strs[:total]
		case storeBytes:
			whole.Bytes = whole.Bytes[:total]
		default:
			whole.Values = whole.Values[:total]
		}
		return whole, nil
	}
	return parts, join
}

// copyUnlessSame copies src into dst unless src already is dst's storage (a window filled in place).
func copyUnlessSame[T any](dst, src []T) {
	if len(src) > 0 && unsafe.SliceData(dst) != unsafe.SliceData(src) {
		copy(dst, src)
	}
}
