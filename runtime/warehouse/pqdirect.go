package warehouse

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"strings"
	"sync"
	"unsafe"

	"github.com/golang/snappy"
	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/encoding/thrift"
	"github.com/parquet-go/parquet-go/format"

	"github.com/chronon-go/chronon/runtime/types"
)

// directWriter writes Parquet files whose columns are all primitive or list<primitive> (the shape of
// join and GroupBy outputs) straight from the typed column slices: levels and PLAIN values are
// appended to per-column page buffers, pages are snappy-compressed into per-column chunk buffers (at
// most one row group's pages per column), and each row group's chunks are written one after another.
// parquet-go's writer spends most of its time building a parquet.Value (with levels) per leaf value
// and re-buffering it; here a value costs an append (256k rows of a join output: a third of the CPU).
//
// The schema elements and column orders are derived from the same parquet.Schema (parquetSchema) the
// way parquet-go's writer derives them, so readers see the same schema; rows are cut into row groups
// the same way. The pages differ: DataPage V2 with PLAIN values for every type (parquet-go writes
// strings DELTA_LENGTH_BYTE_ARRAY), RLE/bit-packed levels, snappy, null counts and bounds in page
// headers and chunk metadata, but no page index and no size statistics (no reader of ours uses them).
// Other shapes (maps, structs, nested lists) keep the parquet-go path (fileWriter).
type directWriter struct {
	f       *os.File
	buf     *bufio.Writer
	off     int64 // bytes written to buf so far
	cols    []*directColumn
	rgRows  int // rows per row group: rowGroupRows; tests lower it to get many row groups cheaply
	pending int // rows in the current row group
	total   int64

	schema    []format.SchemaElement
	orders    []format.ColumnOrder
	rowGroups []format.RowGroup
	hdr       bytes.Buffer
	enc       *thrift.Encoder
}

// directPageBytes is the uncompressed size at which a page is cut (parquet-go's default page buffer),
// so readers decode pages of the same size as before.
const directPageBytes = 256 * 1024

// directRowsPerStep is the most rows a column encodes between page-size checks.
const directRowsPerStep = 1024

// directSupported reports whether every column is primitive or list<primitive>, the shapes
// directWriter encodes.
func directSupported(s types.Schema) bool {
	for _, f := range s {
		t := f.Type
		if t.Kind == types.List {
			t = t.Elem
		}
		if _, ok := physicalOf(t.Kind); !ok {
			return false
		}
	}
	return true
}

// physicalOf is the Parquet physical type parquetNode gives a primitive kind.
func physicalOf(k types.Kind) (format.Type, bool) {
	switch k {
	case types.Boolean:
		return format.Boolean, true
	case types.Byte, types.Short, types.Int, types.Date:
		return format.Int32, true
	case types.Long, types.Timestamp:
		return format.Int64, true
	case types.Float:
		return format.Float, true
	case types.Double:
		return format.Double, true
	case types.String, types.Binary:
		return format.ByteArray, true
	}
	return 0, false
}

// createdBy is the writer name parquet-go puts in the footer for fileWriter's option, so both paths
// sign files alike.
var createdBy = func() string {
	c := parquet.DefaultWriterConfig()
	parquet.CreatedBy("chronon-go", "", "").ConfigureWriter(c)
	return c.CreatedBy
}()

func newDirectWriter(f *os.File, s types.Schema, ps *parquet.Schema) *directWriter {
	w := &directWriter{f: f, buf: bufio.NewWriterSize(f, 1<<20), rgRows: rowGroupRows}
	w.enc = thrift.NewEncoder(new(thrift.CompactProtocol).NewWriter(&w.hdr))
	w.schemaOf(ps.Name(), ps, true)
	for i, fd := range ps.Fields() {
		t := s[i].Type
		c := &directColumn{list: t.Kind == types.List, maxDef: 1, path: []string{fd.Name()},
			colBuffers: colBufferPool.Get().(*colBuffers)}
		if c.list {
			t = t.Elem
			c.maxDef = 3
			// the three-level LIST form: <name>.list.element (parquetNode builds it with parquet.List)
			c.path = append(c.path, fd.Fields()[0].Name(), fd.Fields()[0].Fields()[0].Name())
		}
		c.kind = t.Kind
		c.phys, _ = physicalOf(t.Kind)
		w.cols = append(w.cols, c)
	}
	return w
}

// schemaOf appends the schema elements of node n and its descendants in depth-first order, field by
// field as parquet-go's writer derives them from a parquet.Schema, and the column orders of its
// leaves.
func (w *directWriter) schemaOf(name string, n parquet.Node, root bool) {
	t := n.Type()
	e := format.SchemaElement{Name: name, FieldID: int32(n.ID())}
	if !root {
		switch {
		case n.Required():
			e.RepetitionType = thrift.New(format.Required)
		case n.Optional():
			e.RepetitionType = thrift.New(format.Optional)
		case n.Repeated():
			e.RepetitionType = thrift.New(format.Repeated)
		}
	}
	if lt := t.LogicalType(); lt != nil {
		e.LogicalType = *lt
		if d, ok := lt.Value.(*format.DecimalType); ok {
			e.Scale.Set(d.Scale)
			e.Precision.Set(d.Precision)
		}
	}
	if l := int32(t.Length()); l > 0 {
		e.TypeLength.Set(l)
	}
	if !n.Leaf() {
		e.NumChildren.Set(int32(len(n.Fields())))
	}
	if pt := t.PhysicalType(); pt != nil {
		e.Type.Set(*pt)
	}
	if ct := t.ConvertedType(); ct != nil {
		e.ConvertedType.Set(*ct)
	}
	w.schema = append(w.schema, e)
	if n.Leaf() {
		w.orders = append(w.orders, *t.ColumnOrder())
		return
	}
	for _, f := range n.Fields() {
		w.schemaOf(f.Name(), f, false)
	}
}

func (w *directWriter) start() error {
	_, err := w.buf.WriteString("PAR1")
	w.off = 4
	return err
}

// Write appends rows of a batch already checked against the schema. Row groups end exactly every
// rgRows rows, however the rows arrive in batches.
func (w *directWriter) Write(b *types.Batch) error {
	n := b.Len()
	for start := 0; start < n; {
		end := min(n, start+w.rgRows-w.pending)
		for c, col := range b.Cols {
			if err := w.cols[c].encode(w, col, start, end); err != nil {
				return err
			}
		}
		w.pending += end - start
		w.total += int64(end - start)
		if w.pending >= w.rgRows {
			if err := w.flushRowGroup(); err != nil {
				return err
			}
		}
		start = end
	}
	return nil
}

// flushRowGroup cuts every column's last page and writes the row group's column chunks.
func (w *directWriter) flushRowGroup() error {
	if w.pending == 0 {
		return nil
	}
	rg := format.RowGroup{NumRows: int64(w.pending), FileOffset: w.off, Ordinal: int16(len(w.rowGroups))}
	for _, c := range w.cols {
		if err := c.flushPage(w, true); err != nil {
			return err
		}
		start := w.off
		if _, err := w.buf.Write(c.chunk); err != nil {
			return err
		}
		w.off += int64(len(c.chunk))
		md := format.ColumnMetaData{
			Type:                  c.phys,
			Encoding:              []format.Encoding{format.Plain, format.RLE},
			PathInSchema:          c.path,
			Codec:                 format.Snappy,
			NumValues:             c.chunkValues,
			TotalUncompressedSize: c.chunkUncompressed,
			TotalCompressedSize:   int64(len(c.chunk)),
			DataPageOffset:        start,
			Statistics:            c.chunkStats.format(c.phys),
			EncodingStats:         []format.PageEncodingStats{{PageType: format.DataPageV2, Encoding: format.Plain, Count: c.chunkPages}},
		}
		rg.Columns = append(rg.Columns, format.ColumnChunk{FileOffset: start, MetaData: md})
		rg.TotalByteSize += c.chunkUncompressed
		rg.TotalCompressedSize += int64(len(c.chunk))
		c.chunk = c.chunk[:0]
		c.chunkRows, c.chunkValues, c.chunkUncompressed, c.chunkPages = 0, 0, 0, 0
		c.chunkStats = colStats{}
	}
	w.rowGroups = append(w.rowGroups, rg)
	w.pending = 0
	return nil
}

// Close writes the last row group and the footer and syncs the file, so a committed partition
// survives a crash.
func (w *directWriter) Close() error {
	err := w.flushRowGroup()
	if err == nil {
		md := format.FileMetaData{
			Version:      2, // as parquet-go: format version 2 (DataPage V2 pages)
			Schema:       w.schema,
			NumRows:      w.total,
			RowGroups:    w.rowGroups,
			CreatedBy:    createdBy,
			ColumnOrders: w.orders,
		}
		w.hdr.Reset()
		if err = w.enc.Encode(&md); err == nil {
			var tail [8]byte
			binary.LittleEndian.PutUint32(tail[:4], uint32(w.hdr.Len()))
			copy(tail[4:], "PAR1")
			if _, err = w.buf.Write(w.hdr.Bytes()); err == nil {
				_, err = w.buf.Write(tail[:])
			}
		}
	}
	err = finishFile(err, w.buf, w.f)
	for _, c := range w.cols {
		c.release()
	}
	return err
}

// directColumn is one leaf column: the page being filled and the row group's encoded pages.
type directColumn struct {
	kind   types.Kind // of the value, or of the list's element
	list   bool       // list<kind>: definition levels 0 null list, 1 empty list, 2 null element, 3 element
	phys   format.Type
	path   []string
	maxDef byte

	*colBuffers
	nbits    int // booleans: values bit-packed into vals so far
	pageRows int
	step     int // rows to encode before the next page-size check
	page     colStats

	// the row group's pages
	chunkRows         int
	chunkValues       int64
	chunkUncompressed int64
	chunkPages        int32
	chunkStats        colStats
}

// colBuffers are a column's buffers. They are recycled from file to file (a backfill writes one file
// per partition), which saves allocating and growing a row group's worth of pages per column each
// time, and the garbage collector's work with them.
type colBuffers struct {
	defs, reps []byte // the page being filled: one level per value slot
	vals       []byte // the page being filled: PLAIN-encoded present values
	chunk      []byte // the row group's encoded pages

	levels, comp []byte  // scratch
	lists        [][]any // scratch: a block of list rows (gatherLists)
}

var colBufferPool = newColBufferPool()

func newColBufferPool() *sync.Pool { return &sync.Pool{New: func() any { return new(colBuffers) }} }

// release returns the buffers to the pool; the column is unusable afterwards.
func (c *directColumn) release() {
	if c.colBuffers == nil {
		return
	}
	b := c.colBuffers
	b.defs, b.reps, b.vals, b.chunk = b.defs[:0], b.reps[:0], b.vals[:0], b.chunk[:0]
	c.colBuffers = nil
	colBufferPool.Put(b)
}

// encode appends rows [start, end) of col, cutting a page whenever it has grown past directPageBytes.
func (c *directColumn) encode(w *directWriter, col *types.Column, start, end int) error {
	for s := start; s < end; {
		if c.step == 0 {
			c.step = 1 // the size of a row is unknown until one is encoded
		}
		e := min(s+c.step, end)
		before := len(c.vals) + len(c.defs)
		if c.list {
			c.encodeLists(col, s, e)
		} else {
			c.encodeFlat(col, s, e)
		}
		c.pageRows += e - s
		size := len(c.vals) + len(c.defs)
		perRow := (size-before)/(e-s) + 1
		if size >= directPageBytes {
			if err := c.flushPage(w, false); err != nil {
				return err
			}
			size = 0
		}
		// The next step is about the rows that fill the page, so pages of long strings or lists do
		// not grow far past directPageBytes (one row at a time if a row is that large).
		c.step = max(1, min(directRowsPerStep, (directPageBytes-size)/perRow))
		s = e
	}
	// String statistics point into the batch, which the caller may reuse once Write returns.
	c.page.own()
	return nil
}

func (c *directColumn) encodeFlat(col *types.Column, s, e int) {
	var nulls []bool
	if col.Nulls != nil {
		nulls = col.Nulls[s:e]
	}
	n := len(c.defs)
	c.defs = grow(c.defs, e-s)[:n+e-s]
	defs := c.defs[n:]
	for i := range defs {
		defs[i] = 1
	}
	for i, null := range nulls {
		if null {
			defs[i] = 0
			c.page.nulls++
		}
	}
	switch c.kind {
	case types.Long, types.Timestamp:
		c.int64s(col.Ints[s:e], nulls)
	case types.Double:
		c.float64s(col.Floats[s:e], nulls)
	default:
		c.vals = grow(c.vals, 4*(e-s)) // int32 and float; strings grow as they go
		for i := s; i < e; i++ {
			if nulls != nil && nulls[i-s] {
				continue
			}
			switch c.kind {
			case types.String:
				c.putString(col.Strs[i])
			case types.Byte, types.Short, types.Int, types.Date:
				c.putInt32(int32(col.Ints[i]))
			case types.Float:
				c.putFloat(float32(col.Floats[i]))
			case types.Boolean:
				c.putBool(col.Bools[i])
			case types.Binary:
				b := col.Bytes[i]
				c.putString(unsafe.String(unsafe.SliceData(b), len(b)))
			}
		}
	}
}

// int64s appends the non-null values of xs (nulls nil: all present), the common feature column;
// the bounds stay in registers.
func (c *directColumn) int64s(xs []int64, nulls []bool) {
	n := len(c.vals)
	out := grow(c.vals, 8*len(xs))[:n+8*len(xs)]
	lo, hi := int64(math.MaxInt64), int64(math.MinInt64)
	if c.page.has {
		lo, hi = c.page.minI, c.page.maxI
	}
	k := n
	for i, x := range xs {
		if nulls != nil && nulls[i] {
			continue
		}
		binary.LittleEndian.PutUint64(out[k:], uint64(x))
		k += 8
		lo, hi = min(lo, x), max(hi, x)
	}
	c.vals = out[:k]
	if k > n {
		c.page.minI, c.page.maxI, c.page.has = lo, hi, true
	}
}

// float64s is int64s for doubles: a NaN fails both comparisons, so it is left out of the bounds.
func (c *directColumn) float64s(xs []float64, nulls []bool) {
	n := len(c.vals)
	out := grow(c.vals, 8*len(xs))[:n+8*len(xs)]
	lo, hi := math.Inf(1), math.Inf(-1)
	if c.page.has {
		lo, hi = c.page.minF, c.page.maxF
	}
	k := n
	for i, x := range xs {
		if nulls != nil && nulls[i] {
			continue
		}
		binary.LittleEndian.PutUint64(out[k:], math.Float64bits(x))
		k += 8
		if x < lo {
			lo = x
		}
		if x > hi {
			hi = x
		}
	}
	c.vals = out[:k]
	if lo <= hi { // some value other than NaN
		c.page.minF, c.page.maxF, c.page.has = lo, hi, true
	}
}

// encodeLists writes list rows with the levels the shredder assigns (see primitiveLists): a null row
// is definition level 0, a row that is not a []any or is empty is an empty list (1), a nil element 2,
// an element 3; the repetition level is 1 for every element after a list's first.
func (c *directColumn) encodeLists(col *types.Column, s, e int) {
	if col.List != nil {
		c.compactLists(col, s, e)
		return
	}
	switch c.kind {
	case types.Long, types.Timestamp:
		c.int64Lists(col, s, e)
		return
	case types.Double:
		c.float64Lists(col, s, e)
		return
	}
	for i := s; i < e; i++ {
		var items []any
		if !col.IsNull(i) {
			items, _ = col.Values[i].([]any)
		}
		items = c.listLevels(col.IsNull(i), items)
		defs := c.defs[len(c.defs)-len(items):]
		for j, v := range items {
			if v == nil {
				defs[j] = 2
				c.page.nulls++
				continue
			}
			c.putBoxed(v)
		}
	}
}

// listLevels appends the levels of a row (null, or items), taking every element as present (3), and
// returns the elements, whose levels are the last len(items) of c.defs. A null or empty row has no
// elements.
func (c *directColumn) listLevels(null bool, items []any) []any {
	if c.rowLevels(null, len(items)) == 0 {
		return nil
	}
	return items
}

// rowLevels appends the levels of a list row of m elements (all present until the caller marks null
// ones) and returns how many values follow: m, or 0 for a null or empty list.
func (c *directColumn) rowLevels(null bool, m int) int {
	if !null && m > 0 {
		n := len(c.defs)
		c.defs = grow(c.defs, m)[:n+m]
		c.reps = grow(c.reps, m)[:n+m]
		defs, reps := c.defs[n:], c.reps[n:]
		for j := range defs {
			defs[j], reps[j] = 3, 1
		}
		reps[0] = 0
		return m
	}
	d := byte(1)
	if null {
		d = 0
	}
	c.defs, c.reps = append(c.defs, d), append(c.reps, 0)
	c.page.nulls++
	return 0
}

// compactLists is encodeLists for a compact column (types.NumList): the elements are copied
// straight from its flat slice, with the statistics int64Lists and float64Lists keep.
func (c *directColumn) compactLists(col *types.Column, s, e int) {
	l := col.List
	floats := storageFloat(c.kind)
	if c.kind != types.Long && c.kind != types.Timestamp && c.kind != types.Double {
		// Narrower physical types (int32, float): element by element, as the boxed path does.
		for i := s; i < e; i++ {
			lo, hi := l.Off[i], l.Off[i+1]
			if c.rowLevels(col.IsNull(i), hi-lo) == 0 {
				continue
			}
			for j := lo; j < hi; j++ {
				if floats {
					c.putBoxed(l.Floats[j])
				} else {
					c.putBoxed(l.Ints[j])
				}
			}
		}
		return
	}
	loI, hiI, someI := int64(math.MaxInt64), int64(math.MinInt64), false
	loF, hiF := math.Inf(1), math.Inf(-1)
	if c.page.has {
		loI, hiI, loF, hiF = c.page.minI, c.page.maxI, c.page.minF, c.page.maxF
	}
	for i := s; i < e; i++ {
		lo, hi := l.Off[i], l.Off[i+1]
		if c.rowLevels(col.IsNull(i), hi-lo) == 0 {
			continue
		}
		n := len(c.vals)
		out := grow(c.vals, 8*(hi-lo))[:n+8*(hi-lo)]
		if floats {
			for j, x := range l.Floats[lo:hi] {
				binary.LittleEndian.PutUint64(out[n+8*j:], math.Float64bits(x))
				if x < loF {
					loF = x
				}
				if x > hiF {
					hiF = x
				}
			}
		} else {
			for j, x := range l.Ints[lo:hi] {
				binary.LittleEndian.PutUint64(out[n+8*j:], uint64(x))
				loI, hiI, someI = min(loI, x), max(hiI, x), true
			}
		}
		c.vals = out
	}
	switch {
	case floats && loF <= hiF:
		c.page.minF, c.page.maxF, c.page.has = loF, hiF, true
	case !floats && someI:
		c.page.minI, c.page.maxI, c.page.has = loI, hiI, true
	}
}

// storageFloat reports whether elements of kind k are doubles in a types.NumList.
func storageFloat(k types.Kind) bool { return k == types.Double || k == types.Float }

// listBlock is how many rows the typed list loops take at a time (see gatherLists).
const listBlock = 128

// gatherLists returns the element slices of rows [s, e), nil for a null row or a value that is not a
// []any. A list's elements are three pointer hops from the column (the interface, the slice, each
// boxed element), usually cache misses: loading a block's slices first, and its elements in a tight
// loop next, lets the processor overlap the misses instead of waiting on each in turn (a third less
// time in a join backfill).
func (c *directColumn) gatherLists(col *types.Column, s, e int) [][]any {
	lists := c.lists[:0]
	for i := s; i < e; i++ {
		var items []any
		if !col.IsNull(i) {
			items, _ = col.Values[i].([]any)
		}
		lists = append(lists, items)
	}
	c.lists = lists
	return lists
}

// int64Lists is encodeLists for list<long> (LAST_K of numbers), a block of rows at a time: the
// elements' bounds first (loading them), then levels and values.
func (c *directColumn) int64Lists(col *types.Column, s, e int) {
	lo, hi := int64(math.MaxInt64), int64(math.MinInt64)
	if c.page.has {
		lo, hi = c.page.minI, c.page.maxI
	}
	some := false
	for b := s; b < e; b += listBlock {
		lists := c.gatherLists(col, b, min(b+listBlock, e))
		for _, items := range lists {
			for _, v := range items {
				if x, ok := v.(int64); ok {
					lo, hi, some = min(lo, x), max(hi, x), true
				}
			}
		}
		putNumLists[int64](c, col, b, lists, "long")
		clear(lists) // no references into the batch once it is written
	}
	if some {
		c.page.minI, c.page.maxI, c.page.has = lo, hi, true
	}
}

// float64Lists is int64Lists for list<double>; NaN fails both comparisons and stays out of the bounds.
func (c *directColumn) float64Lists(col *types.Column, s, e int) {
	lo, hi := math.Inf(1), math.Inf(-1)
	if c.page.has {
		lo, hi = c.page.minF, c.page.maxF
	}
	for b := s; b < e; b += listBlock {
		lists := c.gatherLists(col, b, min(b+listBlock, e))
		for _, items := range lists {
			for _, v := range items {
				if x, ok := v.(float64); ok {
					if x < lo {
						lo = x
					}
					if x > hi {
						hi = x
					}
				}
			}
		}
		putNumLists[float64](c, col, b, lists, "double")
		clear(lists)
	}
	if lo <= hi {
		c.page.minF, c.page.maxF, c.page.has = lo, hi, true
	}
}

// putNumLists writes the levels and PLAIN values of a block of list<long> or list<double> rows
// starting at row b (the values' 8 bytes as they are: two's complement or IEEE 754 bits).
func putNumLists[T int64 | float64](c *directColumn, col *types.Column, b int, lists [][]any, name string) {
	for r, items := range lists {
		items = c.listLevels(col.IsNull(b+r), items)
		if len(items) == 0 {
			continue
		}
		defs := c.defs[len(c.defs)-len(items):]
		n := len(c.vals)
		out := grow(c.vals, 8*len(items))[:n+8*len(items)]
		k := n
		for j, v := range items {
			x, ok := v.(T)
			if !ok {
				if v != nil {
					panic(fmt.Sprintf("warehouse: list<%s> element %T", name, v))
				}
				defs[j] = 2
				c.page.nulls++
				continue
			}
			binary.LittleEndian.PutUint64(out[k:], *(*uint64)(unsafe.Pointer(&x)))
			k += 8
		}
		c.vals = out[:k]
	}
}

// putBoxed appends a list element; its Go type is the one Column.Append stores for the kind (a wrong
// type panics, as primitive does on the parquet-go path).
func (c *directColumn) putBoxed(v any) {
	switch c.kind {
	case types.Long, types.Timestamp:
		c.putInt64(v.(int64))
	case types.Double:
		c.putDouble(v.(float64))
	case types.String:
		c.putString(v.(string))
	case types.Byte, types.Short, types.Int, types.Date:
		c.putInt32(int32(v.(int64)))
	case types.Float:
		c.putFloat(float32(v.(float64)))
	case types.Boolean:
		c.putBool(v.(bool))
	case types.Binary:
		b := v.([]byte)
		c.putString(unsafe.String(unsafe.SliceData(b), len(b)))
	default:
		panic(fmt.Sprintf("warehouse: list element kind %d is not primitive", c.kind))
	}
}

func (c *directColumn) putInt64(v int64) {
	c.vals = binary.LittleEndian.AppendUint64(c.vals, uint64(v))
	c.page.int(v)
}

func (c *directColumn) putInt32(v int32) {
	c.vals = binary.LittleEndian.AppendUint32(c.vals, uint32(v))
	c.page.int(int64(v))
}

func (c *directColumn) putDouble(v float64) {
	c.vals = binary.LittleEndian.AppendUint64(c.vals, math.Float64bits(v))
	c.page.float(v)
}

func (c *directColumn) putFloat(v float32) {
	c.vals = binary.LittleEndian.AppendUint32(c.vals, math.Float32bits(v))
	c.page.float(float64(v))
}

// putBool bit-packs booleans, least significant bit first (PLAIN for BOOLEAN).
func (c *directColumn) putBool(v bool) {
	if c.nbits%8 == 0 {
		c.vals = append(c.vals, 0)
	}
	x := int64(0)
	if v {
		c.vals[len(c.vals)-1] |= 1 << (c.nbits % 8)
		x = 1
	}
	c.nbits++
	c.page.int(x)
}

func (c *directColumn) putString(s string) {
	c.vals = grow(c.vals, 4+len(s))
	c.vals = binary.LittleEndian.AppendUint32(c.vals, uint32(len(s)))
	c.vals = append(c.vals, s...)
	c.page.str(s)
}

// flushPage encodes the page being filled as a DataPage V2 (levels uncompressed, values snappy) and
// appends it to the chunk; last says the row group ends with it.
func (c *directColumn) flushPage(w *directWriter, last bool) error {
	if c.pageRows == 0 {
		return nil
	}
	lv := c.levels[:0]
	if c.list {
		lv = appendLevels(lv, c.reps, 1)
	}
	repLen := len(lv)
	lv = appendLevels(lv, c.defs, bitWidth(c.maxDef))
	c.levels = lv
	// golang/snappy: on feature columns as small as s2's snappy-compatible fast level and up to 15%
	// faster; s2's "better" level, which parquet-go's codec uses, took half of this writer's CPU for
	// pages 2-4% smaller.
	c.comp = grow(c.comp[:0], snappy.MaxEncodedLen(len(c.vals)))
	comp := snappy.Encode(c.comp[:cap(c.comp)], c.vals)
	c.comp = comp
	h := format.PageHeader{
		Type:                 format.DataPageV2,
		UncompressedPageSize: int32(len(lv) + len(c.vals)),
		CompressedPageSize:   int32(len(lv) + len(comp)),
		DataPageHeaderV2: thrift.New(format.DataPageHeaderV2{
			NumValues:                  int32(len(c.defs)),
			NumNulls:                   int32(c.page.nulls),
			NumRows:                    int32(c.pageRows),
			Encoding:                   format.Plain,
			DefinitionLevelsByteLength: int32(len(lv) - repLen),
			RepetitionLevelsByteLength: int32(repLen),
			Statistics:                 c.page.format(c.phys),
		}),
	}
	w.hdr.Reset()
	if err := w.enc.Encode(&h); err != nil {
		return err
	}
	if add := w.hdr.Len() + len(lv) + len(comp); cap(c.chunk)-len(c.chunk) < add {
		// Mid row group, room for the row group's pages as far as the pages so far tell, so that
		// the chunk is not copied at every page; at its end, room for this page.
		want := add
		if !last {
			want = max(add, (len(c.chunk)+add)*w.rgRows/(c.chunkRows+c.pageRows)*9/8-len(c.chunk))
		}
		c.chunk = grow(c.chunk, want)
	}
	c.chunk = append(c.chunk, w.hdr.Bytes()...)
	c.chunk = append(c.chunk, lv...)
	c.chunk = append(c.chunk, comp...)
	c.chunkUncompressed += int64(w.hdr.Len()) + int64(h.UncompressedPageSize)
	c.chunkValues += int64(len(c.defs))
	c.chunkRows += c.pageRows
	c.chunkPages++
	c.chunkStats.merge(&c.page)
	c.defs, c.reps, c.vals = c.defs[:0], c.reps[:0], c.vals[:0]
	c.nbits, c.pageRows, c.page = 0, 0, colStats{}
	return nil
}

// grow returns b with room for n more bytes. It doubles the capacity when it must grow: append grows
// large slices by a quarter, which copies a row group's pages several times over.
func grow(b []byte, n int) []byte {
	if cap(b)-len(b) >= n {
		return b
	}
	nb := make([]byte, len(b), max(2*cap(b), len(b)+n, 4096))
	copy(nb, b)
	return nb
}

func bitWidth(max byte) int {
	n := 0
	for ; max > 0; max >>= 1 {
		n++
	}
	return n
}

// appendLevels appends levels (each below 1<<width, width <= 8) in the RLE / bit-packed hybrid
// encoding, without the length prefix (DataPage V2 keeps the lengths in the header). Levels are taken
// eight at a time: a group of equal levels that starts a run of 16 or more (a column without nulls is
// one run) becomes an RLE run, other groups are bit-packed.
func appendLevels(dst, lv []byte, width int) []byte {
	const ones = 0x0101010101010101
	n := len(lv)
	packed := 0 // groups from packed to i wait to be bit-packed
	i := 0
	for i+8 <= n {
		if binary.LittleEndian.Uint64(lv[i:]) != uint64(lv[i])*ones {
			i += 8
			continue
		}
		j := i + 8
		for j < n && lv[j] == lv[i] {
			j++
		}
		if j-i < 16 && j < n {
			i += 8
			continue
		}
		dst = appendPacked(dst, lv[packed:i], width)
		dst = binary.AppendUvarint(dst, uint64(j-i)<<1)
		dst = append(dst, lv[i])
		i, packed = j, j
	}
	if packed == i && i < n && bytes.Count(lv[i:], lv[i:i+1]) == n-i {
		// fewer than eight equal levels end the page: a short RLE run rather than a padded group
		dst = binary.AppendUvarint(dst, uint64(n-i)<<1)
		return append(dst, lv[i])
	}
	return appendPacked(dst, lv[packed:], width)
}

// appendPacked appends levels as one bit-packed run, the last group padded with zeros (the page
// header says how many levels there are).
func appendPacked(dst, lv []byte, width int) []byte {
	if len(lv) == 0 {
		return dst
	}
	groups := (len(lv) + 7) / 8
	dst = binary.AppendUvarint(dst, uint64(groups)<<1|1)
	var pad [8]byte
	for p := 0; p < len(lv); p += 8 {
		g := lv[p:]
		if len(g) < 8 {
			copy(pad[:], g)
			g = pad[:]
		}
		x := binary.LittleEndian.Uint64(g) // level k at bit 8k, packed to bit width*k
		switch width {
		case 1:
			dst = append(dst, byte(x&1|x>>7&2|x>>14&4|x>>21&8|x>>28&16|x>>35&32|x>>42&64|x>>49&128))
		case 2:
			dst = append(dst, byte(x&3|x>>6&12|x>>12&48|x>>18&192), byte(x>>32&3|x>>38&12|x>>44&48|x>>50&192))
		default:
			var acc uint64
			for k := 0; k < 8; k++ {
				acc |= (x >> (8 * k) & (1<<width - 1)) << (width * k)
			}
			for b := 0; b < width; b++ {
				dst = append(dst, byte(acc>>(8*b)))
			}
		}
	}
	return dst
}

// colStats are the statistics of a page or chunk: null slots and the min / max present value, in the
// column's sort order (signed integers, floats without NaN, unsigned bytes).
type colStats struct {
	nulls      int64
	has        bool
	minI, maxI int64
	minF, maxF float64
	minS, maxS string
	strDirty   bool // minS or maxS may point into a caller's batch
}

func (s *colStats) int(v int64) {
	if !s.has {
		s.minI, s.maxI, s.has = v, v, true
		return
	}
	if v < s.minI {
		s.minI = v
	}
	if v > s.maxI {
		s.maxI = v
	}
}

func (s *colStats) float(v float64) {
	if v != v { // NaN has no place in the order; Parquet readers expect it left out
		return
	}
	if !s.has {
		s.minF, s.maxF, s.has = v, v, true
		return
	}
	if v < s.minF {
		s.minF = v
	}
	if v > s.maxF {
		s.maxF = v
	}
}

func (s *colStats) str(v string) {
	if !s.has {
		s.minS, s.maxS, s.has, s.strDirty = v, v, true, true
		return
	}
	if v < s.minS {
		s.minS, s.strDirty = v, true
	}
	if v > s.maxS {
		s.maxS, s.strDirty = v, true
	}
}

// own copies string bounds that may point into a batch.
func (s *colStats) own() {
	if s.strDirty {
		s.minS, s.maxS, s.strDirty = strings.Clone(s.minS), strings.Clone(s.maxS), false
	}
}

func (s *colStats) merge(p *colStats) {
	s.nulls += p.nulls
	if !p.has {
		return
	}
	if !s.has {
		*s = colStats{nulls: s.nulls, has: true, minI: p.minI, maxI: p.maxI, minF: p.minF, maxF: p.maxF,
			minS: strings.Clone(p.minS), maxS: strings.Clone(p.maxS)}
		return
	}
	s.minI, s.maxI = min(s.minI, p.minI), max(s.maxI, p.maxI)
	s.minF, s.maxF = min(s.minF, p.minF), max(s.maxF, p.maxF)
	if p.minS < s.minS {
		s.minS = strings.Clone(p.minS)
	}
	if p.maxS > s.maxS {
		s.maxS = strings.Clone(p.maxS)
	}
}

// maxStatBytes bounds the byte-array bounds kept in a footer; longer bounds are left out (readers
// then do not prune on them) rather than truncated, which would need care to stay a valid bound.
const maxStatBytes = 1024

// format encodes the statistics for physical type t as Parquet's little-endian PLAIN bytes.
func (s *colStats) format(t format.Type) format.Statistics {
	st := format.Statistics{NullCount: s.nulls}
	if !s.has {
		return st
	}
	switch t {
	case format.Boolean:
		st.MinValue, st.MaxValue = []byte{byte(s.minI)}, []byte{byte(s.maxI)}
	case format.Int32:
		st.MinValue = binary.LittleEndian.AppendUint32(nil, uint32(int32(s.minI)))
		st.MaxValue = binary.LittleEndian.AppendUint32(nil, uint32(int32(s.maxI)))
	case format.Int64:
		st.MinValue = binary.LittleEndian.AppendUint64(nil, uint64(s.minI))
		st.MaxValue = binary.LittleEndian.AppendUint64(nil, uint64(s.maxI))
	case format.Float, format.Double:
		// A zero bound is written as -0 (min) and +0 (max), as the format asks, so a reader comparing
		// with either zero keeps the page.
		lo, hi := s.minF, s.maxF
		if lo == 0 {
			lo = math.Copysign(0, -1)
		}
		if hi == 0 {
			hi = 0
		}
		if t == format.Float {
			st.MinValue = binary.LittleEndian.AppendUint32(nil, math.Float32bits(float32(lo)))
			st.MaxValue = binary.LittleEndian.AppendUint32(nil, math.Float32bits(float32(hi)))
		} else {
			st.MinValue = binary.LittleEndian.AppendUint64(nil, math.Float64bits(lo))
			st.MaxValue = binary.LittleEndian.AppendUint64(nil, math.Float64bits(hi))
		}
	case format.ByteArray:
		if len(s.minS) <= maxStatBytes && len(s.maxS) <= maxStatBytes {
			// non-nil even when empty: an empty min is a bound, a nil one is "unknown"
			st.MinValue, st.MaxValue = append([]byte{}, s.minS...), append([]byte{}, s.maxS...)
		}
	}
	return st
}
