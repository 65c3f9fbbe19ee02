package warehouse

import (
	"fmt"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/format"

	"github.com/chronon-go/chronon/runtime/types"
)

// readNested reads a list, map or struct column of one row group: it collects the values of each
// leaf, cuts them into rows (repetition level 0) and reassembles each row's value from the levels.
func readNested(chunks []parquet.ColumnChunk, fc fileColumn, col *types.Column) error {
	leaves := make([][]parquet.Value, len(chunks))
	for i, ch := range chunks {
		err := readValues(ch, func(vs []parquet.Value) error {
			for _, v := range vs {
				leaves[i] = append(leaves[i], v.Clone())
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	rows := make([][][]parquet.Value, len(leaves))
	for i, vs := range leaves {
		rows[i] = split(vs, 0)
	}
	a := assembler{decs: fc.decs}
	for r := range rows[0] {
		sl := make([][]parquet.Value, len(rows))
		for i := range rows {
			if r >= len(rows[i]) {
				return fmt.Errorf("leaf %d has %d rows, leaf 0 has %d", i, len(rows[i]), len(rows[0]))
			}
			sl[i] = rows[i][r]
		}
		v, err := a.value(fc.node, col.Type, sl, 0, 0, 0)
		if err != nil {
			return err
		}
		col.Append(v)
	}
	return nil
}

// split cuts a leaf's values into groups, a new group starting at every value whose repetition level
// is at most r (the first value always starts one).
func split(vs []parquet.Value, r int) [][]parquet.Value {
	var out [][]parquet.Value
	start := 0
	for i := 1; i <= len(vs); i++ {
		if i == len(vs) || vs[i].RepetitionLevel() <= r {
			out = append(out, vs[start:i])
			start = i
		}
	}
	return out
}

type assembler struct {
	decs []leafDecoder
}

// value rebuilds the value of node n (with its own repetition) from its leaves' values for one
// instance of its parent; d and r are the parent's definition and repetition levels, leaf the index
// of n's first leaf in a.decs.
func (a *assembler) value(n parquet.Node, t *types.Type, sl [][]parquet.Value, d, r, leaf int) (any, error) {
	if n.Repeated() { // bare repeated field: a list whose elements are n itself
		d, r = d+1, r+1
		if sl[0][0].DefinitionLevel() < d {
			return []any{}, nil
		}
		return a.elements(sl, r, func(e [][]parquet.Value) (any, error) { return a.inner(n, t.Elem, e, d, r, leaf) })
	}
	if n.Optional() {
		d++
		if sl[0][0].DefinitionLevel() < d {
			return nil, nil
		}
	}
	return a.inner(n, t, sl, d, r, leaf)
}

func (a *assembler) elements(sl [][]parquet.Value, r int, fn func([][]parquet.Value) (any, error)) ([]any, error) {
	parts := make([][][]parquet.Value, len(sl))
	for i := range sl {
		parts[i] = split(sl[i], r)
	}
	out := make([]any, 0, len(parts[0]))
	for k := range parts[0] {
		e := make([][]parquet.Value, len(sl))
		for i := range sl {
			e[i] = parts[i][k]
		}
		v, err := fn(e)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// inner rebuilds a defined node n (its own optionality already accounted for in d).
func (a *assembler) inner(n parquet.Node, t *types.Type, sl [][]parquet.Value, d, r, leaf int) (any, error) {
	if n.Leaf() {
		return boxed(sl[0][0], a.decs[leaf], t)
	}
	if lt := n.Type().LogicalType(); lt != nil {
		switch lt.Value.(type) {
		case *format.ListType:
			rep := n.Fields()[0]
			if rep.Leaf() || len(rep.Fields()) != 1 || rep.Name() == "array" { // two-level list
				return a.value(rep, t, sl, d, r, leaf)
			}
			rd, rr := d+1, r+1
			if sl[0][0].DefinitionLevel() < rd {
				return []any{}, nil
			}
			return a.elements(sl, rr, func(e [][]parquet.Value) (any, error) {
				return a.value(rep.Fields()[0], t.Elem, e, rd, rr, leaf)
			})
		case *format.MapType:
			kv := n.Fields()[0]
			rd, rr := d+1, r+1
			m := &types.MapValue{}
			if sl[0][0].DefinitionLevel() < rd {
				return m, nil
			}
			kn := leafCount(kv.Fields()[0])
			_, err := a.elements(sl, rr, func(e [][]parquet.Value) (any, error) {
				k, err := a.value(kv.Fields()[0], t.Key, e[:kn], rd, rr, leaf)
				if err != nil {
					return nil, err
				}
				v, err := a.value(kv.Fields()[1], t.Value, e[kn:], rd, rr, leaf+kn)
				if err != nil {
					return nil, err
				}
				m.Keys = append(m.Keys, k)
				m.Values = append(m.Values, v)
				return nil, nil
			})
			return m, err
		}
	}
	fs := n.Fields()
	if t.Kind != types.Struct || len(t.Fields) != len(fs) {
		return nil, fmt.Errorf("group %s does not match type %s", n.Type(), t)
	}
	sv := make(types.StructValue, len(fs))
	off := 0
	for i, f := range fs {
		c := leafCount(f)
		v, err := a.value(f, t.Fields[i].Type, sl[off:off+c], d, r, leaf+off)
		if err != nil {
			return nil, err
		}
		sv[i] = v
		off += c
	}
	return sv, nil
}
