package consistency

import (
	"encoding/binary"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/chronon-go/chronon/runtime/aggregate"
	"github.com/chronon-go/chronon/runtime/types"
	"github.com/chronon-go/chronon/runtime/warehouse"
	"github.com/chronon-go/chronon/thrift/api"
)

// The comparison metrics of spec §8.5 (Chronon's CompareMetrics): per compared column, a few metric
// inputs per row, aggregated per hour of ts with the aggregation library.

// BucketMillis is the width of a metrics row: one hour of ts.
const BucketMillis = 3_600_000

// percentileArgs are CompareMetrics.percentilesArgMap: k=128 and the 42 percentiles i/41.
var percentileArgs = func() map[string]string {
	ps := make([]string, 42)
	for i := range ps {
		ps[i] = strconv.FormatFloat(float64(i)/41, 'g', -1, 64)
	}
	return map[string]string{"k": "128", "percentiles": "[" + strings.Join(ps, ",") + "]"}
}()

// featureKind picks the type-specific metrics of a compared column.
type featureKind int

const (
	kindOther   featureKind = iota // universal + mismatch + total
	kindNumeric                    // + smape, left_minus_right, left, right
	kindList                       // + edit distance, lengths, mismatch_length
	kindMap                        // compared as sorted JSON strings (mismatch on the strings)
)

// feature is one compared column.
type feature struct {
	name     string
	kind     featureKind
	integral bool // numeric on integral values on both sides (else float arithmetic)
	float32  bool // both sides float: Spark computes l - r and |l|+|r| in float
	left     int  // column index in the offline (comparison) batch
	right    int  // column index in the online (logged) batch
	input    int  // first metric input column
}

// metricsPlan compares offline rows (left, the comparison join's output) with online rows (right,
// out_logged) on keys and aggregates the metrics per hour.
type metricsPlan struct {
	joinPath string
	keys     []string
	leftKey  []int
	rightKey []int
	timeCol  string // "ts", else "ds" (bucketed by its midnight)
	features []*feature
	input    types.Schema // metric inputs, in output order
	agg      *aggregate.Aggregator
	output   types.Schema // JoinPath, metric columns, ts (ds is the partition)
	skipped  []string     // external-part columns the log lacks, not compared
}

// newMetricsPlan checks the two sides (every non-key offline column must exist online with a
// comparable type) and builds the aggregations. Names in errors are the tables'.
func newMetricsPlan(joinPath string, keys []string, left types.Schema, leftName string, right types.Schema, rightName string) (*metricsPlan, error) {
	p := &metricsPlan{joinPath: joinPath, keys: keys}
	isKey := map[string]bool{}
	for _, k := range keys {
		isKey[k] = true
		li, ri := left.Index(k), right.Index(k)
		if li < 0 || ri < 0 {
			where := leftName
			if li >= 0 {
				where = rightName
			}
			return nil, fmt.Errorf("comparison key %s is not a column of %s (keys are the join's rowIds, else ts, ds and the left key columns)", k, where)
		}
		p.leftKey = append(p.leftKey, li)
		p.rightKey = append(p.rightKey, ri)
	}
	switch {
	case isKey["ts"]:
		p.timeCol = "ts"
	case isKey[warehouse.PartitionColumn]:
		p.timeCol = warehouse.PartitionColumn
	default:
		return nil, fmt.Errorf("comparison keys %v contain no time column: include ts or ds in the join's rowIds", keys)
	}
	var aggs []*api.Aggregation
	addInput := func(name string, t *types.Type, op api.Operation, args map[string]string) {
		p.input = append(p.input, types.Field{Name: name, Type: t})
		col, o := name, op
		if args == nil {
			args = map[string]string{}
		}
		aggs = append(aggs, &api.Aggregation{InputColumn: &col, Operation: &o, ArgMap: args})
	}
	for li, lf := range left {
		if isKey[lf.Name] {
			continue
		}
		ri := right.Index(lf.Name)
		if ri < 0 && strings.HasPrefix(lf.Name, "ext_") {
			// An online external part: offline it is a null column, and the log may not carry it.
			p.skipped = append(p.skipped, lf.Name)
			continue
		}
		if ri < 0 {
			return nil, fmt.Errorf("column %s of %s is missing from %s: the online log has no such field (was the feature added after these fetches were logged? rerun log-flattener after fetching with the current join)",
				lf.Name, leftName, rightName)
		}
		rt := right[ri].Type
		f := &feature{name: lf.Name, left: li, right: ri, input: len(p.input)}
		lt := lf.Type
		switch {
		case lt.IsNumeric() && rt.IsNumeric():
			f.kind = kindNumeric
			f.integral = lt.IsIntegral() && rt.IsIntegral()
			f.float32 = lt.Kind == types.Float && rt.Kind == types.Float
		case !lt.Equal(rt):
			return nil, fmt.Errorf("column %s is %s in %s but %s in %s: the offline and logged types must match (check the feature's type in the join and in the logging schema)",
				lf.Name, lt, leftName, rt, rightName)
		case lt.Kind == types.List:
			f.kind = kindList
		case lt.Kind == types.Map:
			f.kind = kindMap
		}
		n := lf.Name
		sum, avg, pct, cnt := api.Operation_SUM, api.Operation_AVERAGE, api.Operation_APPROX_PERCENTILE, api.Operation_COUNT
		addInput(n+"_both_null", types.BooleanType, sum, nil)
		addInput(n+"_left_null", types.BooleanType, sum, nil)
		addInput(n+"_right_null", types.BooleanType, sum, nil)
		switch f.kind {
		case kindNumeric:
			vt := types.DoubleType
			if f.integral {
				vt = types.LongType
			}
			addInput(n+"_smape", types.DoubleType, avg, nil)
			addInput(n+"_left_minus_right", vt, pct, percentileArgs)
			addInput(n+"_left", vt, pct, percentileArgs)
			addInput(n+"_right", vt, pct, percentileArgs)
		case kindList:
			addInput(n+"_edit_distance_insert", types.LongType, pct, percentileArgs)
			addInput(n+"_edit_distance_delete", types.LongType, pct, percentileArgs)
			addInput(n+"_left_length", types.LongType, pct, percentileArgs)
			addInput(n+"_right_length", types.LongType, pct, percentileArgs)
			addInput(n+"_mismatch_length", types.BooleanType, sum, nil)
		}
		addInput(n+"_mismatch", types.BooleanType, sum, nil)
		addInput(n+"_total", types.BooleanType, cnt, nil)
		p.features = append(p.features, f)
	}
	agg, err := aggregate.New(aggs, p.input)
	if err != nil {
		return nil, fmt.Errorf("consistency metrics: %w", err)
	}
	p.agg = agg
	p.output = append(types.Schema{{Name: "JoinPath", Type: types.StringType}}, agg.OutputSchema()...)
	p.output = append(p.output, types.Field{Name: "ts", Type: types.LongType})
	return p, nil
}

// metricSchema is the metric columns alone (the value schema of out_consistency_upload).
func (p *metricsPlan) metricSchema() types.Schema { return p.output[1 : len(p.output)-1] }

// pair is one row of the FULL OUTER join: -1 for the missing side.
type pair struct{ l, r int }

// match pairs offline and online rows with equal keys. Null keys match each other (a row fetched
// with a null key is still the same row on both sides), and rows with the same keys are paired in
// order rather than crossed, so a fetch logged twice is compared twice, not four times.
func (p *metricsPlan) match(left, right *types.Batch) []pair {
	var buf []byte
	rows := map[string][]int{}
	for i := 0; i < right.Len(); i++ {
		buf = keyOf(buf[:0], right, p.rightKey, i)
		rows[string(buf)] = append(rows[string(buf)], i)
	}
	out := make([]pair, 0, max(left.Len(), right.Len()))
	for i := 0; i < left.Len(); i++ {
		buf = keyOf(buf[:0], left, p.leftKey, i)
		q := rows[string(buf)]
		if len(q) == 0 {
			out = append(out, pair{i, -1})
			continue
		}
		out = append(out, pair{i, q[0]})
		rows[string(buf)] = q[1:]
	}
	var rest []int
	for _, q := range rows {
		rest = append(rest, q...)
	}
	sort.Ints(rest)
	for _, r := range rest {
		out = append(out, pair{-1, r})
	}
	return out
}

// keyOf appends a type-tagged, length-prefixed encoding of row i's key columns.
func keyOf(buf []byte, b *types.Batch, cols []int, i int) []byte {
	for _, ci := range cols {
		buf = appendValueKey(buf, b.Cols[ci].Value(i))
	}
	return buf
}

func appendValueKey(buf []byte, v any) []byte {
	switch x := v.(type) {
	case nil:
		return append(buf, 'n')
	case bool:
		if x {
			return append(buf, 'T')
		}
		return append(buf, 'F')
	case int64:
		return binary.AppendVarint(append(buf, 'i'), x)
	case float64:
		return binary.LittleEndian.AppendUint64(append(buf, 'f'), math.Float64bits(x))
	case string:
		return append(binary.AppendUvarint(append(buf, 's'), uint64(len(x))), x...)
	case []byte:
		return append(binary.AppendUvarint(append(buf, 'b'), uint64(len(x))), x...)
	}
	s := fmt.Sprint(v)
	return append(binary.AppendUvarint(append(buf, 'x'), uint64(len(s))), s...)
}

// compute compares left (offline) with right (online) and returns the metrics rows, one per hour
// bucket of ts, with the partition (ds) the compared rows came from in the last column; ordered by
// ds, then ts. Bucketing by partition as well keeps every output row inside the partitions being
// computed, even where a partition holds rows of another day's ts (a Chronon-format log table is
// partitioned by write time); for logs flattened from the fetch log, ds is the UTC day of ts.
func (p *metricsPlan) compute(left, right *types.Batch) (*types.Batch, error) {
	pairs := p.match(left, right)
	type bucketKey struct {
		ds string
		ts int64
	}
	buckets := map[bucketKey][]aggregate.State{}
	const flushRows = 1 << 16
	in := types.NewBatch(p.input, min(len(pairs), flushRows))
	var keys []bucketKey
	flush := func() error {
		for i, k := range keys {
			ir := buckets[k]
			if ir == nil {
				ir = make([]aggregate.State, p.agg.NumBases())
				buckets[k] = ir
			}
			p.agg.Update(ir, in, i, k.ts)
		}
		if err := p.agg.Err(); err != nil {
			return fmt.Errorf("consistency metrics: %w", err)
		}
		in = types.NewBatch(p.input, flushRows)
		keys = keys[:0]
		return nil
	}
	lt, rt := left.Col(p.timeCol), right.Col(p.timeCol)
	lds, rds := left.Col(warehouse.PartitionColumn), right.Col(warehouse.PartitionColumn)
	for _, pr := range pairs {
		side, row, ds := lt, pr.l, lds
		if pr.l < 0 {
			side, row, ds = rt, pr.r, rds
		}
		t, err := timeOf(side, row)
		if err != nil {
			return nil, err
		}
		k := bucketKey{ts: floorDiv(t, BucketMillis) * BucketMillis}
		if ds != nil && !ds.IsNull(row) {
			k.ds = ds.Strs[row]
		} else {
			k.ds = dayOf(k.ts)
		}
		keys = append(keys, k)
		for _, f := range p.features {
			var l, r any
			if pr.l >= 0 {
				l = left.Cols[f.left].Value(pr.l)
			}
			if pr.r >= 0 {
				r = right.Cols[f.right].Value(pr.r)
			}
			f.appendInputs(in.Cols[f.input:], l, r)
		}
		if len(keys) == flushRows {
			if err := flush(); err != nil {
				return nil, err
			}
		}
	}
	if err := flush(); err != nil {
		return nil, err
	}
	order := make([]bucketKey, 0, len(buckets))
	for k := range buckets {
		order = append(order, k)
	}
	sort.Slice(order, func(a, b int) bool {
		return order[a].ds < order[b].ds || order[a].ds == order[b].ds && order[a].ts < order[b].ts
	})
	out := types.NewBatch(append(append(types.Schema{}, p.output...), types.Field{Name: warehouse.PartitionColumn, Type: types.StringType}), len(order))
	nParts := len(p.agg.Parts())
	for _, k := range order {
		ir := buckets[k]
		out.Cols[0].Append(p.joinPath)
		for i := 0; i < nParts; i++ {
			out.Cols[1+i].Append(sanitize(p.agg.FinalizePart(i, ir[p.agg.PartBase(i)])))
		}
		out.Cols[1+nParts].Append(k.ts)
		out.Cols[2+nParts].Append(k.ds)
	}
	return out, nil
}

// sanitize maps NaN and infinities to null, as the aggregation library's finalization does.
func sanitize(v any) any {
	if f, ok := v.(float64); ok && (math.IsNaN(f) || math.IsInf(f, 0)) {
		return nil
	}
	return v
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// timeOf reads the bucketing time: ts millis, or midnight of a ds.
func timeOf(c *types.Column, i int) (int64, error) {
	if c.IsNull(i) {
		return 0, nil
	}
	if c.Type.Kind == types.String {
		t, err := dayStart(c.Strs[i])
		if err != nil {
			return 0, fmt.Errorf("ds value %q is not a yyyy-MM-dd date", c.Strs[i])
		}
		return t, nil
	}
	if !c.Type.IsIntegral() {
		return 0, fmt.Errorf("ts column is %s; expected epoch millis (bigint)", c.Type)
	}
	return c.Ints[i], nil
}

// appendInputs appends this feature's metric inputs for one compared row (CompareMetrics.buildMetrics).
func (f *feature) appendInputs(cols []*types.Column, l, r any) {
	if f.kind == kindMap {
		l, r = sortedJSON(l), sortedJSON(r)
	}
	i := 0
	put := func(v any) {
		cols[i].Append(v)
		i++
	}
	ln, rn := l == nil, r == nil
	put(ln && rn)
	put(ln && !rn)
	put(!ln && rn)
	switch f.kind {
	case kindNumeric:
		f.numericInputs(put, l, r)
	case kindList:
		lv, _ := l.([]any)
		rv, _ := r.([]any)
		ins, del := editDistance(lv, rv)
		put(int64(ins))
		put(int64(del))
		put(sizeOf(l))
		put(sizeOf(r))
		put(!ln && !rn && len(lv) != len(rv))
	}
	put(!ln && !rn && !equal(l, r))
	put(true)
}

// sizeOf is Spark's size(): -1 for null (spark.sql.legacy.sizeOfNull, on by default in Chronon's
// Spark), so a null list counts as length -1 in the length percentiles.
func sizeOf(v any) int64 {
	if v == nil {
		return -1
	}
	return int64(len(v.([]any)))
}

// numericInputs: smape = 2|l-r| / (|l|+|r|), 0.0 when the denominator is 0 or either side is null
// (Spark's when(denominator != 0, ...).otherwise(0.0) takes the otherwise branch for null);
// left_minus_right, left and right as the value type (null stays null).
func (f *feature) numericInputs(put func(any), l, r any) {
	if f.integral {
		var li, ri int64
		if l != nil {
			li = l.(int64)
		}
		if r != nil {
			ri = r.(int64)
		}
		smape := 0.0
		if l != nil && r != nil {
			if den := abs64(li) + abs64(ri); den != 0 {
				smape = float64(abs64(li-ri)*2) / float64(den)
			}
			put(smape)
			put(li - ri)
		} else {
			put(smape)
			put(nil)
		}
		put(l)
		put(r)
		return
	}
	lf, lok := toFloat(l)
	rf, rok := toFloat(r)
	smape := 0.0
	var diff any
	if lok && rok {
		var num, den float64
		if f.float32 {
			d := float32(lf) - float32(rf)
			diff = float64(d)
			num = float64(float32(math.Abs(float64(d))) * 2)
			den = float64(float32(math.Abs(lf)) + float32(math.Abs(rf)))
		} else {
			diff = lf - rf
			num = math.Abs(lf-rf) * 2
			den = math.Abs(lf) + math.Abs(rf)
		}
		if den != 0 { // NaN != 0 too: the ratio is then NaN, as in Spark
			smape = num / den
		}
	}
	put(smape)
	put(diff)
	if lok {
		put(lf)
	} else {
		put(nil)
	}
	if rok {
		put(rf)
	} else {
		put(nil)
	}
}

func abs64(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}

func toFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case int64:
		return float64(x), true
	}
	return 0, false
}

// equal is Spark SQL's = on two non-null values: numbers by value (NaN equals NaN, -0.0 equals
// 0.0), lists, maps and structs element by element.
func equal(a, b any) bool {
	switch x := a.(type) {
	case nil:
		return b == nil
	case int64:
		switch y := b.(type) {
		case int64:
			return x == y
		case float64:
			return floatEq(float64(x), y)
		}
		return false
	case float64:
		y, ok := toFloat(b)
		return ok && floatEq(x, y)
	case []byte:
		y, ok := b.([]byte)
		return ok && string(x) == string(y)
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !equal(x[i], y[i]) {
				return false
			}
		}
		return true
	case types.StructValue:
		y, ok := b.(types.StructValue)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !equal(x[i], y[i]) {
				return false
			}
		}
		return true
	case *types.MapValue:
		y, ok := b.(*types.MapValue)
		return ok && sortedJSON(x) == sortedJSON(y)
	}
	return a == b
}

func floatEq(a, b float64) bool { return a == b || math.IsNaN(a) && math.IsNaN(b) }

// editDistance is Chronon's EditDistance.between: the inserts and deletes (no replacements) that
// turn right (online) into left (offline). Inserts count offline elements missing online, deletes
// extra online elements. A null list is empty here.
func editDistance(left, right []any) (inserts, deletes int) {
	if len(left) == 0 && len(right) == 0 {
		return 0, 0
	}
	if len(left) == 0 {
		return 0, len(right)
	}
	if len(right) == 0 {
		return len(left), 0
	}
	type dist struct{ ins, del int }
	prev := make([]dist, len(left)+1)
	cur := make([]dist, len(left)+1)
	for j := range prev {
		prev[j] = dist{j, 0}
	}
	for i := 1; i <= len(right); i++ {
		cur[0] = dist{0, i}
		for j := 1; j <= len(left); j++ {
			switch {
			case equal(right[i-1], left[j-1]):
				cur[j] = prev[j-1]
			default:
				del, ins := prev[j], cur[j-1]
				if del.ins+del.del < ins.ins+ins.del {
					cur[j] = dist{del.ins, del.del + 1}
				} else {
					cur[j] = dist{ins.ins + 1, ins.del}
				}
			}
		}
		prev, cur = cur, prev
	}
	d := prev[len(left)]
	return d.ins, d.del
}

// sortedJSON renders a map with its keys sorted (Chronon's Comparison.sortedJson, used so that maps
// compare independently of entry order); nil stays nil.
func sortedJSON(v any) any {
	m, ok := v.(*types.MapValue)
	if !ok || m == nil {
		return v
	}
	idx := make([]int, len(m.Keys))
	keys := make([]string, len(m.Keys))
	for i, k := range m.Keys {
		idx[i] = i
		keys[i] = fmt.Sprint(k)
	}
	sort.SliceStable(idx, func(a, b int) bool { return keys[idx[a]] < keys[idx[b]] })
	var sb strings.Builder
	sb.WriteByte('{')
	for n, i := range idx {
		if n > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString(strconv.Quote(keys[i]))
		sb.WriteByte(':')
		writeJSONValue(&sb, m.Values[i])
	}
	sb.WriteByte('}')
	return sb.String()
}

func writeJSONValue(sb *strings.Builder, v any) {
	switch x := v.(type) {
	case nil:
		sb.WriteString("null")
	case string:
		sb.WriteString(strconv.Quote(x))
	case float64:
		sb.WriteString(strconv.FormatFloat(x, 'g', -1, 64))
	case *types.MapValue:
		sb.WriteString(sortedJSON(x).(string))
	case []any:
		sb.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				sb.WriteByte(',')
			}
			writeJSONValue(sb, e)
		}
		sb.WriteByte(']')
	default:
		fmt.Fprint(sb, x)
	}
}
