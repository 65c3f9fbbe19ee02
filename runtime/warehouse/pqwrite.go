package warehouse

import (
	"bufio"
	"fmt"
	"os"
	"unsafe"

	"github.com/parquet-go/parquet-go"

	"github.com/chronon-go/chronon/runtime/types"
)

// rowGroupRows bounds a row group, so readers (ours iterate row groups) hold at most this many rows of
// the projected columns in memory.
const rowGroupRows = 128 * 1024

// fileWriter writes batches of one schema into one Parquet file, column by column: each column of a
// chunk of rows becomes one run of Parquet values handed to that column's writer, which avoids
// assembling rows only for parquet-go to split them into columns again.
type fileWriter struct {
	schema types.Schema
	f      *os.File
	buf    *bufio.Writer
	pw     *parquet.Writer
	// leafBase is the first leaf (Parquet column) of each column; nested columns have a shredder.
	leafBase  []int
	shredders []*shredder
	vals      []parquet.Value // values of one flat column chunk, reused
	pending   int             // rows in the current row group
	total     int64
	// direct, when set, writes the file instead (all columns primitive or list<primitive>: see
	// pqdirect.go); the fields above are then unused.
	direct *directWriter
}

func newFileWriter(path string, s types.Schema) (*fileWriter, error) {
	return openFileWriter(path, s, directSupported(s))
}

// openFileWriter creates the file; direct selects directWriter, which the schema must support (tests
// write the same rows both ways to compare the files).
func openFileWriter(path string, s types.Schema, direct bool) (*fileWriter, error) {
	ps, err := parquetSchema(s)
	if err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, err
	}
	if direct {
		d := newDirectWriter(f, s, ps)
		if err := d.start(); err != nil {
			f.Close()
			return nil, err
		}
		return &fileWriter{schema: s, f: f, direct: d}, nil
	}
	buf := bufio.NewWriterSize(f, 1<<20)
	w := &fileWriter{
		schema: s, f: f, buf: buf,
		pw:        parquet.NewWriter(buf, ps, parquet.Compression(&parquet.Snappy), parquet.CreatedBy("chronon-go", "", "")),
		leafBase:  make([]int, len(s)),
		shredders: make([]*shredder, len(s)),
	}
	leaf := 0
	for c, f := range s {
		w.leafBase[c] = leaf
		n := countLeaves(f.Type)
		if !isPrimitive(f.Type) {
			w.shredders[c] = &shredder{leaves: make([][]parquet.Value, n), base: leaf}
		}
		leaf += n
	}
	return w, nil
}

// Write appends a batch whose schema has the writer's column names and types, in order.
func (w *fileWriter) Write(b *types.Batch) error {
	if err := checkBatch(w.schema, b); err != nil {
		return err
	}
	if w.direct != nil {
		return w.direct.Write(b)
	}
	b = types.ExpandedBatch(b) // the shredder reads boxed lists
	n := b.Len()
	const chunk = 4096
	for start := 0; start < n; {
		// Row groups end between chunks, so a chunk never spans two.
		end := min(start+chunk, n, start+rowGroupRows-w.pending)
		cws := w.pw.ColumnWriters()
		for c, col := range b.Cols {
			if err := w.writeColumn(cws, c, col, start, end); err != nil {
				return fmt.Errorf("column %s: %w", w.schema[c].Name, err)
			}
		}
		w.pending += end - start
		w.total += int64(end - start)
		if w.pending >= rowGroupRows {
			if err := w.pw.Flush(); err != nil {
				return err
			}
			w.pending = 0
		}
		start = end
	}
	return nil
}

// writeColumn writes rows [start, end) of column c to its leaf column writers.
func (w *fileWriter) writeColumn(cws []*parquet.ColumnWriter, c int, col *types.Column, start, end int) error {
	leaf := w.leafBase[c]
	sh := w.shredders[c]
	if sh == nil {
		vals := w.vals[:0]
		for i := start; i < end; i++ {
			if col.IsNull(i) {
				vals = append(vals, parquet.NullValue().Level(0, 0, leaf))
			} else {
				vals = append(vals, flatValue(col, i).Level(0, 1, leaf))
			}
		}
		w.vals = vals
		_, err := cws[leaf].WriteRowValues(vals)
		return err
	}
	for l := range sh.leaves {
		sh.leaves[l] = sh.leaves[l][:0]
	}
	if col.Type.Kind == types.List && isPrimitive(col.Type.Elem) {
		sh.primitiveLists(col, start, end)
	} else {
		for i := start; i < end; i++ {
			sh.shred(col.Type, col.Value(i), 0, 0, 0, 0)
		}
	}
	for l, vs := range sh.leaves {
		if _, err := cws[leaf+l].WriteRowValues(vs); err != nil {
			return err
		}
	}
	return nil
}

func isPrimitive(t *types.Type) bool {
	switch t.Kind {
	case types.List, types.Map, types.Struct:
		return false
	}
	return true
}

// Close finishes the file and syncs it to disk, so a committed partition survives a crash.
func (w *fileWriter) Close() error {
	if w.direct != nil {
		return w.direct.Close()
	}
	return finishFile(w.pw.Close(), w.buf, w.f)
}

// finishFile flushes buf to f, syncs and closes f (always), and returns the first error, err
// (from writing the footer) first.
func finishFile(err error, buf *bufio.Writer, f *os.File) error {
	if err == nil {
		err = buf.Flush()
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

func checkBatch(s types.Schema, b *types.Batch) error {
	if err := b.Validate(); err != nil {
		return err
	}
	if len(b.Schema) != len(s) {
		return fmt.Errorf("batch has columns %v, the writer expects %v", b.Schema.Names(), s.Names())
	}
	for i, f := range s {
		if b.Schema[i].Name != f.Name || !b.Schema[i].Type.Equal(f.Type) {
			return fmt.Errorf("batch column %d is %s %s, the writer expects %s %s", i, b.Schema[i].Name, b.Schema[i].Type, f.Name, f.Type)
		}
	}
	return nil
}

func countLeaves(t *types.Type) int {
	switch t.Kind {
	case types.List:
		return countLeaves(t.Elem)
	case types.Map:
		return countLeaves(t.Key) + countLeaves(t.Value)
	case types.Struct:
		n := 0
		for _, f := range t.Fields {
			n += countLeaves(f.Type)
		}
		return n
	}
	return 1
}

// flatValue converts row i of a primitive column without boxing; strings are not copied (the writer
// copies values into its own buffers).
func flatValue(c *types.Column, i int) parquet.Value {
	switch c.Type.Kind {
	case types.Long, types.Timestamp:
		return parquet.Int64Value(c.Ints[i])
	case types.String:
		s := c.Strs[i]
		return parquet.ByteArrayValue(unsafe.Slice(unsafe.StringData(s), len(s)))
	case types.Double:
		return parquet.DoubleValue(c.Floats[i])
	}
	return primitive(c.Type, c.Value(i))
}

// primitive converts a boxed leaf value to its Parquet physical value.
func primitive(t *types.Type, v any) parquet.Value {
	switch t.Kind {
	case types.Boolean:
		return parquet.BooleanValue(v.(bool))
	case types.Byte, types.Short, types.Int, types.Date:
		return parquet.Int32Value(int32(v.(int64)))
	case types.Long, types.Timestamp:
		return parquet.Int64Value(v.(int64))
	case types.Float:
		return parquet.FloatValue(float32(v.(float64)))
	case types.Double:
		return parquet.DoubleValue(v.(float64))
	case types.String:
		// not copied: the writer copies values into its own buffers
		str := v.(string)
		return parquet.ByteArrayValue(unsafe.Slice(unsafe.StringData(str), len(str)))
	case types.Binary:
		return parquet.ByteArrayValue(v.([]byte))
	}
	panic(fmt.Sprintf("warehouse: %s is not a primitive type", t))
}

// shredder turns one nested value into Parquet leaf values with repetition and definition levels
// (the Dremel encoding), for the node shapes parquetNode builds: every node optional, lists and maps
// in the standard three-level form with a required map key.
type shredder struct {
	leaves [][]parquet.Value
	base   int // column index of the first leaf
}

// shred emits v (of type t, an optional node) starting at leaf index leaf. r is the repetition level of
// the first value emitted, d the definition level of the enclosing node, depth the number of repeated
// ancestors. It returns the index after the last leaf of t.
func (s *shredder) shred(t *types.Type, v any, r, d, depth, leaf int) int {
	if v == nil {
		return s.nulls(t, r, d, leaf)
	}
	switch t.Kind {
	case types.Struct:
		sv := v.(types.StructValue)
		for i, f := range t.Fields {
			var fv any
			if i < len(sv) {
				fv = sv[i]
			}
			leaf = s.shred(f.Type, fv, r, d+1, depth, leaf)
		}
		return leaf
	case types.List:
		items := v.([]any)
		if len(items) == 0 {
			return s.nulls(t, r, d+1, leaf)
		}
		end := leaf
		for i, e := range items {
			rr := r
			if i > 0 {
				rr = depth + 1
			}
			end = s.shred(t.Elem, e, rr, d+2, depth+1, leaf)
		}
		return end
	case types.Map:
		m := v.(*types.MapValue)
		if len(m.Keys) == 0 {
			return s.nulls(t, r, d+1, leaf)
		}
		end := leaf
		for i := range m.Keys {
			rr := r
			if i > 0 {
				rr = depth + 1
			}
			// the key is required: present at d+2, so shred it as an optional node one level up
			k := s.shred(t.Key, m.Keys[i], rr, d+1, depth+1, leaf)
			end = s.shred(t.Value, m.Values[i], rr, d+2, depth+1, k)
		}
		return end
	}
	s.leaves[leaf] = append(s.leaves[leaf], primitive(t, v).Level(r, d+1, s.base+leaf))
	return leaf + 1
}

func (s *shredder) nulls(t *types.Type, r, d, leaf int) int {
	n := countLeaves(t)
	for i := 0; i < n; i++ {
		s.leaves[leaf+i] = append(s.leaves[leaf+i], parquet.NullValue().Level(r, d, s.base+leaf+i))
	}
	return leaf + n
}

// primitiveLists shreds rows [start, end) of a list<primitive> column (the LAST_K / FIRST_K / bucket
// shape) without the general recursion: the levels are those shred assigns, with the list node at
// definition level 1, its repeated group at 2 and the element at 3.
func (s *shredder) primitiveLists(col *types.Column, start, end int) {
	out := s.leaves[0]
	et := col.Type.Elem
	leaf := s.base
	for i := start; i < end; i++ {
		var items []any
		if !col.IsNull(i) {
			items, _ = col.Value(i).([]any)
			if items == nil {
				out = append(out, parquet.NullValue().Level(0, 1, leaf))
				continue
			}
		} else {
			out = append(out, parquet.NullValue().Level(0, 0, leaf))
			continue
		}
		if len(items) == 0 {
			out = append(out, parquet.NullValue().Level(0, 1, leaf))
			continue
		}
		for j, e := range items {
			r := 0
			if j > 0 {
				r = 1
			}
			if e == nil {
				out = append(out, parquet.NullValue().Level(r, 2, leaf))
			} else {
				out = append(out, primitive(et, e).Level(r, 3, leaf))
			}
		}
	}
	s.leaves[0] = out
}
