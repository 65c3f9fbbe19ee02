package aggregate

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"

	"github.com/chronon-go/chronon/runtime/types"
	"github.com/chronon-go/chronon/thrift/api"
)

// benchBatch is n rows of (l long, d double, s string) with ascending ts, one row per second.
func benchBatch(n int) (*types.Batch, []int64) {
	r := rand.New(rand.NewPCG(1, 2))
	schema := types.Schema{
		{Name: "l", Type: types.LongType},
		{Name: "d", Type: types.DoubleType},
		{Name: "s", Type: types.StringType},
	}
	b := types.NewBatch(schema, n)
	ts := make([]int64, n)
	strs := make([]string, 1000)
	for i := range strs {
		strs[i] = "item_" + strconv.Itoa(i)
	}
	base := int64(1_700_000_000_000)
	for i := range n {
		b.Cols[0].Append(int64(r.IntN(1000)))
		b.Cols[1].Append(r.Float64() * 100)
		b.Cols[2].Append(strs[r.IntN(len(strs))])
		ts[i] = base + int64(i)*1000
	}
	return b, ts
}

// BenchmarkUpdateFinalize measures one IR fed with every row of a column, then finalized.
func BenchmarkUpdateFinalize(b *testing.B) {
	const n = 100_000
	batch, ts := benchBatch(n)
	cases := []struct {
		op   api.Operation
		col  string
		args map[string]string
	}{
		{api.Operation_COUNT, "l", nil},
		{api.Operation_SUM, "l", nil},
		{api.Operation_SUM, "d", nil},
		{api.Operation_AVERAGE, "d", nil},
		{api.Operation_VARIANCE, "d", nil},
		{api.Operation_SKEW, "d", nil},
		{api.Operation_KURTOSIS, "d", nil},
		{api.Operation_MIN, "l", nil},
		{api.Operation_MAX, "s", nil},
		{api.Operation_FIRST, "l", nil},
		{api.Operation_LAST, "s", nil},
		{api.Operation_FIRST_K, "l", map[string]string{"k": "10"}},
		{api.Operation_LAST_K, "l", map[string]string{"k": "10"}},
		{api.Operation_TOP_K, "d", map[string]string{"k": "10"}},
		{api.Operation_BOTTOM_K, "l", map[string]string{"k": "10"}},
		{api.Operation_UNIQUE_COUNT, "s", nil},
		{api.Operation_BOUNDED_UNIQUE_COUNT, "s", nil},
		{api.Operation_APPROX_UNIQUE_COUNT, "l", nil},
		{api.Operation_APPROX_PERCENTILE, "d", map[string]string{"percentiles": "[0.5, 0.99]"}},
		{api.Operation_HISTOGRAM, "s", nil},
		{api.Operation_APPROX_HISTOGRAM_K, "s", map[string]string{"k": "20"}},
	}
	for _, c := range cases {
		b.Run(c.op.String()+"_"+c.col, func(b *testing.B) {
			a, err := New([]*api.Aggregation{agg(c.op, c.col, c.args, nil)}, batch.Schema)
			if err != nil {
				b.Fatal(err)
			}
			out := types.NewBatch(a.OutputSchema(), 1)
			b.ResetTimer()
			for range b.N {
				ir := make([]State, 1)
				for i := range n {
					a.Update(ir, batch, i, ts[i])
				}
				out.Cols[0] = types.NewColumn(out.Schema[0].Type, 1)
				a.appendFinal(out.Cols[0], 0, ir[0], nil)
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

// BenchmarkSawtooth runs the quickstart shape (SUM/COUNT/AVERAGE × 3d/14d/30d + LAST_K(10)) over
// 1M events: 1,000 keys × 1,000 events spread over 60 days, 100 query times per key.
func BenchmarkSawtooth(b *testing.B) {
	const keys, perKey, queries = 1000, 1000, 100
	batch, _ := benchBatch(perKey)
	r := rand.New(rand.NewPCG(3, 4))
	base := int64(1_700_000_000_000)
	span := 60 * DayMillis
	tss := make([][]int64, keys)
	qss := make([][]int64, keys)
	for k := range keys {
		ts := make([]int64, perKey)
		for i := range ts {
			ts[i] = base + r.Int64N(span)
		}
		_, tss[k] = SortEvents(ts)
		qs := make([]int64, queries)
		for i := range qs {
			qs[i] = base + r.Int64N(span)
		}
		qss[k] = sortedCopy(qs)
	}
	d := func(n int32) *api.Window { return &api.Window{Length: n, TimeUnit: api.TimeUnit_DAYS} }
	ws := []*api.Window{d(3), d(14), d(30)}
	aggs := []*api.Aggregation{
		agg(api.Operation_SUM, "l", nil, ws),
		agg(api.Operation_COUNT, "l", nil, ws),
		agg(api.Operation_AVERAGE, "l", nil, ws),
		agg(api.Operation_LAST_K, "l", map[string]string{"k": "10"}, nil),
	}
	for _, res := range []Resolution{FiveMinute, Daily} {
		name := "temporal"
		if res == Daily {
			name = "snapshot"
		}
		b.Run(name, func(b *testing.B) {
			a, err := New(aggs, batch.Schema)
			if err != nil {
				b.Fatal(err)
			}
			st, err := NewSawtooth(a, res)
			if err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for range b.N {
				out := types.NewBatch(a.OutputSchema(), keys*queries)
				for k := range keys {
					if err := st.Compute(Events{Batch: batch, Ts: tss[k]}, qss[k], out); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(keys*perKey)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

// BenchmarkOnline measures batch IR building and a fetch-time merge with streaming rows.
func BenchmarkOnline(b *testing.B) {
	const n = 10_000
	batch, ts := benchBatch(n)
	d := func(n int32) *api.Window { return &api.Window{Length: n, TimeUnit: api.TimeUnit_DAYS} }
	ws := []*api.Window{d(1), d(3), d(14)}
	a, err := New([]*api.Aggregation{
		agg(api.Operation_SUM, "l", nil, ws),
		agg(api.Operation_AVERAGE, "d", nil, ws),
		agg(api.Operation_LAST_K, "s", map[string]string{"k": "10"}, nil),
	}, batch.Schema)
	if err != nil {
		b.Fatal(err)
	}
	o := NewOnline(a)
	batchEnd := Floor(ts[n-1], DayMillis) + DayMillis
	ev := Events{Batch: batch, Ts: ts}
	b.Run("build", func(b *testing.B) {
		for range b.N {
			o.BuildBatchIR(ev, batchEnd)
		}
		b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	})
	bir := o.BuildBatchIR(ev, batchEnd)
	b.Run("query", func(b *testing.B) {
		out := types.NewBatch(a.OutputSchema(), b.N)
		for range b.N {
			if err := o.Query(bir, batchEnd, ev, batchEnd+HourMillis, 0, out); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkSawtoothHotKey is one key with 1M events over 60 days and 100k query times (a hot key in a
// TEMPORAL join), quickstart aggregations.
func BenchmarkSawtoothHotKey(b *testing.B) {
	const n, queries = 1_000_000, 100_000
	batch, _ := benchBatch(n)
	r := rand.New(rand.NewPCG(3, 4))
	base := int64(1_700_000_000_000)
	ts := make([]int64, n)
	for i := range ts {
		ts[i] = base + r.Int64N(60*DayMillis)
	}
	rows, sorted := SortEvents(ts)
	qs := make([]int64, queries)
	for i := range qs {
		qs[i] = base + r.Int64N(60*DayMillis)
	}
	qs = sortedCopy(qs)
	d := func(n int32) *api.Window { return &api.Window{Length: n, TimeUnit: api.TimeUnit_DAYS} }
	ws := []*api.Window{d(3), d(14), d(30)}
	aggs := []*api.Aggregation{
		agg(api.Operation_SUM, "l", nil, ws),
		agg(api.Operation_COUNT, "l", nil, ws),
		agg(api.Operation_AVERAGE, "l", nil, ws),
		agg(api.Operation_LAST_K, "l", map[string]string{"k": "10"}, nil),
	}
	a, _ := New(aggs, batch.Schema)
	st, _ := NewSawtooth(a, FiveMinute)
	b.ResetTimer()
	for range b.N {
		out := types.NewBatch(a.OutputSchema(), queries)
		if err := st.Compute(Events{Batch: batch, Rows: rows, Ts: sorted}, qs, out); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkSawtooth20M is the backfill goal's shape: 20M events in 100k keys (200 each over 60 days),
// 10 query times per key (1M left rows), quickstart aggregations, TEMPORAL; one goroutine.
// Run explicitly: go test ./runtime/aggregate -run XXX -bench Sawtooth20M -benchtime 1x
func BenchmarkSawtooth20M(b *testing.B) {
	const keys, perKey, queries = 100_000, 200, 10
	batch, _ := benchBatch(perKey)
	r := rand.New(rand.NewPCG(5, 6))
	base := int64(1_700_000_000_000)
	span := 60 * DayMillis
	d := func(n int32) *api.Window { return &api.Window{Length: n, TimeUnit: api.TimeUnit_DAYS} }
	ws := []*api.Window{d(3), d(14), d(30)}
	a, err := New([]*api.Aggregation{
		agg(api.Operation_SUM, "l", nil, ws),
		agg(api.Operation_COUNT, "l", nil, ws),
		agg(api.Operation_AVERAGE, "l", nil, ws),
		agg(api.Operation_LAST_K, "l", map[string]string{"k": "10"}, nil),
	}, batch.Schema)
	if err != nil {
		b.Fatal(err)
	}
	st, err := NewSawtooth(a, FiveMinute)
	if err != nil {
		b.Fatal(err)
	}
	all := make([]int64, keys*perKey) // generated up front: data generation is not the aggregation's cost
	allQ := make([]int64, keys*queries)
	for k := range keys {
		ts := all[k*perKey : (k+1)*perKey]
		for i := range ts {
			ts[i] = base + r.Int64N(span)
		}
		slices.Sort(ts)
		qs := allQ[k*queries : (k+1)*queries]
		for i := range qs {
			qs[i] = base + r.Int64N(span)
		}
		slices.Sort(qs)
	}
	b.ResetTimer()
	for range b.N {
		out := types.NewBatch(a.OutputSchema(), keys*queries)
		for k := range keys {
			ev := Events{Batch: batch, Ts: all[k*perKey : (k+1)*perKey]}
			if err := st.Compute(ev, allQ[k*queries:(k+1)*queries], out); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(keys*perKey)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

// The quickstart shape: many keys with about ten events and a query or two each (200k keys here),
// through the direct path and through hops.
func BenchmarkSawtoothSmallKeys(b *testing.B) {
	const keys, perKey = 200_000, 10
	batch, _ := benchBatch(perKey)
	r := rand.New(rand.NewPCG(5, 6))
	base := int64(1_700_000_000_000)
	span := 30 * DayMillis
	tss := make([][]int64, keys)
	qss := make([][]int64, keys)
	for k := range keys {
		ts := make([]int64, perKey)
		for i := range ts {
			ts[i] = base + r.Int64N(span)
		}
		_, tss[k] = SortEvents(ts)
		qss[k] = []int64{base + span - r.Int64N(3*DayMillis)}
	}
	d := func(n int32) *api.Window { return &api.Window{Length: n, TimeUnit: api.TimeUnit_DAYS} }
	ws := []*api.Window{d(3), d(14), d(30)}
	aggs := []*api.Aggregation{
		agg(api.Operation_SUM, "l", nil, ws),
		agg(api.Operation_COUNT, "l", nil, ws),
		agg(api.Operation_AVERAGE, "l", nil, ws),
		agg(api.Operation_LAST_K, "l", map[string]string{"k": "10"}, nil),
	}
	for _, res := range []Resolution{FiveMinute, Daily} {
		for _, limit := range []int{0, defaultDirectLimit} {
			name := fmt.Sprintf("res=%d/direct=%v", res, limit > 0)
			b.Run(name, func(b *testing.B) {
				a, _ := New(aggs, batch.Schema)
				st, err := NewSawtooth(a, res)
				if err != nil {
					b.Fatal(err)
				}
				st.directLimit = limit
				b.ResetTimer()
				for range b.N {
					out := types.NewBatch(a.OutputSchema(), keys)
					for k := range keys {
						if err := st.Compute(Events{Batch: batch, Ts: tss[k]}, qss[k], out); err != nil {
							b.Fatal(err)
						}
					}
				}
				b.ReportMetric(float64(keys)*float64(b.N)/b.Elapsed().Seconds(), "keys/s")
			})
		}
	}
}
