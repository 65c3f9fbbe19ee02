package online

import (
	"math/rand/v2"
	"testing"

	"github.com/chronon-go/chronon/runtime/aggregate"
	"github.com/chronon-go/chronon/runtime/types"
	"github.com/chronon-go/chronon/thrift/api"
)

// TestAvroBatchIR stores TEMPORAL batch IRs of every operation (aggregate.Online.Value, the upload
// value of spec §7.1) through the Avro codec and checks that fetch-time answers from the decoded IR
// equal those from the original.
func TestAvroBatchIR(t *testing.T) {
	schema := types.Schema{{Name: "price", Type: types.LongType}, {Name: "item", Type: types.StringType},
		{Name: "score", Type: types.DoubleType}}
	windows := []*api.Window{{Length: 1, TimeUnit: api.TimeUnit_HOURS}, {Length: 1, TimeUnit: api.TimeUnit_DAYS},
		{Length: 30, TimeUnit: api.TimeUnit_DAYS}}
	agg := func(col string, op api.Operation, args map[string]string, w []*api.Window) *api.Aggregation {
		if args == nil {
			args = map[string]string{}
		}
		return &api.Aggregation{InputColumn: &col, Operation: &op, ArgMap: args, Windows: w}
	}
	aggs := []*api.Aggregation{
		agg("price", api.Operation_SUM, nil, windows),
		agg("price", api.Operation_COUNT, nil, windows),
		agg("price", api.Operation_AVERAGE, nil, windows),
		agg("score", api.Operation_AVERAGE, nil, nil),
		agg("price", api.Operation_MIN, nil, windows),
		agg("price", api.Operation_MAX, nil, nil),
		agg("score", api.Operation_VARIANCE, nil, windows),
		agg("score", api.Operation_SKEW, nil, nil),
		agg("score", api.Operation_KURTOSIS, nil, nil),
		agg("item", api.Operation_FIRST, nil, windows),
		agg("item", api.Operation_LAST, nil, windows),
		agg("price", api.Operation_LAST_K, map[string]string{"k": "3"}, windows),
		agg("price", api.Operation_FIRST_K, map[string]string{"k": "3"}, nil),
		agg("price", api.Operation_TOP_K, map[string]string{"k": "3"}, nil),
		agg("price", api.Operation_BOTTOM_K, map[string]string{"k": "3"}, windows),
		agg("item", api.Operation_HISTOGRAM, nil, windows),
		agg("item", api.Operation_UNIQUE_COUNT, nil, windows),
		agg("item", api.Operation_APPROX_UNIQUE_COUNT, nil, windows),
		agg("item", api.Operation_BOUNDED_UNIQUE_COUNT, nil, nil),
		agg("price", api.Operation_APPROX_PERCENTILE, map[string]string{"percentiles": "[0.5, 0.9]"}, nil),
		agg("item", api.Operation_APPROX_HISTOGRAM_K, nil, nil),
	}
	a, err := aggregate.New(aggs, schema)
	if err != nil {
		t.Fatal(err)
	}
	o := aggregate.NewOnline(a)
	irType := o.BatchIRType()
	s, err := NewAvroSchema("Value", irType.Fields)
	if err != nil {
		t.Fatal(err)
	}
	batchEnd, err := aggregate.BatchEnd("2023-11-30")
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	nonNull := 0
	for key := 0; key < 20; key++ {
		n := rng.IntN(40)
		b := types.NewBatch(schema, n)
		ts := make([]int64, n)
		for i := range n {
			b.Cols[0].Append(rng.Int64N(100))
			b.Cols[1].Append([]string{"a", "b", "c", "d"}[rng.IntN(4)])
			if rng.IntN(5) == 0 {
				b.Cols[2].AppendNull()
			} else {
				b.Cols[2].Append(rng.Float64() * 10)
			}
			ts[i] = batchEnd - rng.Int64N(40*aggregate.DayMillis)
		}
		rows, sorted := aggregate.SortEvents(ts)
		ev := aggregate.Events{Batch: b, Rows: rows, Ts: sorted}
		bir := o.BuildBatchIR(ev, batchEnd)
		row := o.Value(bir)
		bytes, err := s.Encode(row)
		if err != nil {
			t.Fatalf("key %d: encode: %v", key, err)
		}
		back, err := s.Decode(bytes)
		if err != nil {
			t.Fatalf("key %d: decode: %v", key, err)
		}
		bir2, err := o.FromValue(types.StructValue(back))
		if err != nil {
			t.Fatalf("key %d: FromValue: %v", key, err)
		}
		q := batchEnd + 3_600_000
		out1 := types.NewBatch(a.OutputSchema(), 1)
		out2 := types.NewBatch(a.OutputSchema(), 1)
		if err := o.Query(bir, batchEnd, aggregate.Events{Batch: b}, q, 0, out1); err != nil {
			t.Fatal(err)
		}
		if err := o.Query(bir2, batchEnd, aggregate.Events{Batch: b}, q, 0, out2); err != nil {
			t.Fatal(err)
		}
		for c := range out1.Cols {
			v1, v2 := fmtValue(out1.Cols[c].Value(0)), fmtValue(out2.Cols[c].Value(0))
			if v1 != "null" {
				nonNull++
			}
			if v1 != v2 {
				t.Errorf("key %d %s: %s before storing, %s after", key, out1.Schema[c].Name, v1, v2)
			}
		}
	}
	if nonNull < 20*len(a.OutputSchema())/2 {
		t.Errorf("only %d non-null answers: the test data does not exercise the IRs", nonNull)
	}
	t.Logf("%d non-null answers of %d", nonNull, 20*len(a.OutputSchema()))
}
