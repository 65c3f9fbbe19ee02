package aggregate

import (
	"math"

	"github.com/chronon-go/chronon/runtime/types"
	"github.com/chronon-go/chronon/thrift/api"
)

// Aggregator evaluates a GroupBy's aggregations over rows of one input schema. It keeps one "base"
// IR per (aggregation, bucket) — windows are applied by combining base IRs of hops — and produces one
// output column per Part. An Aggregator (and the Sawtooth or Online built on it) is not safe for
// concurrent use: build one per worker goroutine with New, which is cheap.
type Aggregator struct {
	schema   types.Schema
	parts    []Part
	bases    []*columnAgg
	baseName []string
	partBase []int
	err      error
}

// New builds the aggregator for aggs over rows of input. Errors name the column and operation.
func New(aggs []*api.Aggregation, input types.Schema) (*Aggregator, error) {
	a := &Aggregator{schema: input, parts: ExpandParts(aggs)}
	type key struct {
		agg    int
		bucket string
	}
	index := map[key]int{}
	for _, p := range a.parts {
		k := key{p.AggIndex, p.Bucket}
		i, ok := index[k]
		if !ok {
			c, err := newColumnAgg(aggs[p.AggIndex], p.Bucket, input, &a.err)
			if err != nil {
				return nil, err
			}
			i = len(a.bases)
			index[k] = i
			a.bases = append(a.bases, c)
			name := p.InputColumn + "_" + OpSuffix(p.Operation, p.Args)
			if p.Bucket != "" {
				name += "_by_" + p.Bucket
			}
			a.baseName = append(a.baseName, name)
		}
		a.partBase = append(a.partBase, i)
	}
	return a, nil
}

// Parts lists the output columns' definitions in output order.
func (a *Aggregator) Parts() []Part { return a.parts }

// InputSchema is the schema the batches given to Update must have.
func (a *Aggregator) InputSchema() types.Schema { return a.schema }

// OutputSchema is one column per Part: its output name and finalized type.
func (a *Aggregator) OutputSchema() types.Schema {
	s := make(types.Schema, len(a.parts))
	for i, p := range a.parts {
		s[i] = types.Field{Name: OutputColumnName(p), Type: a.bases[a.partBase[i]].outT}
	}
	return s
}

// PartIRSchema is one IR column per Part (the collapsed/windowed IR layout).
func (a *Aggregator) PartIRSchema() types.Schema {
	s := make(types.Schema, len(a.parts))
	for i, p := range a.parts {
		s[i] = types.Field{Name: OutputColumnName(p), Type: a.bases[a.partBase[i]].irT}
	}
	return s
}

// BaseIRSchema is one IR column per base aggregation (the hop IR layout).
func (a *Aggregator) BaseIRSchema() types.Schema {
	s := make(types.Schema, len(a.bases))
	for i, c := range a.bases {
		s[i] = types.Field{Name: a.baseName[i], Type: c.irT}
	}
	return s
}

// NumBases is the length of a base IR row.
func (a *Aggregator) NumBases() int { return len(a.bases) }

// PartBase is the base aggregation feeding part i.
func (a *Aggregator) PartBase(i int) int { return a.partBase[i] }

// Err reports the first data error met by Update (e.g. element_wise lists of different lengths).
func (a *Aggregator) Err() error { return a.err }

// Update adds row of b (event time ts) to the base IR row ir (len NumBases).
func (a *Aggregator) Update(ir []State, b *types.Batch, row int, ts int64) {
	for i, c := range a.bases {
		c.update(&ir[i], b, row, ts)
	}
}

// UpdateBase adds row to base IR i only.
func (a *Aggregator) UpdateBase(i int, slot *State, b *types.Batch, row int, ts int64) {
	a.bases[i].update(slot, b, row, ts)
}

// Delete retracts row from ir (entity mutations with is_before). As in Chronon, only the deletable
// aggregations (SUM, COUNT, AVERAGE, HISTOGRAM) change; the others ignore retractions.
func (a *Aggregator) Delete(ir []State, b *types.Batch, row int) error {
	for i, c := range a.bases {
		if c.k.deletable() {
			c.remove(&ir[i], b, row)
		}
	}
	return a.err
}

// MergeBases folds src into dst (base IR rows); src counts as later in scan order.
func (a *Aggregator) MergeBases(dst, src []State) {
	for i := range dst {
		Merge(&dst[i], src[i])
	}
}

// FinalizePart is part i's output value for the IR s of its base (nil = null).
func (a *Aggregator) FinalizePart(i int, s State) any {
	return a.bases[a.partBase[i]].final(s)
}

// BaseIRValue serializes base IR i to a value of BaseIRSchema()[i].Type; IRs are stored in the online
// store this way.
func (a *Aggregator) BaseIRValue(i int, s State) any { return a.bases[i].irValue(s) }

// BaseIRFromValue is the inverse of BaseIRValue.
func (a *Aggregator) BaseIRFromValue(i int, v any) (State, error) { return a.bases[i].irFromValue(v) }

// appendFinal appends part i's finalized value for s to col without boxing common numeric results.
// Lists of numbers are built in arena when it is not nil.
func (a *Aggregator) appendFinal(col *types.Column, i int, s State, arena *types.ListArena) {
	c := a.bases[a.partBase[i]]
	if s == nil {
		col.AppendNull()
		return
	}
	if c.bucket < 0 && (c.mode == modeDirect || c.mode == modeVector) {
		switch x := s.(type) {
		case *countState:
			appendInt(col, x.n)
			return
		case *sumLong:
			appendInt(col, x.v)
			return
		case *sumDouble:
			appendFloat(col, x.v)
			return
		case *avgState:
			appendFloat(col, x.sum/float64(x.n))
			return
		case *orderState[int64]:
			appendInt(col, x.v)
			return
		case *orderState[float64]:
			appendFloat(col, x.v)
			return
		case *timedKState:
			if arena != nil && (x.cfg.fam == famInt || x.cfg.fam == famFloat) {
				col.Append(x.resultIn(arena))
				return
			}
		}
	}
	col.Append(c.final(s))
}

func appendInt(col *types.Column, v int64) {
	if col.Nulls != nil {
		col.Nulls = append(col.Nulls, false)
	}
	col.Ints = append(col.Ints, v)
}

func appendFloat(col *types.Column, v float64) {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		col.AppendNull()
		return
	}
	if col.Nulls != nil {
		col.Nulls = append(col.Nulls, false)
	}
	col.Floats = append(col.Floats, v)
}
