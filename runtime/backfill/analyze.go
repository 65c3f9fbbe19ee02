package backfill

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/chronon-go/chronon/runtime/types"
	"github.com/chronon-go/chronon/runtime/warehouse"
	"github.com/chronon-go/chronon/thrift/api"
	"github.com/chronon-go/chronon/thrift/conf"
)

// Analysis (spec §10.2): schemas at each step, row counts, heavy hitters, and the checks that also
// run before every backfill: join key types, data availability for windowed GroupBys, and event
// times within 1971–2099.

// Finding is one result of a check; errors stop a backfill.
type Finding struct {
	Error bool
	Msg   string
}

func (f Finding) String() string {
	if f.Error {
		return "ERROR: " + f.Msg
	}
	return "warning: " + f.Msg
}

// PartAnalysis describes one join part (or the GroupBy itself).
type PartAnalysis struct {
	Name     string
	Keys     types.Schema // GroupBy key columns and their types
	Features types.Schema // output columns as the join writes them (prefixed for joins)
}

// Analysis is the result of analyzing a conf over a range of partitions.
type Analysis struct {
	Name     string
	Left     types.Schema // joins only
	Parts    []PartAnalysis
	Output   types.Schema
	Rows     int // left rows (joins) or input rows (GroupBys) in the range
	Hitters  []KeyCount
	Findings []Finding
}

// KeyCount is a key value and how many rows carry it.
type KeyCount struct {
	Key   string
	Count int
}

// AnalyzeOptions select the range and extras of an analysis.
type AnalyzeOptions struct {
	Start, End string
	Hitters    int // number of heavy hitters to report (0: none)
}

// schemas returns the GroupBy's key and feature schemas from its first source, without reading data.
func (p *gbPlan) schemas(w *warehouse.Warehouse) (types.Schema, types.Schema, error) {
	cols := p.aggCols
	if p.gb.Aggregations == nil {
		cols = p.valueCols
	}
	ps, err := prepare(w, sourceQuery{src: p.gb.Sources[0], order: p.order, keys: p.keys, accuracy: p.accuracy, columns: cols})
	if err != nil {
		return nil, nil, fmt.Errorf("GroupBy %s: %w", p.name, err)
	}
	var keys types.Schema
	for _, k := range p.keys {
		keys = append(keys, ps.schema[ps.schema.Index(k)])
	}
	feats, err := p.features(&scanned{batch: types.NewBatch(ps.schema, 0)})
	if err != nil {
		return nil, nil, err
	}
	return keys, feats, nil
}

// checkJoin runs the pre-backfill checks for left partitions starting at firstDay.
func (p *joinPlan) checkJoin(w *warehouse.Warehouse, firstDay, lastDay string) ([]Finding, types.Schema, []PartAnalysis, error) {
	var findings []Finding
	lp, err := prepare(w, sourceQuery{src: p.j.Left, order: p.order, accuracy: api.Accuracy_TEMPORAL})
	if err != nil {
		return nil, nil, nil, fmt.Errorf("join %s: left: %w", p.name, err)
	}
	leftEvents := p.j.Left.Events != nil
	var parts []PartAnalysis
	for _, pp := range p.parts {
		keys, feats, err := pp.gb.schemas(w)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("join %s: %w", p.name, err)
		}
		pa := PartAnalysis{Name: pp.gb.name, Keys: keys}
		for _, f := range feats {
			pa.Features = append(pa.Features, types.Field{Name: pp.prefix + "_" + f.Name, Type: f.Type})
		}
		parts = append(parts, pa)
		for i, k := range keys {
			li := lp.schema.Index(pp.leftKeys[i])
			switch {
			case li < 0:
				findings = append(findings, Finding{true, fmt.Sprintf("join key %s of GroupBy %s is not a left column (left columns: %s)", pp.leftKeys[i], pp.gb.name, strings.Join(lp.schema.Names(), ", "))})
			case !lp.schema[li].Type.Equal(k.Type):
				findings = append(findings, Finding{true, fmt.Sprintf("join key %s has mismatched types: left %s is %s, GroupBy %s key %s is %s; cast one side in its selects", pp.leftKeys[i], lp.tableName, lp.schema[li].Type, pp.gb.name, k.Name, k.Type)})
			}
		}
		findings = append(findings, p.availability(w, pp, leftEvents, firstDay, lastDay)...)
	}
	return findings, lp.schema, parts, nil
}

// availability checks that a windowed GroupBy's tables hold the partitions its windows read (spec
// §10.2). Data older than the first partition is a warning (the first rows see partial windows); a
// hole inside the table's range is an error.
func (p *joinPlan) availability(w *warehouse.Warehouse, pp *partPlan, leftEvents bool, firstDay, lastDay string) []Finding {
	var out []Finding
	gp := pp.gb
	if gp.maxWindow < 0 {
		return nil
	}
	windowDays := int((gp.maxWindow + dayMillis - 1) / dayMillis)
	var expectedStart, needEnd string
	switch {
	case !leftEvents && !gp.entities:
		expectedStart, needEnd = addDays(addDays(firstDay, 1), -windowDays), lastDay
	case !leftEvents:
		expectedStart, needEnd = firstDay, lastDay
	case !gp.entities && gp.accuracy == api.Accuracy_SNAPSHOT:
		expectedStart, needEnd = addDays(addDays(firstDay, -1), -windowDays), addDays(lastDay, -1)
	case !gp.entities:
		expectedStart, needEnd = addDays(firstDay, -windowDays), lastDay
	case gp.accuracy == api.Accuracy_SNAPSHOT:
		expectedStart, needEnd = addDays(firstDay, -1), addDays(lastDay, -1)
	default:
		// TEMPORAL entities: snapshots of the day before each left day (mutation tables are checked
		// below for the left days themselves).
		expectedStart, needEnd = addDays(addDays(firstDay, -1), -windowDays), addDays(lastDay, -1)
	}
	for _, src := range gp.gb.Sources {
		if src.Events != nil && src.Events.GetIsCumulative() {
			return nil
		}
	}
	for _, src := range gp.gb.Sources {
		table, _, err := sourceTable(src)
		if err != nil {
			continue
		}
		t, err := w.Table(table)
		if err != nil {
			out = append(out, Finding{true, fmt.Sprintf("GroupBy %s: %v", gp.name, err)})
			continue
		}
		days, err := t.PartitionDates()
		if err != nil || len(days) == 0 {
			out = append(out, Finding{true, fmt.Sprintf("GroupBy %s: table %s has no partitions", gp.name, table)})
			continue
		}
		if days[0] > expectedStart {
			out = append(out, Finding{false, fmt.Sprintf("GroupBy %s: windows reach back to %s but %s starts at %s: rows before %s see partial windows", gp.name, expectedStart, table, days[0], addDays(days[0], windowDays))})
		}
		have := map[string]bool{}
		for _, d := range days {
			have[d] = true
		}
		from := max(expectedStart, days[0])
		to := min(needEnd, days[len(days)-1])
		var missing []string
		if from <= to {
			all, _ := dateRange(from, to)
			for _, d := range all {
				if !have[d] {
					missing = append(missing, d)
				}
			}
		}
		if needEnd > days[len(days)-1] {
			all, _ := dateRange(addDays(days[len(days)-1], 1), needEnd)
			missing = append(missing, all...)
		}
		if len(missing) > 0 {
			out = append(out, Finding{true, fmt.Sprintf("GroupBy %s: table %s lacks partitions its windows read: %s", gp.name, table, summarizeDays(missing))})
		}
		if src.Entities != nil && src.Entities.MutationTable != nil && leftEvents && gp.accuracy == api.Accuracy_TEMPORAL {
			out = append(out, mutationAvailability(w, gp.name, src.Entities.GetMutationTable(), firstDay, lastDay)...)
		}
	}
	return out
}

// mutationAvailability: a TEMPORAL entity join reads the mutations of every left day.
func mutationAvailability(w *warehouse.Warehouse, gb, table, firstDay, lastDay string) []Finding {
	t, err := w.Table(table)
	if err != nil {
		return []Finding{{true, fmt.Sprintf("GroupBy %s: %v", gb, err)}}
	}
	days, err := t.PartitionDates()
	if err != nil {
		return []Finding{{true, fmt.Sprintf("GroupBy %s: %v", gb, err)}}
	}
	have := map[string]bool{}
	for _, d := range days {
		have[d] = true
	}
	all, _ := dateRange(firstDay, lastDay)
	var missing []string
	for _, d := range all {
		if !have[d] {
			missing = append(missing, d)
		}
	}
	if len(missing) > 0 {
		return []Finding{{false, fmt.Sprintf("GroupBy %s: mutation table %s has no partitions for left days %s (no mutations are applied on those days)", gb, table, summarizeDays(missing))}}
	}
	return nil
}

func summarizeDays(ds []string) string {
	if len(ds) <= 5 {
		return strings.Join(ds, ", ")
	}
	return fmt.Sprintf("%s, %s, ... %s (%d days)", ds[0], ds[1], ds[len(ds)-1], len(ds))
}

// timestampFindings checks event times: not all null, and within 1971-01-01..2099-12-31 (spec §10.2).
func timestampFindings(what string, ts *types.Column) []Finding {
	if ts == nil || ts.Len() == 0 {
		return nil
	}
	const lo, hi = int64(31536000000), int64(4102473599999)
	nonNull, bad := 0, 0
	example := int64(0)
	for i := 0; i < ts.Len(); i++ {
		if ts.IsNull(i) {
			continue
		}
		nonNull++
		if v := ts.Ints[i]; v < lo || v > hi {
			if bad == 0 {
				example = v
			}
			bad++
		}
	}
	var out []Finding
	if nonNull == 0 {
		out = append(out, Finding{true, what + ": every ts is null; check the time column expression"})
	}
	if bad > 0 {
		out = append(out, Finding{true, fmt.Sprintf("%s: %d ts values are outside 1971-01-01..2099-12-31 (e.g. %d); ts must be epoch milliseconds", what, bad, example)})
	}
	return out
}

func errorsOf(fs []Finding) error {
	var msgs []string
	for _, f := range fs {
		if f.Error {
			msgs = append(msgs, f.Msg)
		}
	}
	if len(msgs) == 0 {
		return nil
	}
	return fmt.Errorf("validation failed (run --mode analyze for details):\n  %s", strings.Join(msgs, "\n  "))
}

// AnalyzeJoin analyzes a join over left partitions [Start, End].
func AnalyzeJoin(w *warehouse.Warehouse, j *api.Join, order *conf.Order, opts AnalyzeOptions) (*Analysis, error) {
	p, err := newJoinPlan(j, order)
	if err != nil {
		return nil, err
	}
	findings, leftSchema, parts, err := p.checkJoin(w, opts.Start, opts.End)
	if err != nil {
		return nil, err
	}
	a := &Analysis{Name: p.name, Left: leftSchema, Parts: parts, Findings: findings}
	left, err := scan(w, sourceQuery{src: j.Left, order: order, accuracy: api.Accuracy_TEMPORAL, start: opts.Start, end: opts.End})
	if err != nil {
		return nil, fmt.Errorf("join %s: left: %w", p.name, err)
	}
	a.Rows = left.batch.Len()
	if j.Left.Events != nil {
		a.Findings = append(a.Findings, timestampFindings("left "+mustTable(j.Left), left.batch.Col("ts"))...)
	}
	var keyNames []string
	for _, pp := range p.parts {
		for _, k := range pp.leftKeys {
			if !contains(keyNames, k) {
				keyNames = append(keyNames, k)
			}
		}
	}
	a.Hitters = hitters(left.batch, keyNames, opts.Hitters)
	if a.Rows > 0 && errorsOf(a.Findings) == nil {
		// The output schema is what a backfill of the first partition produces.
		if out, err := p.computeChunk(w, opts.Start, opts.Start, []string{opts.Start}); err == nil {
			a.Output = out.Schema
		}
	}
	return a, nil
}

// AnalyzeGroupBy analyzes a GroupBy over partitions [Start, End].
func AnalyzeGroupBy(w *warehouse.Warehouse, gb *api.GroupBy, order *conf.Order, opts AnalyzeOptions) (*Analysis, error) {
	p, err := newGBPlan(gb, order)
	if err != nil {
		return nil, err
	}
	keys, feats, err := p.schemas(w)
	if err != nil {
		return nil, err
	}
	a := &Analysis{Name: p.name, Parts: []PartAnalysis{{Name: p.name, Keys: keys, Features: feats}}}
	a.Output = append(append(append(types.Schema{}, keys...), feats...), types.Field{Name: warehouse.PartitionColumn, Type: types.StringType})
	data, err := p.scanAll(w, opts.Start, opts.End, noFold, false)
	if err != nil {
		return nil, err
	}
	a.Rows = data.batch.Len()
	if data.hasTs && !p.entities {
		a.Findings = append(a.Findings, timestampFindings("GroupBy "+p.name, data.batch.Col("ts"))...)
	}
	a.Hitters = hitters(data.batch, p.keys, opts.Hitters)
	return a, nil
}

func mustTable(src *api.Source) string {
	t, _, _ := sourceTable(src)
	return t
}

func hitters(b *types.Batch, keys []string, n int) []KeyCount {
	if n <= 0 || len(keys) == 0 {
		return nil
	}
	cols := make([]*types.Column, len(keys))
	for i, k := range keys {
		if cols[i] = b.Col(k); cols[i] == nil {
			return nil
		}
	}
	counts := map[string]int{}
	var buf []byte
	for i := 0; i < b.Len(); i++ {
		k, ok := keyOf(cols, i, &buf)
		if !ok {
			k = "null"
		}
		counts[k]++
	}
	out := make([]KeyCount, 0, len(counts))
	for k, c := range counts {
		out = append(out, KeyCount{k, c})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].Key < out[j].Key
	})
	if len(out) > n {
		out = out[:n]
	}
	return out
}

// Print writes the analysis for a person.
func (a *Analysis) Print(out io.Writer) {
	schema := func(title string, s types.Schema) {
		fmt.Fprintf(out, "%s:\n", title)
		for _, f := range s {
			fmt.Fprintf(out, "  %-50s %s\n", f.Name, f.Type)
		}
	}
	fmt.Fprintf(out, "== %s ==\n", a.Name)
	if a.Left != nil {
		schema("left schema", a.Left)
	}
	for _, p := range a.Parts {
		schema("key schema of "+p.Name, p.Keys)
		schema("output of "+p.Name, p.Features)
	}
	if a.Output != nil {
		schema("output schema", a.Output)
	}
	fmt.Fprintf(out, "rows in range: %d\n", a.Rows)
	if len(a.Hitters) > 0 {
		fmt.Fprintln(out, "heavy hitters (key: rows):")
		for _, h := range a.Hitters {
			fmt.Fprintf(out, "  %s: %d\n", h.Key, h.Count)
		}
	}
	if len(a.Findings) == 0 {
		fmt.Fprintln(out, "checks: no problems found")
	}
	for _, f := range a.Findings {
		fmt.Fprintln(out, f)
	}
}
