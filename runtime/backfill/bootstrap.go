package backfill

import (
	"fmt"
	"sort"
	"strings"

	"github.com/chronon-go/chronon/runtime/types"
	"github.com/chronon-go/chronon/runtime/warehouse"
	"github.com/chronon-go/chronon/thrift/api"
)

// Bootstrap parts (spec §6.5) supply precomputed values for some of a join's output columns: rows of
// a bootstrap table are matched to left rows on the part's keys (keyColumns, else the join's rowIds)
// and ds. Earlier parts win over later ones; a join part is computed only for the left rows whose
// matched bootstrap parts do not cover all of its columns, and a bootstrapped value wins over a
// computed one.

// bootstrapped holds, for one chunk of left rows, the values taken from bootstrap tables.
type bootstrapped struct {
	values  map[string]*types.Column // output column → value per left row (null where unmatched)
	covers  [][]string               // per bootstrap part: the output columns it provides
	matched [][]bool                 // per bootstrap part: which left rows it matched
}

// loadBootstraps reads every bootstrap part for the left rows of lb.
func (p *joinPlan) loadBootstraps(w *warehouse.Warehouse, lb *types.Batch, start, end string, fields map[string]*types.Type) (*bootstrapped, error) {
	if len(p.j.BootstrapParts) == 0 {
		return nil, nil
	}
	n := lb.Len()
	bs := &bootstrapped{values: map[string]*types.Column{}}
	leftDs := lb.Col(warehouse.PartitionColumn)
	for bi, bp := range p.j.BootstrapParts {
		keys := bp.KeyColumns
		if len(keys) == 0 {
			keys = p.j.RowIds
		}
		if len(keys) == 0 {
			return nil, fmt.Errorf("join %s: bootstrapParts[%d] (%s) needs keyColumns, or the join needs rowIds", p.name, bi, bp.GetTable())
		}
		leftKeys := make([]*types.Column, len(keys))
		for i, k := range keys {
			if leftKeys[i] = lb.Col(k); leftKeys[i] == nil {
				return nil, fmt.Errorf("join %s: bootstrapParts[%d] key %s is not a left column (left columns: %s)", p.name, bi, k, strings.Join(lb.Schema.Names(), ", "))
			}
		}
		s, e := start, end
		q := bp.Query
		if q == nil {
			q = &api.Query{}
		}
		if sp := q.GetStartPartition(); sp > s {
			s = sp
		}
		if ep := q.GetEndPartition(); ep != "" && ep < e {
			e = ep
		}
		matched := make([]bool, n)
		bs.matched = append(bs.matched, matched)
		if s > e {
			bs.covers = append(bs.covers, nil)
			continue
		}
		// A bootstrap table is read like an entity source: all its (selected) columns.
		src := &api.Source{Entities: &api.EntitySource{SnapshotTable: bp.Table, Query: q}}
		data, err := scan(w, sourceQuery{src: src, order: p.order, keys: keys, accuracy: api.Accuracy_SNAPSHOT, start: s, end: e})
		if err != nil {
			return nil, fmt.Errorf("join %s: bootstrapParts[%d]: %w", p.name, bi, err)
		}
		var cover []string
		for _, f := range data.batch.Schema {
			t, ok := fields[f.Name]
			if !ok {
				continue // only join outputs are taken from bootstrap tables
			}
			if !t.Equal(f.Type) {
				return nil, fmt.Errorf("join %s: bootstrap table %s column %s is %s but the join computes %s", p.name, bp.GetTable(), f.Name, f.Type, t)
			}
			cover = append(cover, f.Name)
		}
		sort.Strings(cover)
		bs.covers = append(bs.covers, cover)
		// First bootstrap row per (keys, ds).
		bKeys := make([]*types.Column, len(keys)+1)
		lKeys := make([]*types.Column, len(keys)+1)
		for i, k := range keys {
			bKeys[i] = data.batch.Col(k)
			lKeys[i] = leftKeys[i]
		}
		bKeys[len(keys)], lKeys[len(keys)] = data.batch.Col(warehouse.PartitionColumn), leftDs
		var buf []byte
		first := map[string]int32{}
		for i := 0; i < data.batch.Len(); i++ {
			if k, ok := keyOf(bKeys, i, &buf); ok {
				if _, seen := first[k]; !seen {
					first[k] = int32(i)
				}
			}
		}
		idx := make([]int32, n)
		for i := 0; i < n; i++ {
			idx[i] = -1
			if k, ok := keyOf(lKeys, i, &buf); ok {
				if r, ok := first[k]; ok {
					idx[i] = r
					matched[i] = true
				}
			}
		}
		for _, c := range cover {
			col := data.batch.Col(c).Take(idx)
			if prev, ok := bs.values[c]; ok {
				bs.values[c] = coalesceColumns(prev, col) // an earlier part wins
			} else {
				bs.values[c] = col
			}
		}
	}
	return bs, nil
}

// covered reports, per left row, whether its matched bootstrap parts provide every column of cols.
func (bs *bootstrapped) covered(cols []string, n int) []bool {
	out := make([]bool, n)
	if bs == nil {
		return out
	}
	need := map[string]bool{}
	for _, c := range cols {
		need[c] = true
	}
	for i := 0; i < n; i++ {
		have := 0
		seen := map[string]bool{}
		for b, m := range bs.matched {
			if !m[i] {
				continue
			}
			for _, c := range bs.covers[b] {
				if need[c] && !seen[c] {
					seen[c] = true
					have++
				}
			}
		}
		out[i] = have == len(need)
	}
	return out
}

// apply returns col with bootstrapped values of column name taking precedence.
func (bs *bootstrapped) apply(name string, col *types.Column) *types.Column {
	if bs == nil {
		return col
	}
	b, ok := bs.values[name]
	if !ok {
		return col
	}
	return coalesceColumns(b, col)
}

// coalesceColumns returns a column taking a's value where not null, else b's (same type and length).
func coalesceColumns(a, b *types.Column) *types.Column {
	n := a.Len()
	useB := false
	for i := 0; i < n; i++ {
		if a.IsNull(i) && !b.IsNull(i) {
			useB = true
		}
	}
	if !useB {
		return a
	}
	out := types.NewColumn(a.Type, n)
	for i := 0; i < n; i++ {
		if !a.IsNull(i) {
			out.Append(a.Value(i))
		} else {
			out.Append(b.Value(i))
		}
	}
	return out
}
