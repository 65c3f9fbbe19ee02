package expr

// Comparison operators on operands already cast to a common type.

import (
	"github.com/chronon-go/chronon/runtime/types"
)

// ---- comparison ----

// cmpNode compares operands already cast to a common type t.
type cmpNode struct {
	op   string // = != < <= > >= <=>
	l, r node
	t    *types.Type
}

func (c *cmpNode) typ() *types.Type { return types.BooleanType }

func (c *cmpNode) evalRow(row []any) any {
	return compareOp(c.op, c.l.evalRow(row), c.r.evalRow(row), c.t)
}

func compareOp(op string, l, r any, t *types.Type) any {
	if op == "<=>" {
		if l == nil || r == nil {
			return l == nil && r == nil
		}
		return compareValues(l, r, t) == 0
	}
	if l == nil || r == nil {
		return nil
	}
	return cmpResult(op, compareValues(l, r, t))
}

func cmpResult(op string, c int) bool {
	switch op {
	case "=", "<=>":
		return c == 0
	case "!=":
		return c != 0
	case "<":
		return c < 0
	case "<=":
		return c <= 0
	case ">":
		return c > 0
	}
	return c >= 0
}

func (c *cmpNode) evalVec(ctx *batchCtx) vec {
	l, r := c.l.evalVec(ctx), c.r.evalVec(ctx)
	n := ctx.n
	if l.isConst() && r.isConst() {
		return constVec(compareOp(c.op, l.k, r.k, c.t), types.BooleanType)
	}
	out := &types.Column{Type: types.BooleanType, Bools: make([]bool, n)}
	if c.op == "<=>" {
		for i := range out.Bools {
			out.Bools[i] = compareOp(c.op, l.value(i), r.value(i), c.t).(bool)
		}
		return colVec(out)
	}
	nulls, allNull := mergeNulls(n, l, r)
	if allNull {
		return constVec(nil, types.BooleanType)
	}
	out.Nulls = nulls
	dst := out.Bools
	op := c.op
	if l.isConst() { // const op col == col flipped-op const: one set of loops serves both
		l, r, op = r, l, flipOp(op)
	}
	switch {
	case l.c != nil && l.c.Ints != nil && r.t.Kind == l.t.Kind:
		xs := l.c.Ints
		if r.isConst() {
			cmpIntsConst(op, xs, r.k.(int64), dst)
		} else {
			cmpInts(op, xs, r.c.Ints, dst)
		}
	case l.c != nil && l.c.Floats != nil && r.isConst():
		y := r.k.(float64)
		for i, x := range l.c.Floats {
			dst[i] = cmpResult(op, compareDoubles(x, y))
		}
	case l.c != nil && l.c.Floats != nil:
		ys := r.c.Floats
		for i, x := range l.c.Floats {
			dst[i] = cmpResult(op, compareDoubles(x, ys[i]))
		}
	case l.c != nil && l.c.Strs != nil && r.isConst() && (op == "=" || op == "!="):
		y, eq := r.k.(string), op == "="
		for i, x := range l.c.Strs {
			dst[i] = (x == y) == eq
		}
	case l.c != nil && l.c.Strs != nil && r.isConst():
		y := r.k.(string)
		for i, x := range l.c.Strs {
			dst[i] = cmpResult(op, compareStrings(x, y))
		}
	case l.c != nil && l.c.Strs != nil:
		ys := r.c.Strs
		for i, x := range l.c.Strs {
			dst[i] = cmpResult(op, compareStrings(x, ys[i]))
		}
	default:
		for i := range dst {
			if nulls != nil && nulls[i] {
				continue
			}
			dst[i] = cmpResult(op, compareValues(l.value(i), r.value(i), c.t))
		}
	}
	if nulls != nil {
		for i, isNull := range nulls {
			if isNull {
				dst[i] = false
			}
		}
	}
	return colVec(out)
}

func flipOp(op string) string {
	switch op {
	case "<":
		return ">"
	case "<=":
		return ">="
	case ">":
		return "<"
	case ">=":
		return "<="
	}
	return op
}

func cmpInts(op string, xs, ys []int64, dst []bool) {
	switch op {
	case "=":
		for i := range dst {
			dst[i] = xs[i] == ys[i]
		}
	case "!=":
		for i := range dst {
			dst[i] = xs[i] != ys[i]
		}
	case "<":
		for i := range dst {
			dst[i] = xs[i] < ys[i]
		}
	case "<=":
		for i := range dst {
			dst[i] = xs[i] <= ys[i]
		}
	case ">":
		for i := range dst {
			dst[i] = xs[i] > ys[i]
		}
	default:
		for i := range dst {
			dst[i] = xs[i] >= ys[i]
		}
	}
}

func cmpIntsConst(op string, xs []int64, y int64, dst []bool) {
	switch op {
	case "=":
		for i := range dst {
			dst[i] = xs[i] == y
		}
	case "!=":
		for i := range dst {
			dst[i] = xs[i] != y
		}
	case "<":
		for i := range dst {
			dst[i] = xs[i] < y
		}
	case "<=":
		for i := range dst {
			dst[i] = xs[i] <= y
		}
	case ">":
		for i := range dst {
			dst[i] = xs[i] > y
		}
	default:
		for i := range dst {
			dst[i] = xs[i] >= y
		}
	}
}
