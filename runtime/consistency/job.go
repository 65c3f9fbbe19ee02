package consistency

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/chronon-go/chronon/runtime/backfill"
	"github.com/chronon-go/chronon/runtime/kv"
	"github.com/chronon-go/chronon/runtime/online"
	"github.com/chronon-go/chronon/runtime/types"
	"github.com/chronon-go/chronon/runtime/warehouse"
	"github.com/chronon-go/chronon/thrift/api"
	"github.com/chronon-go/chronon/thrift/conf"
)

// MetricsOptions are the flags of `run --mode consistency-metrics-compute`.
type MetricsOptions struct {
	// EndDate is the last logged partition to compare; "" means the latest partition of out_logged.
	EndDate string
	// StepDays bounds the days compared (and held in memory) per committed chunk; 0 means 30.
	StepDays int
	// Force recomputes the comparison and the metrics of partitions that already exist.
	Force bool
	Log   io.Writer // progress; nil is quiet
	// Now stamps the two schema rows of out_consistency_upload (default time.Now).
	Now func() time.Time
}

// MetricsResult says what a consistency-metrics-compute run did.
type MetricsResult struct {
	ComparisonTable, Table, UploadTable, Dataset string
	Days                                         []string // out_consistency partitions written
	Buckets                                      int      // metrics rows (hours) written
	// Summary covers the partitions written, or every partition up to EndDate when none was.
	Summary *Summary
	// Skipped explains why nothing was done (consistencySamplePercent 0); "" otherwise.
	Skipped string
}

// uploadSchema is out_consistency_upload's data columns (ds is the partition).
var uploadSchema = types.Schema{
	{Name: "key_bytes", Type: types.BinaryType},
	{Name: "value_bytes", Type: types.BinaryType},
	{Name: "key_json", Type: types.StringType},
	{Name: "value_json", Type: types.StringType},
	{Name: "ts", Type: types.LongType},
}

// Keys of the schema rows of out_consistency_upload (Chronon's TimedKvRDDKeySchemaKey/ValueSchemaKey).
const (
	keySchemaKey   = "__keySchema"
	valueSchemaKey = "__valueSchema"
)

// kvBatch bounds one MultiPut (MongoDB-compatible stores handle small bulk writes best).
const kvBatch = 40

// LeftKeyColumns are the join's left key columns (Chronon's leftKeyCols): every join part's GroupBy
// keys under their left names (keyMapping applied), first appearance first.
func LeftKeyColumns(j *api.Join) []string {
	var out []string
	seen := map[string]bool{}
	for _, jp := range j.JoinParts {
		leftOf := map[string]string{}
		for l, r := range jp.KeyMapping {
			leftOf[r] = l
		}
		for _, k := range jp.GetGroupBy().GetKeyColumns() {
			l := k
			if m, ok := leftOf[k]; ok {
				l = m
			}
			if !seen[l] {
				seen[l] = true
				out = append(out, l)
			}
		}
	}
	return out
}

// consistencyPercent is metaData.consistencySamplePercent, 100 when unset (spec §8.5).
func consistencyPercent(md *api.MetaData) float64 {
	if md.ConsistencySamplePercent == nil {
		return 100
	}
	return *md.ConsistencySamplePercent
}

// ComparisonJoin is the join with its left replaced by an events source on out_logged (spec §8.5
// step 1): selects = the left key columns, timeColumn ts, the original left's startPartition, a
// RAND() sample when consistencySamplePercent < 100; named `<name>_comparison`, so it backfills into
// out_comparison. order receives the new maps' key order.
func ComparisonJoin(j *api.Join, order *conf.Order) (*api.Join, error) {
	md := j.GetMetaData()
	logged, err := LoggedTable(md)
	if err != nil {
		return nil, err
	}
	cj := conf.Clone(j, order)
	keys := LeftKeyColumns(j)
	selects := map[string]string{}
	for _, k := range keys {
		selects[k] = k
	}
	order.Set(selects, keys)
	ts := "ts"
	setups := []string{}
	q := &api.Query{Selects: selects, TimeColumn: &ts, Setups: &setups}
	if lq := leftQuery(j.Left); lq != nil && lq.StartPartition != nil {
		sp := *lq.StartPartition
		q.StartPartition = &sp
	}
	if p := consistencyPercent(md); p < 100 {
		q.Wheres = []string{"RAND() <= " + strconv.FormatFloat(p/100, 'f', -1, 64)}
	}
	cj.Left = &api.Source{Events: &api.EventSource{Table: &logged, Query: q}}
	name := md.GetName() + comparisonSuffix
	cj.MetaData.Name = &name
	props := map[string]string{}
	var pkeys []string
	if cj.MetaData.TableProperties != nil {
		pkeys = order.Keys(cj.MetaData.TableProperties)
		for k, v := range cj.MetaData.TableProperties {
			props[k] = v
		}
	}
	props[propOOCTable] = "true"
	order.Set(props, append(pkeys, propOOCTable))
	cj.MetaData.TableProperties = props
	return cj, nil
}

func leftQuery(s *api.Source) *api.Query {
	switch {
	case s == nil:
		return nil
	case s.Events != nil:
		return s.Events.Query
	case s.Entities != nil:
		return s.Entities.Query
	case s.JoinSource != nil:
		return s.JoinSource.Query
	}
	return nil
}

// ComputeMetrics is `run --mode consistency-metrics-compute` (spec §8.5): it backfills the comparison
// join over out_logged, compares it (offline, `_left`) with out_logged (online, `_right`) per row,
// writes the hourly metrics into out_consistency and out_consistency_upload, loads the latter into
// the KV dataset CHRONON_CONSISTENCY_METRICS_STATS_BATCH, and summarizes the result. Partitions of
// out_consistency that exist are kept (Force recomputes them). A nil store skips the KV load.
func ComputeMetrics(ctx context.Context, w *warehouse.Warehouse, store kv.Store, j *api.Join, order *conf.Order, opts MetricsOptions) (*MetricsResult, error) {
	md := j.GetMetaData()
	what := "consistency-metrics-compute " + md.GetName()
	if opts.Now == nil {
		opts.Now = time.Now
	}
	res := &MetricsResult{Dataset: ConsistencyDataset}
	var err error
	for _, t := range []struct {
		dst *string
		fn  func(*api.MetaData) (string, error)
	}{{&res.ComparisonTable, ComparisonTable}, {&res.Table, ConsistencyTable}, {&res.UploadTable, ConsistencyUploadTable}} {
		if *t.dst, err = t.fn(md); err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
	}
	if consistencyPercent(md) == 0 {
		res.Skipped = fmt.Sprintf("join %s has consistencySamplePercent = 0: no consistency metrics to compute", md.GetName())
		return res, nil
	}
	logged, _ := LoggedTable(md)
	if !w.Exists(logged) {
		return nil, fmt.Errorf("%s: %s does not exist; flatten the fetch log first: chronon run --mode log-flattener --conf <this join>", what, logged)
	}
	lt, err := w.Table(logged)
	if err != nil {
		return nil, err
	}
	loggedDays, err := lt.PartitionDates()
	if err != nil {
		return nil, err
	}
	if len(loggedDays) == 0 {
		return nil, fmt.Errorf("%s: %s has no partitions; fetch the join with logging on, then run log-flattener", what, logged)
	}
	end := opts.EndDate
	if end == "" {
		end = loggedDays[len(loggedDays)-1]
	}
	// 1. The offline side: the join computed for exactly the logged requests.
	cj, err := ComparisonJoin(j, order)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if err := backfill.RunJoin(ctx, w, cj, order, backfill.JoinOptions{EndDate: end, StepDays: 30, Force: opts.Force, Log: opts.Log}); err != nil {
		return nil, fmt.Errorf("%s: comparison backfill: %w", what, err)
	}
	// 2. The partitions to compare: comparison partitions missing from out_consistency.
	have, err := existingDays(w, res.Table)
	if err != nil {
		return nil, err
	}
	cmpDays, err := existingDays(w, res.ComparisonTable)
	if err != nil {
		return nil, err
	}
	var todo []string
	compared := 0
	for _, d := range sortedKeys(cmpDays) {
		if d <= end {
			compared++
			if opts.Force || !have[d] {
				todo = append(todo, d)
			}
		}
	}
	if compared == 0 {
		res.Skipped = fmt.Sprintf("%s has no partitions up to %s to compare (logged partitions %s..%s; the left's startPartition may be later)",
			res.ComparisonTable, end, loggedDays[0], loggedDays[len(loggedDays)-1])
		return res, nil
	}
	if len(todo) == 0 {
		logf(opts.Log, "%s: %s is up to date (through %s)", what, res.Table, end)
		res.Summary, err = summarize(w, res.Table, JoinPath(md), "", end)
		return res, err
	}
	keys := j.RowIds
	if len(keys) == 0 {
		keys = append([]string{"ts", warehouse.PartitionColumn}, LeftKeyColumns(j)...)
	}
	logf(opts.Log, "%s: comparing %s (offline) with %s (online) on %v", what, res.ComparisonTable, logged, keys)
	c := &comparer{w: w, md: md, what: what, store: store, res: res, logged: logged, keys: keys, opts: opts}
	began := time.Now()
	cs := chunks(todo, opts.StepDays)
	for ci, days := range cs {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		n, err := c.chunk(ctx, days)
		if err != nil {
			return nil, err
		}
		res.Days = append(res.Days, days...)
		res.Buckets += n
		logf(opts.Log, "%s: chunk %d/%d [%s, %s]: %d hourly metrics rows", what, ci+1, len(cs), days[0], days[len(days)-1], n)
	}
	if err := c.schemaRows(ctx); err != nil {
		return nil, err
	}
	logf(opts.Log, "%s: wrote %d metrics rows in %d partition(s) of %s and %s, loaded into KV dataset %s in %s",
		what, res.Buckets, len(res.Days), res.Table, res.UploadTable, ConsistencyDataset, time.Since(began).Round(time.Millisecond))
	res.Summary, err = summarize(w, res.Table, JoinPath(md), res.Days[0], res.Days[len(res.Days)-1])
	return res, err
}

type comparer struct {
	w      *warehouse.Warehouse
	md     *api.MetaData
	what   string
	store  kv.Store
	res    *MetricsResult
	logged string
	keys   []string
	opts   MetricsOptions
	plan   *metricsPlan
	keyAv  *online.AvroSchema
	valAv  *online.AvroSchema
}

func readDays(w *warehouse.Warehouse, table string, columns []string, first, last string) (*types.Batch, error) {
	t, err := w.Table(table)
	if err != nil {
		return nil, err
	}
	r, err := t.Read(warehouse.ReadOptions{Columns: columns, Start: first, End: last})
	if err != nil {
		return nil, err
	}
	b, err := r.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("reading %s [%s, %s]: %w", table, first, last, err)
	}
	return b, nil
}

// chunk compares the days of one chunk and commits their metrics; it returns the rows written.
func (c *comparer) chunk(ctx context.Context, days []string) (int, error) {
	first, last := days[0], days[len(days)-1]
	left, err := readDays(c.w, c.res.ComparisonTable, nil, first, last)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", c.what, err)
	}
	lt, err := c.w.Table(c.logged)
	if err != nil {
		return 0, err
	}
	rs, err := lt.Schema()
	if err != nil {
		return 0, err
	}
	var cols []string
	for _, f := range left.Schema {
		if rs.Index(f.Name) >= 0 {
			cols = append(cols, f.Name)
		}
	}
	right, err := readDays(c.w, c.logged, cols, first, last)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", c.what, err)
	}
	if c.plan == nil {
		p, err := newMetricsPlan(JoinPath(c.md), c.keys, left.Schema, c.res.ComparisonTable, right.Schema, c.logged)
		if err != nil {
			return 0, fmt.Errorf("%s: %w", c.what, err)
		}
		c.plan = p
		if len(p.skipped) > 0 {
			logf(c.opts.Log, "%s: not compared (external parts, absent from the log): %s", c.what, strings.Join(p.skipped, ", "))
		}
		if c.keyAv, err = online.NewAvroSchema("Key", types.Schema{{Name: "JoinPath", Type: types.StringType}}); err != nil {
			return 0, err
		}
		if c.valAv, err = online.NewAvroSchema("Value", p.metricSchema()); err != nil {
			return 0, fmt.Errorf("%s: metrics value schema: %w", c.what, err)
		}
	}
	metrics, err := c.plan.compute(left, right)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", c.what, err)
	}
	// Upload rows: KV first (versions are idempotent), then the upload table, then out_consistency,
	// whose partitions mark the work done: a failure anywhere leaves the days to redo.
	upload := types.NewBatch(uploadSchema, metrics.Len())
	var uploadDs []string
	var puts []kv.PutRequest
	nm := len(c.plan.metricSchema())
	keyRow := []any{JoinPath(c.md)}
	keyBytes, err := c.keyAv.Encode(keyRow)
	if err != nil {
		return 0, err
	}
	keyJSON, err := c.keyAv.EncodeJSON(keyRow)
	if err != nil {
		return 0, err
	}
	for i := 0; i < metrics.Len(); i++ {
		row := make([]any, nm)
		for m := 0; m < nm; m++ {
			row[m] = metrics.Cols[1+m].Value(i)
		}
		vb, err := c.valAv.Encode(row)
		if err != nil {
			return 0, fmt.Errorf("%s: encoding metrics: %w", c.what, err)
		}
		vj, err := c.valAv.EncodeJSON(row)
		if err != nil {
			return 0, err
		}
		ts := metrics.Cols[1+nm].Ints[i]
		upload.Cols[0].Append(keyBytes)
		upload.Cols[1].Append(vb)
		upload.Cols[2].Append(keyJSON)
		upload.Cols[3].Append(vj)
		upload.Cols[4].Append(ts)
		uploadDs = append(uploadDs, metrics.Cols[2+nm].Strs[i])
		puts = append(puts, kv.PutRequest{Dataset: ConsistencyDataset, Key: keyBytes, Value: vb, TsMillis: ts})
	}
	if err := c.put(ctx, puts); err != nil {
		return 0, err
	}
	props := c.props(tableTypeConsistencyUpload)
	if err := writeDays(c.w, c.res.UploadTable, uploadSchema, props, days, upload, uploadDs); err != nil {
		return 0, fmt.Errorf("%s: %w", c.what, err)
	}
	mds := make([]string, metrics.Len())
	copy(mds, metrics.Cols[len(metrics.Cols)-1].Strs)
	data := &types.Batch{Schema: c.plan.output, Cols: metrics.Cols[:len(metrics.Cols)-1]}
	if err := writeDays(c.w, c.res.Table, c.plan.output, c.props(tableTypeConsistency), days, data, mds); err != nil {
		return 0, fmt.Errorf("%s: %w", c.what, err)
	}
	return metrics.Len(), nil
}

func (c *comparer) props(tableType string) map[string]string {
	props := map[string]string{}
	for k, v := range c.md.TableProperties {
		props[k] = v
	}
	props[warehouse.PropGenerated] = "true"
	props[warehouse.PropTableType] = tableType
	return props
}

func (c *comparer) put(ctx context.Context, puts []kv.PutRequest) error {
	if c.store == nil || len(puts) == 0 {
		return nil
	}
	// MultiPut, not BulkLoad: the dataset is shared by every join and accumulates hours across runs;
	// a bulk load would replace all of it with this run's rows.
	if err := c.store.Create(ctx, ConsistencyDataset); err != nil {
		return fmt.Errorf("%s: creating KV dataset %s: %w", c.what, ConsistencyDataset, err)
	}
	for i := 0; i < len(puts); i += kvBatch {
		if err := c.store.MultiPut(ctx, puts[i:min(i+kvBatch, len(puts))]); err != nil {
			return fmt.Errorf("%s: writing KV dataset %s: %w (nothing of this chunk was written to the warehouse; rerun)", c.what, ConsistencyDataset, err)
		}
	}
	return nil
}

// writeDays writes b's rows (row i into partition ds[i]) and an empty partition for every day of
// days without rows, in one transaction.
func writeDays(w *warehouse.Warehouse, table string, schema types.Schema, props map[string]string, days []string, b *types.Batch, ds []string) error {
	tx, err := w.Begin(table, warehouse.TableSpec{Schema: schema, PartitionColumns: []string{warehouse.PartitionColumn}, Properties: props})
	if err != nil {
		return err
	}
	rows := map[string][]int32{}
	for i, d := range ds {
		rows[d] = append(rows[d], int32(i))
	}
	all := map[string]bool{}
	for _, d := range days {
		all[d] = true
	}
	for d := range rows {
		all[d] = true // a bucket's ds is its rows' partition, one of days
	}
	for _, d := range sortedKeys(all) {
		if err := tx.Write([]string{d}, takeRows(b, rows[d])); err != nil {
			tx.Abort()
			return fmt.Errorf("writing %s partition %s: %w", table, d, err)
		}
	}
	return tx.Commit()
}

// schemaRows adds the key and value Avro schemas under `<JoinPath>__keySchema` and
// `<JoinPath>__valueSchema` (ts = now) to out_consistency_upload and the KV dataset, so a reader of
// the dataset can decode the metrics. They go into today's partition, keeping its metrics rows.
func (c *comparer) schemaRows(ctx context.Context) error {
	if c.plan == nil {
		return nil
	}
	now := c.opts.Now().UnixMilli()
	today := dayOf(now)
	jp := JoinPath(c.md)
	keySchema, valueSchema := c.keyAv.String(), c.valAv.String()
	b := types.NewBatch(uploadSchema, 2)
	if days, err := existingDays(c.w, c.res.UploadTable); err != nil {
		return err
	} else if days[today] {
		old, err := readDays(c.w, c.res.UploadTable, uploadSchema.Names(), today, today)
		if err != nil {
			return err
		}
		for i := 0; i < old.Len(); i++ {
			if k := old.Cols[2]; !k.IsNull(i) && (k.Strs[i] == keySchemaKey || k.Strs[i] == valueSchemaKey) {
				continue
			}
			for ci, col := range old.Cols {
				b.Cols[ci].Append(col.Value(i))
			}
		}
	}
	var puts []kv.PutRequest
	for _, r := range []struct{ suffix, schema string }{{keySchemaKey, keySchema}, {valueSchemaKey, valueSchema}} {
		key := []byte(jp + r.suffix)
		b.Cols[0].Append(key)
		b.Cols[1].Append([]byte(r.schema))
		b.Cols[2].Append(r.suffix)
		b.Cols[3].Append(r.schema)
		b.Cols[4].Append(now)
		puts = append(puts, kv.PutRequest{Dataset: ConsistencyDataset, Key: key, Value: []byte(r.schema), TsMillis: now})
	}
	if err := c.put(ctx, puts); err != nil {
		return err
	}
	if err := c.w.WritePartition(c.res.UploadTable, warehouse.TableSpec{Schema: uploadSchema, PartitionColumns: []string{warehouse.PartitionColumn}, Properties: c.props(tableTypeConsistencyUpload)}, []string{today}, b); err != nil {
		return fmt.Errorf("%s: writing the schema rows into %s partition %s: %w", c.what, c.res.UploadTable, today, err)
	}
	return nil
}

// takeRows is the batch of b's rows idx.
func takeRows(b *types.Batch, idx []int32) *types.Batch {
	out := &types.Batch{Schema: b.Schema, Cols: make([]*types.Column, len(b.Cols))}
	if idx == nil {
		idx = []int32{}
	}
	for i, c := range b.Cols {
		out.Cols[i] = c.Take(idx)
	}
	return out
}
