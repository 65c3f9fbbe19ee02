package expr

import (
	"fmt"

	"github.com/chronon-go/chronon/runtime/types"
)

// Expr is a compiled, type-checked expression. It is immutable and safe for concurrent use.
type Expr struct {
	src    string
	root   node
	schema types.Schema
	refs   []int // schema positions the expression reads, ascending
}

// Compile parses src and type-checks it against schema. Column names resolve like Spark's default
// (exact match first, then case-insensitive). Errors are *Error values that point into src.
func Compile(src string, schema types.Schema) (*Expr, error) {
	a, err := parse(src)
	if err != nil {
		return nil, err
	}
	c := &checker{src: src, schema: schema, used: map[int]bool{}}
	n, err := c.check(a)
	if err != nil {
		return nil, err
	}
	e := &Expr{src: src, root: n, schema: schema}
	for i := range schema {
		if c.used[i] {
			e.refs = append(e.refs, i)
		}
	}
	return e, nil
}

// MustCompile is Compile for expressions known to be valid (tests, built-in expressions).
func MustCompile(src string, schema types.Schema) *Expr {
	e, err := Compile(src, schema)
	if err != nil {
		panic(err)
	}
	return e
}

// Type is the result type.
func (e *Expr) Type() *types.Type { return e.root.typ() }

// String returns the source text.
func (e *Expr) String() string { return e.src }

// Columns lists the input columns the expression reads, in schema order.
func (e *Expr) Columns() []string {
	out := make([]string, len(e.refs))
	for i, r := range e.refs {
		out[i] = e.schema[r].Name
	}
	return out
}

// IsColumn reports whether the expression is a bare column reference, and which (Chronon evaluates
// rename-only derivations without SQL; callers can skip evaluation the same way).
func (e *Expr) IsColumn() (string, bool) {
	if c, ok := e.root.(*colNode); ok {
		return e.schema[c.idx].Name, true
	}
	return "", false
}

// IsConstant reports whether the expression reads no column (its value is the same for every row).
func (e *Expr) IsConstant() bool {
	_, ok := e.root.(*litNode)
	return ok
}

// Eval evaluates the expression for every row of b and returns a column of Type() with b.Len() rows.
// b must contain the referenced columns with the compiled types (by name; order and extra columns do
// not matter). The result may share memory with b's columns: treat both as read-only.
func (e *Expr) Eval(b *types.Batch) (*types.Column, error) {
	return e.EvalN(b, b.Len())
}

// EvalN is Eval with an explicit row count, for batches without columns (constant expressions).
func (e *Expr) EvalN(b *types.Batch, n int) (col *types.Column, err error) {
	defer e.recoverInto(&err)
	ctx := &batchCtx{n: n, cols: make([]*types.Column, len(e.schema))}
	for _, r := range e.refs {
		f := e.schema[r]
		var col *types.Column
		if r < len(b.Schema) && b.Schema[r].Name == f.Name {
			col = b.Cols[r]
		} else {
			col = b.Col(f.Name)
		}
		if col == nil {
			return nil, fmt.Errorf("expression %q: batch has no column %q", e.src, f.Name)
		}
		if !col.Type.Equal(f.Type) {
			return nil, fmt.Errorf("expression %q: column %q is %s in the batch but was compiled as %s", e.src, f.Name, col.Type, f.Type)
		}
		if col.Len() != n {
			return nil, fmt.Errorf("expression %q: column %q has %d rows, expected %d", e.src, f.Name, col.Len(), n)
		}
		ctx.cols[r] = col
	}
	return e.root.evalVec(ctx).materialize(n), nil
}

// EvalRow evaluates one row given as column name → value (the online path). Values may use common Go
// types (int, float32, time.Time, map[string]any for maps and structs) and are normalized to the
// schema's types; a missing column is NULL. The result is boxed like types.Column.Value.
func (e *Expr) EvalRow(row map[string]any) (v any, err error) {
	defer e.recoverInto(&err)
	vals := make([]any, len(e.schema))
	for _, r := range e.refs {
		f := e.schema[r]
		v, err := normalize(row[f.Name], f.Type)
		if err != nil {
			return nil, fmt.Errorf("column %q: %w", f.Name, err)
		}
		vals[r] = v
	}
	return e.root.evalRow(vals), nil
}

// EvalValues evaluates one row given in schema order, already boxed like types.Column.Value (no
// conversion, no allocation beyond what the expression itself needs).
func (e *Expr) EvalValues(row []any) (v any, err error) {
	defer e.recoverInto(&err)
	if len(row) != len(e.schema) {
		return nil, fmt.Errorf("expression %q: row has %d values, schema %d", e.src, len(row), len(e.schema))
	}
	return e.root.evalRow(row), nil
}

// recoverInto turns a panic (a bug, or a value of the wrong Go type passed to EvalValues) into an
// error, so one bad row cannot take down a serving process.
func (e *Expr) recoverInto(err *error) {
	if r := recover(); r != nil {
		*err = fmt.Errorf("expression %q: evaluation failed: %v", e.src, r)
	}
}

// node is a typed, evaluable expression. evalRow and evalVec must agree; both call the same scalar
// helpers, and evalVec only adds loops specialised on the storage type.
type node interface {
	typ() *types.Type
	evalRow(row []any) any
	evalVec(ctx *batchCtx) vec
}

type batchCtx struct {
	n    int
	cols []*types.Column // by schema position; nil for unreferenced columns
}

// vec is an intermediate column: a real column, or a constant standing for n equal rows (so literals
// are never broadcast until a result has to be materialized).
type vec struct {
	c *types.Column
	k any // the constant when c == nil (nil = NULL)
	t *types.Type
}

func constVec(v any, t *types.Type) vec { return vec{k: v, t: t} }
func colVec(c *types.Column) vec        { return vec{c: c, t: c.Type} }

func (v vec) isConst() bool { return v.c == nil }

func (v vec) value(i int) any {
	if v.c == nil {
		return v.k
	}
	return v.c.Value(i)
}

func (v vec) isNull(i int) bool {
	if v.c == nil {
		return v.k == nil
	}
	return v.c.Nulls != nil && v.c.Nulls[i]
}

func (v vec) materialize(n int) *types.Column {
	if v.c != nil {
		if v.c.Type != v.t { // a no-op cast changed only the type
			c := *v.c
			c.Type = v.t
			return &c
		}
		return v.c
	}
	out := types.NewColumn(v.t, n)
	if v.k == nil {
		out.Nulls = make([]bool, n)
		for i := range out.Nulls {
			out.Nulls[i] = true
		}
		switch {
		case out.Bools != nil:
			out.Bools = make([]bool, n)
		case out.Ints != nil:
			out.Ints = make([]int64, n)
		case out.Floats != nil:
			out.Floats = make([]float64, n)
		case out.Strs != nil:
			out.Strs = make([]string, n)
		case out.Bytes != nil:
			out.Bytes = make([][]byte, n)
		default:
			out.Values = make([]any, n)
		}
		return out
	}
	switch x := v.k.(type) {
	case bool:
		out.Bools = out.Bools[:n]
		for i := range out.Bools {
			out.Bools[i] = x
		}
	case int64:
		out.Ints = out.Ints[:n]
		for i := range out.Ints {
			out.Ints[i] = x
		}
	case float64:
		out.Floats = out.Floats[:n]
		for i := range out.Floats {
			out.Floats[i] = x
		}
	case string:
		out.Strs = out.Strs[:n]
		for i := range out.Strs {
			out.Strs[i] = x
		}
	default:
		for i := 0; i < n; i++ {
			out.Append(x)
		}
	}
	return out
}

// mergeNulls ORs null flags of the inputs (constants included); nil when no row can be null.
func mergeNulls(n int, vs ...vec) ([]bool, bool) {
	var out []bool
	for _, v := range vs {
		if v.c == nil {
			if v.k == nil {
				return nil, true // everything is null
			}
			continue
		}
		if v.c.Nulls == nil {
			continue
		}
		if out == nil {
			out = make([]bool, n)
			copy(out, v.c.Nulls)
			continue
		}
		for i, b := range v.c.Nulls {
			out[i] = out[i] || b
		}
	}
	return out, false
}

// builder collects a result column row by row for the generic (boxed) path.
func buildColumn(t *types.Type, n int, f func(i int) any) *types.Column {
	out := types.NewColumn(t, n)
	for i := 0; i < n; i++ {
		out.Append(f(i))
	}
	return out
}

// ---- leaves ----

type colNode struct {
	idx int
	t   *types.Type
}

func (c *colNode) typ() *types.Type          { return c.t }
func (c *colNode) evalRow(row []any) any     { return row[c.idx] }
func (c *colNode) evalVec(ctx *batchCtx) vec { return colVec(ctx.cols[c.idx]) }

type litNode struct {
	v any
	t *types.Type
}

func (l *litNode) typ() *types.Type      { return l.t }
func (l *litNode) evalRow([]any) any     { return l.v }
func (l *litNode) evalVec(*batchCtx) vec { return constVec(l.v, l.t) }

// ---- generic function call ----

// callNode applies a scalar function row by row. Unless nullSafe, a NULL argument gives NULL without
// calling fn. vecFn, when set, is a faster columnar implementation with the same semantics; it may
// return false to fall back to the generic loop.
type callNode struct {
	name     string
	t        *types.Type
	args     []node
	fn       func(args []any) any
	nullSafe bool
	vecFn    func(ctx *batchCtx, args []vec) (vec, bool)
}

func (c *callNode) typ() *types.Type { return c.t }

func (c *callNode) evalRow(row []any) any {
	var buf [4]any
	args := buf[:0]
	for _, a := range c.args {
		v := a.evalRow(row)
		if v == nil && !c.nullSafe {
			return nil
		}
		args = append(args, v)
	}
	return c.fn(args)
}

func (c *callNode) evalVec(ctx *batchCtx) vec {
	args := make([]vec, len(c.args))
	allConst := true
	for i, a := range c.args {
		args[i] = a.evalVec(ctx)
		allConst = allConst && args[i].isConst()
	}
	if allConst {
		return constVec(c.applyRow(args, 0, make([]any, len(args))), c.t)
	}
	if c.vecFn != nil {
		if v, ok := c.vecFn(ctx, args); ok {
			return v
		}
	}
	buf := make([]any, len(args))
	return colVec(buildColumn(c.t, ctx.n, func(i int) any { return c.applyRow(args, i, buf) }))
}

func (c *callNode) applyRow(args []vec, i int, buf []any) any {
	for j, a := range args {
		v := a.value(i)
		if v == nil && !c.nullSafe {
			return nil
		}
		buf[j] = v
	}
	return c.fn(buf)
}
