package expr

import (
	"strconv"
	"strings"

	"github.com/chronon-go/chronon/runtime/types"
)

// Typed function kernels: a function written once as f(x, consts) gets both its row form (boxed) and
// a columnar loop over the column's native slice, so the fast path cannot drift from the row path.

// storageSlice returns the column's data slice of Go type T.
func storageSlice[T any](c *types.Column) []T {
	var zero T
	switch any(zero).(type) {
	case bool:
		return any(c.Bools).([]T)
	case int64:
		return any(c.Ints).([]T)
	case float64:
		return any(c.Floats).([]T)
	case string:
		return any(c.Strs).([]T)
	case []byte:
		return any(c.Bytes).([]T)
	}
	return any(c.Values).([]T)
}

func setStorage[T any](c *types.Column, xs []T) {
	switch v := any(xs).(type) {
	case []bool:
		c.Bools = v
	case []int64:
		c.Ints = v
	case []float64:
		c.Floats = v
	case []string:
		c.Strs = v
	case [][]byte:
		c.Bytes = v
	default:
		c.Values = any(xs).([]any)
	}
}

// typed1 builds a null-propagating call whose first argument varies per row and whose other
// arguments are passed boxed (they are usually constants). f reports ok=false for a NULL result.
func typed1[I, O any](c *checker, call *astCall, t *types.Type, args []node, f func(x I, rest []any) (O, bool)) node {
	n := &callNode{name: strings.ToLower(call.name), t: t, args: args}
	n.fn = func(v []any) any {
		o, ok := f(v[0].(I), v[1:])
		if !ok {
			return nil
		}
		return o
	}
	n.vecFn = func(ctx *batchCtx, av []vec) (vec, bool) {
		if av[0].isConst() {
			return vec{}, false
		}
		rest := make([]any, len(av)-1)
		for i, a := range av[1:] {
			if !a.isConst() {
				return vec{}, false
			}
			if a.k == nil {
				return constVec(nil, t), true
			}
			rest[i] = a.k
		}
		return mapColumn(av[0].c, t, func(x I) (O, bool) { return f(x, rest) }), true
	}
	return c.fold(n, args...)
}

// mapColumn applies f to every non-NULL row of src's native slice; ok=false makes the row NULL.
func mapColumn[I, O any](src *types.Column, t *types.Type, f func(I) (O, bool)) vec {
	xs := storageSlice[I](src)
	out := &types.Column{Type: t}
	dst := make([]O, len(xs))
	var nulls []bool
	if src.Nulls != nil {
		nulls = make([]bool, len(xs))
		copy(nulls, src.Nulls)
	}
	// Strings repeat a lot (ds, ids, categories): memoize results while the column looks low-cardinality.
	// f is pure, so this changes nothing but the time taken.
	if ss, isStr := any(xs).([]string); isStr {
		fs := any(f).(func(string) (O, bool))
		type res struct {
			o  O
			ok bool
		}
		memo := make(map[string]res, 16)
		for i, x := range ss {
			if nulls != nil && nulls[i] {
				continue
			}
			r, hit := memo[x]
			if !hit {
				r.o, r.ok = fs(x)
				if memo != nil {
					if len(memo) >= 256 {
						memo = nil // high cardinality: stop paying for lookups
					} else {
						memo[x] = r
					}
				}
			}
			if !r.ok {
				if nulls == nil {
					nulls = make([]bool, len(xs))
				}
				nulls[i] = true
				continue
			}
			dst[i] = r.o
		}
		out.Nulls = nulls
		setStorage(out, dst)
		return colVec(out)
	}
	for i, x := range xs {
		if nulls != nil && nulls[i] {
			continue
		}
		o, ok := f(x)
		if !ok {
			if nulls == nil {
				nulls = make([]bool, len(xs))
			}
			nulls[i] = true
			continue
		}
		dst[i] = o
	}
	out.Nulls = nulls
	setStorage(out, dst)
	return colVec(out)
}

// castFast converts common pairs on native slices with the same helpers castValue uses.
func castFast(src *types.Column, from, to *types.Type) (vec, bool) {
	fk, tk := from.Kind, to.Kind
	switch {
	case fk == types.String && to.IsIntegral():
		return mapColumn(src, to, func(s string) (int64, bool) { return parseIntegral(s, tk) }), true
	case fk == types.String && (tk == types.Double || tk == types.Float):
		bits := 64
		if tk == types.Float {
			bits = 32
		}
		return mapColumn(src, to, func(s string) (float64, bool) { return parseFloatBits(s, bits) }), true
	case fk == types.String && tk == types.Date:
		return mapColumn(src, to, parseDate), true
	case fk == types.String && tk == types.Timestamp:
		return mapColumn(src, to, parseTimestamp), true
	case from.IsIntegral() && tk == types.String:
		return mapColumn(src, to, func(x int64) (string, bool) { return strconv.FormatInt(x, 10), true }), true
	case (fk == types.Double || fk == types.Float) && tk == types.String:
		bits := 64
		if fk == types.Float {
			bits = 32
		}
		return mapColumn(src, to, func(x float64) (string, bool) { return formatDouble(x, bits), true }), true
	case fk == types.Date && tk == types.String:
		return mapColumn(src, to, func(x int64) (string, bool) { return formatDate(x), true }), true
	case (fk == types.Double || fk == types.Float) && to.IsIntegral():
		return mapColumn(src, to, func(x float64) (int64, bool) {
			if tk == types.Long {
				return f2l(x), true
			}
			return wrapInt(f2i(x), tk), true
		}), true
	case from.IsIntegral() && to.IsIntegral(): // narrowing wraps
		return mapColumn(src, to, func(x int64) (int64, bool) { return wrapInt(x, tk), true }), true
	}
	return vec{}, false
}

// ---- typed CASE and boolean logic ----

// branchIndex computes, per row, the index of the first true WHEN (len(whens) for ELSE).
func branchIndex(n int, whens []vec) []int32 {
	idx := make([]int32, n)
	undecided := n
	for i := range idx {
		idx[i] = int32(len(whens))
	}
	done := make([]bool, n)
	for j, w := range whens {
		if undecided == 0 {
			break
		}
		if w.isConst() {
			if w.k != nil && w.k.(bool) {
				for i := range idx {
					if !done[i] {
						idx[i], done[i] = int32(j), true
					}
				}
				undecided = 0
			}
			continue
		}
		bs, nulls := w.c.Bools, w.c.Nulls
		for i, b := range bs {
			if !done[i] && b && (nulls == nil || !nulls[i]) {
				idx[i], done[i] = int32(j), true
				undecided--
			}
		}
	}
	return idx
}

// pickTyped assembles the result from the chosen branch per row without boxing.
func pickTyped[T any](t *types.Type, idx []int32, branches []vec) vec {
	n := len(idx)
	dst := make([]T, n)
	var nulls []bool
	slices := make([][]T, len(branches))
	consts := make([]T, len(branches))
	for j, b := range branches {
		if b.isConst() {
			if b.k != nil {
				consts[j] = b.k.(T)
			}
		} else {
			slices[j] = storageSlice[T](b.c)
		}
	}
	for i, j := range idx {
		b := branches[j]
		if b.isNull(i) {
			if nulls == nil {
				nulls = make([]bool, n)
			}
			nulls[i] = true
			continue
		}
		if s := slices[j]; s != nil {
			dst[i] = s[i]
		} else {
			dst[i] = consts[j]
		}
	}
	out := &types.Column{Type: t, Nulls: nulls}
	setStorage(out, dst)
	return colVec(out)
}

func pickBranches(t *types.Type, idx []int32, branches []vec) vec {
	switch t.Kind {
	case types.Boolean:
		return pickTyped[bool](t, idx, branches)
	case types.Byte, types.Short, types.Int, types.Long, types.Date, types.Timestamp:
		return pickTyped[int64](t, idx, branches)
	case types.Float, types.Double:
		return pickTyped[float64](t, idx, branches)
	case types.String:
		return pickTyped[string](t, idx, branches)
	case types.Binary:
		return pickTyped[[]byte](t, idx, branches)
	}
	return pickTyped[any](t, idx, branches)
}
