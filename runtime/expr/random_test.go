package expr

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chronon-go/chronon/runtime/types"
)

// TestColumnarMatchesRowPath generates random expressions over random data and checks that the
// columnar path (with its specialised loops) and the row path give identical values. Set
// EXPR_SEED to replay a failure.
func TestColumnarMatchesRowPath(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("EXPR_SEED"); s != "" {
		seed, _ = strconv.ParseUint(s, 10, 64)
	}
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	schema := types.Schema{
		{Name: "i", Type: types.IntType}, {Name: "l", Type: types.LongType}, {Name: "d", Type: types.DoubleType},
		{Name: "f", Type: types.FloatType}, {Name: "s", Type: types.StringType}, {Name: "b", Type: types.BooleanType},
		{Name: "dt", Type: types.DateType}, {Name: "ts", Type: types.TimestampType},
		{Name: "a", Type: types.ListOf(types.IntType)}, {Name: "m", Type: types.MapOf(types.StringType, types.LongType)},
		{Name: "nn", Type: types.LongType}, // never null: exercises the null-free fast paths
	}
	// Three inputs: NULLs in most columns, no NULL at all (the Nulls == nil fast paths), and empty.
	type input struct {
		batch *types.Batch
		rows  [][]any
	}
	var inputs []input
	for _, cfg := range []struct{ rows, nullEvery int }{{64, 6}, {64, 0}, {0, 6}} {
		b, r := randomBatch(rng, schema, cfg.rows, cfg.nullEvery)
		inputs = append(inputs, input{b, r})
	}
	g := &exprGen{rng: rng}
	compiled := 0
	for iter := 0; iter < 4000; iter++ {
		in := inputs[iter%len(inputs)]
		batch, rowVals, rows := in.batch, in.rows, len(in.rows)
		src := g.gen(0)
		e, err := Compile(src, schema)
		if err != nil {
			continue
		}
		compiled++
		col, err := e.Eval(batch)
		if err != nil {
			t.Fatalf("seed %d: %s: %v", seed, src, err)
		}
		if col.Len() != rows {
			t.Fatalf("seed %d: %s: columnar gave %d rows", seed, src, col.Len())
		}
		for r := 0; r < rows; r++ {
			want, err := e.EvalValues(rowVals[r])
			if err != nil {
				t.Fatalf("seed %d: %s: %v", seed, src, err)
			}
			if got := col.Value(r); !sameValue(got, want, e.Type()) {
				t.Fatalf("seed %d (rerun with EXPR_SEED=%d): %s, row %d %v: columnar %s, row path %s",
					seed, seed, src, r, rowVals[r], formatValue(got, e.Type()), formatValue(want, e.Type()))
			}
		}
	}
	if compiled < 800 {
		t.Fatalf("seed %d: only %d of 4000 random expressions compiled; the generator is off", seed, compiled)
	}
}

func randomBatch(rng *rand.Rand, schema types.Schema, n, nullEvery int) (*types.Batch, [][]any) {
	b := types.NewBatch(schema, n)
	rowVals := make([][]any, n)
	strs := []string{"", "a", "abc", "12", " 3 ", "-7.5", "2023-12-01", "héllo", "A%b_c", "NaN", "😀", "1e3", "true"}
	for r := 0; r < n; r++ {
		row := make([]any, len(schema))
		for c, f := range schema {
			var v any
			if f.Name == "nn" || nullEvery == 0 || rng.IntN(nullEvery) != 0 {
				switch f.Type.Kind {
				case types.Int:
					v = []int64{0, 1, -1, 7, 100, math.MaxInt32, math.MinInt32, rng.Int64N(2000) - 1000}[rng.IntN(8)]
				case types.Long:
					v = []int64{0, 1, -3, 1701388800, math.MaxInt64, math.MinInt64, rng.Int64() - math.MaxInt64/2}[rng.IntN(7)]
				case types.Double:
					v = []float64{0, math.Copysign(0, -1), 1.5, -2.5, 2.675, math.NaN(), math.Inf(1), 1e300, rng.NormFloat64() * 100}[rng.IntN(9)]
				case types.Float:
					v = float64(float32([]float64{0, 0.1, -1.5, 3.25, rng.NormFloat64()}[rng.IntN(5)]))
				case types.String:
					v = strs[rng.IntN(len(strs))]
				case types.Boolean:
					v = rng.IntN(2) == 0
				case types.Date:
					v = int64(rng.IntN(40000) - 10000)
				case types.Timestamp:
					v = rng.Int64N(4e15) - 1e15
				case types.List:
					xs := make([]any, rng.IntN(4))
					for i := range xs {
						if rng.IntN(5) != 0 {
							xs[i] = int64(rng.IntN(10))
						}
					}
					v = xs
				case types.Map:
					m := &types.MapValue{}
					for i := 0; i < rng.IntN(3); i++ {
						m.Keys = append(m.Keys, strs[i+1])
						m.Values = append(m.Values, int64(i))
					}
					v = m
				}
			}
			row[c] = v
			b.Cols[c].Append(v)
		}
		rowVals[r] = row
	}
	return b, rowVals
}

type exprGen struct{ rng *rand.Rand }

var genLeaves = []string{"i", "l", "d", "f", "s", "b", "dt", "ts", "nn", "a", "m", "1", "-2", "0", "2147483647", "1.5", "'x'", "'12'",
	"NULL", "true", "false", "DATE '2023-01-01'", "''", "10L", "cast(NULL as int)"}

var genOps = []string{"+", "-", "*", "/", "%", "div", "=", "!=", "<", "<=", ">", ">=", "<=>", "AND", "OR", "||", "&", "|"}

var genTemplates = []string{
	"-(%s)", "NOT (%s)", "(%s) IS NULL", "(%s) IS NOT NULL", "coalesce(%s, %s)", "if(%s, %s, %s)",
	"CASE WHEN %s THEN %s ELSE %s END", "CASE %s WHEN 1 THEN %s END", "cast(%s as int)", "cast(%s as bigint)",
	"cast(%s as double)", "cast(%s as string)", "cast(%s as boolean)", "cast(%s as date)", "cast(%s as float)",
	"cast(%s as timestamp)", "%s IN (%s, %s)", "%s NOT IN (1, 2, NULL)", "%s IN ('a', 'abc')", "%s BETWEEN %s AND %s",
	"substr(%s, %s, %s)", "concat(%s, %s)", "abs(%s)", "round(%s, 1)", "round(%s)", "floor(%s)", "ceil(%s)",
	"greatest(%s, %s)", "least(%s, %s)", "length(%s)", "upper(%s)", "trim(%s)", "%s LIKE 'a%%'", "%s RLIKE '^[0-9]'",
	"date_add(%s, %s)", "datediff(%s, %s)", "from_unixtime(%s)", "unix_timestamp(%s, 'yyyy-MM-dd')", "a[%s]",
	"element_at(m, %s)", "size(%s)", "nvl(%s, %s)", "pow(%s, 2)", "sqrt(%s)", "ln(%s)", "split(%s, 'b')",
	"regexp_replace(%s, '[0-9]', '#')", "date_format(%s, 'yyyy-MM')", "to_date(%s)", "md5(%s)", "base64(%s)",
	"array(%s, %s)", "map('k', %s)", "concat_ws('-', %s, %s)", "nullif(%s, %s)", "%s[0]", "get_json_object(%s, '$.a')",
	"regexp_extract(%s, '([a-z]+)', 1)", "lpad(%s, 5, 'x')", "instr(%s, 'a')", "replace(%s, 'a', 'b')", "sha2(%s, 256)",
	"hex(%s)", "year(%s)", "dayofweek(%s)", "add_months(%s, 1)", "to_date(%s, 'yyyy-MM-dd')", "from_unixtime(%s, 'yyyy-MM-dd HH')",
	"element_at(a, %s)", "array_contains(a, %s)", "(%s) IS TRUE", "decode(%s, 1, 'a', 'b')", "bround(%s, 1)", "pmod(%s, %s)",
	"%s LIKE %s", "%s RLIKE %s", "split(%s, %s)", "date_format(%s, %s)", "substr(%s, %s)", "coalesce(%s, %s, %s)",
	"CASE %s WHEN %s THEN %s WHEN %s THEN %s ELSE %s END", "%s IN (%s, %s, %s)", "cast(%s as tinyint)", "cast(%s as smallint)",
}

func (g *exprGen) gen(depth int) string {
	if depth > 3 || g.rng.IntN(4) == 0 {
		return genLeaves[g.rng.IntN(len(genLeaves))]
	}
	if g.rng.IntN(2) == 0 {
		op := genOps[g.rng.IntN(len(genOps))]
		return "(" + g.gen(depth+1) + " " + op + " " + g.gen(depth+1) + ")"
	}
	tpl := genTemplates[g.rng.IntN(len(genTemplates))]
	n := strings.Count(tpl, "%s")
	args := make([]any, n)
	for i := range args {
		args[i] = g.gen(depth + 1)
	}
	return fmt.Sprintf(tpl, args...)
}

// TestNullSlotsHoldZero checks the types.Column invariant on results: a NULL row's data slot holds the
// zero value, so consumers that read the slices directly never see garbage.
func TestNullSlotsHoldZero(t *testing.T) {
	schema := types.Schema{{Name: "i", Type: types.IntType}, {Name: "d", Type: types.DoubleType}, {Name: "s", Type: types.StringType}}
	b := types.NewBatch(schema, 2)
	b.Cols[0].Append(int64(5))
	b.Cols[0].AppendNull()
	b.Cols[1].Append(2.5)
	b.Cols[1].AppendNull()
	b.Cols[2].Append("x")
	b.Cols[2].AppendNull()
	for _, src := range []string{"i + 7", "7 - i", "i * 3", "-d", "d + 1.5", "2.0 / d", "i > 1", "NOT (i > 1)", "d * i", "upper(s)",
		"length(s)", "coalesce(i, NULL)", "CASE WHEN i > 0 THEN d END", "cast(s as int)", "i % 2", "(i > 1) AND true"} {
		col, err := MustCompile(src, schema).Eval(b)
		if err != nil {
			t.Fatal(err)
		}
		if !col.IsNull(1) {
			t.Fatalf("%s: row 1 should be NULL", src)
		}
		switch {
		case col.Ints != nil && col.Ints[1] != 0, col.Floats != nil && math.Float64bits(col.Floats[1]) != 0,
			col.Bools != nil && col.Bools[1], col.Strs != nil && col.Strs[1] != "":
			t.Errorf("%s: NULL row holds %v", src, col.Value(1))
		}
	}
}
