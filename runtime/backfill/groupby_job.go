package backfill

import (
	"context"
	"fmt"
	"io"
	"sort"

	"github.com/chronon-go/chronon/runtime/types"
	"github.com/chronon-go/chronon/runtime/warehouse"
	"github.com/chronon-go/chronon/thrift/api"
	"github.com/chronon-go/chronon/thrift/conf"
)

// RunGroupBy backfills a GroupBy's own table (spec §4.3): for each partition D in range, every key's
// values as of the end of D (events: ts < midnight after D; entities: the snapshot of D), keys whose
// values are all null left out. The range is [--start-ds or backfillStartDate, --ds]; without either
// start, only --ds.
func RunGroupBy(ctx context.Context, w *warehouse.Warehouse, gb *api.GroupBy, order *conf.Order, opts JoinOptions) error {
	if opts.Log == nil {
		opts.Log = io.Discard
	}
	if opts.StepDays <= 0 {
		opts.StepDays = 30
	}
	if !validDate(opts.EndDate) {
		return fmt.Errorf("--ds/--end-ds %q is not a yyyy-MM-dd date", opts.EndDate)
	}
	p, err := newGBPlan(gb, order)
	if err != nil {
		return err
	}
	out, err := JoinOutputTable(gb.MetaData)
	if err != nil {
		return fmt.Errorf("group_by: %w", err)
	}
	start := opts.StartDate
	if start == "" {
		start = gb.GetBackfillStartDate()
	}
	if start == "" || (gb.MetaData.HistoricalBackfill != nil && !*gb.MetaData.HistoricalBackfill) {
		start = opts.EndDate
	}
	days, err := dateRange(start, opts.EndDate)
	if err != nil {
		return err
	}
	hash, err := semanticHash(gb, order)
	if err != nil {
		return err
	}
	todo, replace, err := partsToCompute(w, out, hash, days, opts.Force, opts.Log, "group_by "+p.name)
	if err != nil {
		return err
	}
	if len(todo) == 0 {
		fmt.Fprintf(opts.Log, "group_by %s: %s is up to date\n", p.name, out)
		return nil
	}
	props := map[string]string{"chronon_generated": "true", "chronon_table_type": tableTypeGroupBy, propSemanticHash: hash}
	for k, v := range gb.MetaData.TableProperties {
		props[k] = v
	}
	prog := newProgress(opts.Log, "group_by "+p.name, len(todo))
	o := output{what: "group_by " + p.name, table: out, props: props, replace: replace}
	return o.write(ctx, w, todo, opts.StepDays, prog, func(start, end string) (*types.Batch, error) {
		return p.snapshotChunk(w, start, end)
	})
}

// snapshotChunk computes the rows of partitions [start, end]: keys, features, ds.
func (p *gbPlan) snapshotChunk(w *warehouse.Warehouse, start, end string) (*types.Batch, error) {
	// Queries are at the end of each day of [start, end] (spec §4.3).
	data, err := p.scanAll(w, start, end, p.foldCutoff(midMillis(start)+dayMillis), false)
	if err != nil {
		return nil, err
	}
	days, err := dateRange(start, end)
	if err != nil {
		return nil, err
	}
	keyCols := make([]*types.Column, len(p.keys))
	for i, k := range p.keys {
		keyCols[i] = data.batch.Col(k)
	}
	dsCol := data.batch.Col(warehouse.PartitionColumn)
	// Every key seen, with one row holding its key values.
	var buf []byte
	firstRow := map[string]int32{}
	var keys []string
	keyDays := map[string]map[string]bool{} // entities: the partitions a key appears in
	for i := 0; i < data.batch.Len(); i++ {
		k, ok := keyOf(keyCols, i, &buf)
		if !ok {
			continue
		}
		if _, seen := firstRow[k]; !seen {
			firstRow[k] = int32(i)
			keys = append(keys, k)
		}
		if p.entities {
			if keyDays[k] == nil {
				keyDays[k] = map[string]bool{}
			}
			keyDays[k][dsCol.Strs[i]] = true
		}
	}
	// Keys whose events were all folded into history have no row in data: their key values come
	// from the history, at rows after data's.
	if h := data.hist; h != nil {
		base := int32(data.batch.Len())
		for k, id := range h.ids {
			if _, seen := firstRow[k]; !seen {
				firstRow[k] = base + id
				keys = append(keys, k)
			}
		}
		for i := range keyCols {
			keyCols[i] = types.Concat(types.Schema{h.keys.Schema[i]}, []*types.Batch{
				{Schema: types.Schema{h.keys.Schema[i]}, Cols: []*types.Column{keyCols[i]}},
				{Schema: types.Schema{h.keys.Schema[i]}, Cols: []*types.Column{h.keys.Cols[i]}},
			}).Cols[0]
		}
	}
	sort.Strings(keys)
	var queries []query
	var keyRow []int32
	var qDay []string
	for _, d := range days {
		for _, k := range keys {
			if p.entities && !keyDays[k][d] {
				continue
			}
			queries = append(queries, query{key: k, q: midMillis(d) + dayMillis, ds: d})
			keyRow = append(keyRow, firstRow[k])
			qDay = append(qDay, d)
		}
	}
	vals, err := p.valuesAt(data, queries, placement{})
	if err != nil {
		return nil, err
	}
	// Keys whose values are all null are dropped (spec §4.3).
	keep := make([]int32, 0, len(queries))
	for i := range queries {
		for _, c := range vals.Cols {
			if !c.IsNull(i) {
				keep = append(keep, int32(i))
				break
			}
		}
	}
	out := &types.Batch{}
	keyIdx := make([]int32, len(keep))
	for i, q := range keep {
		keyIdx[i] = keyRow[q]
	}
	for i, k := range p.keys {
		out.Schema = append(out.Schema, data.batch.Schema[data.batch.Schema.Index(k)])
		out.Cols = append(out.Cols, keyCols[i].Take(keyIdx))
	}
	fv := takeBatch(vals, keep)
	out.Schema = append(out.Schema, fv.Schema...)
	out.Cols = append(out.Cols, fv.Cols...)
	dc := types.NewColumn(types.StringType, len(keep))
	for _, q := range keep {
		dc.Append(qDay[q])
	}
	out.Schema = append(out.Schema, types.Field{Name: warehouse.PartitionColumn, Type: types.StringType})
	out.Cols = append(out.Cols, dc)
	return out, nil
}
