package expr

import (
	"fmt"

	"github.com/chronon-go/chronon/runtime/types"
)

// Helpers for the common "SELECT exprs FROM batch WHERE preds" shape of Chronon source queries.

// Where evaluates the predicates (boolean expressions, ANDed) and returns the rows for which all are
// true; NULL counts as false, as in a SQL WHERE. With no predicates b is returned unchanged.
func Where(b *types.Batch, preds ...*Expr) (*types.Batch, error) {
	if len(preds) == 0 {
		return b, nil
	}
	n := b.Len()
	keep := make([]bool, n)
	for i := range keep {
		keep[i] = true
	}
	for _, p := range preds {
		if p.Type().Kind != types.Boolean && p.Type().Kind != types.Null {
			return nil, fmt.Errorf("where %q: must be boolean, is %s", p.src, p.Type())
		}
		col, err := p.Eval(b)
		if err != nil {
			return nil, err
		}
		for i := range keep {
			keep[i] = keep[i] && !col.IsNull(i) && col.Bools != nil && col.Bools[i]
		}
	}
	return Gather(b, keep), nil
}

// Select evaluates one expression per output column; names give the output schema.
func Select(b *types.Batch, exprs []*Expr, names []string) (*types.Batch, error) {
	if len(exprs) != len(names) {
		return nil, fmt.Errorf("select: %d expressions but %d names", len(exprs), len(names))
	}
	out := &types.Batch{Schema: make(types.Schema, len(exprs)), Cols: make([]*types.Column, len(exprs))}
	for i, e := range exprs {
		col, err := e.Eval(b)
		if err != nil {
			return nil, err
		}
		out.Schema[i] = types.Field{Name: names[i], Type: e.Type()}
		out.Cols[i] = col
	}
	return out, nil
}

// Gather returns the rows of b where keep is true, copying column data (b is not modified). When
// every row is kept b itself is returned.
func Gather(b *types.Batch, keep []bool) *types.Batch {
	count := 0
	for _, k := range keep {
		if k {
			count++
		}
	}
	if count == len(keep) {
		return b
	}
	out := &types.Batch{Schema: b.Schema, Cols: make([]*types.Column, len(b.Cols))}
	for ci, c := range b.Cols {
		out.Cols[ci] = gatherColumn(c, keep, count)
	}
	return out
}

func gatherColumn(c *types.Column, keep []bool, count int) *types.Column {
	out := &types.Column{Type: c.Type}
	if c.Nulls != nil {
		out.Nulls = gatherSlice(c.Nulls, keep, count)
	}
	switch {
	case c.Bools != nil:
		out.Bools = gatherSlice(c.Bools, keep, count)
	case c.Ints != nil:
		out.Ints = gatherSlice(c.Ints, keep, count)
	case c.Floats != nil:
		out.Floats = gatherSlice(c.Floats, keep, count)
	case c.Strs != nil:
		out.Strs = gatherSlice(c.Strs, keep, count)
	case c.Bytes != nil:
		out.Bytes = gatherSlice(c.Bytes, keep, count)
	case c.Values != nil:
		out.Values = gatherSlice(c.Values, keep, count)
	default:
		// An empty column of any storage: keep the storage kind by rebuilding from the type.
		e := types.NewColumn(c.Type, 0)
		e.Nulls = out.Nulls
		return e
	}
	return out
}

func gatherSlice[T any](xs []T, keep []bool, count int) []T {
	out := make([]T, 0, count)
	for i, k := range keep {
		if k {
			out = append(out, xs[i])
		}
	}
	return out
}
