// Package warehouse stores Chronon tables as Hive-style partitioned Parquet:
//
//	<root>/<namespace>/<table>/ds=2023-11-01/part-00000-<id>.parquet
//	<root>/<namespace>/<table>/_chronon.json      schema, partition columns, table properties
//
// The layout is what Spark, DuckDB and pandas read as-is. Partition columns live in directory names,
// not inside the files. Writers stage files outside the table and move whole partitions into place, so
// readers see either the old or the new partition, never a partial one.
package warehouse

import (
	"errors"
	"fmt"
	"github.com/chronon-go/chronon/internal/suggest"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// PartitionColumn is Chronon's default partition column (spec §3.1).
const PartitionColumn = "ds"

// DateFormat is the partition format yyyy-MM-dd in Go's spelling.
const DateFormat = "2006-01-02"

// Warehouse is a directory of tables.
type Warehouse struct {
	Root string
}

// DefaultRoot is where the warehouse lives when neither --warehouse nor CHRONON_WAREHOUSE is given.
func DefaultRoot(chrononRoot string) string {
	return filepath.Join(chrononRoot, ".chronon", "warehouse")
}

// Open returns the warehouse at root, creating the directory if needed, and finishes or rolls back
// partition swaps that a killed writer left behind.
func Open(root string) (*Warehouse, error) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return nil, fmt.Errorf("warehouse %s: %w", abs, err)
	}
	w := &Warehouse{Root: abs}
	w.recover()
	return w, nil
}

// TableRef is a table name as confs write it: `namespace.table`, optionally followed by sub-partition
// filters `/k=v/k2=v2` (spec §3.1).
type TableRef struct {
	Namespace string
	Name      string
	Filters   []PartitionValue
}

// PartitionValue is one `column=value` pair of a partition spec.
type PartitionValue struct {
	Column string
	Value  string
}

// Table is the `namespace.table` part of the reference.
func (r TableRef) Table() string { return r.Namespace + "." + r.Name }

func (r TableRef) String() string {
	var b strings.Builder
	b.WriteString(r.Table())
	for _, f := range r.Filters {
		b.WriteString("/" + f.Column + "=" + f.Value)
	}
	return b.String()
}

// ParseTableRef parses `namespace.table[/k=v...]`.
func ParseTableRef(s string) (TableRef, error) {
	parts := strings.Split(strings.TrimSpace(s), "/")
	ns, name, ok := strings.Cut(parts[0], ".")
	if !ok || ns == "" || name == "" || strings.Contains(name, ".") {
		return TableRef{}, fmt.Errorf("table %q: expected namespace.table (e.g. data.purchases)", s)
	}
	for _, id := range []string{ns, name} {
		if !validIdent(id) {
			return TableRef{}, fmt.Errorf("table %q: %q may only contain letters, digits and _", s, id)
		}
	}
	ref := TableRef{Namespace: ns, Name: name}
	for _, p := range parts[1:] {
		k, v, ok := strings.Cut(p, "=")
		if !ok || k == "" {
			return TableRef{}, fmt.Errorf("table %q: sub-partition %q is not column=value", s, p)
		}
		ref.Filters = append(ref.Filters, PartitionValue{Column: k, Value: v})
	}
	return ref, nil
}

func validIdent(s string) bool {
	for _, c := range s {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return s != ""
}

// Dir is the directory of table `namespace.table`.
func (w *Warehouse) Dir(ref TableRef) string {
	return filepath.Join(w.Root, ref.Namespace, ref.Name)
}

// Tables lists every table as `namespace.table`, sorted. A table is a directory two levels below the
// root; names starting with `.` or `_` are the warehouse's own bookkeeping.
func (w *Warehouse) Tables() ([]string, error) {
	nss, err := os.ReadDir(w.Root)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, ns := range nss {
		if !ns.IsDir() || hidden(ns.Name()) {
			continue
		}
		ts, err := os.ReadDir(filepath.Join(w.Root, ns.Name()))
		if err != nil {
			return nil, err
		}
		for _, t := range ts {
			if t.IsDir() && !hidden(t.Name()) {
				out = append(out, ns.Name()+"."+t.Name())
			}
		}
	}
	sort.Strings(out)
	return out, nil
}

func hidden(name string) bool { return strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") }

// Exists reports whether the table has a directory.
func (w *Warehouse) Exists(table string) bool {
	ref, err := ParseTableRef(table)
	if err != nil {
		return false
	}
	st, err := os.Stat(w.Dir(ref))
	return err == nil && st.IsDir()
}

// ErrUnknownTable is matched (errors.Is) by every unknown-table error.
var ErrUnknownTable = errors.New("unknown table")

// UnknownTableError names a missing table and the existing tables closest to it.
type UnknownTableError struct {
	Table       string
	Root        string
	Suggestions []string
}

func (e *UnknownTableError) Error() string {
	msg := fmt.Sprintf("table %s does not exist in warehouse %s", e.Table, e.Root)
	if len(e.Suggestions) > 0 {
		msg += fmt.Sprintf(" (did you mean %s?)", strings.Join(e.Suggestions, " or "))
	} else {
		msg += " (load data with `chronon import --table " + e.Table + " <file.csv>`)"
	}
	return msg
}

func (e *UnknownTableError) Is(target error) bool { return target == ErrUnknownTable }

// Table opens an existing table; name may carry sub-partition filters, which the returned table
// applies to every read.
func (w *Warehouse) Table(name string) (*Table, error) {
	ref, err := ParseTableRef(name)
	if err != nil {
		return nil, err
	}
	dir := w.Dir(ref)
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		all, _ := w.Tables()
		return nil, &UnknownTableError{Table: ref.Table(), Root: w.Root, Suggestions: Suggest(ref.Table(), all)}
	}
	return &Table{W: w, Ref: ref, Dir: dir}, nil
}

// Suggest returns the candidates closest to name (edit distance at most a third of its length, or
// the same table name in another namespace), best first, at most three.
func Suggest(name string, candidates []string) []string {
	type scored struct {
		s string
		d int
	}
	_, short, qualified := strings.Cut(name, ".")
	var hits []scored
	limit := max(2, len(name)/3)
	for _, c := range candidates {
		d := suggest.Distance(strings.ToLower(name), strings.ToLower(c))
		_, cshort, _ := strings.Cut(c, ".")
		if d <= limit || qualified && cshort == short {
			hits = append(hits, scored{c, d})
		}
	}
	sort.SliceStable(hits, func(i, j int) bool { return hits[i].d < hits[j].d })
	var out []string
	for i := 0; i < len(hits) && i < 3; i++ {
		out = append(out, hits[i].s)
	}
	return out
}

// DropTable removes a table and its data.
func (w *Warehouse) DropTable(name string) error {
	ref, err := ParseTableRef(name)
	if err != nil {
		return err
	}
	dir := w.Dir(ref)
	if _, err := os.Stat(dir); err != nil {
		return nil
	}
	// Move it out of sight first so a concurrent reader never sees half a table.
	trash, err := w.tempDir(".trash", "drop")
	if err != nil {
		return err
	}
	if err := os.Rename(dir, filepath.Join(trash, "t")); err != nil {
		return err
	}
	return os.RemoveAll(trash)
}
