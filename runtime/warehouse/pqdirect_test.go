package warehouse

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/encoding/rle"
	"github.com/parquet-go/parquet-go/format"

	"github.com/chronon-go/chronon/runtime/types"
)

// WriteTestFile writes batches to a new Parquet file with directWriter (direct) or parquet-go's
// writer, with row groups of rgRows rows (direct only; 0 keeps rowGroupRows). The DuckDB test in
// package warehouse_test compares the two files.
func WriteTestFile(path string, s types.Schema, direct bool, rgRows int, batches ...*types.Batch) error {
	w, err := openFileWriter(path, s, direct)
	if err != nil {
		return err
	}
	if direct && rgRows > 0 {
		w.direct.rgRows = rgRows
	}
	for _, b := range batches {
		if err := w.Write(b); err != nil {
			w.Close()
			return err
		}
	}
	return w.Close()
}

// RandomPrimitiveSchema and RandomPrimitiveRows make the data of the direct writer's tests.
var (
	RandomPrimitiveSchema = directTestSchema
	RandomPrimitiveRows   = directTestRows
)

var directTestKinds = []*types.Type{types.BooleanType, types.ByteType, types.ShortType, types.IntType,
	types.LongType, types.FloatType, types.DoubleType, types.StringType, types.BinaryType, types.DateType,
	types.TimestampType}

// directTestSchema has a row number, every primitive kind and a list of every primitive kind.
func directTestSchema() types.Schema {
	s := types.Schema{{Name: "id", Type: types.LongType}}
	for _, t := range directTestKinds {
		s = append(s, types.Field{Name: "c_" + t.String(), Type: t})
	}
	for _, t := range directTestKinds {
		s = append(s, types.Field{Name: "l_" + t.String(), Type: types.ListOf(t)})
	}
	return s
}

// directTestRows returns n random rows: ~1/6 nulls, lists of 0..5 elements with nil elements, and
// values at the edges of each kind's range.
func directTestRows(rng *rand.Rand, s types.Schema, n int) [][]any {
	rows := make([][]any, n)
	for i := range rows {
		row := []any{int64(i)}
		for _, f := range s[1:] {
			if rng.IntN(6) == 0 {
				row = append(row, nil)
				continue
			}
			if f.Type.Kind != types.List {
				row = append(row, directTestValue(rng, f.Type))
				continue
			}
			items := make([]any, rng.IntN(6))
			for j := range items {
				if rng.IntN(5) > 0 {
					items[j] = directTestValue(rng, f.Type.Elem)
				}
			}
			row = append(row, items)
		}
		rows[i] = row
	}
	return rows
}

func directTestValue(rng *rand.Rand, t *types.Type) any {
	edge := rng.IntN(8) == 0
	switch t.Kind {
	case types.Boolean:
		return rng.IntN(2) == 0
	case types.Byte:
		if edge {
			return []int64{math.MinInt8, math.MaxInt8}[rng.IntN(2)]
		}
		return int64(int8(rng.Uint32()))
	case types.Short:
		if edge {
			return []int64{math.MinInt16, math.MaxInt16}[rng.IntN(2)]
		}
		return int64(int16(rng.Uint32()))
	case types.Int, types.Date:
		if edge {
			return []int64{math.MinInt32, math.MaxInt32, 0}[rng.IntN(3)]
		}
		return int64(int32(rng.Uint32())) / int64(1+rng.IntN(1000))
	case types.Long, types.Timestamp:
		if edge {
			return []int64{math.MinInt64, math.MaxInt64, 0, -1}[rng.IntN(4)]
		}
		return int64(rng.Uint64()) >> rng.IntN(64)
	case types.Float:
		if edge {
			return []float64{0, math.Copysign(0, -1), math.Inf(1), math.Inf(-1), math.MaxFloat32}[rng.IntN(5)]
		}
		return float64(float32(rng.NormFloat64() * 1000))
	case types.Double:
		if edge {
			return []float64{0, math.Copysign(0, -1), math.Inf(1), math.Inf(-1), math.MaxFloat64, math.SmallestNonzeroFloat64}[rng.IntN(6)]
		}
		return rng.NormFloat64() * 1e6
	case types.String:
		if edge {
			return []string{"", "\xff\xfe", "é", "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz"}[rng.IntN(4)]
		}
		b := make([]byte, rng.IntN(12))
		for i := range b {
			b[i] = byte('a' + rng.IntN(26))
		}
		return string(b)
	case types.Binary:
		b := make([]byte, rng.IntN(6))
		for i := range b {
			b[i] = byte(rng.IntN(256))
		}
		return b
	}
	panic(t.String())
}

// sameValue compares boxed values, an empty and a nil []byte alike (a reader may return either).
func sameValue(a, b any) bool {
	switch x := a.(type) {
	case []byte:
		y, ok := b.([]byte)
		return ok && bytes.Equal(x, y)
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) || (x == nil) != (y == nil) {
			return false
		}
		for i := range x {
			if !sameValue(x[i], y[i]) {
				return false
			}
		}
		return true
	case float64:
		y, ok := b.(float64)
		return ok && math.Float64bits(x) == math.Float64bits(y) // -0 and +0 differ
	}
	return reflect.DeepEqual(a, b)
}

func readFileRows(t *testing.T, path string) [][]any {
	t.Helper()
	r, err := ReadFile(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rowsOf(b)
}

// parquetGoRows reads every row of a file with parquet-go's generic row reader.
func parquetGoRows(t *testing.T, path string) (*parquet.File, []parquet.Row) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	st, _ := f.Stat()
	pf, err := parquet.OpenFile(f, st.Size())
	if err != nil {
		t.Fatal(err)
	}
	var out []parquet.Row
	buf := make([]parquet.Row, 100)
	for _, rg := range pf.RowGroups() {
		rows := rg.Rows()
		for {
			n, err := rows.ReadRows(buf)
			for _, r := range buf[:n] {
				out = append(out, r.Clone())
			}
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		rows.Close()
	}
	return pf, out
}

// batchesOf cuts rows into batches of random sizes, so writes start and end anywhere in row groups
// and pages.
func batchesOf(rng *rand.Rand, s types.Schema, rows [][]any) []*types.Batch {
	var out []*types.Batch
	for len(rows) > 0 {
		n := min(len(rows), 1+rng.IntN(3000))
		out = append(out, batchOf(s, rows[:n]))
		rows = rows[n:]
	}
	return out
}

// TestDirectWriterRandom writes random rows of every primitive and list<primitive> kind (nulls,
// empty lists, null elements, range edges) with directWriter in small row groups, then checks that
// our Reader returns the rows written, and that parquet-go sees the same schema, column orders and
// rows (values with their levels) as in the file its own writer makes of the same batches.
func TestDirectWriterRandom(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	rng := rand.New(rand.NewPCG(seed, 11))
	s := directTestSchema()
	rows := directTestRows(rng, s, 5000+rng.IntN(20000))
	batches := batchesOf(rng, s, rows)
	rgRows := 1 + rng.IntN(4000)
	dir := t.TempDir()
	direct, legacy := filepath.Join(dir, "direct.parquet"), filepath.Join(dir, "legacy.parquet")
	if err := WriteTestFile(direct, s, true, rgRows, batches...); err != nil {
		t.Fatalf("seed %d: %v", seed, err)
	}
	if err := WriteTestFile(legacy, s, false, 0, batches...); err != nil {
		t.Fatalf("seed %d: %v", seed, err)
	}

	got := readFileRows(t, direct)
	if len(got) != len(rows) {
		t.Fatalf("seed %d: read %d rows, wrote %d", seed, len(got), len(rows))
	}
	for i := range rows {
		for c := range s {
			if !sameValue(got[i][c], rows[i][c]) {
				t.Fatalf("seed %d: row %d column %s: read %s, wrote %s", seed, i, s[c].Name, render(got[i][c]), render(rows[i][c]))
			}
		}
	}

	pd, dr := parquetGoRows(t, direct)
	pl, lr := parquetGoRows(t, legacy)
	md, ml := pd.Metadata(), pl.Metadata()
	if !reflect.DeepEqual(md.Schema, ml.Schema) {
		t.Fatalf("schema:\n%+v\nparquet-go writes\n%+v", md.Schema, ml.Schema)
	}
	if !reflect.DeepEqual(md.ColumnOrders, ml.ColumnOrders) || md.CreatedBy != ml.CreatedBy || md.Version != ml.Version {
		t.Fatalf("footer: orders %v created by %q version %d; parquet-go writes %v %q %d", md.ColumnOrders, md.CreatedBy, md.Version, ml.ColumnOrders, ml.CreatedBy, ml.Version)
	}
	if want := (len(rows) + rgRows - 1) / rgRows; len(md.RowGroups) != want || md.NumRows != int64(len(rows)) {
		t.Fatalf("seed %d: %d row groups, %d rows; want %d, %d", seed, len(md.RowGroups), md.NumRows, want, len(rows))
	}
	if len(dr) != len(lr) {
		t.Fatalf("seed %d: parquet-go reads %d rows, %d from its own file", seed, len(dr), len(lr))
	}
	for i := range dr {
		if !dr[i].Equal(lr[i]) {
			t.Fatalf("seed %d: parquet-go reads row %d as\n%v\nfrom its own file\n%v", seed, i, dr[i], lr[i])
		}
	}
	checkStatistics(t, seed, pd, rows, s)
}

// checkStatistics recomputes every column chunk's null count and bounds from the rows written,
// independently of colStats: bounds in the column's order (NaN left out, a zero min written as -0 and
// a zero max as +0), encoded as PLAIN little-endian bytes.
func checkStatistics(t *testing.T, seed uint64, pf *parquet.File, rows [][]any, s types.Schema) {
	t.Helper()
	first := 0
	for g, rg := range pf.Metadata().RowGroups {
		part := rows[first : first+int(rg.NumRows)]
		first += int(rg.NumRows)
		for c, cc := range rg.Columns {
			et := s[c].Type
			if et.Kind == types.List {
				et = et.Elem
			}
			var nulls int64
			var present []any
			for _, r := range part {
				vals := []any{r[c]}
				if s[c].Type.Kind == types.List && r[c] != nil {
					vals = r[c].([]any)
					if len(vals) == 0 {
						vals = []any{nil} // an empty list is one null slot
					}
				}
				for _, v := range vals {
					if v == nil {
						nulls++
					} else if f, ok := v.(float64); !ok || !math.IsNaN(f) {
						present = append(present, v)
					}
				}
			}
			less := func(a, b any) bool {
				switch x := a.(type) {
				case bool:
					return !x && b.(bool)
				case int64:
					return x < b.(int64)
				case float64:
					return x < b.(float64)
				case string:
					return x < b.(string)
				}
				return bytes.Compare(a.([]byte), b.([]byte)) < 0
			}
			var lo, hi any
			for _, v := range present {
				if lo == nil || less(v, lo) {
					lo = v
				}
				if hi == nil || less(hi, v) {
					hi = v
				}
			}
			enc := func(v any, isMin bool) []byte {
				switch x := v.(type) {
				case nil:
					return nil
				case bool:
					if x {
						return []byte{1}
					}
					return []byte{0}
				case int64:
					if phys, _ := physicalOf(et.Kind); phys == format.Int32 {
						return binary.LittleEndian.AppendUint32(nil, uint32(int32(x)))
					}
					return binary.LittleEndian.AppendUint64(nil, uint64(x))
				case float64:
					if x == 0 {
						x = math.Copysign(0, map[bool]float64{true: -1, false: 1}[isMin])
					}
					if et.Kind == types.Float {
						return binary.LittleEndian.AppendUint32(nil, math.Float32bits(float32(x)))
					}
					return binary.LittleEndian.AppendUint64(nil, math.Float64bits(x))
				case string:
					return []byte(x)
				}
				return v.([]byte)
			}
			got := cc.MetaData.Statistics
			wantMin, wantMax := enc(lo, true), enc(hi, false)
			if got.NullCount != nulls || !bytes.Equal(got.MinValue, wantMin) || !bytes.Equal(got.MaxValue, wantMax) ||
				(got.MinValue == nil) != (lo == nil) || (got.MaxValue == nil) != (hi == nil) {
				t.Fatalf("seed %d: row group %d column %s: statistics %+v, want nulls %d min %v max %v", seed, g, s[c].Name, got, nulls, wantMin, wantMax)
			}
		}
	}
}

// TestDirectWriterStatisticsAsParquetGo compares chunk statistics with parquet-go's for one row
// group of data without zeros or NaNs (where the two may legitimately differ in the sign of a zero
// bound).
func TestDirectWriterStatisticsAsParquetGo(t *testing.T) {
	b := joinOutputBatch(20000)
	dir := t.TempDir()
	direct, legacy := filepath.Join(dir, "direct.parquet"), filepath.Join(dir, "legacy.parquet")
	if err := WriteTestFile(direct, b.Schema, true, 0, b); err != nil {
		t.Fatal(err)
	}
	if err := WriteTestFile(legacy, b.Schema, false, 0, b); err != nil {
		t.Fatal(err)
	}
	pd, _ := parquetGoRows(t, direct)
	pl, _ := parquetGoRows(t, legacy)
	for c, cc := range pd.Metadata().RowGroups[0].Columns {
		got, want := cc.MetaData, pl.Metadata().RowGroups[0].Columns[c].MetaData
		zero := []byte{0, 0, 0, 0, 0, 0, 0, 0}
		if got.Type == format.Double && bytes.Equal(want.Statistics.MinValue, zero) {
			want.Statistics.MinValue = []byte{0, 0, 0, 0, 0, 0, 0, 0x80} // -0: see colStats.format
		}
		if !reflect.DeepEqual(got.Statistics, want.Statistics) || got.NumValues != want.NumValues || got.Type != want.Type ||
			!reflect.DeepEqual(got.PathInSchema, want.PathInSchema) || got.Codec != want.Codec {
			t.Errorf("column %v: %+v\nparquet-go: %+v", got.PathInSchema, got.Statistics, want.Statistics)
		}
	}
}

// TestDirectWriterPageSize checks that pages of long strings and lists are cut near directPageBytes:
// the writer checks the page size every few rows, as often as the rows' size needs.
func TestDirectWriterPageSize(t *testing.T) {
	s := types.Schema{{Name: "s", Type: types.StringType}, {Name: "l", Type: types.ListOf(types.LongType)}}
	var rows [][]any
	for i := 0; i < 40; i++ {
		items := make([]any, 5000+i)
		for j := range items {
			items[j] = int64(j)
		}
		rows = append(rows, []any{strings.Repeat(string(rune('a'+i%26)), 100_000+i), items})
	}
	path := filepath.Join(t.TempDir(), "big.parquet")
	if err := WriteTestFile(path, s, true, 0, batchOf(s, rows)); err != nil {
		t.Fatal(err)
	}
	pf, _ := parquetGoRows(t, path)
	for c, name := range []string{"s", "l"} {
		pages := pf.RowGroups()[0].ColumnChunks()[c].Pages()
		n := 0
		for {
			p, err := pages.ReadPage()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			n++
			// a page holds at most the rows that reach directPageBytes: 3 strings of 100 kB, 7 lists
			// of 5000 longs (45 kB with their levels)
			if max := map[string]int64{"s": 3, "l": 6}[name]; p.NumRows() > max {
				t.Errorf("column %s: page %d has %d rows", name, n, p.NumRows())
			}
		}
		pages.Close()
		if n < 6 {
			t.Errorf("column %s: %d pages", name, n)
		}
	}
	if got := readFileRows(t, path); !reflect.DeepEqual(got, rows) {
		t.Fatal("rows differ")
	}
}

// TestDirectWriterListEdges writes the list rows the shredder distinguishes, in columns built by hand
// (as operators build them): a null row (Nulls), a nil value in a column without Nulls, an empty
// list, a list of a nil, nils among values. Both writers must produce files that read back alike.
func TestDirectWriterListEdges(t *testing.T) {
	s := types.Schema{{Name: "l", Type: types.ListOf(types.LongType)}, {Name: "d", Type: types.ListOf(types.DoubleType)},
		{Name: "s", Type: types.ListOf(types.StringType)}, {Name: "n", Type: types.ListOf(types.LongType)}}
	vals := map[string][]any{
		"l": {nil, []any{}, []any{nil}, []any{int64(1), nil, int64(-2)}, []any{int64(7)}},
		"d": {nil, []any{}, []any{nil}, []any{1.5, nil, -2.0}, []any{0.0}},
		"s": {nil, []any{}, []any{nil}, []any{"a", nil, ""}, []any{"z"}},
	}
	b := &types.Batch{Schema: s}
	for _, f := range s[:3] {
		b.Cols = append(b.Cols, &types.Column{Type: f.Type, Values: vals[f.Name]}) // no Nulls: row 0 is a nil value
	}
	b.Cols = append(b.Cols, &types.Column{Type: s[3].Type, Nulls: []bool{true, false, false, false, true},
		Values: []any{nil, []any{}, []any{nil}, []any{int64(3)}, nil}})
	dir := t.TempDir()
	direct, legacy := filepath.Join(dir, "direct.parquet"), filepath.Join(dir, "legacy.parquet")
	if err := WriteTestFile(direct, s, true, 0, b); err != nil {
		t.Fatal(err)
	}
	if err := WriteTestFile(legacy, s, false, 0, b); err != nil {
		t.Fatal(err)
	}
	got, want := readFileRows(t, direct), readFileRows(t, legacy)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("direct writer's file reads\n%s\nparquet-go's\n%s", render(toAny(got)), render(toAny(want)))
	}
	// the levels the shredder assigns: a nil value without a null flag is an empty list
	if fmt.Sprint(got[0]) != "[[] [] [] <nil>]" || fmt.Sprint(got[4]) != "[[7] [0] [z] <nil>]" {
		t.Fatalf("rows 0 and 4 read %v and %v", got[0], got[4])
	}
}

func toAny(rows [][]any) []any {
	out := make([]any, len(rows))
	for i, r := range rows {
		out[i] = r
	}
	return out
}

// TestDirectWriterEmpty writes a file without rows: readers see the schema and no rows.
func TestDirectWriterEmpty(t *testing.T) {
	s := directTestSchema()
	path := filepath.Join(t.TempDir(), "empty.parquet")
	if err := WriteTestFile(path, s, true, 0); err != nil {
		t.Fatal(err)
	}
	if rows := readFileRows(t, path); len(rows) != 0 {
		t.Fatalf("read %d rows", len(rows))
	}
	r, err := ReadFile(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(r.Schema(), s) {
		t.Fatalf("schema %v, want %v", r.Schema(), s)
	}
	if _, rows := parquetGoRows(t, path); len(rows) != 0 {
		t.Fatalf("parquet-go reads %d rows", len(rows))
	}
}

// TestAppendLevels decodes random level runs (lengths around the RLE / bit-packing thresholds) with
// parquet-go's decoder.
func TestAppendLevels(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	rng := rand.New(rand.NewPCG(seed, 3))
	for iter := 0; iter < 2000; iter++ {
		width := 1 + rng.IntN(3)
		var lv []byte
		for len(lv) < rng.IntN(300) {
			v := byte(rng.IntN(1 << width))
			n := 1 + rng.IntN(20)
			if rng.IntN(3) == 0 {
				n = 1
			}
			for ; n > 0; n-- {
				lv = append(lv, v)
			}
		}
		enc := appendLevels([]byte{0xAA}, lv, width)[1:]
		dec, err := (&rle.Encoding{BitWidth: width}).DecodeLevels(nil, enc)
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		// bit-packed groups are padded to eight levels; the page header bounds how many are read
		if len(dec) < len(lv) || !bytes.Equal(dec[:len(lv)], lv) || len(dec) >= len(lv)+8 {
			t.Fatalf("seed %d: width %d levels %v decode as %v", seed, width, lv, dec)
		}
	}
}

// TestDirectWriterUsed pins which writer the schemas select: list<primitive> and primitives go
// direct, anything nested keeps parquet-go.
func TestDirectWriterUsed(t *testing.T) {
	for _, c := range []struct {
		s    types.Schema
		want bool
	}{
		{directTestSchema(), true},
		{allTypesSchema(), false},
		{types.Schema{{Name: "m", Type: types.MapOf(types.StringType, types.LongType)}}, false},
		{types.Schema{{Name: "ll", Type: types.ListOf(types.ListOf(types.LongType))}}, false},
	} {
		path := filepath.Join(t.TempDir(), "f.parquet")
		w, err := newFileWriter(path, c.s)
		if err != nil {
			t.Fatal(err)
		}
		if (w.direct != nil) != c.want {
			t.Errorf("%v: direct %v, want %v", c.s.Names(), w.direct != nil, c.want)
		}
		w.Close()
	}
}

// TestDirectWriterCompactLists writes random list columns of every integer and floating-point kind
// (null and empty lists, range edges) once boxed and once compact (types.NumList, as the backfill's
// LAST_K outputs are): both writers must produce the same file as from the boxed columns.
func TestDirectWriterCompactLists(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	rng := rand.New(rand.NewPCG(seed, 13))
	s := types.Schema{{Name: "id", Type: types.LongType}}
	for _, k := range directTestKinds {
		if lt := types.ListOf(k); types.CompactListType(lt) {
			s = append(s, types.Field{Name: "l_" + k.String(), Type: lt})
		}
	}
	rows := directTestRows(rng, s, 1000+rng.IntN(10000))
	for _, row := range rows {
		for c := 1; c < len(row); c++ {
			// Compact lists have no null elements (LAST_K and FIRST_K skip nulls).
			if items, ok := row[c].([]any); ok {
				kept := []any{}
				for _, v := range items {
					if v != nil {
						kept = append(kept, v)
					}
				}
				row[c] = kept
			}
		}
	}
	batches := batchesOf(rng, s, rows)
	compact := make([]*types.Batch, len(batches))
	for i, b := range batches {
		compact[i] = &types.Batch{Schema: s, Cols: append([]*types.Column(nil), b.Cols...)}
		for c := 1; c < len(s); c++ {
			col := types.NewCompactListColumn(s[c].Type, b.Len())
			for r := 0; r < b.Len(); r++ {
				col.Append(b.Cols[c].Value(r))
			}
			if col.List == nil {
				t.Fatalf("seed %d: column %s is not compact", seed, s[c].Name)
			}
			compact[i].Cols[c] = col
		}
	}
	rgRows := 1 + rng.IntN(4000)
	dir := t.TempDir()
	for _, direct := range []bool{true, false} {
		boxedPath, compactPath := filepath.Join(dir, fmt.Sprint("boxed", direct)), filepath.Join(dir, fmt.Sprint("compact", direct))
		if err := WriteTestFile(boxedPath, s, direct, rgRows, batches...); err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		if err := WriteTestFile(compactPath, s, direct, rgRows, compact...); err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		a, _ := os.ReadFile(boxedPath)
		b, _ := os.ReadFile(compactPath)
		if !bytes.Equal(a, b) {
			t.Fatalf("seed %d: direct=%v: the file of compact lists differs from that of boxed lists", seed, direct)
		}
	}
	got := readFileRows(t, filepath.Join(dir, "compacttrue"))
	for i := range rows {
		for c := range s {
			if !sameValue(got[i][c], rows[i][c]) {
				t.Fatalf("seed %d: row %d column %s: read %s, wrote %s", seed, i, s[c].Name, render(got[i][c]), render(rows[i][c]))
			}
		}
	}
}
