package expr

// CAST nodes and struct field access.

import (
	"github.com/chronon-go/chronon/runtime/types"
)

// ---- CAST ----

type castNode struct {
	x        node
	from, to *types.Type
}

func (c *castNode) typ() *types.Type { return c.to }
func (c *castNode) evalRow(row []any) any {
	return castValue(c.x.evalRow(row), c.from, c.to)
}

func (c *castNode) evalVec(ctx *batchCtx) vec {
	x := c.x.evalVec(ctx)
	if x.isConst() {
		return constVec(castValue(x.k, c.from, c.to), c.to)
	}
	src := x.c
	fk, tk := c.from.Kind, c.to.Kind
	switch {
	case c.from.IsIntegral() && c.to.IsIntegral() && widerOrEqualInt(tk, fk):
		return vec{c: src, t: c.to} // widening shares the int64 storage
	case c.from.IsIntegral() && (tk == types.Double || tk == types.Float):
		out := &types.Column{Type: c.to, Nulls: src.Nulls, Floats: make([]float64, len(src.Ints))}
		if tk == types.Float {
			for i, v := range src.Ints {
				out.Floats[i] = float64(float32(v)) // one rounding, like Java's (float) long
			}
		} else {
			for i, v := range src.Ints {
				out.Floats[i] = float64(v)
			}
		}
		return colVec(out)
	case fk == types.Float && tk == types.Double:
		return vec{c: src, t: c.to}
	case fk == types.Null:
		return constVec(nil, c.to)
	}
	if v, ok := castFast(src, c.from, c.to); ok {
		return v
	}
	return colVec(buildColumn(c.to, ctx.n, func(i int) any { return castValue(src.Value(i), c.from, c.to) }))
}

func intRank(k types.Kind) int {
	switch k {
	case types.Byte:
		return 1
	case types.Short:
		return 2
	case types.Int:
		return 3
	}
	return 4
}

func widerOrEqualInt(to, from types.Kind) bool { return intRank(to) >= intRank(from) }

// ---- struct field, array index, map lookup ----

type fieldNode struct {
	x   node
	idx int
	t   *types.Type
}

func (f *fieldNode) typ() *types.Type { return f.t }
func (f *fieldNode) evalRow(row []any) any {
	v := f.x.evalRow(row)
	if v == nil {
		return nil
	}
	return v.(types.StructValue)[f.idx]
}
func (f *fieldNode) evalVec(ctx *batchCtx) vec {
	x := f.x.evalVec(ctx)
	if x.isConst() {
		if x.k == nil {
			return constVec(nil, f.t)
		}
		return constVec(x.k.(types.StructValue)[f.idx], f.t)
	}
	return colVec(buildColumn(f.t, ctx.n, func(i int) any {
		v := x.value(i)
		if v == nil {
			return nil
		}
		return v.(types.StructValue)[f.idx]
	}))
}
