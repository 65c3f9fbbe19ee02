package aggregate

import (
	"encoding/csv"
	"os"
	"strconv"
	"testing"

	"github.com/chronon-go/chronon/runtime/types"
	"github.com/chronon-go/chronon/thrift/api"
)

// TestQuickstartWorkedRow reproduces the aggregation part of spec §11.2's worked row (user 24,
// checkout ts 1701320475364): purchases is SNAPSHOT (partitions up to 2023-11-29, value of partition
// day(ts)-1), returns is TEMPORAL (all partitions up to 2023-11-30, point in time at ts). Partition
// selection is the backfill's job (spec §3.4); here it is a filter on ds.
func TestQuickstartWorkedRow(t *testing.T) {
	const q = int64(1701320475364)
	d := func(n int32) *api.Window { return &api.Window{Length: n, TimeUnit: api.TimeUnit_DAYS} }
	ws := []*api.Window{d(3), d(14), d(30)}
	aggsFor := func(col string, k string) []*api.Aggregation {
		return []*api.Aggregation{
			agg(api.Operation_SUM, col, nil, ws),
			agg(api.Operation_COUNT, col, nil, ws),
			agg(api.Operation_AVERAGE, col, nil, ws),
			agg(api.Operation_LAST_K, col, map[string]string{"k": k}, nil),
		}
	}
	cases := []struct {
		file, col, k, maxDs string
		res                 Resolution
		query               int64
		want                string
	}{
		{"purchases.csv", "purchase_price", "10", "2023-11-29", Daily, mustSnapshotEnd(t, "2023-11-29"),
			"331 1574 1934 1 4 5 331.0 393.5 386.8 [331, 474, 497, 272, 360]"},
		{"returns.csv", "refund_amt", "2", "2023-11-30", FiveMinute, q,
			"null 76 645 null 1 3 null 76.0 215.0 [76, 388]"},
	}
	for _, c := range cases {
		f, err := os.Open("../../data/quickstart/" + c.file)
		if err != nil {
			t.Skipf("quickstart data: %v", err)
		}
		recs, err := csv.NewReader(f).ReadAll()
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		head := recs[0]
		idx := func(name string) int {
			for i, h := range head {
				if h == name {
					return i
				}
			}
			t.Fatalf("%s: no column %s", c.file, name)
			return -1
		}
		schema := types.Schema{{Name: c.col, Type: types.LongType}}
		b := types.NewBatch(schema, 0)
		var ts []int64
		for _, r := range recs[1:] {
			if r[idx("user_id")] != "24" || r[idx("ds")] > c.maxDs {
				continue
			}
			v, _ := strconv.ParseInt(r[idx(c.col)], 10, 64)
			tv, _ := strconv.ParseInt(r[idx("ts")], 10, 64)
			b.Cols[0].Append(v)
			ts = append(ts, tv)
		}
		a, err := New(aggsFor(c.col, c.k), schema)
		if err != nil {
			t.Fatal(err)
		}
		st, err := NewSawtooth(a, c.res)
		if err != nil {
			t.Fatal(err)
		}
		rows, sorted := SortEvents(ts)
		out := types.NewBatch(a.OutputSchema(), 1)
		if err := st.Compute(Events{Batch: b, Rows: rows, Ts: sorted}, []int64{c.query}, out); err != nil {
			t.Fatal(err)
		}
		got := ""
		for i := range out.Cols {
			if i > 0 {
				got += " "
			}
			got += fmtValue(out.Cols[i].Value(0))
		}
		if got != c.want {
			t.Errorf("%s: got  %s\nwant %s", c.file, got, c.want)
		}
	}
}

func mustSnapshotEnd(t *testing.T, ds string) int64 {
	q, err := SnapshotEnd(ds)
	if err != nil {
		t.Fatal(err)
	}
	return q
}
