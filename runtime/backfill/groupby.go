package backfill

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"sort"
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
	aggCols   []string  // input and bucket columns the aggregations read
	maxWindow int64     // largest window in millis; -1 when there are no aggregations or one is unwindowed
	valueCols []string  // no aggregations: the first source's selects minus keys (spec §2.1)
	log       io.Writer // progress of parent joins backfilled for JoinSources
}

func newGBPlan(gb *api.GroupBy, order *conf.Order) (*gbPlan, error) {
	p := &gbPlan{gb: gb, order: order, name: gb.GetMetaData().GetName(), keys: gb.KeyColumns}
	if len(gb.Sources) == 0 {
		return nil, fmt.Errorf("GroupBy %s has no sources", p.name)
	}
	first := gb.Sources[0]
	p.entities = first.Entities != nil || (first.JoinSource != nil && !joinSourceIsEvents(first.JoinSource))
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
	if src.Entities != nil || (src.JoinSource != nil && !joinSourceIsEvents(src.JoinSource)) {
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

// scanAll reads every source over query range [S, E] and unions them by column name. With
// foldBefore other than noFold (no query or window of the caller reaches before it), events older
// than it are folded into per-key IRs where canFold allows (history.go). hashKeys lets the scan
// return a single key as hashes (scanned.keys) instead of a column, for callers that only compute
// aggregations (valuesAt).
func (p *gbPlan) scanAll(w *warehouse.Warehouse, S, E string, foldBefore int64, hashKeys bool) (*scanned, error) {
	folding := foldBefore != noFold && p.canFold()
	var hist *history
	var out *scanned
	cols := p.aggCols
	if p.gb.Aggregations == nil {
		cols = p.valueCols
	}
	for i, src := range p.gb.Sources {
		if src.JoinSource != nil {
			if err := p.backfillParent(w, src.JoinSource, E); err != nil {
				return nil, err
			}
		}
		start, end := p.scanRange(src, S, E)
		if src.Events != nil && src.Events.GetIsCumulative() && start == "" {
			last, err := lastPartition(w, src.Events.GetTable())
			if err != nil {
				return nil, err
			}
			start, end = last, last
		}
		sq := sourceQuery{src: src, order: p.order, keys: p.keys, accuracy: p.accuracy, start: start, end: end, columns: cols, noDs: !p.entities && p.gb.Aggregations != nil,
			hashKey: hashKeys && len(p.gb.Sources) == 1 && p.gb.Aggregations != nil && len(p.keys) == 1 && !contains(cols, p.keys[0])}
		var s *scanned
		var err error
		if folding {
			s, err = p.scanFolding(w, sq, foldBefore, &hist)
		} else {
			s, err = scan(w, sq)
		}
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
	out.hist = hist
	return out, nil
}

// backfillParent makes sure a JoinSource's parent join has its output up to E (E-1 for TEMPORAL
// event GroupBys, whose values at a time in day E only need events before it), as Chronon does
// before reading it (spec §3.4).
func (p *gbPlan) backfillParent(w *warehouse.Warehouse, js *api.JoinSource, E string) error {
	end := E
	if p.accuracy == api.Accuracy_TEMPORAL && !p.entities {
		end = addDays(E, -1)
	}
	log := p.log
	if log == nil {
		log = io.Discard
	}
	if err := RunJoin(context.Background(), w, js.Join, p.order, JoinOptions{EndDate: end, Log: log}); err != nil {
		return fmt.Errorf("GroupBy %s: backfilling its JoinSource's join: %w", p.name, err)
	}
	return nil
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

// placement says where each query's answer goes: row rows[i] of a result of n rows, the others
// null. The zero placement is query order (row i, len(queries) rows). Placing answers straight
// into the caller's row order saves a second gather of every feature column.
type placement struct {
	rows []int32
	n    int
	// compactLists asks for list features of numbers in the compact form (types.NumList), for
	// callers that only write the result: a fraction of the memory, nothing for the collector to
	// trace, and a direct path into the Parquet writer.
	compactLists bool
}

// index returns, for every result row, the source row of src (-1: null), where src[i] is query
// i's row in the computed batch.
func (pl placement) index(src []int32) []int32 {
	if pl.rows == nil {
		return src
	}
	idx := make([]int32, pl.n)
	for i := range idx {
		idx[i] = -1
	}
	for qi, r := range pl.rows {
		idx[r] = src[qi]
	}
	return idx
}

// valuesAt computes features for every query, placed by pl; queries whose key has no data get
// nulls.
func (p *gbPlan) valuesAt(data *scanned, queries []query, pl placement) (*types.Batch, error) {
	feats, err := p.features(data)
	if err != nil {
		return nil, err
	}
	if p.gb.Aggregations == nil {
		return p.snapshotRows(data, feats, queries, pl), nil
	}
	keyCols := make([]*types.Column, len(p.keys))
	for i, k := range p.keys {
		keyCols[i] = data.batch.Col(k)
	}
	// Rows grouped by key in scan order; queries by the same group ids (keys without data are
	// answered with nulls directly).
	nRows := data.batch.Len()
	probes := make([]string, len(queries))
	for i, q := range queries {
		probes[i] = q.key
	}
	phase("probes")
	kh := data.keys
	if kh == nil {
		kh = hashKeyColumns(keyCols, nRows)
	}
	groups := newKeyGroups(kh, probes)
	data.keys, kh = nil, nil // the groups hold what is needed
	phase("keygroups")
	qKey := groups.probe
	// Key columns are not read again once grouped (unless an aggregation reads them): dropping them
	// from the batch frees ten million string headers that every GC cycle would otherwise scan
	// during the aggregation. Callers that need key values took their columns before.
	for _, k := range p.keys {
		if !contains(p.aggCols, k) {
			if i := data.batch.Schema.Index(k); i >= 0 {
				data.batch.Cols[i] = types.NewColumn(data.batch.Schema[i].Type, 0)
			}
		}
	}
	workers := runtime.GOMAXPROCS(0)
	nKeys := groups.count()
	// Keys whose old events were all folded into history have no rows; they get ids after the
	// groups'.
	var histOnly []string
	if h := data.hist; h != nil {
		ids := map[string]int32{}
		for i, q := range queries {
			if qKey[i] >= 0 {
				continue
			}
			if _, ok := h.ids[q.key]; !ok {
				continue
			}
			id, seen := ids[q.key]
			if !seen {
				id = int32(nKeys + len(histOnly))
				ids[q.key] = id
				histOnly = append(histOnly, q.key)
			}
			qKey[i] = id
		}
	}
	allKeys := nKeys + len(histOnly)
	lay := layoutByFirstQuery(groups, qKey, nKeys, allKeys, data.batch.Cols, nRows)
	phase("layout")
	// The scan's columns and hashes and the grouping's buffers are garbage now, and the aggregation
	// is about to allocate its outputs: collected, those reuse this memory instead of faulting in
	// fresh pages.
	collectGarbage("layout")
	split := lay.split(workers)
	qTime := queryTimes(queries)
	rowsOf := identity(int(lay.rowOff[len(lay.rowOff)-1])) // the layout made each key's events consecutive
	results := make([]workerResult, workers)
	var wg sync.WaitGroup
	for wi := 0; wi < workers; wi++ {
		wg.Add(1)
		go func(wi int) {
			defer wg.Done()
			results[wi] = p.computeKeys(data, queries, qTime, lay, rowsOf, split[wi], split[wi+1], pl.compactLists)
		}(wi)
	}
	wg.Wait()
	phase("compute")
	defer phase("gather")
	return gatherAnswers(feats, len(queries), results, pl)
}

// keyLayout is the order valuesAt computes keys in: the k-th key's queries are
// qByKey[qOff[k]:qOff[k+1]] and its events rows [rowOff[k], rowOff[k+1]) of the laid-out batch.
type keyLayout struct {
	qOff, qByKey, rowOff []int32
}

// split returns the worker boundaries over the laid-out keys: worker w computes keys
// [split[w], split[w+1]), a contiguous run (in first-query order) with an equal share of events and
// queries.
func (l keyLayout) split(workers int) []int {
	n := len(l.rowOff) - 1
	split := make([]int, workers+1)
	work := func(k int) int { return int(l.rowOff[k]) + int(l.qOff[k]) }
	for w := 1; w < workers; w++ {
		split[w] = sort.Search(n, func(k int) bool { return work(k) >= w*work(n)/workers })
	}
	split[workers] = n
	return split
}

// queryTimes returns the queries' times, packed: the aggregation reads them in key order, at random.
func queryTimes(queries []query) []int64 {
	qTime := make([]int64, len(queries))
	workers := runtime.GOMAXPROCS(0)
	_ = onWorkers(workers, func(w int) error {
		for i := w * len(queries) / workers; i < (w+1)*len(queries)/workers; i++ {
			qTime[i] = queries[i].q
		}
		return nil
	})
	return qTime
}

// computeKeys aggregates the laid-out keys [lo, hi) for their queries on one worker: key k's events
// are rows rowsOf[rowOff[k]:rowOff[k+1]] of data. compact asks for compact list outputs.
func (p *gbPlan) computeKeys(data *scanned, queries []query, qTime []int64, lay keyLayout, rowsOf []int32, lo, hi int, compact bool) workerResult {
	agg, err := aggregate.New(p.gb.Aggregations, data.batch.Schema)
	if err != nil {
		return workerResult{err: err}
	}
	res := aggregate.ResolutionFor(p.accuracy)
	if p.entities {
		res = aggregate.ResolutionFor(api.Accuracy_SNAPSHOT)
	}
	st, err := aggregate.NewSawtooth(agg, res)
	if err != nil {
		return workerResult{err: fmt.Errorf("GroupBy %s: %w", p.name, err)}
	}
	// Room for one row per query of these keys (an upper bound: equal times share a row), so the
	// output columns are not regrown and copied a dozen times.
	room := int(lay.qOff[hi] - lay.qOff[lo])
	out := types.NewBatch(agg.OutputSchema(), room)
	if compact {
		for i, f := range out.Schema {
			if types.CompactListType(f.Type) {
				out.Cols[i] = types.NewCompactListColumn(f.Type, room)
			}
		}
	}
	var dsCol *types.Column
	if p.entities {
		dsCol = data.batch.Col(warehouse.PartitionColumn)
	}
	c := &computer{p: p, st: st, data: data, tsCol: data.batch.Col("ts"), queries: queries, qTime: qTime, out: out}
	for k := lo; k < hi; k++ {
		qs := lay.qByKey[lay.qOff[k]:lay.qOff[k+1]]
		kr := rowsOf[lay.rowOff[k]:lay.rowOff[k+1]]
		if p.entities {
			if err := c.entityKey(dsCol, kr, qs); err != nil {
				return workerResult{err: err}
			}
			continue
		}
		var prior []aggregate.State
		if data.hist != nil {
			prior = data.hist.prior(queries[qs[0]].key)
		}
		if err := c.run(kr, qs, 0, prior); err != nil {
			return workerResult{err: err}
		}
	}
	return workerResult{out: c.out, answers: c.answers}
}

// layoutByFirstQuery orders the keys by their first query (queries come in left-row order) and
// copies the events' columns (those of nRows rows) into that order, once: a key's events are then
// adjacent in memory where the aggregation reads them for every window, the workers walk the events
// and fill their outputs front to back, and gathering the answers into left-row order reads the
// outputs nearly in sequence. Keys no query asks for are left out, as are rows with a null key.
// qKey is each query's key id (-1 none; ids from nKeys up have no rows, only folded history).
func layoutByFirstQuery(groups *keyGroups, qKey []int32, nKeys, allKeys int, cols []*types.Column, nRows int) keyLayout {
	order := make([]int32, 0, allKeys)
	kOf := make([]int32, allKeys) // position in order + 1, 0 until seen
	qk := make([]int32, len(qKey))
	for i, id := range qKey {
		qk[i] = -1
		if id < 0 {
			continue
		}
		if kOf[id] == 0 {
			order = append(order, id)
			kOf[id] = int32(len(order))
		}
		qk[i] = kOf[id] - 1
	}
	qOff, qByKey := groupByID(qk, len(order))
	rowOff := make([]int32, len(order)+1)
	for k, id := range order {
		rowOff[k+1] = rowOff[k]
		if int(id) < nKeys {
			rowOff[k+1] += int32(len(groups.rows(id)))
		}
	}
	perm := make([]int32, rowOff[len(order)])
	workers := runtime.GOMAXPROCS(0)
	_ = onWorkers(workers, func(w int) error {
		for k := w * len(order) / workers; k < (w+1)*len(order)/workers; k++ {
			if id := order[k]; int(id) < nKeys {
				copy(perm[rowOff[k]:], groups.rows(id))
			}
		}
		return nil
	})
	parallelCols(len(cols), len(perm), func(i int) {
		if cols[i].Len() == nRows {
			cols[i] = cols[i].Take(perm)
		}
	})
	return keyLayout{qOff: qOff, qByKey: qByKey, rowOff: rowOff}
}

// workerResult is what one worker computed: its output rows and which query each row answers.
type workerResult struct {
	out     *types.Batch
	answers [][2]int32 // (row of out, query index)
	err     error
}

// gatherAnswers puts the workers' rows in query order; queries nobody answered get nulls.
func gatherAnswers(feats types.Schema, nQueries int, results []workerResult, pl placement) (*types.Batch, error) {
	idx := make([]int32, nQueries)
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
		for _, a := range r.answers {
			idx[a[1]] = offset + a[0]
		}
		offset += int32(r.out.Len())
		outs = append(outs, r.out)
	}
	// Gathered straight from the workers' batches: no concatenated copy of every column.
	idx = pl.index(idx)
	out := &types.Batch{Schema: feats, Cols: make([]*types.Column, len(feats))}
	parallelCols(len(feats), len(idx), func(i int) {
		if len(outs) == 0 {
			out.Cols[i] = types.NewColumn(feats[i].Type, 0).Take(idx)
			return
		}
		srcs := make([]*types.Column, len(outs))
		for w, b := range outs {
			srcs[w] = b.Cols[i]
		}
		out.Cols[i] = types.TakeFrom(srcs, idx)
	})
	return out, nil
}

// groupByID lays out the indices i with id[i] >= 0 grouped by id, keeping their order: the indices
// of id k are members[off[k]:off[k+1]].
func groupByID(id []int32, n int) (off []int32, members []int32) {
	off = make([]int32, n+1)
	for _, k := range id {
		if k >= 0 {
			off[k+1]++
		}
	}
	for k := 0; k < n; k++ {
		off[k+1] += off[k]
	}
	members = make([]int32, off[n])
	next := append([]int32(nil), off[:n]...)
	for i, k := range id {
		if k >= 0 {
			members[next[k]] = int32(i)
			next[k]++
		}
	}
	return off, members
}

// computer runs the sawtooth for one key at a time, reusing its buffers across keys.
type computer struct {
	p       *gbPlan
	st      *aggregate.Sawtooth
	data    *scanned
	tsCol   *types.Column
	queries []query
	qTime   []int64 // queries[i].q, packed: key order reads them at random
	out     *types.Batch
	answers [][2]int32 // (row of out, query index)
	// scratch
	evRows []int32
	evTs   []int64
	qs     []int32
	times  []int64
	sub    []int32
}

// entityKey answers one key's entity queries: each partition's rows aggregate on their own, with
// rows lacking a time placed at the end of their day.
func (c *computer) entityKey(dsCol *types.Column, rows, qs []int32) error {
	// queries of one key usually ask for one or a few partitions
	done := map[string]bool{}
	for _, qi := range qs {
		d := c.queries[qi].ds
		if done[d] {
			continue
		}
		done[d] = true
		c.sub = c.sub[:0]
		for _, r := range rows {
			if dsCol.Strs[r] == d {
				c.sub = append(c.sub, r)
			}
		}
		var same []int32
		for _, qj := range qs {
			if c.queries[qj].ds == d {
				same = append(same, qj)
			}
		}
		if err := c.run(c.sub, same, midMillis(d)+dayMillis-1, nil); err != nil {
			return err
		}
	}
	return nil
}

// run computes one key's values at its queries' times. rows are in scan order; noTs is the event
// time of rows when the source has no time column; prior is the key's folded history (or nil).
func (c *computer) run(rows, qs []int32, noTs int64, prior []aggregate.State) error {
	// Events sorted by ts, stable so that equal times keep scan order (spec §15.2).
	c.evRows = append(c.evRows[:0], rows...)
	c.evTs = c.evTs[:0]
	for _, r := range rows {
		switch {
		case c.tsCol == nil:
			c.evTs = append(c.evTs, noTs)
		case c.tsCol.IsNull(int(r)):
			c.evTs = append(c.evTs, -1<<62) // null time: never inside a window
		default:
			c.evTs = append(c.evTs, c.tsCol.Ints[r])
		}
	}
	sortByTs(c.evRows, c.evTs)
	// Distinct ascending query times.
	c.qs = append(c.qs[:0], qs...)
	sortQueries(c.qs, c.qTime)
	c.times = c.times[:0]
	for _, qi := range c.qs {
		if t := c.qTime[qi]; len(c.times) == 0 || c.times[len(c.times)-1] != t {
			c.times = append(c.times, t)
		}
	}
	base := int32(c.out.Len())
	if err := c.st.Compute(aggregate.Events{Batch: c.data.batch, Rows: c.evRows, Ts: c.evTs, Prior: prior}, c.times, c.out); err != nil {
		return fmt.Errorf("GroupBy %s: %w", c.p.name, err)
	}
	// One output row per distinct time, in order; equal times share a row.
	row := base
	for i, qi := range c.qs {
		if i > 0 && c.qTime[qi] != c.qTime[c.qs[i-1]] {
			row++
		}
		c.answers = append(c.answers, [2]int32{row, qi})
	}
	return nil
}

// sortByTs sorts rows and ts together by ts, stably (insertion sort for the usual handful of events
// per key, a merge sort beyond).
func sortByTs(rows []int32, ts []int64) {
	if len(ts) <= 32 {
		for i := 1; i < len(ts); i++ {
			t, r := ts[i], rows[i]
			j := i
			for j > 0 && ts[j-1] > t {
				ts[j], rows[j] = ts[j-1], rows[j-1]
				j--
			}
			ts[j], rows[j] = t, r
		}
		return
	}
	idx := make([]int, len(ts))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return ts[idx[a]] < ts[idx[b]] })
	r2 := make([]int32, len(rows))
	t2 := make([]int64, len(ts))
	for i, j := range idx {
		r2[i], t2[i] = rows[j], ts[j]
	}
	copy(rows, r2)
	copy(ts, t2)
}

// sortQueries orders query indices by query time, stably.
func sortQueries(qs []int32, qTime []int64) {
	if len(qs) <= 32 {
		for i := 1; i < len(qs); i++ {
			q := qs[i]
			j := i
			for j > 0 && qTime[qs[j-1]] > qTime[q] {
				qs[j] = qs[j-1]
				j--
			}
			qs[j] = q
		}
		return
	}
	sort.SliceStable(qs, func(a, b int) bool { return qTime[qs[a]] < qTime[qs[b]] })
}

// snapshotRows answers entity queries without aggregations: the key's row in partition q.ds (the
// last one in scan order when a snapshot repeats a key).
func (p *gbPlan) snapshotRows(data *scanned, feats types.Schema, queries []query, pl placement) *types.Batch {
	// Rows grouped by (key, ds) with the hash grouping of keys.go; a query finds its group by the
	// same encoding keyOf gives those columns: the key, a zero byte, the partition.
	cols := make([]*types.Column, 0, len(p.keys)+1)
	for _, k := range p.keys {
		cols = append(cols, data.batch.Col(k))
	}
	cols = append(cols, data.batch.Col(warehouse.PartitionColumn))
	probes := make([]string, len(queries))
	workers := runtime.GOMAXPROCS(0)
	_ = onWorkers(workers, func(w int) error {
		for i := w * len(queries) / workers; i < (w+1)*len(queries)/workers; i++ {
			probes[i] = queries[i].key + "\x00" + queries[i].ds
		}
		return nil
	})
	groups := newKeyGroups(hashKeyColumns(cols, data.batch.Len()), probes)
	idx := make([]int32, len(queries))
	for i, id := range groups.probe {
		idx[i] = -1
		if id >= 0 {
			rows := groups.rows(id)
			idx[i] = rows[len(rows)-1] // the last in scan order when a snapshot repeats a key
		}
	}
	sel := &types.Batch{Schema: feats}
	for _, f := range feats {
		sel.Cols = append(sel.Cols, data.batch.Col(f.Name))
	}
	return takeBatch(sel, pl.index(idx))
}

func takeBatch(b *types.Batch, idx []int32) *types.Batch {
	out := &types.Batch{Schema: b.Schema, Cols: make([]*types.Column, len(b.Cols))}
	parallelCols(len(b.Cols), len(idx), func(i int) { out.Cols[i] = b.Cols[i].Take(idx) })
	return out
}
