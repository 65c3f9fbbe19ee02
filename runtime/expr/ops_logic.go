package expr

// Three-valued boolean logic, IS NULL and IN.

import (
	"github.com/chronon-go/chronon/runtime/types"
)

// ---- boolean logic (three-valued) ----

type logicNode struct {
	and  bool
	l, r node
}

func (b *logicNode) typ() *types.Type { return types.BooleanType }

func (b *logicNode) evalRow(row []any) any {
	l := b.l.evalRow(row)
	// Short-circuit only on the deciding value; NULL still needs the right side.
	if l != nil && l.(bool) != b.and {
		return l
	}
	return logic3(b.and, l, b.r.evalRow(row))
}

// logic3 is Kleene logic: for AND, false wins over NULL; for OR, true wins over NULL.
func logic3(and bool, l, r any) any {
	decide := !and // the value that decides the result: false for AND, true for OR
	if l != nil && l.(bool) == decide || r != nil && r.(bool) == decide {
		return decide
	}
	if l == nil || r == nil {
		return nil
	}
	return !decide
}

func (b *logicNode) evalVec(ctx *batchCtx) vec {
	l, r := b.l.evalVec(ctx), b.r.evalVec(ctx)
	if l.isConst() && r.isConst() {
		return constVec(logic3(b.and, l.k, r.k), types.BooleanType)
	}
	n := ctx.n
	out := &types.Column{Type: types.BooleanType, Bools: make([]bool, n)}
	if l.c != nil && r.c != nil && l.c.Nulls == nil && r.c.Nulls == nil {
		xs, ys := l.c.Bools, r.c.Bools
		if b.and {
			for i := range out.Bools {
				out.Bools[i] = xs[i] && ys[i]
			}
		} else {
			for i := range out.Bools {
				out.Bools[i] = xs[i] || ys[i]
			}
		}
		return colVec(out)
	}
	// Kleene logic per row on the native slices: value + known flags, no boxing.
	get := func(v vec, i int) (val, known bool) {
		if v.c == nil {
			if v.k == nil {
				return false, false
			}
			return v.k.(bool), true
		}
		if v.c.Nulls != nil && v.c.Nulls[i] {
			return false, false
		}
		return v.c.Bools[i], true
	}
	decide := !b.and
	for i := range out.Bools {
		lv, lk := get(l, i)
		rv, rk := get(r, i)
		switch {
		case lk && lv == decide || rk && rv == decide:
			out.Bools[i] = decide
		case !lk || !rk:
			setNullBool(out, i)
		default:
			out.Bools[i] = !decide
		}
	}
	return colVec(out)
}

func setNullBool(c *types.Column, i int) {
	if c.Nulls == nil {
		c.Nulls = make([]bool, len(c.Bools))
	}
	c.Nulls[i] = true
	c.Bools[i] = false
}

type notNode struct{ x node }

func (u *notNode) typ() *types.Type { return types.BooleanType }
func (u *notNode) evalRow(row []any) any {
	v := u.x.evalRow(row)
	if v == nil {
		return nil
	}
	return !v.(bool)
}
func (u *notNode) evalVec(ctx *batchCtx) vec {
	x := u.x.evalVec(ctx)
	if x.isConst() {
		if x.k == nil {
			return x
		}
		return constVec(!x.k.(bool), types.BooleanType)
	}
	out := &types.Column{Type: types.BooleanType, Nulls: x.c.Nulls, Bools: make([]bool, len(x.c.Bools))}
	for i, b := range x.c.Bools {
		out.Bools[i] = !b && (x.c.Nulls == nil || !x.c.Nulls[i])
	}
	return colVec(out)
}

type isNullNode struct {
	x   node
	not bool
}

func (u *isNullNode) typ() *types.Type { return types.BooleanType }
func (u *isNullNode) evalRow(row []any) any {
	return (u.x.evalRow(row) == nil) != u.not
}
func (u *isNullNode) evalVec(ctx *batchCtx) vec {
	x := u.x.evalVec(ctx)
	if x.isConst() {
		return constVec((x.k == nil) != u.not, types.BooleanType)
	}
	out := &types.Column{Type: types.BooleanType, Bools: make([]bool, ctx.n)}
	if x.c.Nulls == nil {
		if u.not {
			for i := range out.Bools {
				out.Bools[i] = true
			}
		}
		return colVec(out)
	}
	for i, isNull := range x.c.Nulls {
		out.Bools[i] = isNull != u.not
	}
	return colVec(out)
}

// ---- IN ----

// inNode is x IN (list) with every operand cast to t. NULL if x is NULL, or if no element matches
// and some element is NULL (SQL semantics).
type inNode struct {
	x    node
	list []node
	t    *types.Type
	// set holds the constant elements when all are constant and hashable (ints, strings), for O(1) probes.
	set     map[any]bool
	setNull bool
}

func (in *inNode) typ() *types.Type { return types.BooleanType }

func (in *inNode) evalRow(row []any) any {
	x := in.x.evalRow(row)
	if x == nil {
		return nil
	}
	if in.set != nil {
		if in.set[x] {
			return true
		}
		if in.setNull {
			return nil
		}
		return false
	}
	sawNull := false
	for _, e := range in.list {
		v := e.evalRow(row)
		if v == nil {
			sawNull = true
			continue
		}
		if compareValues(x, v, in.t) == 0 {
			return true
		}
	}
	if sawNull {
		return nil
	}
	return false
}

func (in *inNode) evalVec(ctx *batchCtx) vec {
	x := in.x.evalVec(ctx)
	if in.set != nil && !x.isConst() {
		out := &types.Column{Type: types.BooleanType, Bools: make([]bool, ctx.n)}
		for i := 0; i < ctx.n; i++ {
			if x.isNull(i) {
				setNullBool(out, i)
				continue
			}
			var hit bool
			switch {
			case x.c.Ints != nil:
				hit = in.set[x.c.Ints[i]]
			case x.c.Strs != nil:
				hit = in.set[x.c.Strs[i]]
			default:
				hit = in.set[x.c.Value(i)]
			}
			if !hit && in.setNull {
				setNullBool(out, i)
				continue
			}
			out.Bools[i] = hit
		}
		return colVec(out)
	}
	list := make([]vec, len(in.list))
	for i, e := range in.list {
		list[i] = e.evalVec(ctx)
	}
	return colVec(buildColumn(types.BooleanType, ctx.n, func(i int) any {
		xv := x.value(i)
		if xv == nil {
			return nil
		}
		sawNull := false
		for _, l := range list {
			v := l.value(i)
			if v == nil {
				sawNull = true
			} else if compareValues(xv, v, in.t) == 0 {
				return true
			}
		}
		if sawNull {
			return nil
		}
		return false
	}))
}
