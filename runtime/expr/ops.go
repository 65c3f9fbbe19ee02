package expr

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
	if k == types.Long && xs != nil && ys != nil {
		switch a.op {
		case "+":
			for i := range dst {
				dst[i] = xs[i] + ys[i]
			}
			return
		case "-":
			for i := range dst {
				dst[i] = xs[i] - ys[i]
			}
			return
		case "*":
			for i := range dst {
				dst[i] = xs[i] * ys[i]
			}
			return
		}
	}
	if k == types.Long && xs != nil && ys == nil {
		switch a.op {
		case "+":
			for i := range dst {
				dst[i] = xs[i] + yk
			}
			return
		case "-":
			for i := range dst {
				dst[i] = xs[i] - yk
			}
			return
		case "*":
			for i := range dst {
				dst[i] = xs[i] * yk
			}
			return
		}
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
		return colVec(out)
	}
	out.Ints = make([]int64, len(x.c.Ints))
	for i, v := range x.c.Ints {
		out.Ints[i] = negate(u.op, v, t).(int64)
	}
	return colVec(out)
}

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
	switch {
	case l.c != nil && l.c.Ints != nil && r.t.Kind == l.t.Kind:
		xs := l.c.Ints
		if r.isConst() {
			cmpIntsConst(c.op, xs, r.k.(int64), dst)
		} else {
			cmpInts(c.op, xs, r.c.Ints, dst)
		}
	case r.c != nil && r.c.Ints != nil && l.isConst():
		cmpIntsConst(flipOp(c.op), r.c.Ints, l.k.(int64), dst)
	case l.c != nil && l.c.Floats != nil && r.isConst():
		y := r.k.(float64)
		for i, x := range l.c.Floats {
			dst[i] = cmpResult(c.op, compareDoubles(x, y))
		}
	case l.c != nil && l.c.Floats != nil:
		ys := r.c.Floats
		for i, x := range l.c.Floats {
			dst[i] = cmpResult(c.op, compareDoubles(x, ys[i]))
		}
	case l.c != nil && l.c.Strs != nil && r.isConst() && (c.op == "=" || c.op == "!="):
		y, eq := r.k.(string), c.op == "="
		for i, x := range l.c.Strs {
			dst[i] = (x == y) == eq
		}
	case l.c != nil && l.c.Strs != nil && r.isConst():
		y := r.k.(string)
		for i, x := range l.c.Strs {
			dst[i] = cmpResult(c.op, compareStrings(x, y))
		}
	default:
		for i := range dst {
			if nulls != nil && nulls[i] {
				continue
			}
			dst[i] = cmpResult(c.op, compareValues(l.value(i), r.value(i), c.t))
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

// ---- CASE / IF ----

// caseNode is the searched CASE (the simple form is rewritten to equality tests); IF is a CASE.
type caseNode struct {
	whens []node
	thens []node
	els   node // never nil (a NULL literal when absent)
	t     *types.Type
}

func (c *caseNode) typ() *types.Type { return c.t }

func (c *caseNode) evalRow(row []any) any {
	for i, w := range c.whens {
		if v := w.evalRow(row); v != nil && v.(bool) {
			return c.thens[i].evalRow(row)
		}
	}
	return c.els.evalRow(row)
}

func (c *caseNode) evalVec(ctx *batchCtx) vec {
	// Functions never fail, so evaluating every branch for every row gives the same values as lazy
	// evaluation, and lets each branch run its columnar fast path.
	whens := make([]vec, len(c.whens))
	thens := make([]vec, len(c.thens))
	for i := range c.whens {
		whens[i] = c.whens[i].evalVec(ctx)
		thens[i] = c.thens[i].evalVec(ctx)
	}
	els := c.els.evalVec(ctx)
	if ctx.n > 0 {
		allConst := els.isConst()
		for j := range whens {
			allConst = allConst && whens[j].isConst() && thens[j].isConst()
		}
		if allConst {
			return constVec(c.evalConst(whens, thens, els), c.t)
		}
	}
	idx := branchIndex(ctx.n, whens)
	return pickBranches(c.t, idx, append(thens, els))
}

func (c *caseNode) evalConst(whens, thens []vec, els vec) any {
	for j, w := range whens {
		if w.k != nil && w.k.(bool) {
			return thens[j].k
		}
	}
	return els.k
}

// ---- COALESCE ----

type coalesceNode struct {
	args []node
	t    *types.Type
}

func (c *coalesceNode) typ() *types.Type { return c.t }

func (c *coalesceNode) evalRow(row []any) any {
	for _, a := range c.args {
		if v := a.evalRow(row); v != nil {
			return v
		}
	}
	return nil
}

func (c *coalesceNode) evalVec(ctx *batchCtx) vec {
	args := make([]vec, len(c.args))
	for i, a := range c.args {
		args[i] = a.evalVec(ctx)
	}
	if first := args[0]; !first.isConst() && first.c.Nulls == nil {
		return vec{c: first.c, t: c.t}
	}
	// Per row, the first argument that is not NULL (the last one when all are), then one typed copy.
	idx := make([]int32, ctx.n)
	last := int32(len(args) - 1)
	for i := range idx {
		idx[i] = last
		for j, a := range args[:last] {
			if !a.isNull(i) {
				idx[i] = int32(j)
				break
			}
		}
	}
	return pickBranches(c.t, idx, args)
}

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
