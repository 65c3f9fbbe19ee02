package warehouse

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/chronon-go/chronon/runtime/types"
)

// ImportOptions describe a `chronon import`.
type ImportOptions struct {
	Table string   // namespace.table
	Files []string // CSV (with a header line) or Parquet files, all with the same columns
	// Types overrides column types (CSV only); other columns get QuickstartType.
	Types map[string]*types.Type
	// PartitionColumn is the column whose values become partitions (default ds).
	PartitionColumn string
	Properties      map[string]string
}

// ImportResult summarises an import.
type ImportResult struct {
	Rows       int64
	Partitions []string // partition values, sorted
}

// QuickstartType is the type Chronon's quickstart loader gives a CSV column: ts and *_price/*_amt are
// longs, everything else is a string (spec §11.1).
func QuickstartType(col string) *types.Type {
	if col == "ts" || strings.HasSuffix(col, "_price") || strings.HasSuffix(col, "_amt") {
		return types.LongType
	}
	return types.StringType
}

// ParseTypeList parses `col:type,col2:type`; types may hold commas inside <...> (map<string,int>).
func ParseTypeList(s string) (map[string]*types.Type, error) {
	out := map[string]*types.Type{}
	depth, start := 0, 0
	var items []string
	for i, c := range s {
		switch c {
		case '<':
			depth++
		case '>':
			depth--
		case ',':
			if depth == 0 {
				items = append(items, s[start:i])
				start = i + 1
			}
		}
	}
	items = append(items, s[start:])
	for _, it := range items {
		name, typ, ok := strings.Cut(strings.TrimSpace(it), ":")
		if !ok || strings.TrimSpace(name) == "" {
			return nil, fmt.Errorf("--schema %q: expected column:type pairs separated by commas (e.g. user_id:string,ts:long)", s)
		}
		t, err := types.ParseType(typ)
		if err != nil {
			return nil, fmt.Errorf("--schema column %s: %w", name, err)
		}
		out[strings.TrimSpace(name)] = t
	}
	return out, nil
}

// Import loads files into a table, replacing the whole table in one step (like the quickstart
// loader's overwrite). On any error nothing is written.
func (w *Warehouse) Import(opts ImportOptions) (*ImportResult, error) {
	if opts.PartitionColumn == "" {
		opts.PartitionColumn = PartitionColumn
	}
	if len(opts.Files) == 0 {
		return nil, errors.New("import: no input files")
	}
	if _, err := ParseTableRef(opts.Table); err != nil {
		return nil, err
	}
	im := &importer{w: w, opts: opts, pending: map[string]*types.Batch{}, parts: map[string]bool{}}
	defer func() {
		if im.tx != nil {
			im.tx.Abort()
		}
	}()
	for _, f := range opts.Files {
		var err error
		if strings.HasSuffix(strings.ToLower(f), ".parquet") {
			err = im.parquetFile(f)
		} else {
			err = im.csvFile(f)
		}
		if err != nil {
			return nil, err
		}
	}
	if err := im.flushAll(); err != nil {
		return nil, err
	}
	if im.tx == nil {
		return nil, fmt.Errorf("import: %s has no columns", opts.Files[0])
	}
	if err := im.tx.Commit(); err != nil {
		return nil, err
	}
	im.tx = nil
	res := &ImportResult{Rows: im.rows}
	for p := range im.parts {
		res.Partitions = append(res.Partitions, p)
	}
	sort.Strings(res.Partitions)
	return res, nil
}

type importer struct {
	w       *Warehouse
	opts    ImportOptions
	tx      *Txn
	header  []string     // input columns of the first file
	schema  types.Schema // data columns (partition column removed)
	partIdx int          // index of the partition column in the input
	pending map[string]*types.Batch
	parts   map[string]bool
	rows    int64
}

const importBatchRows = 8192

// begin fixes the schema from the first file's columns.
func (im *importer) begin(file string, cols []string, typeOf func(string) *types.Type) error {
	if im.header != nil {
		if strings.Join(cols, ",") != strings.Join(im.header, ",") {
			return fmt.Errorf("%s: columns %v differ from %s's %v", file, cols, im.opts.Files[0], im.header)
		}
		return nil
	}
	im.header = cols
	im.partIdx = -1
	seen := map[string]bool{}
	for i, c := range cols {
		if seen[c] {
			return fmt.Errorf("%s:1: column %s appears twice in the header", file, c)
		}
		seen[c] = true
		if c == im.opts.PartitionColumn {
			im.partIdx = i
			continue
		}
		im.schema = append(im.schema, types.Field{Name: c, Type: typeOf(c)})
	}
	if im.partIdx < 0 {
		return fmt.Errorf("%s: no partition column %q among the columns %v; pass --partition-column NAME to partition by another column",
			file, im.opts.PartitionColumn, cols)
	}
	for c := range im.opts.Types {
		if c == im.opts.PartitionColumn {
			return fmt.Errorf("--schema cannot give the partition column %s a type: it is stored in directory names and reads back as a string", c)
		}
		if !seen[c] {
			return fmt.Errorf("--schema names column %s, which %s does not have (columns: %v)", c, file, cols)
		}
	}
	var err error
	im.tx, err = im.w.Begin(im.opts.Table, TableSpec{
		Schema: im.schema, PartitionColumns: []string{im.opts.PartitionColumn},
		Properties: im.opts.Properties, ReplaceTable: true,
	})
	return err
}

func (im *importer) batch(part string) (*types.Batch, error) {
	b := im.pending[part]
	if b == nil {
		b = types.NewBatch(im.schema, importBatchRows)
		im.pending[part] = b
		im.parts[part] = true
	}
	if b.Len() >= importBatchRows {
		if err := im.tx.Write([]string{part}, b); err != nil {
			return nil, err
		}
		for i, c := range b.Cols {
			b.Cols[i] = types.NewColumn(c.Type, importBatchRows)
		}
	}
	return b, nil
}

func (im *importer) flushAll() error {
	keys := make([]string, 0, len(im.pending))
	for k := range im.pending {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if b := im.pending[k]; b.Len() > 0 {
			if err := im.tx.Write([]string{k}, b); err != nil {
				return err
			}
		}
	}
	return nil
}

func (im *importer) checkPartition(where, v string) error {
	if im.parts[v] {
		return nil // seen (and checked) before
	}
	if v == "" {
		return fmt.Errorf("%s: column %s is empty; every row needs a partition value", where, im.opts.PartitionColumn)
	}
	if im.opts.PartitionColumn == PartitionColumn {
		if _, err := time.Parse(DateFormat, v); err != nil {
			return fmt.Errorf("%s: column ds: %q is not a yyyy-MM-dd date", where, v)
		}
	}
	return nil
}

func (im *importer) csvFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	name := filepath.Base(path)
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	r.ReuseRecord = true
	header, err := r.Read()
	if err == io.EOF {
		return fmt.Errorf("%s: empty file; expected a header line", path)
	}
	if err != nil {
		return csvError(path, err)
	}
	cols := make([]string, len(header))
	for i, h := range header {
		cols[i] = strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))
	}
	typeOf := func(c string) *types.Type {
		if t, ok := im.opts.Types[c]; ok {
			return t
		}
		return QuickstartType(c)
	}
	if err := im.begin(path, cols, typeOf); err != nil {
		return err
	}
	for _, fd := range im.schema {
		switch fd.Type.Kind {
		case types.List, types.Map, types.Struct, types.Binary:
			return fmt.Errorf("--schema column %s: type %s cannot be read from CSV", fd.Name, fd.Type)
		}
	}
	for {
		rec, err := r.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return csvError(path, err)
		}
		// where is only formatted on error: this loop runs once per row.
		where := func() string {
			line, _ := r.FieldPos(0)
			return fmt.Sprintf("%s:%d", path, line)
		}
		if len(rec) != len(cols) {
			return fmt.Errorf("%s: %d fields, but the header of %s has %d (%s)", where(), len(rec), name, len(cols), strings.Join(cols, ","))
		}
		part := rec[im.partIdx]
		if !im.parts[part] {
			if err := im.checkPartition(where(), part); err != nil {
				return err
			}
		}
		b, err := im.batch(part)
		if err != nil {
			return err
		}
		ci := 0
		for i, v := range rec {
			if i == im.partIdx {
				continue
			}
			if err := appendText(b.Cols[ci], v); err != nil {
				return fmt.Errorf("%s: column %s: %v (pass --schema %s:string to keep it as text)", where(), cols[i], err, cols[i])
			}
			ci++
		}
		im.rows++
	}
}

func csvError(path string, err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s:%d: column %d: %v", path, pe.Line, pe.Column, pe.Err)
	}
	return fmt.Errorf("%s: %w", path, err)
}

// appendText converts one CSV field. An empty field is null, as Spark's CSV reader makes it.
func appendText(c *types.Column, s string) error {
	if s == "" {
		c.AppendNull()
		return nil
	}
	switch c.Type.Kind {
	case types.String:
		if c.Nulls != nil {
			c.Nulls = append(c.Nulls, false)
		}
		c.Strs = append(c.Strs, s)
	case types.Byte, types.Short, types.Int, types.Long:
		n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		if err != nil {
			return fmt.Errorf("%q is not a whole number (type %s)", s, c.Type)
		}
		if c.Nulls != nil {
			c.Nulls = append(c.Nulls, false)
		}
		c.Ints = append(c.Ints, n)
	case types.Float, types.Double:
		x, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil {
			return fmt.Errorf("%q is not a number (type %s)", s, c.Type)
		}
		c.Append(x)
	case types.Boolean:
		switch strings.ToLower(strings.TrimSpace(s)) {
		case "true":
			c.Append(true)
		case "false":
			c.Append(false)
		default:
			return fmt.Errorf("%q is not true or false", s)
		}
	case types.Date:
		d, err := time.Parse(DateFormat, strings.TrimSpace(s))
		if err != nil {
			return fmt.Errorf("%q is not a yyyy-MM-dd date", s)
		}
		c.Append(d.Unix() / 86400)
	case types.Timestamp:
		ts, err := time.Parse(time.RFC3339Nano, strings.Replace(strings.TrimSpace(s), " ", "T", 1))
		if err != nil {
			return fmt.Errorf("%q is not a timestamp (yyyy-MM-ddTHH:mm:ssZ)", s)
		}
		c.Append(ts.UnixMicro())
	default:
		return fmt.Errorf("type %s cannot be read from CSV", c.Type)
	}
	return nil
}

func (im *importer) parquetFile(path string) error {
	if len(im.opts.Types) > 0 {
		return fmt.Errorf("%s: --schema applies to CSV input only; Parquet files carry their own types", path)
	}
	r, err := ReadFile(path, nil)
	if err != nil {
		return err
	}
	defer r.Close()
	s := r.Schema()
	byName := map[string]*types.Type{}
	for _, f := range s {
		byName[f.Name] = f.Type
	}
	if err := im.begin(path, s.Names(), func(c string) *types.Type { return byName[c] }); err != nil {
		return err
	}
	pt := s[im.partIdx].Type
	if pt.Kind != types.String && pt.Kind != types.Date {
		return fmt.Errorf("%s: partition column %s is %s; expected a string or date column", path, im.opts.PartitionColumn, pt)
	}
	for {
		b, err := r.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		pc := b.Cols[im.partIdx]
		for row := 0; row < b.Len(); row++ {
			var part string
			if !pc.IsNull(row) {
				if pt.Kind == types.Date {
					part = time.Unix(pc.Ints[row]*86400, 0).UTC().Format(DateFormat)
				} else {
					part = pc.Strs[row]
				}
			}
			where := fmt.Sprintf("%s: row %d", path, im.rows+1)
			if err := im.checkPartition(where, part); err != nil {
				return err
			}
			out, err := im.batch(part)
			if err != nil {
				return err
			}
			ci := 0
			for i, c := range b.Cols {
				if i != im.partIdx {
					out.Cols[ci].Append(c.Value(row))
					ci++
				}
			}
			im.rows++
		}
	}
}
