package warehouse

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/chronon-go/chronon/runtime/types"
)

// benchRows is the size of the synthetic table: CHRONON_BENCH_ROWS (make bench sets 10M), else 500k.
var benchRows = func() int {
	if n, err := strconv.Atoi(os.Getenv("CHRONON_BENCH_ROWS")); err == nil && n > 0 {
		return n
	}
	return 500_000
}()

// writeBenchCSV writes a purchases-like CSV: 30 days, 6 columns.
func writeBenchCSV(b *testing.B, path string, rows int) {
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriter(f)
	fmt.Fprintln(w, "ds,ts,purchase_id,user_id,product_id,purchase_price")
	start := time.Date(2023, 11, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < rows; i++ {
		day := start.AddDate(0, 0, i%30)
		fmt.Fprintf(w, "%s,%d,P%08d,%d,%d,%d\n", day.Format(DateFormat), day.UnixMilli()+int64(i), i, i%1000, i%97, i%500)
	}
	w.Flush()
	f.Close()
}

// BenchmarkImportCSV measures `chronon import` of a benchRows-row CSV into 30 partitions.
func BenchmarkImportCSV(b *testing.B) {
	dir := b.TempDir()
	csvPath := filepath.Join(dir, "purchases.csv")
	writeBenchCSV(b, csvPath, benchRows)
	w, _ := Open(filepath.Join(dir, "wh"))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := w.Import(ImportOptions{Table: "data.purchases", Files: []string{csvPath}}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(benchRows*b.N)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkReadPartitions reads two columns of every partition of the imported table.
func BenchmarkReadPartitions(b *testing.B) {
	dir := b.TempDir()
	csvPath := filepath.Join(dir, "purchases.csv")
	writeBenchCSV(b, csvPath, benchRows)
	w, _ := Open(filepath.Join(dir, "wh"))
	if _, err := w.Import(ImportOptions{Table: "data.purchases", Files: []string{csvPath}}); err != nil {
		b.Fatal(err)
	}
	tbl, _ := w.Table("data.purchases")
	for _, cols := range [][]string{{"user_id", "purchase_price"}, nil} {
		name := "all-columns"
		if cols != nil {
			name = "2-columns"
		}
		b.Run(name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				r, err := tbl.Read(ReadOptions{Columns: cols})
				if err != nil {
					b.Fatal(err)
				}
				n := 0
				for {
					batch, err := r.Next()
					if err == io.EOF {
						break
					}
					if err != nil {
						b.Fatal(err)
					}
					n += batch.Len()
				}
				if n != benchRows {
					b.Fatalf("read %d rows", n)
				}
			}
			b.ReportMetric(float64(benchRows*b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

// joinOutputBatch builds a batch shaped like a quickstart join backfill's output: user_id, ts, 18
// long/double features with ~10% nulls, a list<long> and a list<double> (LAST_K, 0..10 elements, ~5%
// null lists), a string and a boolean feature, and ds.
func joinOutputBatch(rows int) *types.Batch {
	rng := rand.New(rand.NewPCG(1, 2))
	s := types.Schema{{Name: "user_id", Type: types.StringType}, {Name: "ts", Type: types.LongType}}
	for i := 0; i < 18; i++ {
		t := types.LongType
		if i%2 == 1 {
			t = types.DoubleType
		}
		s = append(s, types.Field{Name: fmt.Sprintf("f%02d", i), Type: t})
	}
	s = append(s, types.Field{Name: "last_k_l", Type: types.ListOf(types.LongType)},
		types.Field{Name: "last_k_d", Type: types.ListOf(types.DoubleType)},
		types.Field{Name: "category", Type: types.StringType}, types.Field{Name: "flag", Type: types.BooleanType},
		types.Field{Name: "ds", Type: types.StringType})
	b := types.NewBatch(s, rows)
	cats := []string{"books", "games", "garden", "music", "toys"}
	for r := 0; r < rows; r++ {
		b.Cols[0].Append(strconv.Itoa(rng.IntN(100_000)))
		b.Cols[1].Append(int64(1_700_000_000_000 + r*37))
		for i := 0; i < 18; i++ {
			c := b.Cols[2+i]
			switch {
			case rng.IntN(10) == 0:
				c.AppendNull()
			case i%2 == 0:
				c.Append(int64(rng.IntN(1000)))
			default:
				c.Append(float64(rng.IntN(100_000)) / 100)
			}
		}
		for k, c := range b.Cols[20:22] {
			if rng.IntN(20) == 0 {
				c.AppendNull()
				continue
			}
			items := make([]any, rng.IntN(11))
			for j := range items {
				if k == 0 {
					items[j] = int64(rng.IntN(500))
				} else {
					items[j] = float64(rng.IntN(50_000)) / 100
				}
			}
			c.Append(items)
		}
		b.Cols[22].Append(cats[rng.IntN(len(cats))])
		b.Cols[23].Append(rng.IntN(2) == 0)
		b.Cols[24].Append("2023-11-30")
	}
	return b
}

// BenchmarkWriteJoinOutput writes one Parquet file of a join backfill's output shape (256k rows, two
// row groups), the writer's cost in a backfill: with the direct writer (what newFileWriter picks for
// this schema), the same without buffers recycled from the previous file, and with parquet-go's, the
// baseline.
func BenchmarkWriteJoinOutput(b *testing.B) {
	const rows = 256 * 1024
	batch := joinOutputBatch(rows)
	for _, mode := range []string{"direct", "direct-cold", "parquet-go"} {
		direct := mode != "parquet-go"
		b.Run(mode, func(b *testing.B) {
			dir := b.TempDir()
			var size int64
			b.ReportAllocs()
			cpu0 := cpuTime()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				path := filepath.Join(dir, fmt.Sprintf("part-%d.parquet", i))
				if mode == "direct-cold" {
					// as after the garbage collector emptied the pool (a backfill between files)
					colBufferPool = newColBufferPool()
				}
				w, err := openFileWriter(path, batch.Schema, direct)
				if err != nil {
					b.Fatal(err)
				}
				if err := w.Write(batch); err != nil {
					b.Fatal(err)
				}
				if err := w.Close(); err != nil {
					b.Fatal(err)
				}
				st, _ := os.Stat(path)
				size = st.Size()
				os.Remove(path)
			}
			b.StopTimer()
			// CPU of the whole process (GC workers included): the wall time includes waiting for
			// fsync and, on a shared machine, for other processes.
			b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
			b.ReportMetric(float64(size)/1e6, "MB")
			b.ReportMetric(float64(rows*b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

// cpuTime is the user and system CPU time of the process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
