package backfill

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/chronon-go/chronon/runtime/types"
	"github.com/chronon-go/chronon/runtime/warehouse"
	"github.com/chronon-go/chronon/thrift/api"
)

// TestPlainScanMatchesRowGroupScan checks the in-place read of rename-only queries (readPlain)
// against the general path, which evaluates the query row group by row group: same rows, same
// values, same order (spec §15.2 makes scan order part of the result), over random tables with
// nulls, several files per partition, partitions of different sizes and partition ranges.
func TestPlainScanMatchesRowGroupScan(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	r := rand.New(rand.NewPCG(seed, 7))
	for iter := 0; iter < 8; iter++ {
		w, err := warehouse.Open(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		schema := types.Schema{
			{Name: "user_id", Type: types.StringType},
			{Name: "v", Type: types.LongType},
			{Name: "d", Type: types.DoubleType},
			{Name: "ts", Type: types.LongType},
		}
		tx, err := w.Begin("data.t", warehouse.TableSpec{Schema: schema, PartitionColumns: []string{"ds"}})
		if err != nil {
			t.Fatal(err)
		}
		days := 1 + r.IntN(6)
		for day := range days {
			ds := fmt.Sprintf("2023-11-%02d", 10+day)
			for range 1 + r.IntN(3) { // several files in a partition
				n := 1 + r.IntN(3000)
				b := types.NewBatch(schema, n)
				for range n {
					if r.IntN(20) == 0 {
						b.Cols[0].AppendNull()
					} else {
						b.Cols[0].Append(fmt.Sprint("u", r.IntN(300)))
					}
					if r.IntN(10) == 0 {
						b.Cols[1].AppendNull()
					} else {
						b.Cols[1].Append(r.Int64N(1000))
					}
					if r.IntN(2) == 0 { // some files without a null in d, some with
						b.Cols[2].Append(r.Float64())
					} else {
						b.Cols[2].AppendNull()
					}
					b.Cols[3].Append(int64(1_699_600_000_000 + r.IntN(10*86_400_000)))
				}
				if err := tx.WriteFile([]string{ds}, b); err != nil {
					t.Fatal(err)
				}
			}
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		start, end := "", ""
		if r.IntN(2) == 0 {
			start = fmt.Sprintf("2023-11-%02d", 10+r.IntN(days))
		}
		if r.IntN(2) == 0 {
			end = fmt.Sprintf("2023-11-%02d", 10+r.IntN(days))
		}
		query := func(wheres ...string) sourceQuery {
			return sourceQuery{
				src:   &api.Source{Events: &api.EventSource{Table: strp("data.t"), Query: &api.Query{TimeColumn: strp("ts"), Wheres: wheres}}},
				keys:  []string{"user_id"},
				start: start, end: end,
				accuracy: api.Accuracy_TEMPORAL,
			}
		}
		p, err := prepare(w, query())
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := p.plainColumns(); !ok {
			t.Fatalf("seed %d: a query without wheres or computed selects is not plain", seed)
		}
		plain, err := scan(w, query())
		if err != nil {
			t.Fatal(err)
		}
		general, err := scan(w, query("v IS NULL OR v IS NOT NULL")) // always true, but not plain
		if err != nil {
			t.Fatal(err)
		}
		got, want := plain.batch, general.batch
		if fmt.Sprint(got.Schema) != fmt.Sprint(want.Schema) || got.Len() != want.Len() {
			t.Fatalf("seed %d iteration %d [%s, %s]: plain scan %v with %d rows, general %v with %d rows",
				seed, iter, start, end, got.Schema, got.Len(), want.Schema, want.Len())
		}
		for c := range got.Cols {
			for i := 0; i < got.Len(); i++ {
				if a, b := got.Cols[c].Value(i), want.Cols[c].Value(i); a != b {
					t.Fatalf("seed %d iteration %d: column %s row %d: plain %v, general %v", seed, iter, got.Schema[c].Name, i, a, b)
				}
			}
		}
	}
}
