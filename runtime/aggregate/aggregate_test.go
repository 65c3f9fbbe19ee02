package aggregate

import (
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/chronon-go/chronon/runtime/types"
	"github.com/chronon-go/chronon/thrift/api"
)

// Spec §2.1: expansion order aggregation → bucket → window, and the column name shape.
func TestOutputColumnNames(t *testing.T) {
	d := func(n int32) *api.Window { return &api.Window{Length: n, TimeUnit: api.TimeUnit_DAYS} }
	h := func(n int32) *api.Window { return &api.Window{Length: n, TimeUnit: api.TimeUnit_HOURS} }
	ws := []*api.Window{d(3), d(14), d(30)}
	aggs := []*api.Aggregation{
		agg(api.Operation_SUM, "x", nil, ws),
		agg(api.Operation_COUNT, "x", nil, ws),
		agg(api.Operation_AVERAGE, "x", nil, ws),
		agg(api.Operation_LAST_K, "x", map[string]string{"k": "10"}, nil),
		agg(api.Operation_HISTOGRAM, "s", map[string]string{"k": "5"}, []*api.Window{h(12)}, "b1", "b2"),
		agg(api.Operation_APPROX_PERCENTILE, "x", nil, []*api.Window{{Length: math.MaxInt32, TimeUnit: api.TimeUnit_DAYS}}),
		agg(api.Operation_TOP_K, "x", map[string]string{"k": "3"}, nil),
		agg(api.Operation_BOTTOM_K, "x", map[string]string{"k": "2"}, nil),
		agg(api.Operation_FIRST_K, "x", map[string]string{"k": "4"}, nil),
		// an explicitly empty window list yields no columns (AggregationOps.unpack)
		agg(api.Operation_MAX, "x", nil, []*api.Window{}),
	}
	var got []string
	for _, p := range ExpandParts(aggs) {
		got = append(got, OutputColumnName(p))
	}
	want := "x_sum_3d x_sum_14d x_sum_30d x_count_3d x_count_14d x_count_30d x_average_3d x_average_14d " +
		"x_average_30d x_last10 s_histogram_12h_by_b1 s_histogram_12h_by_b2 x_approx_percentile x_top3 x_bottom2 x_first4"
	if strings.Join(got, " ") != want {
		t.Fatalf("got  %s\nwant %s", strings.Join(got, " "), want)
	}
}

// Spec §4.1: tail hops with inclusive thresholds.
func TestTailHop(t *testing.T) {
	cases := []struct{ w, h int64 }{
		{HourMillis, FiveMinuteMillis},
		{12*HourMillis - 1, FiveMinuteMillis},
		{12 * HourMillis, HourMillis},
		{11 * DayMillis, HourMillis},
		{12 * DayMillis, DayMillis},
		{90 * DayMillis, DayMillis},
	}
	for _, c := range cases {
		if got := FiveMinute.TailHop(c.w); got != c.h {
			t.Errorf("TailHop(%d) = %d, want %d", c.w, got, c.h)
		}
	}
	if Daily.TailHop(HourMillis) != DayMillis {
		t.Error("daily tail hop")
	}
	if Floor(-1, DayMillis) != -DayMillis {
		t.Error("Floor must round negative times down")
	}
}

// Deletable ops (SUM, COUNT, AVERAGE, HISTOGRAM) retract rows exactly; others refuse.
func TestDelete(t *testing.T) {
	schema := types.Schema{{Name: "v", Type: types.LongType}, {Name: "s", Type: types.StringType}}
	b := types.NewBatch(schema, 3)
	for i, v := range []int64{3, 5, 7} {
		b.Cols[0].Append(v)
		b.Cols[1].Append(strconv.Itoa(i % 2))
	}
	a, err := New([]*api.Aggregation{
		agg(api.Operation_SUM, "v", nil, nil),
		agg(api.Operation_COUNT, "v", nil, nil),
		agg(api.Operation_AVERAGE, "v", nil, nil),
		agg(api.Operation_HISTOGRAM, "s", nil, nil),
		agg(api.Operation_SUM, "v", nil, nil, "s"),
	}, schema)
	if err != nil {
		t.Fatal(err)
	}
	ir := make([]State, a.NumBases())
	for i := range 3 {
		a.Update(ir, b, i, 0)
	}
	if err := a.Delete(ir, b, 1); err != nil {
		t.Fatal(err)
	}
	var got []string
	for p := range a.Parts() {
		got = append(got, fmtValue(a.FinalizePart(p, ir[a.PartBase(p)])))
	}
	want := `10 2 5.0 {"0": 2} {"0": 10, "1": 0}`
	if strings.Join(got, " ") != want {
		t.Fatalf("after delete: %s, want %s", strings.Join(got, " "), want)
	}
	// non-deletable ops ignore retractions (DirectColumnAggregator.delete)
	a2, _ := New([]*api.Aggregation{agg(api.Operation_MAX, "v", nil, nil)}, schema)
	ir2 := make([]State, 1)
	a2.Update(ir2, b, 2, 0)
	if err := a2.Delete(ir2, b, 2); err != nil || a2.FinalizePart(0, ir2[0]) != int64(7) {
		t.Fatalf("MAX delete: %v %v", err, a2.FinalizePart(0, ir2[0]))
	}
}

// Beyond their exact ranges the sketches stay within tolerance, and merging split streams matches.
func TestSketchAccuracy(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	schema := types.Schema{{Name: "v", Type: types.LongType}, {Name: "s", Type: types.StringType}}
	const n = 50_000
	b := types.NewBatch(schema, n)
	vals := make([]int64, n)
	for i := range n {
		vals[i] = r.Int64N(1_000_000)
		b.Cols[0].Append(vals[i])
		// heavy hitters h0..h4 make up half the stream
		if i%2 == 0 {
			b.Cols[1].Append("h" + strconv.Itoa(i%10/2))
		} else {
			b.Cols[1].Append("x" + strconv.Itoa(r.IntN(10_000)))
		}
	}
	a, err := New([]*api.Aggregation{
		agg(api.Operation_APPROX_UNIQUE_COUNT, "v", nil, nil),
		agg(api.Operation_APPROX_PERCENTILE, "v", map[string]string{"percentiles": "[0.1, 0.5, 0.9]"}, nil),
		agg(api.Operation_APPROX_HISTOGRAM_K, "s", map[string]string{"k": "5"}, nil),
	}, schema)
	if err != nil {
		t.Fatal(err)
	}
	whole := make([]State, a.NumBases())
	left, right := make([]State, a.NumBases()), make([]State, a.NumBases())
	for i := range n {
		a.Update(whole, b, i, 0)
		if i < n/3 {
			a.Update(left, b, i, 0)
		} else {
			a.Update(right, b, i, 0)
		}
	}
	// through the stored form, as the online store would
	for i := range right {
		s, err := a.BaseIRFromValue(i, a.BaseIRValue(i, right[i]))
		if err != nil {
			t.Fatal(err)
		}
		right[i] = s
	}
	a.MergeBases(left, right)
	distinct := map[int64]bool{}
	for _, v := range vals {
		distinct[v] = true
	}
	sorted := slices.Clone(vals)
	slices.Sort(sorted)
	for _, ir := range [][]State{whole, left} {
		est := a.FinalizePart(0, ir[0]).(int64)
		if d := math.Abs(float64(est)/float64(len(distinct)) - 1); d > 0.03 {
			t.Errorf("APPROX_UNIQUE_COUNT %d vs %d distinct", est, len(distinct))
		}
		qs := a.FinalizePart(1, ir[1]).([]any)
		for i, p := range []float64{0.1, 0.5, 0.9} {
			exact := float64(sorted[int(p*n)])
			if d := math.Abs(qs[i].(float64)-exact) / 1_000_000; d > 0.01 {
				t.Errorf("APPROX_PERCENTILE p%v = %v, exact %v", p, qs[i], exact)
			}
		}
		h := a.FinalizePart(2, ir[2]).(*types.MapValue)
		if fmtKeys(h) != "h0 h1 h2 h3 h4" {
			t.Errorf("APPROX_HISTOGRAM_K heavy hitters: %s", fmtValue(h))
		}
	}
}

func fmtKeys(m *types.MapValue) string {
	var ks []string
	for _, k := range m.Keys {
		ks = append(ks, k.(string))
	}
	return strings.Join(ks, " ")
}

func TestJavaDouble(t *testing.T) {
	for f, want := range map[float64]string{
		1: "1.0", 0.1: "0.1", 1e7: "1.0E7", 1.5e10: "1.5E10", 1e-3: "0.001", 1e-4: "1.0E-4",
		-2.5: "-2.5", 123456.789: "123456.789", math.Inf(1): "Infinity",
	} {
		if got := javaDouble(f); got != want {
			t.Errorf("javaDouble(%v) = %s, want %s", f, got, want)
		}
	}
}

// Retractions reach every container shape: element_wise positions and map keys.
func TestDeleteContainers(t *testing.T) {
	schema := types.Schema{
		{Name: "e", Type: types.ListOf(types.LongType)},
		{Name: "m", Type: types.MapOf(types.StringType, types.LongType)},
	}
	b := types.NewBatch(schema, 2)
	b.Cols[0].Append([]any{int64(1), int64(2)})
	b.Cols[0].Append([]any{int64(10), int64(20)})
	b.Cols[1].Append(&types.MapValue{Keys: []any{"a"}, Values: []any{int64(1)}})
	b.Cols[1].Append(&types.MapValue{Keys: []any{"a", "b"}, Values: []any{int64(5), int64(7)}})
	a, err := New([]*api.Aggregation{
		ew(agg(api.Operation_SUM, "e", nil, nil)),
		agg(api.Operation_COUNT, "m", nil, nil),
	}, schema)
	if err != nil {
		t.Fatal(err)
	}
	ir := make([]State, a.NumBases())
	a.Update(ir, b, 0, 0)
	a.Update(ir, b, 1, 0)
	if err := a.Delete(ir, b, 0); err != nil {
		t.Fatal(err)
	}
	got := fmtValue(a.FinalizePart(0, ir[0])) + " " + fmtValue(a.FinalizePart(1, ir[1]))
	if want := `[10, 20] {"a": 1, "b": 1}`; got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
}
