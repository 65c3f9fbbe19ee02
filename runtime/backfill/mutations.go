package backfill

import (
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/chronon-go/chronon/runtime/aggregate"
	"github.com/chronon-go/chronon/runtime/types"
	"github.com/chronon-go/chronon/runtime/warehouse"
	"github.com/chronon-go/chronon/thrift/api"
)

// TEMPORAL entities joined to an Events left (spec §4.4, Chronon's GroupBy.temporalEntities and
// SawtoothMutationAggregator.lambdaAggregateIrMany). For a left row at time q on day D = day(q):
//
//   - the snapshot partition D-1 (the table as of the end of D-1) is folded into a batch IR with
//     batch end mid(D), exactly as an online upload of D-1 would (aggregate.Online.BuildBatchIR,
//     FiveMinute resolution): rows with ts >= mid(D) are left out; a windowed part keeps rows with
//     ts > mid(D) - W in a collapsed IR or in tail hops;
//   - the mutations of mutation-table partition D with mid(D) <= mutation_ts < q are applied in
//     mutation_ts order (ties in scan order): is_before=true rows retract (Aggregator.Delete: only
//     SUM, COUNT, AVERAGE and HISTOGRAM change, the other operations ignore retractions, as
//     DirectColumnAggregator.delete returns early for non-deletable aggregators), the others add.
//     Unwindowed parts take every such mutation; a windowed part of length W with tail hop h takes
//     those with floor(q - W, h) <= ts < q (SawtoothMutationAggregator.updateIr);
//   - windowed parts add the collapsed IR and the tail hops starting in [floor(q - W, h),
//     mid(D) - W + 2d) (mergeTailHops).
//
// Each query is evaluated on its own. Chronon instead carries one accumulator from query to query of
// the same key and day, testing a mutation's ts against the first query at which it is consumed only;
// a windowed value then depends on which other left rows exist (a mutation applied at 01:00 stays
// applied at 23:00 although its ts fell out of the window in between, while the snapshot rows with
// the same ts do fall out). Like spec §15.3 we compute every left row on its own; with one query per
// key and day the two agree.
//
// Nulls (Chronon reads them as Scala defaults): a null is_before is false (an upsert); a null
// mutation_ts never applies (Chronon reads 0, before the batch end); a null ts counts as older than
// any window (applied to unwindowed parts only), like null event times elsewhere in the backfill.

// Names of the mutation columns in a mutation scan (spec §3.1 reserved names).
const (
	mutationTsColumn = "mutation_ts"
	reversalColumn   = "is_before"
)

// nullTs is the event time used for rows whose ts is null: before every window.
const nullTs = -1 << 62

// mutationValuesAt answers point-in-time queries (q = left ts, ds = day(q)) for a TEMPORAL entity
// GroupBy with a mutation table. minDay..maxDay are the query days: snapshots are read for
// [minDay-1, maxDay-1] and mutations for [minDay, maxDay], each narrowed by the source's
// start/endPartition (spec §3.4). The result has the GroupBy's output schema and one row per query,
// in query order; keys without data get nulls.
func (p *gbPlan) mutationValuesAt(w *warehouse.Warehouse, queries []query, minDay, maxDay string) (*types.Batch, error) {
	if p.gb.Aggregations == nil {
		return nil, fmt.Errorf("GroupBy %s: a TEMPORAL entity GroupBy with mutations needs aggregations (Chronon computes it with SawtoothMutationAggregator only); set accuracy SNAPSHOT to join snapshot rows as they are", p.name)
	}
	snap, err := p.scanAll(w, addDays(minDay, -1), addDays(maxDay, -1), noFold, false)
	if err != nil {
		return nil, err
	}
	sb := snap.batch
	if sb.Col("ts") == nil {
		return nil, fmt.Errorf("GroupBy %s: TEMPORAL entity sources with mutations need a time column: set query.timeColumn (or select a ts column)", p.name)
	}
	agg, err := aggregate.New(p.gb.Aggregations, sb.Schema)
	if err != nil {
		return nil, fmt.Errorf("GroupBy %s: %w", p.name, err)
	}
	feats := agg.OutputSchema()
	mb, err := p.scanMutations(w, sb.Schema, minDay, maxDay)
	if err != nil {
		return nil, err
	}
	if len(queries) == 0 {
		return types.NewBatch(feats, 0), nil
	}

	// Rows grouped by key (scan order kept within a key), separately for both tables. A key is
	// identified by its snapshot group, or by its mutation group when it has no snapshot rows.
	sKeys := make([]*types.Column, len(p.keys))
	mKeys := make([]*types.Column, len(p.keys))
	for i, k := range p.keys {
		sKeys[i], mKeys[i] = sb.Col(k), mb.Col(k)
	}
	sGroups := newKeyGroups(hashKeyColumns(sKeys, sb.Len()), nil)
	mGroups := newKeyGroups(hashKeyColumns(mKeys, mb.Len()), nil)
	nS := sGroups.count()
	type keyRef struct{ s, m int32 }
	refs := make([]keyRef, nS+mGroups.count())
	qKey := make([]int32, len(queries))
	days := map[string]dayBounds{}
	for i, q := range queries {
		s, m := sGroups.find(q.key), mGroups.find(q.key)
		switch {
		case s >= 0:
			qKey[i] = s
		case m >= 0:
			qKey[i] = int32(nS) + m
		default:
			qKey[i] = -1 // no data: null features
			continue
		}
		refs[qKey[i]] = keyRef{s, m}
		if _, ok := days[q.ds]; !ok {
			end := midMillis(q.ds)
			days[q.ds] = dayBounds{prev: dayOf(end - dayMillis), end: end}
		}
	}
	qOff, qByKey := groupByID(qKey, len(refs))

	workers := runtime.GOMAXPROCS(0)
	results := make([]workerResult, workers)
	var wg sync.WaitGroup
	for wi := 0; wi < workers; wi++ {
		wg.Add(1)
		go func(wi int) {
			defer wg.Done()
			c, err := newMutationComputer(p, sb, mb, queries, days)
			if err != nil {
				results[wi].err = err
				return
			}
			for id := wi; id < len(refs); id += workers {
				qs := qByKey[qOff[id]:qOff[id+1]]
				if len(qs) == 0 {
					continue
				}
				var sRows, mRows []int32
				if r := refs[id]; r.s >= 0 {
					sRows = sGroups.rows(r.s)
					if r.m >= 0 {
						mRows = mGroups.rows(r.m)
					}
				} else {
					mRows = mGroups.rows(r.m)
				}
				c.key(sRows, mRows, qs)
			}
			if err := c.agg.Err(); err != nil {
				results[wi].err = fmt.Errorf("GroupBy %s: %w", p.name, err)
				return
			}
			results[wi].out, results[wi].answers = c.out, c.answers
		}(wi)
	}
	wg.Wait()
	return gatherAnswers(feats, len(queries), results, placement{})
}

// dayBounds are a query day's snapshot partition (the day before) and batch end (its midnight).
type dayBounds struct {
	prev string
	end  int64
}

// queryRows maps each of n left rows to its query (-1: none), the inverse of rowOfQuery.
func queryRows(n int, rowOfQuery []int32) []int32 {
	idx := make([]int32, n)
	for i := range idx {
		idx[i] = -1
	}
	for qi, r := range rowOfQuery {
		idx[r] = int32(qi)
	}
	return idx
}

// scanMutations reads the mutation tables of the GroupBy's sources over query days [minDay, maxDay]
// with each source's query (selects, wheres, time column), plus mutation_ts (query.mutationTimeColumn,
// default mutation_ts) and is_before (query.reversalColumn, default is_before), unless the selects
// define those names themselves (selects override, spec §3.3). The result has the columns of the
// snapshot schema in its order, then mutation_ts and is_before, so that an Aggregator built on the
// snapshot schema reads mutation rows as well.
func (p *gbPlan) scanMutations(w *warehouse.Warehouse, schema types.Schema, minDay, maxDay string) (*types.Batch, error) {
	outSchema := append(append(types.Schema{}, schema...),
		types.Field{Name: mutationTsColumn, Type: types.LongType},
		types.Field{Name: reversalColumn, Type: types.BooleanType})
	var parts []*types.Batch
	for i, src := range p.gb.Sources {
		if src.Entities == nil || src.Entities.MutationTable == nil {
			continue
		}
		start, end := p.scanRange(src, minDay, maxDay)
		msrc := mutationSource(src, schema, p.keys)
		cols := append(append([]string{}, p.aggCols...), mutationTsColumn, reversalColumn)
		s, err := scan(w, sourceQuery{src: msrc, order: p.order, keys: p.keys, accuracy: p.accuracy, start: start, end: end, columns: cols})
		if err != nil {
			return nil, fmt.Errorf("GroupBy %s: sources[%d] mutation table: %w", p.name, i, err)
		}
		b, err := alignMutations(s.batch, outSchema, src.Entities.GetMutationTable())
		if err != nil {
			return nil, fmt.Errorf("GroupBy %s: sources[%d] mutation table: %w", p.name, i, err)
		}
		parts = append(parts, b)
	}
	if parts == nil {
		return nil, fmt.Errorf("GroupBy %s: TEMPORAL entity sources need a mutationTable for backfills (a mutationTopic alone only serves online)", p.name)
	}
	return types.Concat(outSchema, parts), nil
}

// mutationSource is src reading its mutation table: the same query with the mutation columns added to
// the selects. Without selects (SELECT *) the snapshot scan's columns are selected by name.
func mutationSource(src *api.Source, snapSchema types.Schema, keys []string) *api.Source {
	q := api.Query{}
	if src.Entities.Query != nil {
		q = *src.Entities.Query
	}
	sel := map[string]string{}
	if q.Selects != nil {
		for k, v := range q.Selects {
			sel[k] = v
		}
	} else {
		for _, f := range snapSchema {
			if f.Name == warehouse.PartitionColumn || contains(keys, f.Name) || (f.Name == "ts" && q.TimeColumn != nil) {
				continue
			}
			sel[f.Name] = "`" + f.Name + "`"
		}
	}
	if _, ok := sel[mutationTsColumn]; !ok {
		sel[mutationTsColumn] = orDefault(q.GetMutationTimeColumn(), mutationTsColumn)
	}
	if _, ok := sel[reversalColumn]; !ok {
		sel[reversalColumn] = orDefault(q.GetReversalColumn(), reversalColumn)
	}
	q.Selects = sel
	return &api.Source{Entities: &api.EntitySource{SnapshotTable: src.Entities.MutationTable, Query: &q}}
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// alignMutations reorders a mutation scan to schema (snapshot columns, mutation_ts, is_before),
// checking that each column has the snapshot's type.
func alignMutations(b *types.Batch, schema types.Schema, table string) (*types.Batch, error) {
	out := &types.Batch{Schema: schema, Cols: make([]*types.Column, len(schema))}
	for i, f := range schema {
		j := b.Schema.Index(f.Name)
		if j < 0 {
			return nil, fmt.Errorf("table %s does not provide column %s", table, f.Name)
		}
		got := b.Schema[j].Type
		switch {
		case f.Name == mutationTsColumn && got.IsIntegral():
			c := *b.Cols[j]
			c.Type = types.LongType
			out.Cols[i] = &c
			continue
		case f.Name == mutationTsColumn:
			return nil, fmt.Errorf("table %s: the mutation time column is %s; it must be epoch milliseconds (a long)", table, got)
		case f.Name == reversalColumn && got.Kind != types.Boolean:
			return nil, fmt.Errorf("table %s: the reversal column (is_before) is %s; it must be a boolean", table, got)
		case !got.Equal(f.Type):
			return nil, fmt.Errorf("table %s: column %s is %s here but %s in the snapshot table; cast one of them in the selects", table, f.Name, got, f.Type)
		}
		out.Cols[i] = b.Cols[j]
	}
	return out, nil
}

// mutationComputer answers one key's queries at a time; one per worker, its buffers reused.
type mutationComputer struct {
	agg     *aggregate.Aggregator
	online  *aggregate.Online
	snap    *types.Batch
	mut     *types.Batch
	queries []query
	days    map[string]dayBounds
	sDs     *types.Column
	mDs     *types.Column
	sTs     *types.Column
	mTs     *types.Column
	mMts    *types.Column
	mBefore *types.Column
	// parts
	unwindowed []int   // unwindowed parts
	windows    []int64 // distinct windows (millis)
	winParts   [][]int // parts of each window
	winHop     []int64 // tail hop of each window
	winHopIdx  []int   // its index in FiveMinute.HopSizes()
	out        *types.Batch
	rows       int32
	answers    [][2]int32
	// scratch
	qs, sRows, mRows []int32
	evRows, mutRows  []int32
	evTs, mutMts     []int64
	cum, acc         []aggregate.State
	done             []bool
}

func newMutationComputer(p *gbPlan, snap, mut *types.Batch, queries []query, days map[string]dayBounds) (*mutationComputer, error) {
	agg, err := aggregate.New(p.gb.Aggregations, snap.Schema)
	if err != nil {
		return nil, fmt.Errorf("GroupBy %s: %w", p.name, err)
	}
	c := &mutationComputer{
		agg: agg, online: aggregate.NewOnline(agg), snap: snap, mut: mut, queries: queries, days: days,
		sDs: snap.Col(warehouse.PartitionColumn), mDs: mut.Col(warehouse.PartitionColumn),
		sTs: snap.Col("ts"), mTs: mut.Col("ts"), mMts: mut.Col(mutationTsColumn), mBefore: mut.Col(reversalColumn),
		out:  types.NewBatch(agg.OutputSchema(), 0),
		cum:  make([]aggregate.State, agg.NumBases()),
		acc:  make([]aggregate.State, agg.NumBases()),
		done: make([]bool, agg.NumBases()),
	}
	sizes := aggregate.FiveMinute.HopSizes()
	for i, part := range agg.Parts() {
		w := part.Millis()
		if w == 0 {
			c.unwindowed = append(c.unwindowed, i)
			continue
		}
		wi := slices.Index(c.windows, w)
		if wi < 0 {
			wi = len(c.windows)
			h := aggregate.FiveMinute.TailHop(w)
			c.windows = append(c.windows, w)
			c.winParts = append(c.winParts, nil)
			c.winHop = append(c.winHop, h)
			c.winHopIdx = append(c.winHopIdx, slices.Index(sizes, h))
		}
		c.winParts[wi] = append(c.winParts[wi], i)
	}
	return c, nil
}

// key answers one key's queries (indices into c.queries); sRows and mRows are its snapshot and
// mutation rows over all scanned partitions, in scan order.
func (c *mutationComputer) key(sRows, mRows, qs []int32) {
	c.qs = append(c.qs[:0], qs...)
	slices.SortStableFunc(c.qs, func(a, b int32) int {
		qa, qb := &c.queries[a], &c.queries[b]
		if d := strings.Compare(qa.ds, qb.ds); d != 0 {
			return d
		}
		return cmpInt64(qa.q, qb.q)
	})
	c.sRows = sortByDs(append(c.sRows[:0], sRows...), c.sDs)
	c.mRows = sortByDs(append(c.mRows[:0], mRows...), c.mDs)
	si, mi := 0, 0
	for i := 0; i < len(c.qs); {
		d := c.queries[c.qs[i]].ds
		j := i + 1
		for j < len(c.qs) && c.queries[c.qs[j]].ds == d {
			j++
		}
		b := c.days[d]
		for si < len(c.sRows) && c.sDs.Strs[c.sRows[si]] < b.prev {
			si++
		}
		s0 := si
		for si < len(c.sRows) && c.sDs.Strs[c.sRows[si]] == b.prev {
			si++
		}
		for mi < len(c.mRows) && c.mDs.Strs[c.mRows[mi]] < d {
			mi++
		}
		m0 := mi
		for mi < len(c.mRows) && c.mDs.Strs[c.mRows[mi]] == d {
			mi++
		}
		c.day(c.sRows[s0:si], c.mRows[m0:mi], c.qs[i:j], b.end)
		i = j
	}
}

// day answers queries qs (sorted by time, all on the day whose midnight is batchEnd) from that day's
// snapshot rows (partition day-1) and mutation rows (partition day).
func (c *mutationComputer) day(sRows, mRows, qs []int32, batchEnd int64) {
	c.evRows, c.evTs = c.evRows[:0], c.evTs[:0]
	for _, r := range sRows {
		c.evRows = append(c.evRows, r)
		c.evTs = append(c.evTs, tsOr(c.sTs, r))
	}
	sortByTs(c.evRows, c.evTs)
	batch := c.online.BuildBatchIR(aggregate.Events{Batch: c.snap, Rows: c.evRows, Ts: c.evTs}, batchEnd)
	c.mutRows, c.mutMts = c.mutRows[:0], c.mutMts[:0]
	for _, r := range mRows {
		if c.mMts.IsNull(int(r)) || c.mMts.Ints[r] < batchEnd {
			continue
		}
		c.mutRows = append(c.mutRows, r)
		c.mutMts = append(c.mutMts, c.mMts.Ints[r])
	}
	sortByTs(c.mutRows, c.mutMts)

	// Unwindowed parts: the collapsed IR plus every mutation before q, accumulated as q advances.
	clear(c.cum)
	for _, p := range c.unwindowed {
		if base := c.agg.PartBase(p); c.cum[base] == nil {
			c.cum[base] = batch.Collapsed[p]
		}
	}
	applied := 0
	for i, qi := range qs {
		t := c.queries[qi].q
		if i > 0 && t == c.queries[qs[i-1]].q {
			c.answers = append(c.answers, [2]int32{c.rows - 1, qi})
			continue
		}
		for applied < len(c.mutRows) && c.mutMts[applied] < t {
			if len(c.unwindowed) > 0 {
				c.apply(c.cum, c.mutRows[applied])
			}
			applied++
		}
		for _, p := range c.unwindowed {
			c.out.Cols[p].Append(c.agg.FinalizePart(p, c.cum[c.agg.PartBase(p)]))
		}
		for wi, w := range c.windows {
			c.windowed(batch, wi, w, t, batchEnd, applied)
		}
		c.answers = append(c.answers, [2]int32{c.rows, qi})
		c.rows++
	}
}

// windowed appends the values at t of the parts with window w: collapsed IR, tail hops from
// floor(t-w, hop), and the first applied mutations whose ts is in [floor(t-w, hop), t).
func (c *mutationComputer) windowed(batch *aggregate.BatchIR, wi int, w, t, batchEnd int64, applied int) {
	start := aggregate.Floor(t-w, c.winHop[wi])
	limit := batchEnd - w + aggregate.TailBufferMillis
	clear(c.acc)
	clear(c.done)
	for _, p := range c.winParts[wi] {
		base := c.agg.PartBase(p)
		if c.done[base] {
			continue
		}
		c.done[base] = true
		s := aggregate.Clone(batch.Collapsed[p])
		for _, h := range batch.TailHops[c.winHopIdx[wi]] {
			if h.Start >= start && h.Start < limit {
				aggregate.Merge(&s, h.IRs[base])
			}
		}
		c.acc[base] = s
	}
	for _, r := range c.mutRows[:applied] {
		if c.mTs.IsNull(int(r)) {
			continue
		}
		if ts := c.mTs.Ints[r]; ts < start || ts >= t {
			continue
		}
		c.apply(c.acc, r)
	}
	for _, p := range c.winParts[wi] {
		c.out.Cols[p].Append(c.agg.FinalizePart(p, c.acc[c.agg.PartBase(p)]))
	}
}

// apply adds mutation row r to ir, or retracts it when it is an is_before row. Bases that no part
// being computed reads may be touched too; their states are discarded.
func (c *mutationComputer) apply(ir []aggregate.State, r int32) {
	if !c.mBefore.IsNull(int(r)) && c.mBefore.Bools[r] {
		c.agg.Delete(ir, c.mut, int(r)) // data errors surface through agg.Err
		return
	}
	c.agg.Update(ir, c.mut, int(r), tsOr(c.mTs, r))
}

func tsOr(ts *types.Column, r int32) int64 {
	if ts.IsNull(int(r)) {
		return nullTs
	}
	return ts.Ints[r]
}

// sortByDs orders rows by partition, stably (scan order is already by partition for one source).
func sortByDs(rows []int32, ds *types.Column) []int32 {
	cmp := func(a, b int32) int { return strings.Compare(ds.Strs[a], ds.Strs[b]) }
	if !slices.IsSortedFunc(rows, cmp) {
		slices.SortStableFunc(rows, cmp)
	}
	return rows
}

func cmpInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
