package backfill

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"math"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/chronon-go/chronon/runtime/aggregate"
	"github.com/chronon-go/chronon/runtime/expr"
	"github.com/chronon-go/chronon/runtime/types"
	"github.com/chronon-go/chronon/runtime/warehouse"
	"github.com/chronon-go/chronon/thrift/api"
	"github.com/chronon-go/chronon/thrift/conf"
)

// JoinOptions are the run flags of a Join or GroupBy backfill.
type JoinOptions struct {
	EndDate   string // --ds / --end-ds (required)
	StartDate string // --start-ds: overrides the left's startPartition
	StepDays  int    // chunk size in days; 0 means 30 (Chronon's default)
	Force     bool   // recompute partitions that already exist
	Log       io.Writer
}

const (
	tableTypeJoin    = "join"
	tableTypeGroupBy = "group_by"
	propSemanticHash = "semantic_hash"
)

// JoinOutputTable is `<outputNamespace>.<sanitize(name)>` (spec §2.3).
func JoinOutputTable(md *api.MetaData) (string, error) {
	if md == nil || md.GetName() == "" {
		return "", fmt.Errorf("metaData.name is missing")
	}
	if md.GetOutputNamespace() == "" {
		return "", fmt.Errorf("metaData.outputNamespace is missing (set it in the conf or teams.json)")
	}
	return md.GetOutputNamespace() + "." + Sanitize(md.GetName()), nil
}

// semanticHash identifies what a conf computes: everything but its metaData (and its parts'
// metaData), so that renaming an owner does not trigger a recompute but changing a window does.
func semanticHash(v any, o *conf.Order) (string, error) {
	c := conf.Clone(v, o)
	switch x := c.(type) {
	case *api.Join:
		x.MetaData = nil
		for _, jp := range x.JoinParts {
			if jp.GroupBy != nil {
				jp.GroupBy.MetaData = &api.MetaData{Name: jp.GroupBy.GetMetaData().Name}
			}
		}
	case *api.GroupBy:
		x.MetaData = nil
	}
	data, err := conf.MarshalCompact(c, o)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:8]), nil
}

// partsToCompute returns the dates of all that still need output: every date of all when forced,
// when the output does not exist or when its semantic hash differs; otherwise the missing ones from
// the earliest existing output partition on (earlier holes are assumed dropped by retention, as in
// Chronon).
func partsToCompute(w *warehouse.Warehouse, out, hash string, all []string, force bool, log io.Writer, what string) ([]string, bool, error) {
	if force || !w.Exists(out) {
		return all, force && w.Exists(out), nil
	}
	t, err := w.Table(out)
	if err != nil {
		return nil, false, err
	}
	props, err := t.Properties()
	if err != nil {
		return nil, false, err
	}
	if props[propSemanticHash] != hash {
		fmt.Fprintf(log, "%s: the conf changed since %s was written (semantic hash %s → %s): recomputing every partition\n", what, out, orNone(props[propSemanticHash]), hash)
		return all, true, nil
	}
	existing, err := t.PartitionDates()
	if err != nil {
		return nil, false, err
	}
	have := map[string]bool{}
	for _, d := range existing {
		have[d] = true
	}
	cutoff := ""
	if len(existing) > 0 {
		cutoff = existing[0]
	}
	var missing, skipped []string
	for _, d := range all {
		switch {
		case d < cutoff:
			skipped = append(skipped, d)
		case !have[d]:
			missing = append(missing, d)
		}
	}
	if len(skipped) > 0 {
		fmt.Fprintf(log, "%s: skipping %d partition(s) before the earliest existing output partition %s; use --force to fill them\n", what, len(skipped), cutoff)
	}
	return missing, false, nil
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// joinPlan is a Join prepared for backfill.
type joinPlan struct {
	prog            *progress      // nil: quiet
	saves           sync.WaitGroup // part tables being written
	saveErr         atomic.Pointer[error]
	propsMu         sync.Mutex        // guards outProps
	outProps        map[string]string // the output table's properties, completed while computing
	force           bool              // --force: recompute parts too, ignoring part tables
	externalColumns types.Schema
	j               *api.Join
	order           *conf.Order
	name            string
	out             string
	parts           []*partPlan
}

type partPlan struct {
	jp       *api.JoinPart
	gb       *gbPlan
	prefix   string   // full prefix of feature columns
	leftKeys []string // left column for each GroupBy key, in GroupBy key order
}

func newJoinPlan(j *api.Join, order *conf.Order) (*joinPlan, error) {
	out, err := JoinOutputTable(j.MetaData)
	if err != nil {
		return nil, fmt.Errorf("join: %w", err)
	}
	p := &joinPlan{j: j, order: order, name: j.MetaData.GetName(), out: out}
	if j.Left == nil {
		return nil, fmt.Errorf("join %s has no left source", p.name)
	}
	if j.Left.JoinSource != nil {
		return nil, fmt.Errorf("join %s: a JoinSource cannot be the left side", p.name)
	}
	for i, jp := range j.JoinParts {
		if jp.GroupBy == nil {
			return nil, fmt.Errorf("join %s: joinParts[%d] has no groupBy", p.name, i)
		}
		gp, err := newGBPlan(jp.GroupBy, order)
		if err != nil {
			return nil, err
		}
		pp := &partPlan{jp: jp, gb: gp, prefix: Sanitize(jp.GroupBy.GetMetaData().GetName())}
		if jp.GetPrefix() != "" {
			pp.prefix = jp.GetPrefix() + "_" + pp.prefix
		}
		rightToLeft := map[string]string{}
		for l, r := range jp.KeyMapping {
			rightToLeft[r] = l
		}
		for _, k := range jp.GroupBy.KeyColumns {
			l := k
			if m, ok := rightToLeft[k]; ok {
				l = m
			}
			pp.leftKeys = append(pp.leftKeys, l)
		}
		p.parts = append(p.parts, pp)
	}
	for i, ep := range j.OnlineExternalParts {
		src := ep.GetSource()
		if src == nil || src.ValueSchema == nil {
			return nil, fmt.Errorf("join %s: onlineExternalParts[%d] has no source valueSchema", p.name, i)
		}
		if src.OfflineGroupBy != nil {
			return nil, fmt.Errorf("join %s: onlineExternalParts[%d]: external sources with an offlineGroupBy are not supported by this backfill yet", p.name, i)
		}
		prefix := "ext_"
		if ep.GetPrefix() != "" {
			prefix += ep.GetPrefix() + "_"
		}
		prefix += Sanitize(src.GetMetadata().GetName()) + "_"
		for _, f := range src.ValueSchema.Params {
			t, err := types.FromThrift(f.DataType)
			if err != nil {
				return nil, fmt.Errorf("join %s: onlineExternalParts[%d] field %s: %w", p.name, i, f.GetName(), err)
			}
			p.externalColumns = append(p.externalColumns, types.Field{Name: prefix + f.GetName(), Type: t})
		}
	}
	return p, nil
}

// RunJoin backfills a join's output table (spec §6): one row per left row of each missing left
// partition, with every part's features as of the row's time, written per left ds atomically.
func RunJoin(ctx context.Context, w *warehouse.Warehouse, j *api.Join, order *conf.Order, opts JoinOptions) error {
	if opts.Log == nil {
		opts.Log = io.Discard
	}
	if opts.StepDays <= 0 {
		opts.StepDays = 30
	}
	if !validDate(opts.EndDate) {
		return fmt.Errorf("--ds/--end-ds %q is not a yyyy-MM-dd date", opts.EndDate)
	}
	p, err := newJoinPlan(j, order)
	if err != nil {
		return err
	}
	leftTable, lq, err := sourceTable(j.Left)
	if err != nil {
		return fmt.Errorf("join %s: left: %w", p.name, err)
	}
	lt, err := w.Table(leftTable)
	if err != nil {
		return fmt.Errorf("join %s: left: %w", p.name, err)
	}
	leftDays, err := lt.PartitionDates()
	if err != nil {
		return err
	}
	start := opts.StartDate
	if start == "" {
		start = lq.GetStartPartition()
	}
	end := opts.EndDate
	if ep := lq.GetEndPartition(); ep != "" && ep < end {
		end = ep
	}
	if md := j.MetaData; md.HistoricalBackfill != nil && !*md.HistoricalBackfill {
		start = opts.EndDate
	}
	var inRange []string
	for _, d := range leftDays {
		if (start == "" || d >= start) && d <= end {
			inRange = append(inRange, d)
		}
	}
	hash, err := semanticHash(j, order)
	if err != nil {
		return err
	}
	todo, replace, err := partsToCompute(w, p.out, hash, inRange, opts.Force, opts.Log, "join "+p.name)
	if err != nil {
		return err
	}
	if len(todo) == 0 {
		fmt.Fprintf(opts.Log, "join %s: %s is up to date (left partitions %s)\n", p.name, p.out, describeDays(inRange))
		return nil
	}
	// Chained joins: parents first, so that their output tables exist when checked and read.
	for _, pp := range p.parts {
		pp.gb.log = opts.Log
		for _, src := range pp.gb.gb.Sources {
			if src.JoinSource != nil {
				if err := pp.gb.backfillParent(w, src.JoinSource, todo[len(todo)-1]); err != nil {
					return fmt.Errorf("join %s: %w", p.name, err)
				}
			}
		}
	}
	findings, _, _, err := p.checkJoin(w, todo[0], todo[len(todo)-1])
	if err != nil {
		return err
	}
	for _, f := range findings {
		if !f.Error {
			fmt.Fprintf(opts.Log, "join %s: %s\n", p.name, f)
		}
	}
	if err := errorsOf(findings); err != nil {
		return fmt.Errorf("join %s: %w", p.name, err)
	}
	props := map[string]string{"chronon_generated": "true", "chronon_table_type": tableTypeJoin, propSemanticHash: hash}
	for k, v := range j.MetaData.TableProperties {
		props[k] = v
	}
	partProps, err := p.partHashProps()
	if err != nil {
		return err
	}
	for k, v := range partProps {
		props[k] = v
	}
	p.outProps = props
	p.prog = newProgress(opts.Log, "join "+p.name, len(todo))
	p.force = opts.Force
	o := output{what: "join " + p.name, table: p.out, props: props, replace: replace}
	return o.write(ctx, w, todo, opts.StepDays, p.prog, func(start, end string) (*types.Batch, error) {
		return p.computeChunk(w, start, end, todo)
	})
}

// daysIn counts the days of ds within [start, end].
func daysIn(ds []string, start, end string) int {
	n := 0
	for _, d := range ds {
		if d >= start && d <= end {
			n++
		}
	}
	return n
}

func describeDays(ds []string) string {
	if len(ds) == 0 {
		return "none"
	}
	return ds[0] + ".." + ds[len(ds)-1]
}

func dataColumns(s types.Schema) types.Schema {
	var out types.Schema
	for _, f := range s {
		if f.Name != warehouse.PartitionColumn {
			out = append(out, f)
		}
	}
	return out
}

// writeByDs writes b's rows into their ds partitions (ds is the last column and is not stored). Large
// partitions are split into several files, encoded in parallel.
func writeByDs(tx *warehouse.Txn, b *types.Batch) error {
	dsCol := b.Col(warehouse.PartitionColumn)
	rowsByDs := map[string][]int32{}
	var days []string
	for i := 0; i < b.Len(); {
		// Rows come partition by partition: one map update per run of equal days.
		d, j := dsCol.Strs[i], i+1
		for j < b.Len() && dsCol.Strs[j] == d {
			j++
		}
		rows, ok := rowsByDs[d]
		if !ok {
			days = append(days, d)
		}
		for r := i; r < j; r++ {
			rows = append(rows, int32(r))
		}
		rowsByDs[d] = rows
		i = j
	}
	sort.Strings(days)
	data := &types.Batch{Schema: dataColumns(b.Schema)}
	for i, f := range b.Schema {
		if f.Name != warehouse.PartitionColumn {
			data.Cols = append(data.Cols, b.Cols[i])
		}
	}
	const fileRows = 256 * 1024
	type job struct {
		ds   string
		num  int // file number: files of a partition keep the rows' order
		rows []int32
	}
	var jobs []job
	for _, d := range days {
		// Files of equal size, so the parallel encoders finish together (a 256k file and a
		// 77k one leave a core idle at the end).
		rows := rowsByDs[d]
		files := (len(rows) + fileRows - 1) / fileRows
		first, err := tx.ReserveFiles([]string{d}, files)
		if err != nil {
			return err
		}
		for f := 0; f < files; f++ {
			jobs = append(jobs, job{d, first + f, rows[f*len(rows)/files : (f+1)*len(rows)/files]})
		}
	}
	// Largest first: the last jobs to start are the short ones.
	sort.SliceStable(jobs, func(a, b int) bool { return len(jobs[a].rows) > len(jobs[b].rows) })
	errs := make([]error, len(jobs))
	var next int32
	var mu sync.Mutex
	var wg sync.WaitGroup
	for w := 0; w < runtime.GOMAXPROCS(0); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				j := int(next)
				next++
				mu.Unlock()
				if j >= len(jobs) {
					return
				}
				errs[j] = tx.WriteFileNumbered([]string{jobs[j].ds}, jobs[j].num, rowsOf(data, jobs[j].rows))
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// rowsOf is takeBatch(b, rows), without a copy when rows are consecutive (left rows arrive
// partition by partition, so a partition's rows usually are).
func rowsOf(b *types.Batch, rows []int32) *types.Batch {
	if n := len(rows); n > 0 && int(rows[n-1]-rows[0]) == n-1 {
		lo, hi := int(rows[0]), int(rows[n-1])+1
		out := &types.Batch{Schema: b.Schema, Cols: make([]*types.Column, len(b.Cols))}
		for i, c := range b.Cols {
			out.Cols[i] = c.Slice(lo, hi)
		}
		return out
	}
	return takeBatch(b, rows)
}

// computeChunk builds the output rows for the left partitions of [start, end] that are in todo.
func (p *joinPlan) computeChunk(w *warehouse.Warehouse, start, end string, todo []string) (*types.Batch, error) {
	want := map[string]bool{}
	for _, d := range todo {
		want[d] = true
	}
	phase("setup")
	left, err := scan(w, sourceQuery{src: p.j.Left, order: p.order, accuracy: api.Accuracy_TEMPORAL, start: start, end: end})
	phase("left scan")
	if err != nil {
		return nil, fmt.Errorf("join %s: left: %w", p.name, err)
	}
	lb := left.batch
	if ds := lb.Col(warehouse.PartitionColumn); ds != nil {
		keep := make([]bool, lb.Len())
		prev, kept := "", false
		for i := range keep {
			// Rows come partition by partition: one map lookup per run of equal days.
			if d := ds.Strs[i]; i == 0 || d != prev {
				prev, kept = d, want[d]
			}
			keep[i] = kept
		}
		lb = expr.Gather(lb, keep)
	}
	lb, err = p.applySkew(lb)
	if err != nil {
		return nil, err
	}
	leftEvents := p.j.Left.Events != nil
	if leftEvents {
		if err := errorsOf(timestampFindings("left table "+mustTable(p.j.Left), lb.Col("ts"))); err != nil {
			return nil, fmt.Errorf("join %s: %w", p.name, err)
		}
	}
	// Output: key columns, ts, the other left columns, each part's features, ds (spec §6.4).
	var keyNames []string
	for _, pp := range p.parts {
		for _, k := range pp.leftKeys {
			if lb.Schema.Index(k) < 0 {
				return nil, fmt.Errorf("join %s: GroupBy %s needs left column %s, which the left side does not select (left columns: %s)", p.name, pp.gb.name, k, strings.Join(lb.Schema.Names(), ", "))
			}
			if !contains(keyNames, k) {
				keyNames = append(keyNames, k)
			}
		}
	}
	out := &types.Batch{}
	addCol := func(f types.Field, c *types.Column) {
		out.Schema = append(out.Schema, f)
		out.Cols = append(out.Cols, c)
	}
	for _, k := range keyNames {
		i := lb.Schema.Index(k)
		addCol(lb.Schema[i], lb.Cols[i])
	}
	if i := lb.Schema.Index("ts"); i >= 0 && leftEvents {
		addCol(lb.Schema[i], lb.Cols[i])
	}
	for i, f := range lb.Schema {
		if contains(keyNames, f.Name) || f.Name == warehouse.PartitionColumn || (f.Name == "ts" && leftEvents) {
			continue
		}
		addCol(f, lb.Cols[i])
	}
	var boot *bootstrapped
	if len(p.j.BootstrapParts) > 0 {
		fields := map[string]*types.Type{}
		for _, pp := range p.parts {
			_, feats, err := pp.gb.schemas(w)
			if err != nil {
				return nil, fmt.Errorf("join %s: %w", p.name, err)
			}
			for _, f := range feats {
				fields[pp.prefix+"_"+f.Name] = f.Type
			}
		}
		for _, f := range p.externalColumns {
			fields[f.Name] = f.Type
		}
		if boot, err = p.loadBootstraps(w, lb, start, end, fields); err != nil {
			return nil, err
		}
	}
	for i, pp := range p.parts {
		if p.prog != nil {
			p.prog.step("[%s, %s] part %d/%d %s (%d left rows)", start, end, i+1, len(p.parts), pp.gb.name, lb.Len())
		}
		var skip []bool
		if boot != nil {
			_, feats, err := pp.gb.schemas(w)
			if err != nil {
				return nil, fmt.Errorf("join %s: %w", p.name, err)
			}
			var names []string
			for _, f := range feats {
				names = append(names, pp.prefix+"_"+f.Name)
			}
			skip = boot.covered(names, lb.Len())
		}
		if i > 0 {
			// The previous part's scan and grouping buffers are garbage: collect them so that this
			// part's scan reuses their memory instead of faulting in fresh pages.
			collectGarbage("part start")
		}
		feats, err := p.partWithCache(w, pp, lb, leftEvents, skip)
		if err != nil {
			return nil, err
		}
		for i, f := range feats.Schema {
			name := pp.prefix + "_" + f.Name
			if out.Schema.Index(name) >= 0 {
				return nil, fmt.Errorf("join %s: two parts produce column %s: give one of them a prefix", p.name, name)
			}
			addCol(types.Field{Name: name, Type: f.Type}, boot.apply(name, feats.Cols[i]))
		}
	}
	phase("parts")
	if err := p.waitSaves(); err != nil {
		return nil, err
	}
	// Online-only external parts are null offline (spec §6.7).
	for _, f := range p.externalColumns {
		c := types.NewColumn(f.Type, lb.Len())
		for i := 0; i < lb.Len(); i++ {
			c.AppendNull()
		}
		addCol(f, boot.apply(f.Name, c))
	}
	di := lb.Schema.Index(warehouse.PartitionColumn)
	addCol(lb.Schema[di], lb.Cols[di])
	return p.derive(out, keyNames)
}

// applySkew drops left rows whose key is a listed skew value (spec §6.2).
func (p *joinPlan) applySkew(lb *types.Batch) (*types.Batch, error) {
	if len(p.j.SkewKeys) == 0 {
		return lb, nil
	}
	keep := make([]bool, lb.Len())
	for i := range keep {
		keep[i] = true
	}
	for col, vals := range p.j.SkewKeys {
		c := lb.Col(col)
		if c == nil {
			return nil, fmt.Errorf("join %s: skew_keys names %s, which the left side does not select", p.name, col)
		}
		bad := map[string]bool{}
		nullBad := false
		for _, v := range vals {
			if v == "null" {
				nullBad = true
			}
			bad[v] = true
		}
		for i := range keep {
			if c.IsNull(i) {
				if nullBad {
					keep[i] = false
				}
				continue
			}
			if k, _ := keyOf([]*types.Column{c}, i, nil); bad[k] {
				keep[i] = false
			}
		}
	}
	return expr.Gather(lb, keep), nil
}

// partFeatures computes one part's features for every left row (spec §4.4); rows marked in skip (fully
// bootstrapped) get nulls without being computed.
func (p *joinPlan) partFeatures(w *warehouse.Warehouse, pp *partPlan, lb *types.Batch, leftEvents bool, skip []bool) (*types.Batch, error) {
	n := lb.Len()
	keyCols := make([]*types.Column, len(pp.leftKeys))
	for i, k := range pp.leftKeys {
		keyCols[i] = lb.Col(k)
	}
	dsCol := lb.Col(warehouse.PartitionColumn)
	tsCol := lb.Col("ts")
	// Query per left row; rows with a null key get none. Row ranges are done on all cores and
	// joined in row order.
	workers := runtime.GOMAXPROCS(0)
	if n < 1<<14 {
		workers = 1
	}
	type piece struct {
		queries        []query
		rows           []int32
		minDay, maxDay string
	}
	pieces := make([]piece, workers)
	_ = onWorkers(workers, func(wi int) error {
		pc := &pieces[wi]
		var buf []byte
		// Day strings are formatted once per day, not once per row (a million rows per chunk).
		// Left rows come partition by partition, so the previous row's day is usually the answer.
		days := map[int64]string{}
		lastDay, lastDs := int64(math.MinInt64), ""
		day := func(ts int64) string {
			n := aggregate.Floor(ts, dayMillis)
			if n == lastDay {
				return lastDs
			}
			d, ok := days[n]
			if !ok {
				d = dayOf(ts)
				days[n] = d
			}
			lastDay, lastDs = n, d
			return d
		}
		prevDays := map[string]string{}
		lastIn, lastPrev := "", ""
		mids := map[string]int64{}
		dayBefore := func(d string) string {
			if d == lastIn && d != "" {
				return lastPrev
			}
			p, ok := prevDays[d]
			if !ok {
				p = addDays(d, -1)
				prevDays[d] = p
			}
			lastIn, lastPrev = d, p
			return p
		}
		lo, hi := wi*n/workers, (wi+1)*n/workers
		pc.queries = make([]query, 0, hi-lo)
		pc.rows = make([]int32, 0, hi-lo)
		for i := lo; i < hi; i++ {
			if skip != nil && skip[i] {
				continue
			}
			k, ok := keyOf(keyCols, i, &buf)
			if !ok {
				continue
			}
			var q query
			switch {
			case leftEvents && pp.gb.accuracy == api.Accuracy_TEMPORAL && !pp.gb.entities:
				if tsCol.IsNull(i) {
					continue
				}
				q = query{key: k, q: tsCol.Ints[i], ds: day(tsCol.Ints[i])}
			case leftEvents:
				// Snapshot as of midnight starting the row's day: right partition day(ts) - 1 (spec §4.4).
				if tsCol.IsNull(i) {
					continue
				}
				d := day(tsCol.Ints[i])
				q = query{key: k, q: aggregate.Floor(tsCol.Ints[i], dayMillis), ds: dayBefore(d)}
			default:
				// Entities left: the value at the end of the left row's ds.
				d := dsCol.Strs[i]
				mid, ok := mids[d]
				if !ok {
					mid = midMillis(d)
					mids[d] = mid
				}
				q = query{key: k, q: mid + dayMillis, ds: d}
			}
			if pc.minDay == "" || q.ds < pc.minDay {
				pc.minDay = q.ds
			}
			if q.ds > pc.maxDay {
				pc.maxDay = q.ds
			}
			pc.queries = append(pc.queries, q)
			pc.rows = append(pc.rows, int32(i))
		}
		return nil
	})
	phase("queries")
	queries, rowOfQuery := pieces[0].queries, pieces[0].rows
	minDay, maxDay := pieces[0].minDay, pieces[0].maxDay
	for _, pc := range pieces[1:] {
		queries = append(queries, pc.queries...)
		rowOfQuery = append(rowOfQuery, pc.rows...)
		if pc.minDay != "" && (minDay == "" || pc.minDay < minDay) {
			minDay = pc.minDay
		}
		maxDay = max(maxDay, pc.maxDay)
	}
	if len(queries) == 0 {
		// No row can match: a scan is still needed for the feature schema.
		minDay, maxDay = "1970-01-01", "1970-01-01"
		if n > 0 {
			minDay, maxDay = dsCol.Strs[0], dsCol.Strs[0]
		}
	}
	if pp.gb.entities && pp.gb.accuracy == api.Accuracy_TEMPORAL && hasMutations(pp.gb.gb) && leftEvents {
		// Point in time (spec §4.4): snapshot day(ts)-1 plus the mutations of day(ts) before ts.
		for qi, r := range rowOfQuery {
			queries[qi].q, queries[qi].ds = tsCol.Ints[r], dayOf(tsCol.Ints[r])
		}
		vals, err := pp.gb.mutationValuesAt(w, queries, addDays(minDay, 1), addDays(maxDay, 1))
		if err != nil {
			return nil, fmt.Errorf("join %s: %w", p.name, err)
		}
		return takeBatch(vals, queryRows(n, rowOfQuery)), nil
	}
	foldBefore := int64(noFold)
	if len(queries) > 0 {
		minQ := queries[0].q
		for _, q := range queries {
			minQ = min(minQ, q.q)
		}
		foldBefore = pp.gb.foldCutoff(minQ)
	}
	data, err := pp.gb.scanAll(w, minDay, maxDay, foldBefore, true)
	if err != nil {
		return nil, fmt.Errorf("join %s: %w", p.name, err)
	}
	phase("scan")
	// Only the output writer reads the features when the output table holds the parts as computed.
	vals, err := pp.gb.valuesAt(data, queries, placement{rows: rowOfQuery, n: n, compactLists: p.outputHoldsParts() && skip == nil})
	if err != nil {
		return nil, fmt.Errorf("join %s: %w", p.name, err)
	}
	return vals, nil
}

func hasMutations(gb *api.GroupBy) bool {
	for _, s := range gb.Sources {
		if s.Entities != nil && (s.Entities.MutationTable != nil || s.Entities.MutationTopic != nil) {
			return true
		}
	}
	return false
}

// derive applies the join's derivations (spec §6.6): "*" keeps every feature column not renamed by
// another derivation; other derivations are Spark SQL expressions over features, left columns, ts
// and ds. Non-feature columns stay in place.
func (p *joinPlan) derive(b *types.Batch, keyNames []string) (*types.Batch, error) {
	ds := p.j.Derivations
	if len(ds) == 0 {
		return b, nil
	}
	isFeature := map[string]bool{}
	for _, pp := range p.parts {
		for _, f := range b.Schema {
			if strings.HasPrefix(f.Name, pp.prefix+"_") {
				isFeature[f.Name] = true
			}
		}
	}
	for _, f := range p.externalColumns {
		isFeature[f.Name] = true
	}
	usedAsExpr := map[string]bool{}
	for _, d := range ds {
		if d.GetName() != "*" {
			usedAsExpr[strings.Trim(d.GetExpression(), "`")] = true
		}
	}
	out := &types.Batch{}
	for i, f := range b.Schema {
		if !isFeature[f.Name] && f.Name != warehouse.PartitionColumn {
			out.Schema = append(out.Schema, f)
			out.Cols = append(out.Cols, b.Cols[i])
		}
	}
	for _, d := range ds {
		if d.GetName() == "*" {
			for i, f := range b.Schema {
				if isFeature[f.Name] && !usedAsExpr[f.Name] {
					out.Schema = append(out.Schema, f)
					out.Cols = append(out.Cols, b.Cols[i])
				}
			}
			continue
		}
		e, err := expr.Compile(d.GetExpression(), b.Schema)
		if err != nil {
			return nil, fmt.Errorf("join %s: derivation %s: %w", p.name, d.GetName(), err)
		}
		col, err := e.Eval(b)
		if err != nil {
			return nil, fmt.Errorf("join %s: derivation %s: %w", p.name, d.GetName(), err)
		}
		if i := out.Schema.Index(d.GetName()); i >= 0 {
			// A derivation named like a left column: the left value wins where present.
			if !out.Schema[i].Type.Equal(e.Type()) {
				return nil, fmt.Errorf("join %s: derivation %s is named like a left column of type %s but computes %s", p.name, d.GetName(), out.Schema[i].Type, e.Type())
			}
			merged := out.Cols[i].Take(identity(b.Len()))
			for r := 0; r < b.Len(); r++ {
				if merged.IsNull(r) && !col.IsNull(r) {
					merged = coalesceRow(merged, col, r)
				}
			}
			out.Cols[i] = merged
			continue
		}
		out.Schema = append(out.Schema, types.Field{Name: d.GetName(), Type: e.Type()})
		out.Cols = append(out.Cols, col)
	}
	di := b.Schema.Index(warehouse.PartitionColumn)
	out.Schema = append(out.Schema, b.Schema[di])
	out.Cols = append(out.Cols, b.Cols[di])
	return out, nil
}

func identity(n int) []int32 {
	idx := make([]int32, n)
	for i := range idx {
		idx[i] = int32(i)
	}
	return idx
}

// coalesceRow sets row r of dst to src's value (dst is a private copy).
func coalesceRow(dst, src *types.Column, r int) *types.Column {
	v := src.Value(r)
	tmp := types.NewColumn(dst.Type, 1)
	tmp.Append(v)
	if dst.Nulls != nil {
		dst.Nulls[r] = false
	}
	switch {
	case dst.Ints != nil:
		dst.Ints[r] = tmp.Ints[0]
	case dst.Floats != nil:
		dst.Floats[r] = tmp.Floats[0]
	case dst.Strs != nil:
		dst.Strs[r] = tmp.Strs[0]
	case dst.Bools != nil:
		dst.Bools[r] = tmp.Bools[0]
	case dst.Values != nil:
		dst.Values[r] = tmp.Values[0]
	}
	return dst
}
