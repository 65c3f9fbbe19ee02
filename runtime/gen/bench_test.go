package gen

import (
	"os"
	"strconv"
	"testing"

	"github.com/chronon-go/chronon/runtime/warehouse"
)

// BenchmarkGenerate measures generation plus the warehouse write. The scale puts
// CHRONON_BENCH_ROWS rows in data.purchases (make bench sets 10M, i.e. scale 1 = 22M rows in all);
// without it, scale 0.05 (1.1M rows).
func BenchmarkGenerate(b *testing.B) {
	scale := 0.05
	if n, err := strconv.Atoi(os.Getenv("CHRONON_BENCH_ROWS")); err == nil && n > 0 {
		scale = float64(n) / PurchasesPerScale
	}
	w, err := warehouse.Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	var rows int64
	for b.Loop() {
		res, err := Generate(w, Options{Scale: scale, Seed: 1})
		if err != nil {
			b.Fatal(err)
		}
		rows += res.Rows
	}
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
}
