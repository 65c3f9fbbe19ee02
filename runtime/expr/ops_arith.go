package expr

// Arithmetic and unary operators: Spark widening, Java wrapping, NULL for a zero divisor.

import (
	"math"

	"github.com/chronon-go/chronon/runtime/types"
)

// ---- arithmetic ----

// arithNode is + - * / % div & | ^ with both operands already cast to t (for "/" t is double,
// for "div" bigint). Integer results wrap like Java; a zero divisor gives NULL (Spark non-ANSI).
type arithNode struct {
	op   string
	l, r node
	t    *types.Type
}

func (a *arithNode) typ() *types.Type { return a.t }

func (a *arithNode) evalRow(row []any) any {
	l := a.l.evalRow(row)
	if l == nil {
		return nil
	}
	r := a.r.evalRow(row)
	if r == nil {
		return nil
	}
	return arith(a.op, l, r, a.t)
}

func arith(op string, l, r any, t *types.Type) any {
	if t.Kind == types.Float || t.Kind == types.Double {
		v, ok := arithF(op, l.(float64), r.(float64), t.Kind == types.Float)
		if !ok {
			return nil
		}
		return v
	}
	v, ok := arithI(op, l.(int64), r.(int64), t.Kind)
	if !ok {
		return nil
	}
	return v
}

func arithI(op string, x, y int64, k types.Kind) (int64, bool) {
	var v int64
	switch op {
	case "+":
		v = x + y
	case "-":
		v = x - y
	case "*":
		v = x * y
	case "%":
		if y == 0 {
			return 0, false
		}
		v = x % y
	case "div":
		if y == 0 {
			return 0, false
		}
		v = x / y
	case "&":
		v = x & y
	case "|":
		v = x | y
	case "^":
		v = x ^ y
	}
	return wrapInt(v, k), true
}

func arithF(op string, x, y float64, f32 bool) (float64, bool) {
	var v float64
	switch op {
	case "+":
		v = x + y
	case "-":
		v = x - y
	case "*":
		v = x * y
	case "/":
		if y == 0 {
			return 0, false
		}
		v = x / y
	case "%":
		if y == 0 {
			return 0, false
		}
		v = math.Mod(x, y) // sign of the dividend, like Java's %
	}
	if f32 {
		v = float64(float32(v)) // float op float is computed in single precision
	}
	return v, true
}

func (a *arithNode) evalVec(ctx *batchCtx) vec {
	l, r := a.l.evalVec(ctx), a.r.evalVec(ctx)
	n := ctx.n
	if l.isConst() && r.isConst() {
		if l.k == nil || r.k == nil {
			return constVec(nil, a.t)
		}
		return constVec(arith(a.op, l.k, r.k, a.t), a.t)
	}
	nulls, allNull := mergeNulls(n, l, r)
	if allNull {
		return constVec(nil, a.t)
	}
	out := &types.Column{Type: a.t, Nulls: nulls}
	if a.t.Kind == types.Float || a.t.Kind == types.Double {
		out.Floats = make([]float64, n)
		a.loopF(l, r, out)
	} else {
		out.Ints = make([]int64, n)
		a.loopI(l, r, out)
	}
	zeroNulls(out)
	return colVec(out)
}

// loopI specialises the common operators on int64 slices; constants are read once.
func (a *arithNode) loopI(l, r vec, out *types.Column) {
	dst := out.Ints
	var xs, ys []int64
	var xk, yk int64
	if l.isConst() {
		xk = l.k.(int64)
	} else {
		xs = l.c.Ints
	}
	if r.isConst() {
		yk = r.k.(int64)
	} else {
		ys = r.c.Ints
	}
	x := func(i int) int64 {
		if xs != nil {
			return xs[i]
		}
		return xk
	}
	y := func(i int) int64 {
		if ys != nil {
			return ys[i]
		}
		return yk
	}
	k := a.t.Kind
	if a.op == "+" || a.op == "-" || a.op == "*" {
		intLoop(a.op, xs, ys, xk, yk, dst)
		if k != types.Long { // narrower types wrap like Java
			for i, v := range dst {
				dst[i] = wrapInt(v, k)
			}
		}
		return
	}
	for i := range dst {
		if out.Nulls != nil && out.Nulls[i] {
			continue
		}
		v, ok := arithI(a.op, x(i), y(i), k)
		if !ok {
			setNull(out, i)
			continue
		}
		dst[i] = v
	}
}

// intLoop computes + - * over a column and a column or constant (xs or ys is nil for a constant).
func intLoop(op string, xs, ys []int64, xk, yk int64, dst []int64) {
	switch {
	case xs != nil && ys != nil:
		switch op {
		case "+":
			for i := range dst {
				dst[i] = xs[i] + ys[i]
			}
		case "-":
			for i := range dst {
				dst[i] = xs[i] - ys[i]
			}
		default:
			for i := range dst {
				dst[i] = xs[i] * ys[i]
			}
		}
	case xs != nil:
		switch op {
		case "+":
			for i := range dst {
				dst[i] = xs[i] + yk
			}
		case "-":
			for i := range dst {
				dst[i] = xs[i] - yk
			}
		default:
			for i := range dst {
				dst[i] = xs[i] * yk
			}
		}
	default:
		switch op {
		case "+":
			for i := range dst {
				dst[i] = xk + ys[i]
			}
		case "-":
			for i := range dst {
				dst[i] = xk - ys[i]
			}
		default:
			for i := range dst {
				dst[i] = xk * ys[i]
			}
		}
	}
}

// zeroNulls restores the types.Column invariant that a NULL row's data slot holds the zero value
// (the tight loops above compute every row, NULL or not).
func zeroNulls(c *types.Column) {
	if c.Nulls == nil {
		return
	}
	for i, isNull := range c.Nulls {
		if !isNull {
			continue
		}
		switch {
		case c.Ints != nil:
			c.Ints[i] = 0
		case c.Floats != nil:
			c.Floats[i] = 0
		case c.Bools != nil:
			c.Bools[i] = false
		}
	}
}

func (a *arithNode) loopF(l, r vec, out *types.Column) {
	dst := out.Floats
	var xs, ys []float64
	var xk, yk float64
	if l.isConst() {
		xk = l.k.(float64)
	} else {
		xs = l.c.Floats
	}
	if r.isConst() {
		yk = r.k.(float64)
	} else {
		ys = r.c.Floats
	}
	f32 := a.t.Kind == types.Float
	if !f32 {
		switch {
		case a.op == "+" && xs != nil && ys != nil:
			for i := range dst {
				dst[i] = xs[i] + ys[i]
			}
			return
		case a.op == "*" && xs != nil && ys != nil:
			for i := range dst {
				dst[i] = xs[i] * ys[i]
			}
			return
		case a.op == "-" && xs != nil && ys != nil:
			for i := range dst {
				dst[i] = xs[i] - ys[i]
			}
			return
		case a.op == "+" && xs != nil && ys == nil:
			for i := range dst {
				dst[i] = xs[i] + yk
			}
			return
		case a.op == "*" && xs != nil && ys == nil:
			for i := range dst {
				dst[i] = xs[i] * yk
			}
			return
		case a.op == "/" && xs != nil && ys == nil && yk != 0:
			for i := range dst {
				dst[i] = xs[i] / yk
			}
			return
		}
	}
	for i := range dst {
		if out.Nulls != nil && out.Nulls[i] {
			continue
		}
		x, y := xk, yk
		if xs != nil {
			x = xs[i]
		}
		if ys != nil {
			y = ys[i]
		}
		v, ok := arithF(a.op, x, y, f32)
		if !ok {
			setNull(out, i)
			continue
		}
		dst[i] = v
	}
}

func setNull(c *types.Column, i int) {
	if c.Nulls == nil {
		c.Nulls = make([]bool, c.Len())
	}
	c.Nulls[i] = true
	switch {
	case c.Ints != nil:
		c.Ints[i] = 0
	case c.Floats != nil:
		c.Floats[i] = 0
	}
}

// negNode is unary minus (wrapping) and bitwise not.
type negNode struct {
	op string // "-" or "~"
	x  node
}

func (u *negNode) typ() *types.Type { return u.x.typ() }
func (u *negNode) evalRow(row []any) any {
	v := u.x.evalRow(row)
	if v == nil {
		return nil
	}
	return negate(u.op, v, u.x.typ())
}

func negate(op string, v any, t *types.Type) any {
	if f, ok := v.(float64); ok {
		return -f
	}
	if op == "~" {
		return wrapInt(^v.(int64), t.Kind)
	}
	return wrapInt(-v.(int64), t.Kind)
}

func (u *negNode) evalVec(ctx *batchCtx) vec {
	x := u.x.evalVec(ctx)
	t := u.x.typ()
	if x.isConst() {
		if x.k == nil {
			return x
		}
		return constVec(negate(u.op, x.k, t), t)
	}
	out := &types.Column{Type: t, Nulls: x.c.Nulls}
	if x.c.Floats != nil {
		out.Floats = make([]float64, len(x.c.Floats))
		for i, f := range x.c.Floats {
			out.Floats[i] = -f
		}
		zeroNulls(out)
		return colVec(out)
	}
	out.Ints = make([]int64, len(x.c.Ints))
	for i, v := range x.c.Ints {
		out.Ints[i] = negate(u.op, v, t).(int64)
	}
	return colVec(out)
}
