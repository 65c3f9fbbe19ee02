package warehouse

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/chronon-go/chronon/runtime/types"
)

// TestRoundTripRandomNested writes random rows of every kind (nulls, empty and nested lists, maps,
// structs) across several row groups and write chunks, and reads back exactly what was written.
// The column-wise writer cuts chunks at row-group edges; this checks values and levels stay aligned.
func TestRoundTripRandomNested(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 7))
	s := allTypesSchema()
	rows := make([][]any, rowGroupRows+5000+rng.IntN(3000))
	for i := range rows {
		rows[i] = randomRow(rng, s)
	}
	w, _ := Open(t.TempDir())
	tx, err := w.Begin("db.rand", TableSpec{Schema: s, PartitionColumns: []string{"ds"}})
	if err != nil {
		t.Fatal(err)
	}
	// Two writes into one file: the second starts mid row group.
	cut := 1000 + rng.IntN(5000)
	for _, part := range [][][]any{rows[:cut], rows[cut:]} {
		if err := tx.Write([]string{"2023-11-01"}, batchOf(s, part)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	tbl, _ := w.Table("db.rand")
	r, err := tbl.Read(ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	g := rowsOf(got)
	if len(g) != len(rows) {
		t.Fatalf("seed %d: read %d rows, wrote %d", seed, len(g), len(rows))
	}
	for i := range rows {
		want := append(append([]any(nil), rows[i]...), "2023-11-01")
		if !reflect.DeepEqual(g[i], want) {
			t.Fatalf("seed %d: row %d:\n got %s\nwant %s", seed, i, render(g[i]), render(want))
		}
	}
}

// render prints a row with maps dereferenced, so a failure shows the differing entries.
func render(v any) string {
	switch x := v.(type) {
	case []any:
		if x == nil {
			return "nil"
		}
		out := "["
		for i, e := range x {
			if i > 0 {
				out += " "
			}
			out += render(e)
		}
		return out + "]"
	case types.StructValue:
		return "struct" + render([]any(x))
	case *types.MapValue:
		return fmt.Sprintf("map{keys %s values %s}", render(x.Keys), render(x.Values))
	}
	return fmt.Sprintf("%#v", v)
}

func randomRow(rng *rand.Rand, s types.Schema) []any {
	row := make([]any, len(s))
	for i, f := range s {
		row[i] = randomValue(rng, f.Type, 0)
	}
	return row
}

func randomValue(rng *rand.Rand, t *types.Type, depth int) any {
	if rng.IntN(6) == 0 {
		return nil
	}
	switch t.Kind {
	case types.Boolean:
		return rng.IntN(2) == 0
	case types.Int:
		return int64(int32(rng.Uint32()))
	case types.Long:
		return int64(rng.Uint64())
	case types.Float:
		return float64(float32(rng.NormFloat64()))
	case types.Double:
		return rng.NormFloat64()
	case types.String:
		return string(rune('a' + rng.IntN(26)))
	case types.Binary:
		return []byte{byte(rng.IntN(256))}
	case types.List:
		n := rng.IntN(4)
		out := make([]any, n)
		for i := range out {
			out[i] = randomValue(rng, t.Elem, depth+1)
		}
		return out
	case types.Map:
		n := rng.IntN(3)
		m := &types.MapValue{} // an empty map reads back with nil slices
		for i := 0; i < n; i++ {
			m.Keys = append(m.Keys, string(rune('k'+i)))
			m.Values = append(m.Values, randomValue(rng, t.Value, depth+1))
		}
		return m
	case types.Struct:
		sv := make(types.StructValue, len(t.Fields))
		for i, f := range t.Fields {
			sv[i] = randomValue(rng, f.Type, depth+1)
		}
		return sv
	}
	panic(t.String())
}
