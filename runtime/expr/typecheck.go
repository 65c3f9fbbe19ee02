package expr

import (
	"fmt"
	"math"
	"strings"

	"github.com/chronon-go/chronon/runtime/types"
)

// checker turns the AST into typed nodes, inserting Spark's implicit casts and folding constants.
type checker struct {
	src    string
	schema types.Schema
	used   map[int]bool
}

func (c *checker) errAt(pos int, format string, args ...any) error {
	return errorf(c.src, pos, format, args...)
}

func (c *checker) check(a ast) (node, error) {
	switch a := a.(type) {
	case *astLit:
		return &litNode{v: a.v, t: a.t}, nil
	case *astIdent:
		return c.column(a)
	case *astField:
		return c.field(a)
	case *astIndex:
		return c.index(a)
	case *astUnary:
		return c.unary(a)
	case *astBinary:
		return c.binary(a)
	case *astIsNull:
		x, err := c.check(a.x)
		if err != nil {
			return nil, err
		}
		return c.fold(&isNullNode{x: x, not: a.not}, x), nil
	case *astIn:
		return c.in(a)
	case *astBetween:
		// Spark rewrites x BETWEEN lo AND hi to x >= lo AND x <= hi.
		ge := &astBinary{p: a.p, op: ">=", l: a.x, r: a.lo}
		le := &astBinary{p: a.p, op: "<=", l: a.x, r: a.hi}
		var e ast = &astBinary{p: a.p, op: "and", l: ge, r: le}
		if a.not {
			e = &astUnary{p: a.p, op: "not", x: e}
		}
		return c.check(e)
	case *astLike:
		return c.like(a)
	case *astCase:
		return c.caseExpr(a)
	case *astCast:
		x, err := c.check(a.x)
		if err != nil {
			return nil, err
		}
		if !canCast(x.typ(), a.to) {
			return nil, c.errAt(a.p, "cannot cast %s to %s", x.typ(), a.to)
		}
		if a.dec != nil {
			return c.castDecimal(a, x), nil
		}
		return c.cast(x, a.to), nil
	case *astCall:
		return c.call(a)
	}
	return nil, c.errAt(a.position(), "unsupported expression")
}

// fold replaces n by its value when all its inputs are literals (regexes, formats and casts of
// constants are then computed once per compile instead of once per row).
func (c *checker) fold(n node, inputs ...node) node {
	for _, in := range inputs {
		if _, ok := in.(*litNode); !ok {
			return n
		}
	}
	if cn, ok := n.(*callNode); ok && cn.fn == nil {
		return n
	}
	if v, ok := n.(interface{ volatile() bool }); ok && v.volatile() {
		return n
	}
	return &litNode{v: n.evalRow(nil), t: n.typ()}
}

func (c *checker) column(a *astIdent) (node, error) {
	idx := c.schema.Index(a.name)
	if idx < 0 {
		for i, f := range c.schema {
			if strings.EqualFold(f.Name, a.name) {
				if idx >= 0 {
					return nil, c.errAt(a.p, "ambiguous column %q (matches %q and %q)", a.name, c.schema[idx].Name, f.Name)
				}
				idx = i
			}
		}
	}
	if idx < 0 {
		switch strings.ToLower(a.name) {
		case "current_date", "current_timestamp": // Spark accepts these without parentheses
			return c.call(&astCall{p: a.p, name: a.name})
		}
		msg := fmt.Sprintf("unknown column %q", a.name)
		if s := suggest(a.name, c.schema.Names()); s != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", s)
		} else if _, isFn := catalog[strings.ToLower(a.name)]; isFn {
			msg += fmt.Sprintf(" (%s is a function: call it as %s(...))", a.name, a.name)
		}
		return nil, &Error{Msg: msg, Src: c.src, Pos: a.p}
	}
	c.used[idx] = true
	return &colNode{idx: idx, t: c.schema[idx].Type}, nil
}

func (c *checker) field(a *astField) (node, error) {
	x, err := c.check(a.x)
	if err != nil {
		return nil, err
	}
	t := x.typ()
	if t.Kind != types.Struct {
		return nil, c.errAt(a.p, "cannot read field %q of %s (only structs have fields)", a.name, t)
	}
	idx := -1
	for i, f := range t.Fields {
		if f.Name == a.name || idx < 0 && strings.EqualFold(f.Name, a.name) {
			idx = i
		}
	}
	if idx < 0 {
		names := make([]string, len(t.Fields))
		for i, f := range t.Fields {
			names[i] = f.Name
		}
		msg := fmt.Sprintf("struct has no field %q", a.name)
		if s := suggest(a.name, names); s != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", s)
		}
		return nil, &Error{Msg: msg, Src: c.src, Pos: a.p}
	}
	return c.fold(&fieldNode{x: x, idx: idx, t: t.Fields[idx].Type}, x), nil
}

func (c *checker) index(a *astIndex) (node, error) {
	x, err := c.check(a.x)
	if err != nil {
		return nil, err
	}
	idx, err := c.check(a.idx)
	if err != nil {
		return nil, err
	}
	switch x.typ().Kind {
	case types.List:
		if idx, err = c.implicit(idx, types.IntType, a.idx.position(), "an array index"); err != nil {
			return nil, err
		}
		return c.fold(&callNode{name: "[]", t: x.typ().Elem, args: []node{x, idx}, fn: func(v []any) any {
			return arrayAt(v[0].([]any), v[1].(int64))
		}}, x, idx), nil
	case types.Map:
		if idx, err = c.implicit(idx, x.typ().Key, a.idx.position(), "a map key"); err != nil {
			return nil, err
		}
		kt := x.typ().Key
		return c.fold(&callNode{name: "[]", t: x.typ().Value, args: []node{x, idx}, fn: func(v []any) any {
			return mapGet(v[0].(*types.MapValue), v[1], kt)
		}}, x, idx), nil
	}
	return nil, c.errAt(a.p, "cannot index %s (only arrays and maps can be indexed)", x.typ())
}

func arrayAt(xs []any, i int64) any {
	if i < 0 || i >= int64(len(xs)) {
		return nil
	}
	return xs[i]
}

func mapGet(m *types.MapValue, k any, kt *types.Type) any {
	for i, x := range m.Keys {
		if x != nil && compareValues(x, k, kt) == 0 {
			return m.Values[i]
		}
	}
	return nil
}

func (c *checker) unary(a *astUnary) (node, error) {
	x, err := c.check(a.x)
	if err != nil {
		return nil, err
	}
	return c.unaryOn(a, x)
}

// unaryOn types a unary operator over an already checked operand.
func (c *checker) unaryOn(a *astUnary, x node) (node, error) {
	var err error
	switch a.op {
	case "not":
		if x, err = c.implicit(x, types.BooleanType, a.x.position(), "the operand of NOT"); err != nil {
			return nil, err
		}
		return c.fold(&notNode{x: x}, x), nil
	case "+":
		if x.typ().Kind == types.String {
			return c.cast(x, types.DoubleType), nil
		}
		if !x.typ().IsNumeric() && x.typ().Kind != types.Null {
			return nil, c.errAt(a.p, "unary + needs a number, got %s", x.typ())
		}
		return x, nil
	}
	t := x.typ()
	switch {
	case t.Kind == types.String && a.op == "-":
		x = c.cast(x, types.DoubleType)
	case t.Kind == types.Null:
		x = c.cast(x, types.IntType)
	case a.op == "~" && !t.IsIntegral():
		return nil, c.errAt(a.p, "~ needs an integer, got %s", t)
	case !t.IsNumeric():
		return nil, c.errAt(a.p, "unary - needs a number, got %s", t)
	}
	return c.fold(&negNode{op: a.op, x: x}, x), nil
}

func (c *checker) binary(a *astBinary) (node, error) {
	l, err := c.check(a.l)
	if err != nil {
		return nil, err
	}
	r, err := c.check(a.r)
	if err != nil {
		return nil, err
	}
	switch a.op {
	case "and", "or":
		if l, err = c.implicit(l, types.BooleanType, a.l.position(), "the left side of "+strings.ToUpper(a.op)); err != nil {
			return nil, err
		}
		if r, err = c.implicit(r, types.BooleanType, a.r.position(), "the right side of "+strings.ToUpper(a.op)); err != nil {
			return nil, err
		}
		return c.fold(&logicNode{and: a.op == "and", l: l, r: r}, l, r), nil
	case "=", "!=", "<", "<=", ">", ">=", "<=>":
		return c.comparison(a, l, r)
	case "||":
		return c.call(&astCall{p: a.p, name: "concat", args: []ast{a.l, a.r}})
	}
	return c.arithmetic(a, l, r)
}

func (c *checker) comparison(a *astBinary, l, r node) (node, error) {
	lt, rt := l.typ(), r.typ()
	t, ok := comparisonType(lt, rt)
	if !ok && (a.op == "=" || a.op == "<=>" || a.op == "!=") {
		// Spark compares booleans with numbers for equality by casting the boolean.
		if lt.Kind == types.Boolean && rt.IsNumeric() {
			t, ok = rt, true
		} else if rt.Kind == types.Boolean && lt.IsNumeric() {
			t, ok = lt, true
		}
	}
	if ok && t.Kind == types.Map && a.op != "=" && a.op != "!=" && a.op != "<=>" {
		ok = false
	}
	if !ok {
		return nil, c.errAt(a.p, "cannot compare %s with %s", lt, rt)
	}
	l, r = c.cast(l, t), c.cast(r, t)
	return c.fold(&cmpNode{op: a.op, l: l, r: r, t: t}, l, r), nil
}

func (c *checker) arithmetic(a *astBinary, l, r node) (node, error) {
	lt, rt := l.typ(), r.typ()
	// date +/- days is date_add/date_sub, as in Spark 3.
	if lt.Kind == types.Date && (a.op == "+" || a.op == "-") && (rt.IsIntegral() || rt.Kind == types.Null) {
		name := "date_add"
		if a.op == "-" {
			name = "date_sub"
		}
		return c.call(&astCall{p: a.p, name: name, args: []ast{a.l, a.r}})
	}
	if rt.Kind == types.Date && a.op == "+" && lt.IsIntegral() {
		return c.call(&astCall{p: a.p, name: "date_add", args: []ast{a.r, a.l}})
	}
	if lt.Kind == types.Date && rt.Kind == types.Date && a.op == "-" {
		return c.call(&astCall{p: a.p, name: "datediff", args: []ast{a.l, a.r}})
	}
	// Strings in arithmetic are read as doubles; NULL takes the other side's type.
	promote := func(t *types.Type) *types.Type {
		if t.Kind == types.String {
			return types.DoubleType
		}
		return t
	}
	lt, rt = promote(lt), promote(rt)
	if lt.Kind == types.Null {
		lt = rt
	}
	if rt.Kind == types.Null {
		rt = lt
	}
	if lt.Kind == types.Null { // NULL op NULL
		lt, rt = types.DoubleType, types.DoubleType
		if a.op != "/" {
			lt, rt = types.IntType, types.IntType
		}
	}
	if !lt.IsNumeric() || !rt.IsNumeric() {
		bad, p := l.typ(), a.l.position()
		if lt.IsNumeric() {
			bad, p = r.typ(), a.r.position()
		}
		return nil, c.errAt(p, "operator %s needs numbers, got %s", a.op, bad)
	}
	t := widerNumeric(lt, rt)
	switch a.op {
	case "/":
		t = types.DoubleType // Spark's / is always fractional (decimal or double)
	case "div":
		if !t.IsIntegral() {
			t = types.LongType
		} else {
			t = types.LongType
		}
	case "&", "|", "^":
		if !t.IsIntegral() {
			return nil, c.errAt(a.p, "operator %s needs integers, got %s and %s", a.op, l.typ(), r.typ())
		}
	}
	l, r = c.cast(l, t), c.cast(r, t)
	return c.fold(&arithNode{op: a.op, l: l, r: r, t: t}, l, r), nil
}

func (c *checker) in(a *astIn) (node, error) {
	x, err := c.check(a.x)
	if err != nil {
		return nil, err
	}
	all := []node{x}
	for _, e := range a.list {
		n, err := c.check(e)
		if err != nil {
			return nil, err
		}
		all = append(all, n)
	}
	ts := make([]*types.Type, len(all))
	for i, n := range all {
		ts[i] = n.typ()
	}
	t, ok := commonType(ts, true)
	if !ok {
		return nil, c.errAt(a.p, "IN values must have compatible types, got %s", typeList(ts))
	}
	for i := range all {
		all[i] = c.cast(all[i], t)
	}
	in := &inNode{x: all[0], list: all[1:], t: t}
	hashable := t.IsIntegral() || t.Kind == types.String || t.Kind == types.Date || t.Kind == types.Timestamp || t.Kind == types.Boolean
	if hashable {
		set := map[any]bool{}
		for _, e := range in.list {
			lit, ok := e.(*litNode)
			if !ok {
				set = nil
				break
			}
			if lit.v == nil {
				in.setNull = true
			} else {
				set[lit.v] = true
			}
		}
		in.set = set
	}
	var n node = c.fold(in, all...)
	if a.not {
		n = c.fold(&notNode{x: n}, n)
	}
	return n, nil
}

func typeList(ts []*types.Type) string {
	parts := make([]string, len(ts))
	for i, t := range ts {
		parts[i] = t.String()
	}
	return strings.Join(parts, ", ")
}

func (c *checker) caseExpr(a *astCase) (node, error) {
	var whens []node
	if a.operand != nil {
		if _, err := c.check(a.operand); err != nil {
			return nil, err
		}
	}
	for _, w := range a.whens {
		if a.operand != nil {
			// CASE x WHEN v THEN ... compares x = v.
			n, err := c.check(&astBinary{p: w.position(), op: "=", l: a.operand, r: w})
			if err != nil {
				return nil, err
			}
			whens = append(whens, n)
			continue
		}
		n, err := c.check(w)
		if err != nil {
			return nil, err
		}
		if n, err = c.implicit(n, types.BooleanType, w.position(), "a WHEN condition"); err != nil {
			return nil, err
		}
		whens = append(whens, n)
	}
	var branches []node
	var positions []int
	for _, th := range a.thens {
		n, err := c.check(th)
		if err != nil {
			return nil, err
		}
		branches = append(branches, n)
		positions = append(positions, th.position())
	}
	if a.els != nil {
		n, err := c.check(a.els)
		if err != nil {
			return nil, err
		}
		branches = append(branches, n)
		positions = append(positions, a.els.position())
	} else {
		branches = append(branches, &litNode{t: types.NullType})
		positions = append(positions, a.p)
	}
	return c.caseNode(a.p, whens, branches, positions)
}

// caseNode builds CASE from conditions and len(whens)+1 branches (the last is ELSE).
func (c *checker) caseNode(pos int, whens, branches []node, positions []int) (node, error) {
	ts := make([]*types.Type, len(branches))
	for i, b := range branches {
		ts[i] = b.typ()
	}
	t, ok := commonType(ts, true)
	if !ok {
		return nil, c.errAt(pos, "CASE/IF branches have incompatible types: %s", typeList(ts))
	}
	for i := range branches {
		branches[i] = c.cast(branches[i], t)
	}
	n := len(whens)
	cn := &caseNode{whens: whens, thens: branches[:n], els: branches[n], t: t}
	return c.fold(cn, append(append([]node(nil), whens...), branches...)...), nil
}

func (c *checker) like(a *astLike) (node, error) {
	x, err := c.check(a.x)
	if err != nil {
		return nil, err
	}
	pat, err := c.check(a.pat)
	if err != nil {
		return nil, err
	}
	if x, err = c.implicit(x, types.StringType, a.x.position(), "the left side of "+strings.ToUpper(a.op)); err != nil {
		return nil, err
	}
	if pat, err = c.implicit(pat, types.StringType, a.pat.position(), "a "+strings.ToUpper(a.op)+" pattern"); err != nil {
		return nil, err
	}
	var n node
	if a.op == "rlike" {
		n, err = c.regexMatch(x, pat, a.pat.position())
	} else {
		n, err = c.likeMatch(x, pat, a.pat.position(), a.escape, a.op == "ilike")
	}
	if err != nil {
		return nil, err
	}
	if a.not {
		n = c.fold(&notNode{x: n}, n)
	}
	return n, nil
}

// cast wraps n in a cast to t unless it already has that type.
func (c *checker) cast(n node, t *types.Type) node {
	if n.typ().Equal(t) {
		return n
	}
	if l, ok := n.(*litNode); ok {
		return &litNode{v: castValue(l.v, l.t, t), t: t}
	}
	return &castNode{x: n, from: n.typ(), to: t}
}

// implicit casts n to t if Spark would do so implicitly for a function argument, else reports what
// was expected.
func (c *checker) implicit(n node, t *types.Type, pos int, what string) (node, error) {
	if !implicitCastable(n.typ(), t) {
		return nil, c.errAt(pos, "%s must be %s, got %s", what, t, n.typ())
	}
	return c.cast(n, t), nil
}

// ---- type coercion (Spark 3 TypeCoercion, non-ANSI) ----

func numRank(t *types.Type) int {
	switch t.Kind {
	case types.Byte:
		return 1
	case types.Short:
		return 2
	case types.Int:
		return 3
	case types.Long:
		return 4
	case types.Float:
		return 5
	case types.Double:
		return 6
	}
	return 0
}

func widerNumeric(a, b *types.Type) *types.Type {
	if numRank(a) >= numRank(b) {
		return a
	}
	return b
}

// tightestType is Spark's findTightestCommonType: no precision-losing or string promotion.
func tightestType(a, b *types.Type) (*types.Type, bool) {
	switch {
	case a.Equal(b):
		return a, true
	case a.Kind == types.Null:
		return b, true
	case b.Kind == types.Null:
		return a, true
	case a.IsNumeric() && b.IsNumeric():
		return widerNumeric(a, b), true
	case a.Kind == types.Date && b.Kind == types.Timestamp, a.Kind == types.Timestamp && b.Kind == types.Date:
		return types.TimestampType, true
	}
	return nil, false
}

// widerType is Spark's findWiderTypeForTwo (with or without string promotion), recursing into
// arrays and maps.
func widerType(a, b *types.Type, stringPromotion bool) (*types.Type, bool) {
	if t, ok := tightestType(a, b); ok {
		return t, true
	}
	if stringPromotion {
		promotable := func(t *types.Type) bool {
			return t.IsNumeric() || t.Kind == types.Date || t.Kind == types.Timestamp
		}
		if a.Kind == types.String && promotable(b) || b.Kind == types.String && promotable(a) {
			return types.StringType, true
		}
	}
	switch {
	case a.Kind == types.List && b.Kind == types.List:
		e, ok := widerType(a.Elem, b.Elem, stringPromotion)
		if ok {
			return types.ListOf(e), true
		}
	case a.Kind == types.Map && b.Kind == types.Map:
		k, ok1 := widerType(a.Key, b.Key, stringPromotion)
		v, ok2 := widerType(a.Value, b.Value, stringPromotion)
		if ok1 && ok2 {
			return types.MapOf(k, v), true
		}
	}
	return nil, false
}

// commonType folds widerType over ts (Spark's findWiderCommonType). Like Spark, types containing a
// string go first, so that (timestamp, int, string) widens to string whatever the argument order.
func commonType(ts []*types.Type, stringPromotion bool) (*types.Type, bool) {
	ordered := make([]*types.Type, 0, len(ts))
	for _, x := range ts {
		if hasString(x) {
			ordered = append(ordered, x)
		}
	}
	for _, x := range ts {
		if !hasString(x) {
			ordered = append(ordered, x)
		}
	}
	t := types.NullType
	for _, x := range ordered {
		var ok bool
		if t, ok = widerType(t, x, stringPromotion); !ok {
			return nil, false
		}
	}
	return t, true
}

func hasString(t *types.Type) bool {
	switch t.Kind {
	case types.String:
		return true
	case types.List:
		return hasString(t.Elem)
	case types.Map:
		return hasString(t.Key) || hasString(t.Value)
	}
	return false
}

// comparisonType is Spark 3's findCommonTypeForBinaryComparison followed by the tightest type: a
// string compared with a number, date, timestamp or boolean is cast to the other side's type.
func comparisonType(a, b *types.Type) (*types.Type, bool) {
	atomic := func(t *types.Type) bool {
		switch t.Kind {
		case types.List, types.Map, types.Struct, types.Null, types.String:
			return false
		}
		return true
	}
	switch {
	case a.Kind == types.String && atomic(b):
		return b, true
	case b.Kind == types.String && atomic(a):
		return a, true
	}
	if t, ok := tightestType(a, b); ok {
		return t, true
	}
	return widerType(a, b, false)
}

// implicitCastable is Spark's ImplicitTypeCasts.implicitCast for function arguments.
func implicitCastable(from, to *types.Type) bool {
	if from.Equal(to) || from.Kind == types.Null {
		return true
	}
	switch {
	case from.IsNumeric() && to.IsNumeric():
		return true
	case from.Kind == types.String:
		return to.IsNumeric() || to.Kind == types.Date || to.Kind == types.Timestamp || to.Kind == types.Binary
	case to.Kind == types.String:
		switch from.Kind {
		case types.List, types.Map, types.Struct:
			return false
		}
		return true
	case from.Kind == types.Date && to.Kind == types.Timestamp, from.Kind == types.Timestamp && to.Kind == types.Date:
		return true
	case from.Kind == types.List && to.Kind == types.List:
		return implicitCastable(from.Elem, to.Elem)
	case from.Kind == types.Map && to.Kind == types.Map:
		return implicitCastable(from.Key, to.Key) && implicitCastable(from.Value, to.Value)
	}
	return false
}

// castDecimal is CAST(x AS DECIMAL(p,s)) without a decimal type: the value becomes a double rounded
// HALF_UP to s fractional digits, and NULL when it needs more than p-s integer digits (Spark's
// non-ANSI overflow), so money-style rounding casts give Spark's values.
func (c *checker) castDecimal(a *astCast, x node) node {
	d := *a.dec
	limit := math.Pow10(d.precision - d.scale)
	x = c.cast(x, types.DoubleType)
	call := &astCall{p: a.p, name: "cast"}
	return typed1(c, call, types.DoubleType, []node{x}, func(f float64, _ []any) (float64, bool) {
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return 0, false
		}
		r := roundDecimal(f, d.scale, 64, false)
		if math.Abs(r) >= limit {
			return 0, false
		}
		return r, true
	})
}
