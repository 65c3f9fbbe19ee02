package warehouse

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
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
