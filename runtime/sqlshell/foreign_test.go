package sqlshell

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"

	"github.com/chronon-go/chronon/runtime/types"
	"github.com/chronon-go/chronon/runtime/warehouse"
)

// TestReadDuckDBFiles checks that the warehouse reads Parquet written by another tool: DuckDB writes
// dictionary-encoded pages (low-cardinality strings), nested types and its own partitioned layout,
// without _chronon.json.
func TestReadDuckDBFiles(t *testing.T) {
	w, err := warehouse.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	s, err := Open(context.Background(), w)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	dir := filepath.Join(w.Root, "ext", "events")
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		t.Fatal(err)
	}
	q := fmt.Sprintf(`COPY (
		SELECT i::BIGINT AS id,
		       'user_' || (i %% 3) AS name,
		       CASE WHEN i %% 4 = 0 THEN NULL ELSE i * 1.5 END AS score,
		       [i, i + 1] AS pair,
		       CASE WHEN i %% 2 = 0 THEN MAP {'k': i::INTEGER} ELSE MAP {} END AS m,
		       {'a': i::INTEGER, 'b': [('x' || i)]} AS st,
		       i %% 2 = 0 AS even,
		       DATE '2023-11-01' + (i %% 2)::INTEGER AS day,
		       strftime(DATE '2023-11-01' + (i %% 2)::INTEGER, '%%Y-%%m-%%d') AS ds
		FROM range(2000) t(i)
	) TO %s (FORMAT parquet, PARTITION_BY (ds))`, Literal(dir))
	if err := s.Exec(context.Background(), q); err != nil {
		t.Fatal(err)
	}
	assertDictionaryEncoded(t, dir)
	tbl, err := w.Table("ext.events")
	if err != nil {
		t.Fatal(err)
	}
	schema, err := tbl.Schema()
	if err != nil {
		t.Fatal(err)
	}
	want := "id:bigint name:string score:double pair:array<bigint> m:map<string,int> st:struct<a:int,b:array<string>> even:boolean day:date ds:string"
	got := ""
	for i, f := range schema {
		if i > 0 {
			got += " "
		}
		got += f.Name + ":" + f.Type.String()
	}
	if got != want {
		t.Fatalf("schema\n got %s\nwant %s", got, want)
	}
	r, err := tbl.Read(warehouse.ReadOptions{Columns: []string{"id", "name", "score", "pair", "m", "st", "even", "day", "ds"}, Start: "2023-11-02"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if b.Len() != 1000 {
		t.Fatalf("read %d rows from ds=2023-11-02, want 1000", b.Len())
	}
	for row := 0; row < b.Len(); row++ {
		i := b.Col("id").Ints[row]
		wantRow := []any{i, fmt.Sprintf("user_%d", i%3), float64(i) * 1.5, []any{i, i + 1},
			&types.MapValue{}, types.StructValue{i, []any{fmt.Sprintf("x%d", i)}}, false, int64(19662 + 1), "2023-11-02"}
		var gotRow []any
		for _, c := range b.Cols {
			gotRow = append(gotRow, c.Value(row))
		}
		if !reflect.DeepEqual(gotRow, wantRow) {
			t.Errorf("row %d:\n got %#v\nwant %#v", row, gotRow, wantRow)
		}
	}
	// The other partition has the maps, nulls and even ids.
	r, _ = tbl.Read(warehouse.ReadOptions{Columns: []string{"id", "score", "m"}, End: "2023-11-01"})
	b, err = r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	for row := 0; row < b.Len(); row++ {
		i := b.Cols[0].Ints[row]
		var score any = float64(i) * 1.5
		if i%4 == 0 {
			score = nil
		}
		if got := b.Cols[1].Value(row); got != score {
			t.Errorf("id %d: score %v, want %v", i, got, score)
		}
		if got := b.Cols[2].Value(row); !reflect.DeepEqual(got, &types.MapValue{Keys: []any{"k"}, Values: []any{i}}) {
			t.Errorf("id %d: map %#v", i, got)
		}
	}
}

// assertDictionaryEncoded makes sure the test really covers dictionary pages: DuckDB's name column.
func assertDictionaryEncoded(t *testing.T, dir string) {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "ds=2023-11-01", "*.parquet"))
	if len(files) == 0 {
		t.Fatal("DuckDB wrote no files")
	}
	f, err := os.Open(files[0])
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	pf, err := parquet.OpenFile(f, st.Size())
	if err != nil {
		t.Fatal(err)
	}
	col := pf.Metadata().RowGroups[0].Columns[1].MetaData
	if col.DictionaryPageOffset == 0 {
		t.Fatalf("column %v is not dictionary-encoded (encodings %v)", col.PathInSchema, col.Encoding)
	}
}

// TestDuckDBReadsOurFiles checks our writer against an independent reader: every data kind, nulls
// at every nesting level, empty lists and maps.
func TestDuckDBReadsOurFiles(t *testing.T) {
	w, _ := warehouse.Open(t.TempDir())
	s := types.Schema{
		{Name: "b", Type: types.BooleanType}, {Name: "i", Type: types.IntType}, {Name: "l", Type: types.LongType},
		{Name: "f", Type: types.FloatType}, {Name: "d", Type: types.DoubleType}, {Name: "s", Type: types.StringType},
		{Name: "bin", Type: types.BinaryType}, {Name: "dt", Type: types.DateType}, {Name: "tsp", Type: types.TimestampType},
		{Name: "ls", Type: types.ListOf(types.LongType)},
		{Name: "m", Type: types.MapOf(types.StringType, types.IntType)},
		{Name: "st", Type: types.StructOf("", types.Field{Name: "z", Type: types.StringType}, types.Field{Name: "a", Type: types.ListOf(types.DoubleType)})},
		{Name: "lls", Type: types.ListOf(types.ListOf(types.StringType))},
	}
	rows := [][]any{
		{true, int64(1), int64(1 << 40), 1.5, 2.25, "x", []byte("hi"), int64(19662), int64(1701320475123000),
			[]any{int64(3), nil, int64(5)}, &types.MapValue{Keys: []any{"k1", "k2"}, Values: []any{int64(7), nil}},
			types.StructValue{"zz", []any{1.0, nil}}, []any{[]any{"a"}, []any{}, nil, []any{"b", nil}}},
		{nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil},
		{false, int64(-2), int64(0), 0.0, -1.0, "", []byte{}, int64(0), int64(0), []any{}, &types.MapValue{},
			types.StructValue{nil, nil}, []any{}},
	}
	b := types.NewBatch(s, len(rows))
	for _, r := range rows {
		for i, v := range r {
			b.Cols[i].Append(v)
		}
	}
	if err := w.WritePartition("db.all", warehouse.TableSpec{Schema: s, PartitionColumns: []string{"ds"}}, []string{"2023-11-30"}, b); err != nil {
		t.Fatal(err)
	}
	sh, err := Open(context.Background(), w)
	if err != nil {
		t.Fatal(err)
	}
	defer sh.Close()
	r, err := sh.Run(context.Background(), "SELECT * FROM db.all ORDER BY l NULLS LAST")
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	Write(&out, r, "json")
	want := `{"b":false,"i":-2,"l":0,"f":0.0,"d":-1.0,"s":"","bin":"","dt":"1970-01-01","tsp":"1970-01-01 00:00:00","ls":[],"m":{},"st":{"a":null,"z":null},"lls":[],"ds":"2023-11-30"}
{"b":true,"i":1,"l":1099511627776,"f":1.5,"d":2.25,"s":"x","bin":"aGk=","dt":"2023-11-01","tsp":"2023-11-30 05:01:15.123","ls":[3,null,5],"m":{"k1":7,"k2":null},"st":{"a":[1.0,null],"z":"zz"},"lls":[["a"],[],null,["b",null]],"ds":"2023-11-30"}
{"b":null,"i":null,"l":null,"f":null,"d":null,"s":null,"bin":null,"dt":null,"tsp":null,"ls":null,"m":null,"st":null,"lls":null,"ds":"2023-11-30"}
`
	if out.String() != want {
		t.Fatalf("DuckDB reads:\n%s\nwant:\n%s", out.String(), want)
	}
	if typ := strings.Join(r.Types, ","); typ != `BOOLEAN,INTEGER,BIGINT,FLOAT,DOUBLE,VARCHAR,BLOB,DATE,TIMESTAMPTZ,BIGINT[],MAP(VARCHAR, INTEGER),STRUCT("z" VARCHAR, "a" DOUBLE[]),VARCHAR[][],VARCHAR` {
		t.Errorf("DuckDB types: %s", typ)
	}
}
