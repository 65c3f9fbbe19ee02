package expr

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"

	"github.com/chronon-go/chronon/runtime/types"
)

// benchBatch builds a purchases-like batch of n rows (5% NULL prices).
func benchBatch(n int) *types.Batch {
	schema := types.Schema{
		{Name: "user_id", Type: types.StringType},
		{Name: "purchase_price", Type: types.LongType},
		{Name: "amount", Type: types.DoubleType},
		{Name: "ts", Type: types.LongType},
		{Name: "ds", Type: types.StringType},
	}
	rng := rand.New(rand.NewPCG(1, 2))
	b := types.NewBatch(schema, n)
	days := []string{"2023-11-29", "2023-11-30", "2023-12-01"}
	for i := 0; i < n; i++ {
		b.Cols[0].Append(fmt.Sprint(rng.IntN(1000)))
		if rng.IntN(20) == 0 {
			b.Cols[1].AppendNull()
		} else {
			b.Cols[1].Append(int64(rng.IntN(500)))
		}
		b.Cols[2].Append(rng.Float64() * 100)
		b.Cols[3].Append(int64(1701216000000 + rng.IntN(3*86400000)))
		b.Cols[4].Append(days[rng.IntN(3)])
	}
	return b
}

// benchRows is the batch size: CHRONON_BENCH_ROWS (make bench sets 10M), else 1M.
var benchRows = func() int {
	if n, err := strconv.Atoi(os.Getenv("CHRONON_BENCH_ROWS")); err == nil && n > 0 {
		return n
	}
	return 1_000_000
}()

func benchExprs(b *testing.B, srcs ...string) {
	batch := benchBatch(benchRows)
	exprs := make([]*Expr, len(srcs))
	for i, s := range srcs {
		exprs[i] = MustCompile(s, batch.Schema)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, e := range exprs {
			if _, err := e.Eval(batch); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(benchRows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

func BenchmarkEvalArithmetic(b *testing.B) { benchExprs(b, "purchase_price * 2 + 1") }

func BenchmarkEvalWhere(b *testing.B) {
	benchExprs(b, "purchase_price > 100 AND user_id IS NOT NULL AND ds >= '2023-11-30'")
}

// A typical GroupBy source query: renames, arithmetic, a CASE, the snapshot time expression and a
// where clause, evaluated and filtered together.
func BenchmarkEvalSelectWhere(b *testing.B) {
	batch := benchBatch(benchRows)
	sel := []string{"user_id", "purchase_price", "amount * 1.1", "CASE WHEN amount > 50 THEN 'big' ELSE 'small' END",
		"((UNIX_TIMESTAMP(ds, 'yyyy-MM-dd') + 86400) * 1000) - 1"}
	exprs := make([]*Expr, len(sel))
	for i, s := range sel {
		exprs[i] = MustCompile(s, batch.Schema)
	}
	where := MustCompile("purchase_price IS NOT NULL AND amount > 10", batch.Schema)
	names := []string{"user_id", "purchase_price", "amount", "size", "ts"}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		filtered, err := Where(batch, where)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := Select(filtered, exprs, names); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(benchRows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

func BenchmarkEvalStringFunctions(b *testing.B) {
	benchExprs(b, "concat(upper(user_id), '-', substr(ds, 1, 7))")
}

func BenchmarkEvalFromUnixtime(b *testing.B) {
	benchExprs(b, "from_unixtime(ts / 1000, 'yyyy-MM-dd')")
}

// The online path: one row at a time.
func BenchmarkEvalRow(b *testing.B) {
	schema := benchBatch(1).Schema
	e := MustCompile("CASE WHEN purchase_price > 100 THEN amount * 2 ELSE amount END", schema)
	row := []any{"5", int64(150), 12.5, int64(1701216000000), "2023-12-01"}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := e.EvalValues(row); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}
