package backfill

import (
	"context"
	"fmt"
	"hash/fnv"
	"io"
	"runtime"
	"sort"
	"strings"
	"sync"

	"github.com/chronon-go/chronon/runtime/aggregate"
	"github.com/chronon-go/chronon/runtime/kv"
	"github.com/chronon-go/chronon/runtime/online"
	"github.com/chronon-go/chronon/runtime/types"
	"github.com/chronon-go/chronon/runtime/warehouse"
	"github.com/chronon-go/chronon/thrift/api"
	"github.com/chronon-go/chronon/thrift/conf"
)

const tableTypeUpload = "upload"

// UploadSchema is the schema of the `<out>_upload` table (spec §7.1).
var UploadSchema = types.Schema{
	{Name: "key_bytes", Type: types.BinaryType},
	{Name: "value_bytes", Type: types.BinaryType},
	{Name: "key_json", Type: types.StringType},
	{Name: "value_json", Type: types.StringType},
	{Name: warehouse.PartitionColumn, Type: types.StringType},
}

// UploadRow is one key of an upload: Avro key and value bytes, and their Avro JSON for the ~1% of
// rows that carry it ("" otherwise).
type UploadRow struct {
	Key, Value         []byte
	KeyJSON, ValueJSON string
}

// Upload is what `run --mode upload` computes for one GroupBy and end date, before it is stored.
type Upload struct {
	GroupBy  *api.GroupBy
	EndDate  string // --ds
	BatchEnd int64  // mid(EndDate + 1): the KV version ts of every row
	Info     *online.ServingInfo
	InfoJSON []byte // compact Thrift JSON of Info.Info (the group_by_serving_info value)
	// Value is the Avro schema of Rows' values: the finalized outputs (SNAPSHOT), the value columns
	// (no aggregations) or the batch IR {collapsedIr, tailHopIrs} (TEMPORAL).
	Value *online.AvroSchema
	// Online folds and queries the batch IRs of a TEMPORAL upload (nil otherwise).
	Online *aggregate.Online
	Rows   []UploadRow // sorted by key (the scan's key order), without the serving info row
}

// UploadTable is the warehouse table an upload writes: `<namespace>.<sanitize(name)>_upload`.
func UploadTable(md *api.MetaData) (string, error) {
	out, err := JoinOutputTable(md)
	if err != nil {
		return "", err
	}
	return out + "_upload", nil
}

// BatchDataset is the KV dataset of a GroupBy's uploads: UPPER(sanitize(name)) + "_BATCH" (spec §2.3).
func BatchDataset(name string) string {
	return strings.ToUpper(online.SanitizeName(name)) + "_BATCH"
}

// jsonRow picks the ~1% of rows whose upload-table row carries key_json/value_json. Chronon draws
// a random number per row; this choice is a hash of the key bytes, so reruns write the same rows.
func jsonRow(key []byte) bool {
	h := fnv.New32a()
	h.Write(key)
	return h.Sum32()%100 == 0
}

// ComputeUpload computes the rows `run --mode upload --ds endDs` stores for gb (spec §7.1): per key,
//   - SNAPSHOT events: finalized values as of mid(endDs+1), keys whose values are all null left out;
//   - SNAPSHOT entities without aggregations: the selected non-key columns of partition endDs;
//   - SNAPSHOT entities with aggregations: finalized aggregates over partition endDs;
//   - TEMPORAL events: the batch IR with batchEnd mid(endDs+1), sources scanned for [endDs+1, endDs+1];
//   - TEMPORAL entities: the batch IR of snapshot endDs.
func ComputeUpload(w *warehouse.Warehouse, gb *api.GroupBy, order *conf.Order, endDs string) (*Upload, error) {
	if !validDate(endDs) {
		return nil, fmt.Errorf("upload: --ds %q is not a yyyy-MM-dd date", endDs)
	}
	p, err := newGBPlan(gb, order)
	if err != nil {
		return nil, err
	}
	if _, err := UploadTable(gb.MetaData); err != nil {
		return nil, fmt.Errorf("upload: %w", err)
	}
	// A JoinSource's parent join must exist before its output's schema can be read.
	scanEnd := endDs
	if gb.Aggregations != nil && p.accuracy == api.Accuracy_TEMPORAL && !p.entities {
		scanEnd = addDays(endDs, 1)
	}
	for _, src := range gb.Sources {
		if src.JoinSource != nil {
			if err := p.backfillParent(w, src.JoinSource, scanEnd); err != nil {
				return nil, err
			}
		}
	}
	info, err := servingInfo(w, p, endDs)
	if err != nil {
		return nil, err
	}
	up := &Upload{GroupBy: gb, EndDate: endDs, BatchEnd: midMillis(endDs) + dayMillis, Info: info}
	if up.InfoJSON, err = info.MarshalCompact(order); err != nil {
		return nil, fmt.Errorf("upload %s: serving info: %w", p.name, err)
	}
	switch {
	case gb.Aggregations == nil:
		err = up.rawRows(w, p)
	case p.accuracy == api.Accuracy_TEMPORAL:
		err = up.batchIRs(w, p)
	default:
		err = up.snapshot(w, p)
	}
	if err != nil {
		return nil, err
	}
	return up, nil
}

// servingInfo builds the GroupByServingInfo from the first source's query output (its schema only:
// no data is read) and, with a streaming source, the table columns its query references.
func servingInfo(w *warehouse.Warehouse, p *gbPlan, endDs string) (*online.ServingInfo, error) {
	src := p.gb.Sources[0]
	sel, err := prepare(w, sourceQuery{src: src, order: p.order, keys: p.keys, accuracy: p.accuracy, noDs: true})
	if err != nil {
		return nil, fmt.Errorf("upload %s: %w", p.name, err)
	}
	var stream types.Schema
	if online.HasStreamingSource(p.gb) {
		for _, s := range p.gb.Sources {
			if s.JoinSource != nil {
				continue
			}
			ps, err := prepare(w, sourceQuery{src: s, order: p.order, keys: p.keys, accuracy: p.accuracy, noDs: true})
			if err != nil {
				return nil, fmt.Errorf("upload %s: %w", p.name, err)
			}
			full, err := ps.table.Schema()
			if err != nil {
				return nil, err
			}
			for _, c := range ps.read {
				if i := full.Index(c); i >= 0 {
					stream = append(stream, full[i])
				}
			}
			break
		}
		if stream == nil {
			stream = sel.schema
		}
	}
	info, err := online.BuildServingInfo(p.gb, sel.schema, endDs, stream)
	if err != nil {
		return nil, fmt.Errorf("upload: %w", err)
	}
	return info, nil
}

// add encodes one key row and value row and appends it to Rows.
func (up *Upload) add(key, value []any) error {
	r, err := up.encode(key, value)
	if err != nil {
		return err
	}
	up.Rows = append(up.Rows, r)
	return nil
}

// encode is one upload row; safe for concurrent use.
func (up *Upload) encode(key, value []any) (UploadRow, error) {
	kb, err := up.Info.Key.Encode(key)
	if err != nil {
		return UploadRow{}, fmt.Errorf("upload %s: key: %w", up.GroupBy.GetMetaData().GetName(), err)
	}
	vb, err := up.Value.Encode(value)
	if err != nil {
		return UploadRow{}, fmt.Errorf("upload %s: value: %w", up.GroupBy.GetMetaData().GetName(), err)
	}
	r := UploadRow{Key: kb, Value: vb}
	if jsonRow(kb) {
		r.KeyJSON, _ = up.Info.Key.EncodeJSON(key)
		r.ValueJSON, _ = up.Value.EncodeJSON(value)
	}
	return r, nil
}

func rowValues(cols []*types.Column, i int) []any {
	out := make([]any, len(cols))
	for j, c := range cols {
		out[j] = c.Value(i)
	}
	return out
}

// snapshot: finalized values of partition EndDate, as the GroupBy backfill computes them.
func (up *Upload) snapshot(w *warehouse.Warehouse, p *gbPlan) error {
	b, err := p.snapshotChunk(w, up.EndDate, up.EndDate)
	if err != nil {
		return err
	}
	nk := len(p.keys)
	feats := b.Schema[nk : len(b.Schema)-1]
	if up.Value, err = online.NewAvroSchema("Value", feats); err != nil {
		return fmt.Errorf("upload %s: value schema: %w", p.name, err)
	}
	keyCols, valCols := b.Cols[:nk], b.Cols[nk:len(b.Cols)-1]
	// Rows are independent: workers encode them into their slots.
	up.Rows = make([]UploadRow, b.Len())
	return parallelRows(b.Len(), func(i int) (err error) {
		up.Rows[i], err = up.encode(rowValues(keyCols, i), rowValues(valCols, i))
		return err
	})
}

// parallelRows calls f for 0..n-1 on up to GOMAXPROCS goroutines and returns the first error (by
// row) of the rows that ran; a worker stops at its first error.
func parallelRows(n int, f func(i int) error) error {
	workers := min(runtime.GOMAXPROCS(0), max(1, n/1024))
	errs := make([]error, workers)
	errAt := make([]int, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += workers {
				if err := f(i); err != nil {
					errs[w], errAt[w] = err, i
					return
				}
			}
		}()
	}
	wg.Wait()
	var first error
	at := n
	for w, err := range errs {
		if err != nil && errAt[w] < at {
			first, at = err, errAt[w]
		}
	}
	return first
}

// rawRows: the value columns of partition EndDate; a key repeated in the snapshot keeps its last row.
func (up *Upload) rawRows(w *warehouse.Warehouse, p *gbPlan) error {
	up.Value = up.Info.Selected
	data, err := p.scanAll(w, up.EndDate, up.EndDate, noFold, false)
	if err != nil {
		return err
	}
	keyCols := make([]*types.Column, len(p.keys))
	for i, k := range p.keys {
		keyCols[i] = data.batch.Col(k)
	}
	var valCols []*types.Column
	for _, f := range up.Info.SelectedSchema() {
		c := data.batch.Col(f.Name)
		if c == nil {
			return fmt.Errorf("upload %s: value column %s is not selected", p.name, f.Name)
		}
		valCols = append(valCols, c)
	}
	dsCol := data.batch.Col(warehouse.PartitionColumn)
	last := map[string]int{}
	var keys []string
	var buf []byte
	for i := 0; i < data.batch.Len(); i++ {
		if dsCol != nil && dsCol.Strs[i] != up.EndDate {
			continue
		}
		k, ok := keyOf(keyCols, i, &buf)
		if !ok {
			continue
		}
		if _, seen := last[k]; !seen {
			keys = append(keys, k)
		}
		last[k] = i
	}
	sort.Strings(keys)
	for _, k := range keys {
		i := last[k]
		if err := up.add(rowValues(keyCols, i), rowValues(valCols, i)); err != nil {
			return err
		}
	}
	return nil
}

// batchIRs: TEMPORAL uploads. Events read the partitions of query range [EndDate+1, EndDate+1]
// (rows with ts >= batchEnd are then ignored); entities the snapshot EndDate, rows without a time
// placed at the last millisecond of that day.
func (up *Upload) batchIRs(w *warehouse.Warehouse, p *gbPlan) error {
	S := up.EndDate
	if !p.entities {
		S = addDays(up.EndDate, 1)
	}
	data, err := p.scanAll(w, S, S, noFold, false)
	if err != nil {
		return err
	}
	agg, err := aggregate.New(p.gb.Aggregations, data.batch.Schema)
	if err != nil {
		return fmt.Errorf("upload %s: %w", p.name, err)
	}
	o := aggregate.NewOnline(agg)
	up.Online = o
	if up.Value, err = online.NewAvroSchema("Value", o.BatchIRType().Fields); err != nil {
		return fmt.Errorf("upload %s: value schema: %w", p.name, err)
	}
	keyCols := make([]*types.Column, len(p.keys))
	for i, k := range p.keys {
		keyCols[i] = data.batch.Col(k)
	}
	tsCol := data.batch.Col("ts")
	dsCol := data.batch.Col(warehouse.PartitionColumn)
	noTs := up.BatchEnd - 1
	// rows grouped by key in scan order
	groups := map[string][]int32{}
	var keys []string
	var buf []byte
	for i := 0; i < data.batch.Len(); i++ {
		if p.entities && dsCol != nil && dsCol.Strs[i] != up.EndDate {
			continue
		}
		if tsCol != nil && tsCol.IsNull(i) {
			continue // a row without time is in no window
		}
		k, ok := keyOf(keyCols, i, &buf)
		if !ok {
			continue
		}
		if _, seen := groups[k]; !seen {
			keys = append(keys, k)
		}
		groups[k] = append(groups[k], int32(i))
	}
	sort.Strings(keys)
	// Keys are independent: workers fold and encode them with their own aggregators.
	up.Rows = make([]UploadRow, len(keys))
	workers := min(runtime.GOMAXPROCS(0), max(1, len(keys)/256))
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for wi := 0; wi < workers; wi++ {
		wg.Add(1)
		go func(wi int) {
			defer wg.Done()
			agg := agg
			o := o
			if wi > 0 {
				var err error
				if agg, err = aggregate.New(p.gb.Aggregations, data.batch.Schema); err != nil {
					errs[wi] = err
					return
				}
				o = aggregate.NewOnline(agg)
			}
			var evTs []int64
			for i := wi; i < len(keys); i += workers {
				rows := groups[keys[i]]
				evTs = evTs[:0]
				for _, r := range rows {
					if tsCol == nil {
						evTs = append(evTs, noTs)
					} else {
						evTs = append(evTs, tsCol.Ints[r])
					}
				}
				sortByTs(rows, evTs) // stable: equal times keep scan order (spec §15.2)
				bir := o.BuildBatchIR(aggregate.Events{Batch: data.batch, Rows: rows, Ts: evTs}, up.BatchEnd)
				if err := agg.Err(); err != nil {
					errs[wi] = fmt.Errorf("upload %s: %w", p.name, err)
					return
				}
				r, err := up.encode(rowValues(keyCols, int(rows[0])), o.Value(bir))
				if err != nil {
					errs[wi] = err
					return
				}
				up.Rows[i] = r
			}
		}(wi)
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// UploadOptions configure RunUpload.
type UploadOptions struct {
	EndDate string    // --ds
	Log     io.Writer // progress (default: discarded)
}

// UploadResult tells what RunUpload stored.
type UploadResult struct {
	Table    string // warehouse table written
	Dataset  string // KV dataset loaded
	Keys     int    // rows besides the serving info
	BatchEnd int64
}

// RunUpload computes the upload (ComputeUpload), stages the `<out>_upload` table (unpartitioned,
// replaced as a whole), bulk-loads every row plus the serving info into the KV dataset
// `<NAME>_BATCH` with version ts = batchEnd, and only then commits the table. The KV load replaces
// the dataset atomically, so a failure leaves the previous upload in place in both stores.
func RunUpload(ctx context.Context, w *warehouse.Warehouse, store kv.Store, gb *api.GroupBy, order *conf.Order, opts UploadOptions) (*UploadResult, error) {
	if opts.Log == nil {
		opts.Log = io.Discard
	}
	if store == nil {
		return nil, fmt.Errorf("upload: no KV store")
	}
	up, err := ComputeUpload(w, gb, order, opts.EndDate)
	if err != nil {
		return nil, err
	}
	return up.Store(ctx, w, store, opts.Log)
}

// Store writes the upload table and loads the KV dataset (see RunUpload).
func (up *Upload) Store(ctx context.Context, w *warehouse.Warehouse, store kv.Store, log io.Writer) (*UploadResult, error) {
	md := up.GroupBy.GetMetaData()
	table, err := UploadTable(md)
	if err != nil {
		return nil, fmt.Errorf("upload: %w", err)
	}
	res := &UploadResult{Table: table, Dataset: BatchDataset(md.GetName()), Keys: len(up.Rows), BatchEnd: up.BatchEnd}
	props := map[string]string{"chronon_generated": "true", "chronon_table_type": tableTypeUpload}
	for k, v := range md.TableProperties {
		props[k] = v
	}
	tx, err := w.Begin(table, warehouse.TableSpec{Schema: UploadSchema, Properties: props, ReplaceTable: true})
	if err != nil {
		return nil, err
	}
	// The table is written while the KV dataset loads; the load's last row waits for the table, and
	// a failed table write fails the load before its switch, so either both change or neither.
	tableErr := make(chan error, 1)
	go func() { tableErr <- tx.Write(nil, up.TableBatch()) }()
	var werr error
	waitTable := func() error {
		if tableErr != nil {
			werr, tableErr = <-tableErr, nil
		}
		return werr
	}
	lerr := store.BulkLoad(ctx, res.Dataset, up.kvRowsAfter(waitTable))
	if err := waitTable(); err != nil {
		tx.Abort()
		return nil, err
	}
	if lerr != nil {
		tx.Abort()
		return nil, fmt.Errorf("upload %s: loading KV dataset %s: %w (nothing was changed)", md.GetName(), res.Dataset, lerr)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("upload %s: KV dataset %s is loaded but writing %s failed: %w", md.GetName(), res.Dataset, table, err)
	}
	fmt.Fprintf(log, "upload %s: %d keys into %s and KV dataset %s (version ts %d, batch end %s)\n",
		md.GetName(), res.Keys, table, res.Dataset, up.BatchEnd, up.Info.Info.GetBatchEndDate())
	return res, nil
}

// TableBatch is the upload table's content: the rows, then the serving info row.
func (up *Upload) TableBatch() *types.Batch {
	n := len(up.Rows) + 1
	b := types.NewBatch(UploadSchema, n)
	// What Column.Append does, without boxing every value into an interface.
	str := func(c *types.Column, s string) {
		if s == "" {
			c.AppendNull()
			return
		}
		if c.Nulls != nil {
			c.Nulls = append(c.Nulls, false)
		}
		c.Strs = append(c.Strs, s)
	}
	for _, r := range up.Rows {
		b.Cols[0].Bytes = append(b.Cols[0].Bytes, r.Key)
		b.Cols[1].Bytes = append(b.Cols[1].Bytes, r.Value)
		str(b.Cols[2], r.KeyJSON)
		str(b.Cols[3], r.ValueJSON)
		str(b.Cols[4], up.EndDate)
	}
	b.Cols[0].Append([]byte(online.GroupByServingInfoKey))
	b.Cols[1].Append(up.InfoJSON)
	b.Cols[2].Append(online.GroupByServingInfoKey)
	b.Cols[3].Append(string(up.InfoJSON))
	b.Cols[4].Append(up.EndDate)
	return b
}

// kvRows are the rows and the serving info, all with ts = batchEnd (spec §7.4).
func (up *Upload) kvRows() func(yield func(kv.Row, error) bool) {
	return up.kvRowsAfter(func() error { return nil })
}

// kvRowsAfter is kvRows whose last row (the serving info) waits for before: its error ends the
// rows with that error instead.
func (up *Upload) kvRowsAfter(before func() error) func(yield func(kv.Row, error) bool) {
	return func(yield func(kv.Row, error) bool) {
		for _, r := range up.Rows {
			if !yield(kv.Row{Key: r.Key, Value: r.Value, TsMillis: up.BatchEnd}, nil) {
				return
			}
		}
		if err := before(); err != nil {
			yield(kv.Row{}, err)
			return
		}
		yield(kv.Row{Key: []byte(online.GroupByServingInfoKey), Value: up.InfoJSON, TsMillis: up.BatchEnd}, nil)
	}
}
