package warehouse

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/parquet-go/parquet-go"

	"github.com/chronon-go/chronon/runtime/types"
)

// Table is one table of the warehouse. Ref.Filters (from `db.table/k=v`) restrict every read.
type Table struct {
	W   *Warehouse
	Ref TableRef
	Dir string

	derived *Meta // metadata of a table without _chronon.json, derived once per handle
}

// Name is `namespace.table`.
func (t *Table) Name() string { return t.Ref.Table() }

// Meta returns the table's metadata; for a table without _chronon.json it is derived from the
// directory names and the first Parquet file's footer.
func (t *Table) Meta() (*Meta, error) {
	m, err := readMeta(t.Dir)
	if err != nil || m != nil {
		return m, err
	}
	if t.derived != nil {
		return t.derived, nil
	}
	m = &Meta{PartitionColumns: inferPartitionColumns(t.Dir), Derived: true}
	if f := firstParquet(t.Dir); f != "" {
		s, err := fileSchema(f)
		if err != nil {
			return nil, err
		}
		m.Columns = metaColumns(s)
	}
	t.derived = m
	return m, nil
}

// firstParquet returns the first data file under dir in walk order ("" if none).
func firstParquet(dir string) string {
	found := ""
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || found != "" {
			return filepath.SkipDir
		}
		if d.IsDir() && p != dir && hidden(d.Name()) {
			return filepath.SkipDir
		}
		if !d.IsDir() && !hidden(d.Name()) && strings.HasSuffix(d.Name(), ".parquet") {
			found = p
			return filepath.SkipAll
		}
		return nil
	})
	return found
}

// Schema is the data columns followed by the partition columns (as strings, like Spark's
// `hive_types_autocast=false` reading: ds stays a string).
func (t *Table) Schema() (types.Schema, error) {
	m, err := t.Meta()
	if err != nil {
		return nil, err
	}
	s, err := m.Schema()
	if err != nil {
		return nil, fmt.Errorf("table %s: %w", t.Name(), err)
	}
	for _, p := range m.PartitionColumns {
		s = append(s, types.Field{Name: p, Type: types.StringType})
	}
	return s, nil
}

// Partition is one leaf partition directory.
type Partition struct {
	Values []PartitionValue // outermost first
	Dir    string
}

// Value returns the partition's value for column c ("" if absent).
func (p Partition) Value(c string) string {
	for _, v := range p.Values {
		if v.Column == c {
			return v.Value
		}
	}
	return ""
}

// Spec renders `k=v/k2=v2`.
func (p Partition) Spec() string {
	parts := make([]string, len(p.Values))
	for i, v := range p.Values {
		parts[i] = v.Column + "=" + v.Value
	}
	return strings.Join(parts, "/")
}

// Partitions lists the leaf partitions that match the table reference's filters, sorted by value.
// An unpartitioned table has none.
func (t *Table) Partitions() ([]Partition, error) {
	m, err := t.Meta()
	if err != nil {
		return nil, err
	}
	var out []Partition
	var walk func(dir string, level int, vals []PartitionValue) error
	walk = func(dir string, level int, vals []PartitionValue) error {
		if level == len(m.PartitionColumns) {
			out = append(out, Partition{Values: append([]PartitionValue(nil), vals...), Dir: dir})
			return nil
		}
		ents, err := os.ReadDir(dir)
		if err != nil {
			return err
		}
		for _, e := range ents {
			k, v, ok := strings.Cut(e.Name(), "=")
			if !e.IsDir() || !ok || k != m.PartitionColumns[level] {
				continue
			}
			v = unescapePartitionValue(v)
			if !matchesFilters(t.Ref.Filters, k, v) {
				continue
			}
			if err := walk(filepath.Join(dir, e.Name()), level+1, append(vals, PartitionValue{k, v})); err != nil {
				return err
			}
		}
		return nil
	}
	if len(m.PartitionColumns) == 0 {
		return nil, nil
	}
	if err := walk(t.Dir, 0, nil); err != nil {
		return nil, err
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Spec() < out[j].Spec() })
	return out, nil
}

// PartitionDates lists the distinct values of the ds partition column, ascending.
func (t *Table) PartitionDates() ([]string, error) {
	ps, err := t.Partitions()
	if err != nil {
		return nil, err
	}
	var out []string
	for _, p := range ps {
		d := p.Value(PartitionColumn)
		if d != "" && (len(out) == 0 || out[len(out)-1] != d) {
			out = append(out, d)
		}
	}
	sort.Strings(out)
	return out, nil
}

func matchesFilters(fs []PartitionValue, k, v string) bool {
	for _, f := range fs {
		if f.Column == k && f.Value != v {
			return false
		}
	}
	return true
}

// inferPartitionColumns follows the first `k=v` directory chain down from dir.
func inferPartitionColumns(dir string) []string {
	var cols []string
	for {
		ents, err := os.ReadDir(dir)
		if err != nil {
			return cols
		}
		next := ""
		for _, e := range ents {
			if k, _, ok := strings.Cut(e.Name(), "="); ok && e.IsDir() {
				cols = append(cols, k)
				next = filepath.Join(dir, e.Name())
				break
			}
		}
		if next == "" {
			return cols
		}
		dir = next
	}
}

// dataFiles lists the Parquet files directly in dir, skipping hidden and `_` files as Spark does.
func dataFiles(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range ents {
		if !e.IsDir() && !hidden(e.Name()) && strings.HasSuffix(e.Name(), ".parquet") {
			out = append(out, filepath.Join(dir, e.Name()))
		}
	}
	sort.Strings(out)
	return out, nil
}

// fileSchema reads a Parquet file's footer and maps its columns to data types.
func fileSchema(path string) (types.Schema, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	pf, err := parquet.OpenFile(f, st.Size(), parquet.SkipPageIndex(true), parquet.SkipBloomFilters(true))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return topLevelSchema(pf.Schema(), path)
}

func topLevelSchema(root parquet.Node, path string) (types.Schema, error) {
	var s types.Schema
	for _, f := range root.Fields() {
		t, err := chrononType(f)
		if err != nil {
			return nil, fmt.Errorf("%s: column %s: %w", path, f.Name(), err)
		}
		if f.Repeated() {
			t = types.ListOf(t)
		}
		s = append(s, types.Field{Name: f.Name(), Type: t})
	}
	return s, nil
}

// FileSchema is the schema of one Parquet file (e.g. an import source).
func FileSchema(path string) (types.Schema, error) { return fileSchema(path) }

// Partition values are escaped like Hive does, so any string round-trips through a directory name.
func escapePartitionValue(v string) string {
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c < 0x20 || strings.IndexByte("\"#%'*/:=?\\\x7f{[]^", c) >= 0 {
			fmt.Fprintf(&b, "%%%02X", c)
		} else {
			b.WriteByte(c)
		}
	}
	return b.String()
}

func unescapePartitionValue(v string) string {
	if !strings.Contains(v, "%") {
		return v
	}
	if u, err := url.PathUnescape(v); err == nil {
		return u
	}
	return v
}

// PartitionDir is the directory of the partition with the given values (outermost first).
func PartitionDir(tableDir string, vals []PartitionValue) string {
	dir := tableDir
	for _, v := range vals {
		dir = filepath.Join(dir, v.Column+"="+escapePartitionValue(v.Value))
	}
	return dir
}
