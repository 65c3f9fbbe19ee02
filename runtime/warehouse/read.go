package warehouse

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"os"
	"slices"
	"unsafe"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/encoding"
	"github.com/parquet-go/parquet-go/format"

	"github.com/chronon-go/chronon/runtime/types"
)

// ReadOptions select what a Reader returns.
type ReadOptions struct {
	// Columns to return, data or partition columns, in this order; nil means the whole schema.
	Columns []string
	// Start and End bound the ds partitions read, inclusive; "" leaves that side open.
	Start, End string
	// Hash, when set, also reads one string column as hashes of its values (see HashRequest).
	Hash *HashRequest
}

// Reader streams a table as batches, one per Parquet row group, so memory is bounded by the largest
// row group of the projected columns.
type Reader struct {
	name     string // table or file, for errors
	partCols []string
	schema   types.Schema // output
	files    []partFile
	next     int
	cur      *openFile
	rg       int
	hash     *HashRequest
	// The dictionary of the current hashed chunk and its entries' hashes.
	dict   parquet.Dictionary
	dictH1 []uint64
	dictH2 []uint32
}

type partFile struct {
	path string
	part Partition
}

type openFile struct {
	f    *os.File
	pf   *parquet.File
	cols []fileColumn // one per output column
	part Partition
	path string
	hash hashColumn
}

// fileColumn locates an output column in a file.
type fileColumn struct {
	partition bool // a partition column: constant per file
	missing   bool // not in this file (added later): nulls
	node      parquet.Node
	leaf      int // index of the first leaf column
	leaves    int
	decs      []leafDecoder // one per leaf
}

// Read opens a reader over the partitions in [opts.Start, opts.End] (and the table reference's
// sub-partition filters).
func (t *Table) Read(opts ReadOptions) (*Reader, error) {
	full, err := t.Schema()
	if err != nil {
		return nil, err
	}
	out := full
	if opts.Columns != nil {
		out = make(types.Schema, 0, len(opts.Columns))
		for _, c := range opts.Columns {
			i := full.Index(c)
			if i < 0 {
				return nil, fmt.Errorf("table %s has no column %s (columns: %v)", t.Name(), c, full.Names())
			}
			out = append(out, full[i])
		}
	}
	if h := opts.Hash; h != nil {
		if i := full.Index(h.Column); i < 0 || full[i].Type.Kind != types.String {
			return nil, fmt.Errorf("table %s: column %s cannot be read as key hashes: only string columns can (columns: %v)", t.Name(), h.Column, full)
		}
	}
	m, err := t.Meta()
	if err != nil {
		return nil, err
	}
	r := &Reader{name: "table " + t.Name(), partCols: m.PartitionColumns, schema: out, hash: opts.Hash}
	parts, err := t.Partitions()
	if err != nil {
		return nil, err
	}
	if len(m.PartitionColumns) == 0 {
		fs, err := dataFiles(t.Dir)
		if err != nil {
			return nil, err
		}
		for _, f := range fs {
			r.files = append(r.files, partFile{path: f})
		}
		return r, nil
	}
	for _, p := range parts {
		ds := p.Value(PartitionColumn)
		if ds != "" && (opts.Start != "" && ds < opts.Start || opts.End != "" && ds > opts.End) {
			continue
		}
		fs, err := dataFiles(p.Dir)
		if err != nil {
			return nil, err
		}
		for _, f := range fs {
			r.files = append(r.files, partFile{path: f, part: p})
		}
	}
	return r, nil
}

// Schema is the schema of the batches Next returns.
func (r *Reader) Schema() types.Schema { return r.schema }

// Next returns the next non-empty batch, or io.EOF.
func (r *Reader) Next() (*types.Batch, error) {
	rg, err := r.nextRowGroup()
	if err != nil {
		return nil, err
	}
	b := types.NewBatch(r.schema, int(rg.NumRows()))
	if err := r.readRowGroup(rg, b); err != nil {
		return nil, fmt.Errorf("%s: %s: %w", r.name, r.cur.path, err)
	}
	return b, nil
}

// ReadInto appends every remaining row to dst, a batch of the reader's schema. Columns with room for
// all of them (see NumRows) are filled in place: no batch per row group, no copy to concatenate them.
func (r *Reader) ReadInto(dst *types.Batch) error {
	for {
		rg, err := r.nextRowGroup()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if err := r.readRowGroup(rg, dst); err != nil {
			return fmt.Errorf("%s: %s: %w", r.name, r.cur.path, err)
		}
	}
}

// NumRows is the number of rows the reader returns in all, from the files' footers.
func (r *Reader) NumRows() (int64, error) {
	var n int64
	for _, pf := range r.files {
		f, err := os.Open(pf.path)
		if err != nil {
			return 0, err
		}
		st, err := f.Stat()
		if err == nil {
			var p *parquet.File
			if p, err = parquet.OpenFile(f, st.Size(), parquet.SkipPageIndex(true), parquet.SkipBloomFilters(true)); err == nil {
				n += p.NumRows()
			}
		}
		f.Close()
		if err != nil {
			return 0, fmt.Errorf("%s: %s: %w", r.name, pf.path, err)
		}
	}
	return n, nil
}

// nextRowGroup opens files as needed and returns the next non-empty row group, or io.EOF.
func (r *Reader) nextRowGroup() (parquet.RowGroup, error) {
	for {
		if r.cur == nil {
			if r.next >= len(r.files) {
				return nil, io.EOF
			}
			pf := r.files[r.next]
			r.next++
			of, err := r.open(pf)
			if err != nil {
				return nil, err
			}
			r.cur, r.rg = of, 0
		}
		rgs := r.cur.pf.RowGroups()
		if r.rg >= len(rgs) {
			r.cur.f.Close()
			r.cur = nil
			continue
		}
		rg := rgs[r.rg]
		r.rg++
		if rg.NumRows() > 0 {
			return rg, nil
		}
	}
}

// Close releases the open file.
func (r *Reader) Close() error {
	if r.cur != nil {
		r.cur.f.Close()
		r.cur = nil
	}
	r.next = len(r.files)
	return nil
}

// ReadAll reads everything into one batch (for tests and small tables).
func (r *Reader) ReadAll() (*types.Batch, error) {
	defer r.Close()
	all := types.NewBatch(r.schema, 0)
	for {
		b, err := r.Next()
		if err == io.EOF {
			return all, nil
		}
		if err != nil {
			return nil, err
		}
		for i, c := range b.Cols {
			appendColumn(all.Cols[i], c)
		}
	}
}

// appendColumn appends all of src to dst (same type) without boxing.
func appendColumn(dst, src *types.Column) {
	n := dst.Len()
	if src.Nulls != nil || dst.Nulls != nil {
		if dst.Nulls == nil {
			dst.Nulls = make([]bool, n, n+src.Len())
		}
		if src.Nulls != nil {
			dst.Nulls = append(dst.Nulls, src.Nulls...)
		} else {
			dst.Nulls = append(dst.Nulls, make([]bool, src.Len())...)
		}
	}
	dst.Bools = append(dst.Bools, src.Bools...)
	dst.Ints = append(dst.Ints, src.Ints...)
	dst.Floats = append(dst.Floats, src.Floats...)
	dst.Strs = append(dst.Strs, src.Strs...)
	dst.Bytes = append(dst.Bytes, src.Bytes...)
	dst.Values = append(dst.Values, src.Values...)
}

func (r *Reader) open(pf partFile) (*openFile, error) {
	f, err := os.Open(pf.path)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	p, err := parquet.OpenFile(f, st.Size(), parquet.SkipPageIndex(true), parquet.SkipBloomFilters(true))
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %s: %w", r.name, pf.path, err)
	}
	of := &openFile{f: f, pf: p, part: pf.part, path: pf.path}
	// Map top-level fields to their leaf ranges.
	locs := map[string]fileLoc{}
	leaf := 0
	for _, fd := range p.Schema().Fields() {
		n := leafCount(fd)
		locs[fd.Name()] = fileLoc{fd, leaf, n}
		leaf += n
	}
	for _, c := range r.schema {
		if slices.Contains(r.partCols, c.Name) {
			of.cols = append(of.cols, fileColumn{partition: true})
			continue
		}
		l, ok := locs[c.Name]
		if !ok {
			of.cols = append(of.cols, fileColumn{missing: true})
			continue
		}
		ft, err := chrononType(l.node)
		if err == nil && l.node.Repeated() {
			ft = types.ListOf(ft)
		}
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("%s: column %s: %w", pf.path, c.Name, err)
		}
		if !compatible(ft, c.Type) {
			f.Close()
			return nil, fmt.Errorf("%s: column %s is %s in the file but %s in %s", pf.path, c.Name, ft, c.Type, r.name)
		}
		fc := fileColumn{node: l.node, leaf: l.leaf, leaves: l.leaves}
		collectDecoders(l.node, &fc.decs)
		of.cols = append(of.cols, fc)
	}
	if r.hash != nil {
		if of.hash, err = r.resolveHash(locs, pf.path); err != nil {
			f.Close()
			return nil, err
		}
	}
	return of, nil
}

// fileLoc is a top-level field of a file and its range of leaf columns.
type fileLoc struct {
	node         parquet.Node
	leaf, leaves int
}

// ReadFile reads one Parquet file (any writer's) with its own schema; columns as in ReadOptions.
func ReadFile(path string, columns []string) (*Reader, error) {
	s, err := fileSchema(path)
	if err != nil {
		return nil, err
	}
	out := s
	if columns != nil {
		out = nil
		for _, c := range columns {
			i := s.Index(c)
			if i < 0 {
				return nil, fmt.Errorf("%s has no column %s (columns: %v)", path, c, s.Names())
			}
			out = append(out, s[i])
		}
	}
	return &Reader{name: path, schema: out, files: []partFile{{path: path}}}, nil
}

// compatible reports whether values of file type f can be read as table type t.
func compatible(f, t *types.Type) bool {
	if f.Equal(t) {
		return true
	}
	switch {
	case f.IsIntegral() && t.IsIntegral():
		return true
	case f.IsNumeric() && (t.Kind == types.Double || t.Kind == types.Float):
		return true
	case f.Kind == types.List && t.Kind == types.List:
		return compatible(f.Elem, t.Elem)
	case f.Kind == types.Map && t.Kind == types.Map:
		return compatible(f.Key, t.Key) && compatible(f.Value, t.Value)
	case f.Kind == types.Struct && t.Kind == types.Struct && len(f.Fields) == len(t.Fields):
		for i := range f.Fields {
			if !compatible(f.Fields[i].Type, t.Fields[i].Type) {
				return false
			}
		}
		return true
	}
	return false
}

func leafCount(n parquet.Node) int {
	if n.Leaf() {
		return 1
	}
	c := 0
	for _, f := range n.Fields() {
		c += leafCount(f)
	}
	return c
}

// readRowGroup appends the rows of rg to b's columns.
func (r *Reader) readRowGroup(rg parquet.RowGroup, b *types.Batch) error {
	n := int(rg.NumRows())
	chunks := rg.ColumnChunks()
	for i, fc := range r.cur.cols {
		col := b.Cols[i]
		before := col.Len()
		switch {
		case fc.partition:
			v := r.cur.part.Value(r.schema[i].Name)
			for j := 0; j < n; j++ {
				col.Strs = append(col.Strs, v)
			}
		case fc.missing:
			for j := 0; j < n; j++ {
				col.AppendNull()
			}
		case fc.node.Leaf() && !fc.node.Repeated():
			maxDef := 0
			if fc.node.Optional() {
				maxDef = 1
			}
			err := readFlat(chunks[fc.leaf], col, maxDef, fc.decs[0], func(vs []parquet.Value) error {
				if col.Type.Kind == types.String {
					appendStrings(col, vs, maxDef)
					return nil
				}
				for _, v := range vs {
					if v.DefinitionLevel() < maxDef {
						col.AppendNull()
						continue
					}
					if err := appendLeaf(col, v, fc.decs[0]); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				return fmt.Errorf("column %s: %w", r.schema[i].Name, err)
			}
		default:
			if err := readNested(chunks[fc.leaf:fc.leaf+fc.leaves], fc, col); err != nil {
				return fmt.Errorf("column %s: %w", r.schema[i].Name, err)
			}
		}
		if col.Len() != before+n {
			return fmt.Errorf("column %s: read %d values for %d rows", r.schema[i].Name, col.Len()-before, n)
		}
	}
	if r.hash != nil {
		return r.readHashes(rg, n)
	}
	return nil
}

// readFlat reads a flat (not repeated) column chunk into col. Pages of plain int64, int32, double and
// byte-array values are copied from their decoded buffers straight into the column's slices, without
// a parquet.Value per row; other pages (dictionary-encoded, other physical types, values that need
// converting) go through slow, a readValues callback.
func readFlat(chunk parquet.ColumnChunk, col *types.Column, maxDef int, dec leafDecoder, slow func([]parquet.Value) error) error {
	pages := chunk.Pages()
	defer pages.Close()
	var buf []parquet.Value
	for {
		p, err := pages.ReadPage()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if !appendPage(col, p, maxDef, dec) {
			if buf == nil {
				buf = make([]parquet.Value, 1024)
			}
			err = readPageValues(p, buf, slow)
		}
		parquet.Release(p)
		if err != nil {
			return err
		}
	}
}

// appendPage appends a plain page's values to col and reports whether it could.
func appendPage(col *types.Column, p parquet.Page, maxDef int, dec leafDecoder) bool {
	if p.Dictionary() != nil || dec.decimal || dec.tsMul != 1 || dec.tsDiv != 1 {
		return false
	}
	data := p.Data()
	levels, n, present, ok := pageLevels(p, maxDef)
	if !ok {
		return false
	}
	switch {
	case data.Kind() == encoding.Int64 && len(data.Int64()) < present,
		data.Kind() == encoding.Int32 && len(data.Int32()) < present,
		data.Kind() == encoding.Double && len(data.Double()) < present:
		return false
	case col.Type.Kind == types.Long && data.Kind() == encoding.Int64:
		appendPresent(col, levels, maxDef, n, data.Int64(), &col.Ints, func(v int64) int64 { return v })
	case (col.Type.Kind == types.Int || col.Type.Kind == types.Long) && data.Kind() == encoding.Int32:
		appendPresent(col, levels, maxDef, n, data.Int32(), &col.Ints, func(v int32) int64 { return int64(v) })
	case col.Type.Kind == types.Double && data.Kind() == encoding.Double:
		appendPresent(col, levels, maxDef, n, data.Double(), &col.Floats, func(v float64) float64 { return v })
	case col.Type.Kind == types.String && data.Kind() == encoding.ByteArray:
		bytes, offsets := data.ByteArray()
		if len(offsets) != present+1 {
			return false
		}
		// One copy of the page's bytes backs all its strings (the page buffer is released).
		arena := append([]byte(nil), bytes[offsets[0]:offsets[present]]...)
		base := offsets[0]
		str := func(i int) string {
			s, e := offsets[i]-base, offsets[i+1]-base
			return unsafe.String(unsafe.SliceData(arena[s:e]), int(e-s))
		}
		if present == n {
			// No nulls: the headers go straight into the column.
			for i := range n {
				col.Strs = append(col.Strs, str(i))
			}
			if col.Nulls != nil {
				col.Nulls = append(col.Nulls, make([]bool, n)...)
			}
			break
		}
		strs := make([]string, present)
		for i := range strs {
			strs[i] = str(i)
		}
		appendPresent(col, levels, maxDef, n, strs, &col.Strs, func(v string) string { return v })
	default:
		return false
	}
	return true
}

// pageLevels returns a flat page's definition levels (none when maxDef is 0), its number of rows
// and how many of them have a value; false when the levels do not cover the rows.
func pageLevels(p parquet.Page, maxDef int) (levels []byte, n, present int, ok bool) {
	levels = p.DefinitionLevels()
	n = int(p.NumValues())
	if maxDef == 0 {
		return levels, n, n, true
	}
	if len(levels) != n {
		return nil, 0, 0, false
	}
	for _, l := range levels {
		if int(l) >= maxDef {
			present++
		}
	}
	return levels, n, present, true
}

// appendPresent appends n rows whose definition levels are levels (none when maxDef is 0): a level
// below maxDef is a null, else the next of vals, converted.
func appendPresent[T, U any](col *types.Column, levels []byte, maxDef, n int, vals []T, dst *[]U, conv func(T) U) {
	if maxDef == 0 || noNulls(levels, maxDef) {
		// No nulls in the page (the usual case): one copy when no conversion is needed.
		if same, ok := any(vals[:n]).([]U); ok {
			*dst = append(*dst, same...)
		} else {
			for _, v := range vals[:n] {
				*dst = append(*dst, conv(v))
			}
		}
		if col.Nulls != nil {
			col.Nulls = append(col.Nulls, make([]bool, n)...)
		}
		return
	}
	j := 0
	for _, l := range levels {
		if int(l) < maxDef {
			col.AppendNull()
			continue
		}
		if col.Nulls != nil {
			col.Nulls = append(col.Nulls, false)
		}
		*dst = append(*dst, conv(vals[j]))
		j++
	}
}

// noNulls reports whether every definition level is maxDef (a flat column's page without nulls).
func noNulls(levels []byte, maxDef int) bool {
	for _, l := range levels {
		if int(l) < maxDef {
			return false
		}
	}
	return true
}

// readPageValues calls fn with the values of one page, a slice of buf at a time.
func readPageValues(p parquet.Page, buf []parquet.Value, fn func([]parquet.Value) error) error {
	vr := p.Values()
	for {
		k, err := vr.ReadValues(buf)
		if k > 0 {
			if ferr := fn(buf[:k]); ferr != nil {
				return ferr
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// readValues calls fn with the values of a column chunk, a slice at a time, page by page (dictionary
// pages included: parquet-go resolves indexes to values). The slice is reused after fn returns.
func readValues(chunk parquet.ColumnChunk, fn func([]parquet.Value) error) error {
	pages := chunk.Pages()
	defer pages.Close()
	buf := make([]parquet.Value, 1024)
	for {
		p, err := pages.ReadPage()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		err = readPageValues(p, buf, fn)
		parquet.Release(p)
		if err != nil {
			return err
		}
	}
}

// leafDecoder converts one leaf's physical values to the data model's representation.
type leafDecoder struct {
	tsMul, tsDiv int64 // timestamp unit → micros
	decimal      bool
	scale        int
}

func collectDecoders(n parquet.Node, out *[]leafDecoder) {
	if !n.Leaf() {
		for _, f := range n.Fields() {
			collectDecoders(f, out)
		}
		return
	}
	d := leafDecoder{tsMul: 1, tsDiv: 1}
	if lt := n.Type().LogicalType(); lt != nil {
		switch v := lt.Value.(type) {
		case *format.TimestampType:
			switch v.Unit.Value.(type) {
			case *format.MilliSeconds:
				d.tsMul = 1000
			case *format.NanoSeconds:
				d.tsDiv = 1000
			}
		case *format.DecimalType:
			d.decimal, d.scale = true, int(v.Scale)
		}
	}
	*out = append(*out, d)
}

func (d leafDecoder) decimalValue(v parquet.Value) float64 {
	var x float64
	switch v.Kind() {
	case parquet.Int32:
		x = float64(v.Int32())
	case parquet.Int64:
		x = float64(v.Int64())
	default:
		b := v.ByteArray()
		n := new(big.Int).SetBytes(b)
		if len(b) > 0 && b[0]&0x80 != 0 { // two's complement
			n.Sub(n, new(big.Int).Lsh(big.NewInt(1), uint(8*len(b))))
		}
		x, _ = new(big.Float).SetInt(n).Float64()
	}
	return x / math.Pow10(d.scale)
}

// int96Micros converts Spark's legacy INT96 timestamp (nanos of day, Julian day) to epoch micros.
func int96Micros(v parquet.Value) int64 {
	b := v.Int96()
	var raw [12]byte
	binary.LittleEndian.PutUint32(raw[0:], b[0])
	binary.LittleEndian.PutUint32(raw[4:], b[1])
	binary.LittleEndian.PutUint32(raw[8:], b[2])
	nanos := int64(binary.LittleEndian.Uint64(raw[0:8]))
	julian := int64(binary.LittleEndian.Uint32(raw[8:12]))
	return (julian-2440588)*86400_000_000 + nanos/1000
}

var errBadValue = errors.New("unexpected physical type")

// boxed decodes a present leaf value into a boxed value of type t.
func boxed(v parquet.Value, d leafDecoder, t *types.Type) (any, error) {
	switch t.Kind {
	case types.Boolean:
		return v.Boolean(), nil
	case types.Byte, types.Short, types.Int, types.Long, types.Date, types.Timestamp:
		switch v.Kind() {
		case parquet.Int32:
			return int64(v.Int32()), nil
		case parquet.Int64:
			return v.Int64() * d.tsMul / d.tsDiv, nil
		case parquet.Int96:
			return int96Micros(v), nil
		}
	case types.Float, types.Double:
		if d.decimal {
			return d.decimalValue(v), nil
		}
		switch v.Kind() {
		case parquet.Float:
			return float64(v.Float()), nil
		case parquet.Double:
			return v.Double(), nil
		case parquet.Int32:
			return float64(v.Int32()), nil
		case parquet.Int64:
			return float64(v.Int64()), nil
		}
	case types.String:
		return string(v.ByteArray()), nil
	case types.Binary:
		return slices.Clone(v.ByteArray()), nil
	}
	return nil, fmt.Errorf("%w %s for %s", errBadValue, v.Kind(), t)
}

// appendStrings appends string values with one allocation per slice: the bytes are copied into one
// buffer the strings share (page buffers are reused, so they must be copied anyway).
func appendStrings(c *types.Column, vs []parquet.Value, maxDef int) {
	n := 0
	for _, v := range vs {
		n += len(v.ByteArray())
	}
	arena := make([]byte, 0, n)
	for _, v := range vs {
		if v.DefinitionLevel() < maxDef {
			c.AppendNull()
			continue
		}
		if c.Nulls != nil {
			c.Nulls = append(c.Nulls, false)
		}
		start := len(arena)
		arena = append(arena, v.ByteArray()...)
		c.Strs = append(c.Strs, unsafe.String(unsafe.SliceData(arena[start:]), len(arena)-start))
	}
}

// appendLeaf appends a present value to a primitive column without boxing the common cases.
func appendLeaf(c *types.Column, v parquet.Value, d leafDecoder) error {
	if c.Nulls != nil {
		c.Nulls = append(c.Nulls, false)
	}
	switch c.Type.Kind {
	case types.Long, types.Int, types.Short, types.Byte, types.Date:
		switch v.Kind() {
		case parquet.Int64:
			c.Ints = append(c.Ints, v.Int64())
			return nil
		case parquet.Int32:
			c.Ints = append(c.Ints, int64(v.Int32()))
			return nil
		}
	case types.Double:
		if v.Kind() == parquet.Double && !d.decimal {
			c.Floats = append(c.Floats, v.Double())
			return nil
		}
	case types.String:
		c.Strs = append(c.Strs, string(v.ByteArray()))
		return nil
	}
	x, err := boxed(v, d, c.Type)
	if err != nil {
		return err
	}
	if c.Nulls != nil {
		c.Nulls = c.Nulls[:len(c.Nulls)-1]
	}
	c.Append(x)
	return nil
}
