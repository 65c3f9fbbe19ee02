package backfill

import (
	"fmt"
	"runtime"
	"sort"
	"strings"
	"sync"

	"github.com/chronon-go/chronon/runtime/aggregate"
	"github.com/chronon-go/chronon/runtime/types"
	"github.com/chronon-go/chronon/runtime/warehouse"
	"github.com/chronon-go/chronon/thrift/api"
	"github.com/chronon-go/chronon/thrift/conf"
)

// gbPlan is a GroupBy prepared for offline computation: how to scan its sources and how to turn
// rows into feature values at query times. The same aggregate.Aggregator serves upload and fetch.
type gbPlan struct {
	gb       *api.GroupBy
	order    *conf.Order
	name     string
	keys     []string
	accuracy api.Accuracy
	entities bool
	// aggregations (nil agg: the selected columns are the features)
	aggCols   []string // input and bucket columns the aggregations read
	maxWindow int64    // largest window in millis; -1 when there are no aggregations or one is unwindowed
	valueCols []string // no aggregations: the first source's selects minus keys (spec §2.1)
}

func newGBPlan(gb *api.GroupBy, order *conf.Order) (*gbPlan, error) {
	p := &gbPlan{gb: gb, order: order, name: gb.GetMetaData().GetName(), keys: gb.KeyColumns}
	if len(gb.Sources) == 0 {
		return nil, fmt.Errorf("GroupBy %s has no sources", p.name)
	}
	p.entities = gb.Sources[0].Entities != nil
	p.accuracy = inferredAccuracy(gb)
	if gb.Aggregations == nil {
		p.maxWindow = -1
		_, q, err := sourceTable(gb.Sources[0])
		if err != nil {
			return nil, fmt.Errorf("GroupBy %s: %w", p.name, err)
		}
		for _, c := range order.Keys(q.GetSelects()) {
			if !contains(p.keys, c) {
				p.valueCols = append(p.valueCols, c)
			}
		}
		return p, nil
	}
	seen := map[string]bool{}
	for _, a := range gb.Aggregations {
		for _, c := range append([]string{a.GetInputColumn()}, a.Buckets...) {
			if c != "" && !seen[c] {
				seen[c] = true
				p.aggCols = append(p.aggCols, c)
			}
		}
	}
	for _, part := range aggregate.ExpandParts(gb.Aggregations) {
		if aggregate.Unbounded(part.Window) {
			p.maxWindow = -1
			break
		}
		if w := aggregate.WindowMillis(part.Window); w > p.maxWindow {
			p.maxWindow = w
		}
	}
	return p, nil
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// inferredAccuracy: explicit accuracy wins; else TEMPORAL if any source streams (spec §3.2).
func inferredAccuracy(gb *api.GroupBy) api.Accuracy {
	if gb.Accuracy != nil {
		return *gb.Accuracy
	}
	for _, s := range gb.Sources {
		if (s.Events != nil && s.Events.Topic != nil) || (s.Entities != nil && s.Entities.MutationTopic != nil) {
			return api.Accuracy_TEMPORAL
		}
		if s.JoinSource != nil && s.JoinSource.Join != nil && s.JoinSource.Join.Left != nil {
			l := s.JoinSource.Join.Left
			if (l.Events != nil && l.Events.Topic != nil) || (l.Entities != nil && l.Entities.MutationTopic != nil) {
				return api.Accuracy_TEMPORAL
			}
		}
	}
	return api.Accuracy_SNAPSHOT
}

// scanRange is the partition range read for query range [S, E] (spec §3.4).
func (p *gbPlan) scanRange(src *api.Source, S, E string) (string, string) {
	_, q, _ := sourceTable(src)
	sp, ep := q.GetStartPartition(), q.GetEndPartition()
	end := E
	if ep != "" && ep < end {
		end = ep
	}
	if src.Entities != nil {
		start := S
		if sp > start {
			start = sp
		}
		return start, end
	}
	if src.Events != nil && src.Events.GetIsCumulative() {
		if ep != "" {
			return ep, ep
		}
		return "", "" // the caller narrows to the last partition
	}
	start := sp
	if p.maxWindow >= 0 {
		// one extra day before S - M: date(mid(S-1) - M)
		s := dayOf(midMillis(addDays(S, -1)) - p.maxWindow)
		if s > start {
			start = s
		}
	}
	return start, end
}

// scanAll reads every source over query range [S, E] and unions them by column name.
func (p *gbPlan) scanAll(w *warehouse.Warehouse, S, E string) (*scanned, error) {
	var out *scanned
	cols := p.aggCols
	if p.gb.Aggregations == nil {
		cols = p.valueCols
	}
	for i, src := range p.gb.Sources {
		start, end := p.scanRange(src, S, E)
		if src.Events != nil && src.Events.GetIsCumulative() && start == "" {
			last, err := lastPartition(w, src.Events.GetTable())
			if err != nil {
				return nil, err
			}
			start, end = last, last
		}
		s, err := scan(w, sourceQuery{src: src, order: p.order, keys: p.keys, accuracy: p.accuracy, start: start, end: end, columns: cols})
		if err != nil {
			return nil, fmt.Errorf("GroupBy %s: sources[%d]: %w", p.name, i, err)
		}
		if out == nil {
			out = s
			continue
		}
		b, err := unionByName(out.batch, s.batch)
		if err != nil {
			return nil, fmt.Errorf("GroupBy %s: sources[%d]: %w", p.name, i, err)
		}
		out.batch = b
	}
	return out, nil
}

func lastPartition(w *warehouse.Warehouse, table string) (string, error) {
	t, err := w.Table(table)
	if err != nil {
		return "", err
	}
	ds, err := t.PartitionDates()
	if err != nil || len(ds) == 0 {
		return "", fmt.Errorf("table %s has no partitions", table)
	}
	return ds[len(ds)-1], nil
}

func unionByName(a, b *types.Batch) (*types.Batch, error) {
	if len(a.Schema) != len(b.Schema) {
		return nil, fmt.Errorf("sources produce different columns: %v vs %v", a.Schema.Names(), b.Schema.Names())
	}
	cols := make([]*types.Column, len(b.Cols))
	for i, f := range a.Schema {
		j := b.Schema.Index(f.Name)
		if j < 0 || !b.Schema[j].Type.Equal(f.Type) {
			return nil, fmt.Errorf("sources disagree on column %s", f.Name)
		}
		cols[i] = b.Cols[j]
	}
	return types.Concat(a.Schema, []*types.Batch{a, {Schema: a.Schema, Cols: cols}}), nil
}

// features lists the GroupBy's output columns (before prefixing) with their types.
func (p *gbPlan) features(data *scanned) (types.Schema, error) {
	if p.gb.Aggregations == nil {
		var out types.Schema
		for _, c := range p.valueCols {
			i := data.batch.Schema.Index(c)
			if i < 0 {
				return nil, fmt.Errorf("GroupBy %s: column %s is not selected", p.name, c)
			}
			out = append(out, data.batch.Schema[i])
		}
		return out, nil
	}
	agg, err := aggregate.New(p.gb.Aggregations, data.batch.Schema)
	if err != nil {
		return nil, fmt.Errorf("GroupBy %s: %w", p.name, err)
	}
	return agg.OutputSchema(), nil
}

// query asks for one key's features as of time q: aggregations over events with ts < q (windows
// per accuracy), or, for a snapshot read, the rows of one partition.
type query struct {
	key string
	q   int64  // query time (epoch millis)
	ds  string // for entity snapshots: the partition to read
}

// valuesAt computes features for every query. The result has one row per query, in query order;
// queries whose key has no data get nulls.
func (p *gbPlan) valuesAt(data *scanned, queries []query) (*types.Batch, error) {
	feats, err := p.features(data)
	if err != nil {
		return nil, err
	}
	if p.gb.Aggregations == nil {
		return p.snapshotRows(data, feats, queries), nil
	}
	// Group data rows by key, in scan order.
	keyCols := make([]*types.Column, len(p.keys))
	for i, k := range p.keys {
		keyCols[i] = data.batch.Col(k)
	}
	var buf strings.Builder
	rowsByKey := map[string][]int32{}
	n := data.batch.Len()
	for i := 0; i < n; i++ {
		k, ok := keyOf(keyCols, i, &buf)
		if ok {
			rowsByKey[k] = append(rowsByKey[k], int32(i))
		}
	}
	// Queries by key.
	byKey := map[string][]int32{}
	var keys []string
	for i, q := range queries {
		if _, ok := byKey[q.key]; !ok {
			keys = append(keys, q.key)
		}
		byKey[q.key] = append(byKey[q.key], int32(i))
	}
	sort.Strings(keys)
	res := aggregate.ResolutionFor(p.accuracy)
	if p.entities {
		res = aggregate.ResolutionFor(api.Accuracy_SNAPSHOT)
	}
	// Entity rows aggregate only within their own partition: group by (ds, key) instead.
	var dsCol *types.Column
	if p.entities {
		dsCol = data.batch.Col(warehouse.PartitionColumn)
	}
	tsCol := data.batch.Col("ts")
	workers := runtime.GOMAXPROCS(0)
	if workers > len(keys) {
		workers = max(1, len(keys))
	}
	type result struct {
		out   *types.Batch
		rowOf map[int32]int32 // query index → row of out
		err   error
	}
	results := make([]result, workers)
	var wg sync.WaitGroup
	for wi := 0; wi < workers; wi++ {
		wg.Add(1)
		go func(wi int) {
			defer wg.Done()
			agg, err := aggregate.New(p.gb.Aggregations, data.batch.Schema)
			if err != nil {
				results[wi].err = err
				return
			}
			st, err := aggregate.NewSawtooth(agg, res)
			if err != nil {
				results[wi].err = fmt.Errorf("GroupBy %s: %w", p.name, err)
				return
			}
			out := types.NewBatch(agg.OutputSchema(), 0)
			rowOf := map[int32]int32{}
			for ki := wi; ki < len(keys); ki += workers {
				k := keys[ki]
				qs := byKey[k]
				rows := rowsByKey[k]
				if p.entities {
					// one aggregation per partition read: split queries by ds
					byDs := map[string][]int32{}
					for _, qi := range qs {
						byDs[queries[qi].ds] = append(byDs[queries[qi].ds], qi)
					}
					dss := make([]string, 0, len(byDs))
					for d := range byDs {
						dss = append(dss, d)
					}
					sort.Strings(dss)
					for _, d := range dss {
						var sub []int32
						for _, r := range rows {
							if dsCol.Strs[r] == d {
								sub = append(sub, r)
							}
						}
						if err := p.compute(st, data, tsCol, sub, byDs[d], queries, out, rowOf, midMillis(d)+dayMillis-1); err != nil {
							results[wi].err = err
							return
						}
					}
					continue
				}
				if err := p.compute(st, data, tsCol, rows, qs, queries, out, rowOf, 0); err != nil {
					results[wi].err = err
					return
				}
			}
			results[wi].out, results[wi].rowOf = out, rowOf
		}(wi)
	}
	wg.Wait()
	idx := make([]int32, len(queries))
	for i := range idx {
		idx[i] = -1
	}
	var outs []*types.Batch
	offset := int32(0)
	for _, r := range results {
		if r.err != nil {
			return nil, r.err
		}
		if r.out == nil {
			continue
		}
		for qi, row := range r.rowOf {
			idx[qi] = row + offset
		}
		offset += int32(r.out.Len())
		outs = append(outs, r.out)
	}
	all := types.Concat(feats, outs)
	return takeBatch(all, idx), nil
}

// compute runs the sawtooth for one key's rows and queries, appending to out. noTs is the event time
// given to entity rows without a time column (the end of their partition's day).
func (p *gbPlan) compute(st *aggregate.Sawtooth, data *scanned, tsCol *types.Column, rows []int32, qs []int32, queries []query, out *types.Batch, rowOf map[int32]int32, noTs int64) error {
	ts := make([]int64, len(rows))
	for i, r := range rows {
		if tsCol != nil && !tsCol.IsNull(int(r)) {
			ts[i] = tsCol.Ints[r]
		} else if tsCol == nil {
			ts[i] = noTs
		} else {
			ts[i] = -1 << 62 // null time: never inside a window
		}
	}
	order, sortedTs := aggregate.SortEvents(ts)
	evRows := make([]int32, len(order))
	for i, o := range order {
		evRows[i] = rows[o]
	}
	// Distinct ascending query times.
	sorted := append([]int32(nil), qs...)
	sort.SliceStable(sorted, func(a, b int) bool { return queries[sorted[a]].q < queries[sorted[b]].q })
	var times []int64
	for _, qi := range sorted {
		if len(times) == 0 || times[len(times)-1] != queries[qi].q {
			times = append(times, queries[qi].q)
		}
	}
	base := int32(out.Len())
	if err := st.Compute(aggregate.Events{Batch: data.batch, Rows: evRows, Ts: sortedTs}, times, out); err != nil {
		return fmt.Errorf("GroupBy %s: %w", p.name, err)
	}
	ti := 0
	for _, qi := range sorted {
		for times[ti] != queries[qi].q {
			ti++
		}
		rowOf[qi] = base + int32(ti)
	}
	return nil
}

// snapshotRows answers entity queries without aggregations: the key's row in partition q.ds (the
// last one in scan order when a snapshot repeats a key).
func (p *gbPlan) snapshotRows(data *scanned, feats types.Schema, queries []query) *types.Batch {
	keyCols := make([]*types.Column, len(p.keys))
	for i, k := range p.keys {
		keyCols[i] = data.batch.Col(k)
	}
	dsCol := data.batch.Col(warehouse.PartitionColumn)
	var buf strings.Builder
	rowOf := map[string]int32{}
	for i := 0; i < data.batch.Len(); i++ {
		if k, ok := keyOf(keyCols, i, &buf); ok {
			rowOf[dsCol.Strs[i]+"\x01"+k] = int32(i)
		}
	}
	idx := make([]int32, len(queries))
	for i, q := range queries {
		r, ok := rowOf[q.ds+"\x01"+q.key]
		if !ok {
			r = -1
		}
		idx[i] = r
	}
	sel := &types.Batch{Schema: feats}
	for _, f := range feats {
		sel.Cols = append(sel.Cols, data.batch.Col(f.Name))
	}
	return takeBatch(sel, idx)
}

func takeBatch(b *types.Batch, idx []int32) *types.Batch {
	out := &types.Batch{Schema: b.Schema, Cols: make([]*types.Column, len(b.Cols))}
	for i, c := range b.Cols {
		out.Cols[i] = c.Take(idx)
	}
	return out
}
