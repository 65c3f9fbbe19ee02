package warehouse

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/chronon-go/chronon/runtime/types"
)

func allTypesSchema() types.Schema {
	return types.Schema{
		{Name: "b", Type: types.BooleanType},
		{Name: "i", Type: types.IntType},
		{Name: "l", Type: types.LongType},
		{Name: "f", Type: types.FloatType},
		{Name: "d", Type: types.DoubleType},
		{Name: "s", Type: types.StringType},
		{Name: "bin", Type: types.BinaryType},
		{Name: "ls", Type: types.ListOf(types.LongType)},
		{Name: "m", Type: types.MapOf(types.StringType, types.IntType)},
		{Name: "st", Type: types.StructOf("", types.Field{Name: "z", Type: types.StringType}, types.Field{Name: "a", Type: types.ListOf(types.DoubleType)})},
		{Name: "lls", Type: types.ListOf(types.ListOf(types.StringType))},
	}
}

func allTypesRows() [][]any {
	return [][]any{
		{true, int64(1), int64(1 << 40), 1.5, 2.25, "x", []byte{1, 2}, []any{int64(3), nil, int64(5)},
			&types.MapValue{Keys: []any{"k1", "k2"}, Values: []any{int64(7), nil}},
			types.StructValue{"zz", []any{1.0, 2.0}}, []any{[]any{"a"}, []any{}, nil, []any{"b", "c"}}},
		{nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil},
		{false, int64(-2), int64(0), 0.0, -1.0, "", []byte{}, []any{}, &types.MapValue{},
			types.StructValue{nil, nil}, []any{}},
	}
}

func batchOf(s types.Schema, rows [][]any) *types.Batch {
	b := types.NewBatch(s, len(rows))
	for _, r := range rows {
		for i, v := range r {
			b.Cols[i].Append(v)
		}
	}
	return b
}

func rowsOf(b *types.Batch) [][]any {
	out := make([][]any, b.Len())
	for i := range out {
		for _, c := range b.Cols {
			out[i] = append(out[i], c.Value(i))
		}
	}
	return out
}

func TestRoundTripAllTypes(t *testing.T) {
	w, _ := Open(t.TempDir())
	s := allTypesSchema()
	tx, err := w.Begin("db.all", TableSpec{Schema: s, PartitionColumns: []string{"ds"}, Properties: map[string]string{PropGenerated: "true"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := tx.Write([]string{"2023-11-01"}, batchOf(s, allTypesRows())); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	tbl, err := w.Table("db.all")
	if err != nil {
		t.Fatal(err)
	}
	r, err := tbl.Read(ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := allTypesRows()
	for i := range want {
		want[i] = append(want[i], "2023-11-01")
	}
	// An empty map reads back as an empty map; float32 survives exactly for these values.
	if g := rowsOf(got); !reflect.DeepEqual(g, want) {
		t.Fatalf("round trip:\n got %#v\nwant %#v", g, want)
	}
	props, _ := tbl.Properties()
	if props[PropGenerated] != "true" {
		t.Fatalf("properties %v", props)
	}
	if _, err := os.Stat(filepath.Join(tbl.Dir, "ds=2023-11-01")); err != nil {
		t.Fatal(err)
	}
}

func writeLongs(t *testing.T, w *Warehouse, table string, parts map[string][]int64) {
	t.Helper()
	s := types.Schema{{Name: "x", Type: types.LongType}}
	tx, err := w.Begin(table, TableSpec{Schema: s, PartitionColumns: []string{"ds"}})
	if err != nil {
		t.Fatal(err)
	}
	for ds, xs := range parts {
		b := types.NewBatch(s, len(xs))
		for _, x := range xs {
			b.Cols[0].Append(x)
		}
		if err := tx.Write([]string{ds}, b); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

func TestOverwriteRangeProjection(t *testing.T) {
	w, _ := Open(t.TempDir())
	writeLongs(t, w, "db.t", map[string][]int64{"2023-01-01": {1, 2}, "2023-01-02": {3}, "2023-01-03": {4}})
	writeLongs(t, w, "db.t", map[string][]int64{"2023-01-02": {30, 31}})
	tbl, _ := w.Table("db.t")
	dates, _ := tbl.PartitionDates()
	if strings.Join(dates, ",") != "2023-01-01,2023-01-02,2023-01-03" {
		t.Fatal(dates)
	}
	r, _ := tbl.Read(ReadOptions{Columns: []string{"ds", "x"}, Start: "2023-01-02", End: "2023-01-03"})
	b, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := [][]any{{"2023-01-02", int64(30)}, {"2023-01-02", int64(31)}, {"2023-01-03", int64(4)}}
	if !reflect.DeepEqual(rowsOf(b), want) {
		t.Fatalf("got %v", rowsOf(b))
	}
	files, _ := dataFiles(filepath.Join(tbl.Dir, "ds=2023-01-02"))
	if len(files) != 1 {
		t.Fatalf("overwrite left %d files", len(files))
	}
}

func TestAbortLeavesNothing(t *testing.T) {
	w, _ := Open(t.TempDir())
	s := types.Schema{{Name: "x", Type: types.LongType}}
	tx, _ := w.Begin("db.t", TableSpec{Schema: s, PartitionColumns: []string{"ds"}})
	b := types.NewBatch(s, 1)
	b.Cols[0].Append(int64(1))
	if err := tx.Write([]string{"2023-01-01"}, b); err != nil {
		t.Fatal(err)
	}
	tx.Abort()
	if w.Exists("db.t") {
		t.Fatal("aborted write created the table")
	}
	ents, _ := os.ReadDir(filepath.Join(w.Root, ".staging"))
	if len(ents) != 0 {
		t.Fatalf("staging left: %v", ents)
	}
}

func TestRecoverInterruptedSwap(t *testing.T) {
	w, _ := Open(t.TempDir())
	writeLongs(t, w, "db.t", map[string][]int64{"2023-01-01": {1}})
	tbl, _ := w.Table("db.t")
	// Simulate a writer killed between parking the old partition and moving the new one in.
	part := filepath.Join(tbl.Dir, "ds=2023-01-01")
	trash := filepath.Join(w.Root, ".trash", "1-1-swap-x")
	os.MkdirAll(trash, 0o755)
	os.WriteFile(filepath.Join(trash, "target"), []byte(part), 0o644)
	if err := os.Rename(part, filepath.Join(trash, "old")); err != nil {
		t.Fatal(err)
	}
	w2, _ := Open(w.Root)
	tbl2, _ := w2.Table("db.t")
	dates, _ := tbl2.PartitionDates()
	if len(dates) != 1 {
		t.Fatalf("partition not restored: %v", dates)
	}
}

func TestUnknownTableSuggestion(t *testing.T) {
	w, _ := Open(t.TempDir())
	writeLongs(t, w, "data.purchases", map[string][]int64{"2023-01-01": {1}})
	_, err := w.Table("data.purchase")
	if !errors.Is(err, ErrUnknownTable) || !strings.Contains(err.Error(), "did you mean data.purchases?") {
		t.Fatalf("got %v", err)
	}
	_, err = w.Table("default.purchases")
	if err == nil || !strings.Contains(err.Error(), "did you mean data.purchases?") {
		t.Fatalf("got %v", err)
	}
}

func TestSubPartitionRef(t *testing.T) {
	ref, err := ParseTableRef("db.table/k=v/k2=v2")
	if err != nil {
		t.Fatal(err)
	}
	if ref.Table() != "db.table" || len(ref.Filters) != 2 || ref.Filters[1] != (PartitionValue{"k2", "v2"}) || ref.String() != "db.table/k=v/k2=v2" {
		t.Fatalf("%+v", ref)
	}
	for _, bad := range []string{"table", "db.", "db.t/k", "db.a.b", "d-b.t"} {
		if _, err := ParseTableRef(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
	w, _ := Open(t.TempDir())
	s := types.Schema{{Name: "x", Type: types.LongType}}
	tx, _ := w.Begin("db.sig", TableSpec{Schema: s, PartitionColumns: []string{"ds", "table_name"}})
	for _, p := range [][]string{{"2023-01-01", "a"}, {"2023-01-01", "b"}, {"2023-01-02", "a"}} {
		b := types.NewBatch(s, 1)
		b.Cols[0].Append(int64(1))
		tx.Write(p, b)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	tbl, _ := w.Table("db.sig/table_name=a")
	ps, _ := tbl.Partitions()
	if len(ps) != 2 || ps[1].Spec() != "ds=2023-01-02/table_name=a" {
		t.Fatalf("%v", ps)
	}
}

func TestUnpartitioned(t *testing.T) {
	w, _ := Open(t.TempDir())
	s := types.Schema{{Name: "x", Type: types.LongType}}
	for _, v := range []int64{1, 2} {
		tx, _ := w.Begin("db.u", TableSpec{Schema: s})
		b := types.NewBatch(s, 1)
		b.Cols[0].Append(v)
		if err := tx.Write(nil, b); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	tbl, _ := w.Table("db.u")
	r, _ := tbl.Read(ReadOptions{})
	b, _ := r.ReadAll()
	if !reflect.DeepEqual(rowsOf(b), [][]any{{int64(2)}}) {
		t.Fatalf("%v", rowsOf(b))
	}
}

func TestDropTable(t *testing.T) {
	w, _ := Open(t.TempDir())
	writeLongs(t, w, "db.t", map[string][]int64{"2023-01-01": {1}})
	if err := w.DropTable("db.t"); err != nil {
		t.Fatal(err)
	}
	if w.Exists("db.t") {
		t.Fatal("table still exists")
	}
	if ents, _ := os.ReadDir(filepath.Join(w.Root, ".trash")); len(ents) != 0 {
		t.Fatalf("trash left: %v", ents)
	}
	if err := w.DropTable("db.t"); err != nil {
		t.Fatal("dropping a missing table:", err)
	}
}
