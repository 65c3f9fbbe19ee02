package aggregate_test

import (
	"fmt"

	"github.com/chronon-go/chronon/runtime/aggregate"
	"github.com/chronon-go/chronon/runtime/types"
	"github.com/chronon-go/chronon/thrift/api"
)

func quickstartAggs() []*api.Aggregation {
	col := "price"
	sum, lastK := api.Operation_SUM, api.Operation_LAST_K
	return []*api.Aggregation{
		{InputColumn: &col, Operation: &sum, ArgMap: map[string]string{},
			Windows: []*api.Window{{Length: 1, TimeUnit: api.TimeUnit_DAYS}}},
		{InputColumn: &col, Operation: &lastK, ArgMap: map[string]string{"k": "2"}},
	}
}

// One key's events and two point-in-time queries (spec §4.2).
func ExampleSawtooth() {
	schema := types.Schema{{Name: "price", Type: types.LongType}}
	b := types.NewBatch(schema, 3)
	for _, v := range []int64{5, 7, 11} {
		b.Cols[0].Append(v)
	}
	day := aggregate.DayMillis
	ts := []int64{10 * day, 10*day + 3_600_000, 11*day + 7_200_000}

	a, err := aggregate.New(quickstartAggs(), schema)
	if err != nil {
		panic(err)
	}
	st, err := aggregate.NewSawtooth(a, aggregate.FiveMinute)
	if err != nil {
		panic(err)
	}
	queries := []int64{10*day + 3_600_000, 12 * day}
	out := types.NewBatch(a.OutputSchema(), len(queries))
	if err := st.Compute(aggregate.Events{Batch: b, Ts: ts}, queries, out); err != nil {
		panic(err)
	}
	for i := range queries {
		fmt.Println(out.Schema[0].Name, out.Cols[0].Value(i), out.Schema[1].Name, out.Cols[1].Value(i))
	}
	// Output:
	// price_sum_1d 5 price_last2 [5]
	// price_sum_1d 11 price_last2 [11 7]
}

// Upload a batch IR, store it as a value, and answer a fetch with streaming rows (spec §4.5).
func ExampleOnline() {
	schema := types.Schema{{Name: "price", Type: types.LongType}}
	b := types.NewBatch(schema, 3)
	for _, v := range []int64{5, 7, 11} {
		b.Cols[0].Append(v)
	}
	batchEnd, _ := aggregate.BatchEnd("2023-11-30") // mid(2023-12-01)
	ts := []int64{batchEnd - 7_200_000, batchEnd - 3_600_000, batchEnd + 60_000}
	events := aggregate.Events{Batch: b, Ts: ts}

	a, _ := aggregate.New(quickstartAggs(), schema)
	o := aggregate.NewOnline(a)
	stored := o.Value(o.BuildBatchIR(events, batchEnd)) // what upload writes
	bir, err := o.FromValue(stored)                     // what fetch reads
	if err != nil {
		panic(err)
	}
	out := types.NewBatch(a.OutputSchema(), 1)
	if err := o.Query(bir, batchEnd, events, batchEnd+120_000, 0, out); err != nil {
		panic(err)
	}
	fmt.Println(out.Cols[0].Value(0), out.Cols[1].Value(0))
	// Output:
	// 23 [11 7]
}
