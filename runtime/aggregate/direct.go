package aggregate

import "github.com/chronon-go/chronon/runtime/types"

// Typed window loops for the direct path. computeDirect evaluates every window of a key from its raw
// events; for the common numeric shapes (COUNT, SUM, AVERAGE, FIRST_K, LAST_K of a number, without
// buckets) this file does the same with a loop over the key's values gathered into typed slices
// once per key, instead of one interface call per event, window and operation. Each loop performs
// exactly the updates and the finalization of the operation's State (same order, same arithmetic,
// null when no input was non-null), so both ways give identical results; TestDirectLoopsMatchStates
// checks that on random inputs.

// loopKind selects a typed loop; loopNone parts use the operation's State.
type loopKind uint8

const (
	loopNone loopKind = iota
	loopCount
	loopSumInt
	loopSumFloat
	loopAvgInt
	loopAvgFloat
	loopLastKInt
	loopLastKFloat
	loopFirstKInt
	loopFirstKFloat
)

// loopFor is the typed loop of base c, given its input column type.
func loopFor(c *columnAgg, in *types.Type) loopKind {
	if c.bucket >= 0 || c.mode != modeDirect {
		return loopNone
	}
	var isInt, isFloat bool
	switch in.Kind {
	case types.Byte, types.Short, types.Int, types.Long:
		isInt = true
	case types.Float, types.Double:
		isFloat = true
	}
	switch k := c.k.(type) {
	case countKernel:
		return loopCount
	case sumLongKernel:
		if isInt {
			return loopSumInt
		}
	case sumDoubleKernel:
		if isFloat {
			return loopSumFloat
		}
	case avgKernel:
		switch {
		case isInt:
			return loopAvgInt
		case isFloat:
			return loopAvgFloat
		}
	case timedK:
		if k.k <= 0 {
			return loopNone
		}
		switch {
		case isInt && k.fam == famInt && k.last:
			return loopLastKInt
		case isFloat && k.fam == famFloat && k.last:
			return loopLastKFloat
		case isInt && k.fam == famInt:
			return loopFirstKInt
		case isFloat && k.fam == famFloat:
			return loopFirstKFloat
		}
	}
	return loopNone
}

// gathered is one input column's values for a key's events, in event order: views of the column
// when the events are consecutive rows without nulls (the backfill lays each key's events out
// together, usually already in time order), else copies in the buffers.
type gathered struct {
	valid  []bool
	ints   []int64
	floats []float64

	bufValid  []bool
	bufInts   []int64
	bufFloats []float64
	trues     []bool
}

// gather fills g from column col at the events' rows.
func (g *gathered) gather(ev Events, col *types.Column) {
	n := len(ev.Ts)
	if lo, ok := ev.span(); ok && col.Nulls == nil {
		for len(g.trues) < n {
			g.trues = append(g.trues, true)
		}
		g.valid = g.trues[:n]
		switch col.Type.Kind {
		case types.Byte, types.Short, types.Int, types.Long:
			g.ints = col.Ints[lo : lo+n : lo+n]
		case types.Float, types.Double:
			g.floats = col.Floats[lo : lo+n : lo+n]
		}
		return
	}
	g.bufValid = resize(g.bufValid, n)
	g.valid = g.bufValid
	for i := range n {
		g.valid[i] = !col.IsNull(ev.row(i))
	}
	switch col.Type.Kind {
	case types.Byte, types.Short, types.Int, types.Long:
		g.bufInts = resize(g.bufInts, n)
		g.ints = g.bufInts
		for i := range n {
			g.ints[i] = col.Ints[ev.row(i)]
		}
	case types.Float, types.Double:
		g.bufFloats = resize(g.bufFloats, n)
		g.floats = g.bufFloats
		for i := range n {
			g.floats[i] = col.Floats[ev.row(i)]
		}
	}
}

func resize[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

// runLoop appends the value of events [lo, hi) for a part with loop kind kind (k: its FIRST_K /
// LAST_K size) to col.
func runLoop(kind loopKind, k int, g *gathered, lo, hi int, col *types.Column, arena *types.ListArena) {
	valid := g.valid[lo:hi]
	switch kind {
	case loopCount:
		n := int64(0)
		for _, ok := range valid {
			if ok {
				n++
			}
		}
		if n == 0 {
			col.AppendNull()
			return
		}
		appendInt(col, n)
	case loopSumInt:
		if sum, n := sumValid[int64, int64](g.ints[lo:hi], valid); n > 0 {
			appendInt(col, sum)
		} else {
			col.AppendNull()
		}
	case loopSumFloat:
		if sum, n := sumValid[float64, float64](g.floats[lo:hi], valid); n > 0 {
			appendFloat(col, sum)
		} else {
			col.AppendNull()
		}
	case loopAvgInt, loopAvgFloat:
		var sum float64
		var n int64
		if kind == loopAvgInt {
			sum, n = sumValid[int64, float64](g.ints[lo:hi], valid)
		} else {
			sum, n = sumValid[float64, float64](g.floats[lo:hi], valid)
		}
		if n == 0 {
			col.AppendNull()
			return
		}
		appendFloat(col, sum/float64(n))
	case loopLastKInt, loopFirstKInt:
		last := kind == loopLastKInt
		m := keptK(valid, k, last)
		if m == 0 {
			col.AppendNull()
			return
		}
		if col.List != nil {
			fillK(col.AppendInts(m), g.ints[lo:hi], valid, last)
			return
		}
		col.Append(arena.BoxInt64s(fillK(arena.Int64s(m), g.ints[lo:hi], valid, last)))
	case loopLastKFloat, loopFirstKFloat:
		last := kind == loopLastKFloat
		m := keptK(valid, k, last)
		if m == 0 {
			col.AppendNull()
			return
		}
		if col.List != nil {
			fillK(col.AppendFloats(m), g.floats[lo:hi], valid, last)
			return
		}
		col.Append(arena.BoxFloat64s(fillK(arena.Float64s(m), g.floats[lo:hi], valid, last)))
	}
}

// sumValid adds the valid values in order as S (AVERAGE of integers sums them as doubles, as its
// state does) and counts them.
func sumValid[T, S int64 | float64](vals []T, valid []bool) (S, int64) {
	var sum S
	n := int64(0)
	for i, v := range vals {
		if valid[i] {
			sum += S(v)
			n++
		}
	}
	return sum, n
}

// keptK is how many entries LAST_K (last) or FIRST_K keeps: min(k, valid count).
func keptK(valid []bool, k int, last bool) int {
	m := 0
	for i := 0; i < len(valid) && m < k; i++ {
		at := i
		if last {
			at = len(valid) - 1 - i
		}
		if valid[at] {
			m++
		}
	}
	return m
}

// fillK fills out with the kept values in output order: LAST_K the last len(out) valid values, most
// recent first (among equal times the later event in scan order is the more recent), FIRST_K the
// first len(out) in time order.
func fillK[T any](out, vals []T, valid []bool, last bool) []T {
	j := 0
	for i := 0; j < len(out); i++ {
		at := i
		if last {
			at = len(vals) - 1 - i
		}
		if valid[at] {
			out[j] = vals[at]
			j++
		}
	}
	return out
}
