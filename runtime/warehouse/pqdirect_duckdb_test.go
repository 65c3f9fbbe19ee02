package warehouse_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/chronon-go/chronon/runtime/sqlshell"
	"github.com/chronon-go/chronon/runtime/types"
	"github.com/chronon-go/chronon/runtime/warehouse"
)

// TestDirectWriterDuckDB has DuckDB read random rows of every primitive and list<primitive> kind
// from a file of the direct writer (small row groups) and from parquet-go's file of the same rows:
// both must read alike, whole and under filters DuckDB answers with the row groups' statistics (a
// wrong bound or null count skips a row group and changes a count).
func TestDirectWriterDuckDB(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	rng := rand.New(rand.NewPCG(seed, 5))
	s := warehouse.RandomPrimitiveSchema()
	rows := warehouse.RandomPrimitiveRows(rng, s, 3000+rng.IntN(5000))
	// DuckDB rejects invalid UTF-8 in strings and turns extreme dates and timestamps into infinities
	// the driver cannot convert: keep to values both files can hold and DuckDB can return.
	for _, r := range rows {
		for c, f := range s {
			r[c] = tame(f.Type, r[c])
		}
	}
	b := types.NewBatch(s, len(rows))
	for _, r := range rows {
		for i, v := range r {
			b.Cols[i].Append(v)
		}
	}
	dir := t.TempDir()
	direct, legacy := filepath.Join(dir, "direct.parquet"), filepath.Join(dir, "legacy.parquet")
	if err := warehouse.WriteTestFile(direct, s, true, 100+rng.IntN(1000), b); err != nil {
		t.Fatal(err)
	}
	if err := warehouse.WriteTestFile(legacy, s, false, 0, b); err != nil {
		t.Fatal(err)
	}
	w, err := warehouse.Open(filepath.Join(dir, "wh"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	sh, err := sqlshell.Open(ctx, w)
	if err != nil {
		t.Fatal(err)
	}
	defer sh.Close()
	query := func(q string) [2]*sqlshell.Result {
		var out [2]*sqlshell.Result
		for i, p := range []string{direct, legacy} {
			r, err := sh.Query(ctx, strings.ReplaceAll(q, "$f", "read_parquet("+sqlshell.Literal(p)+")"))
			if err != nil {
				t.Fatalf("seed %d: %s: %v", seed, q, err)
			}
			out[i] = r
		}
		return out
	}
	all := query("SELECT * FROM $f ORDER BY id")
	if !reflect.DeepEqual(all[0].Types, all[1].Types) {
		t.Fatalf("DuckDB types %v, parquet-go's file %v", all[0].Types, all[1].Types)
	}
	if len(all[0].Rows) != len(rows) || len(all[1].Rows) != len(rows) {
		t.Fatalf("seed %d: DuckDB reads %d and %d rows, wrote %d", seed, len(all[0].Rows), len(all[1].Rows), len(rows))
	}
	for i := range rows {
		if !reflect.DeepEqual(all[0].Rows[i], all[1].Rows[i]) {
			t.Fatalf("seed %d: DuckDB reads row %d as\n%v\nfrom parquet-go's file\n%v", seed, i, all[0].Rows[i], all[1].Rows[i])
		}
	}
	// Filters with constants, which DuckDB checks against row-group statistics before reading.
	for c, f := range s {
		col := `"` + f.Name + `"`
		conds := []string{col + " IS NULL", col + " IS NOT NULL"}
		if f.Type.Kind != types.List && f.Type.Kind != types.Binary {
			// a present value of the column, as a literal of its DuckDB type
			if v := all[1].Rows[rng.IntN(len(rows))][c]; v != nil {
				lit := fmt.Sprintf("CAST(%s AS %s)", sqlshell.Literal(sqlshell.Text(v)), all[1].Types[c])
				for _, op := range []string{"<", "<=", "=", ">=", ">"} {
					conds = append(conds, col+" "+op+" "+lit)
				}
			}
		}
		for _, cond := range conds {
			r := query("SELECT count(*) FROM $f WHERE " + cond)
			if got, want := r[0].Rows[0][0], r[1].Rows[0][0]; !reflect.DeepEqual(got, want) {
				t.Errorf("seed %d: WHERE %s: DuckDB counts %v rows, %v in parquet-go's file", seed, cond, got, want)
			}
		}
	}
}

func tame(t *types.Type, v any) any {
	if v == nil {
		return nil
	}
	if t.Kind == types.List {
		items := v.([]any)
		for i, e := range items {
			items[i] = tame(t.Elem, e)
		}
		return items
	}
	switch t.Kind {
	case types.String:
		return strings.ToValidUTF8(v.(string), "?")
	case types.Date:
		return v.(int64) % 1_000_000
	case types.Timestamp:
		return v.(int64) % (1 << 53)
	}
	return v
}
