package sqlshell

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/chronon-go/chronon/runtime/types"
	"github.com/chronon-go/chronon/runtime/warehouse"
)

const benchRows = 1_000_000

// BenchmarkQueryToWarehouse compares the two ways a StagingQuery result can reach the warehouse:
// DuckDB's partitioned COPY into a staging directory (what backfill uses), and scanning the rows
// through database/sql into batches written by the warehouse writer.
func BenchmarkQueryToWarehouse(b *testing.B) {
	w, _ := warehouse.Open(b.TempDir())
	s, err := Open(context.Background(), w)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	q := fmt.Sprintf(`SELECT (i %% 1000)::VARCHAR AS user_id, i AS ts, (i %% 500) AS price,
		strftime(DATE '2023-11-01' + (i %% 30)::INTEGER, '%%Y-%%m-%%d') AS ds FROM range(%d) t(i)`, benchRows)
	ctx := context.Background()
	b.Run("duckdb-copy", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			dir, _ := w.StagingDir("bench")
			if err := s.Exec(ctx, fmt.Sprintf("COPY (%s) TO %s (FORMAT parquet, COMPRESSION snappy, PARTITION_BY (ds))", q, Literal(dir))); err != nil {
				b.Fatal(err)
			}
			os.RemoveAll(dir)
		}
		b.ReportMetric(float64(benchRows*b.N)/b.Elapsed().Seconds(), "rows/s")
	})
	b.Run("rows-to-batches", func(b *testing.B) {
		schema := types.Schema{{Name: "user_id", Type: types.StringType}, {Name: "ts", Type: types.LongType}, {Name: "price", Type: types.LongType}}
		for i := 0; i < b.N; i++ {
			rows, err := s.Conn().QueryContext(ctx, q)
			if err != nil {
				b.Fatal(err)
			}
			tx, _ := w.Begin("bench.t", warehouse.TableSpec{Schema: schema, PartitionColumns: []string{"ds"}})
			batches := map[string]*types.Batch{}
			for rows.Next() {
				var u, ds string
				var ts, price int64
				if err := rows.Scan(&u, &ts, &price, &ds); err != nil {
					b.Fatal(err)
				}
				bt := batches[ds]
				if bt == nil {
					bt = types.NewBatch(schema, 4096)
					batches[ds] = bt
				}
				bt.Cols[0].Strs = append(bt.Cols[0].Strs, u)
				bt.Cols[1].Ints = append(bt.Cols[1].Ints, ts)
				bt.Cols[2].Ints = append(bt.Cols[2].Ints, price)
				if bt.Len() == 4096 {
					tx.Write([]string{ds}, bt)
					batches[ds] = nil
				}
			}
			rows.Close()
			for ds, bt := range batches {
				if bt != nil {
					tx.Write([]string{ds}, bt)
				}
			}
			tx.Abort()
		}
		b.ReportMetric(float64(benchRows*b.N)/b.Elapsed().Seconds(), "rows/s")
	})
}
