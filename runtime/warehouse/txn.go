package warehouse

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/chronon-go/chronon/runtime/types"
)

// TableSpec describes what a write produces.
type TableSpec struct {
	// Schema lists the data columns written into the files (partition columns excluded).
	Schema types.Schema
	// PartitionColumns name the directory levels, outermost first; nil writes an unpartitioned table.
	PartitionColumns []string
	// Properties are merged into the table's properties on commit.
	Properties map[string]string
	// ReplaceTable makes Commit replace the whole table (all partitions, schema and properties) in
	// one rename, like Spark's saveAsTable in overwrite mode; otherwise only written partitions change.
	ReplaceTable bool
}

// Txn stages the partitions of one write outside the table and moves them into place on Commit.
// Each written partition replaces the existing one entirely (Spark's dynamic partition overwrite);
// partitions not written are kept. Until Commit nothing is visible; Abort (or a crash) leaves the
// table untouched.
type Txn struct {
	w       *Warehouse
	ref     TableRef
	spec    TableSpec
	staging string
	parts   map[string]*stagedPartition
	order   []string
	open    int
	done    bool
	mu      sync.Mutex // guards parts, order and file numbering for WriteFile
}

type stagedPartition struct {
	vals   []PartitionValue
	dir    string
	writer *fileWriter
	files  int
	used   time.Time
}

// maxOpenWriters bounds memory: each open writer buffers up to one row group.
const maxOpenWriters = 32

// Begin starts a write into table (`namespace.table`).
func (w *Warehouse) Begin(table string, spec TableSpec) (*Txn, error) {
	ref, err := ParseTableRef(table)
	if err != nil {
		return nil, err
	}
	if len(ref.Filters) > 0 {
		return nil, fmt.Errorf("table %s: cannot write to a sub-partition reference; name the table and pass the partition values", table)
	}
	for _, p := range spec.PartitionColumns {
		if spec.Schema.Index(p) >= 0 {
			return nil, fmt.Errorf("table %s: partition column %s must not also be a data column (Hive layout keeps it in the directory name)", table, p)
		}
	}
	if _, err := parquetSchema(spec.Schema); err != nil {
		return nil, fmt.Errorf("table %s: %w", table, err)
	}
	staging, err := w.tempDir(".staging", ref.Namespace+"."+ref.Name)
	if err != nil {
		return nil, err
	}
	return &Txn{w: w, ref: ref, spec: spec, staging: staging, parts: map[string]*stagedPartition{}}, nil
}

// Schema is the data schema batches must have.
func (tx *Txn) Schema() types.Schema { return tx.spec.Schema }

func (tx *Txn) partition(vals []string) (*stagedPartition, error) {
	tx.mu.Lock()
	defer tx.mu.Unlock()
	if len(vals) != len(tx.spec.PartitionColumns) {
		return nil, fmt.Errorf("table %s: %d partition values %v for partition columns %v", tx.ref.Table(), len(vals), vals, tx.spec.PartitionColumns)
	}
	key := strings.Join(vals, "\x00")
	if p, ok := tx.parts[key]; ok {
		return p, nil
	}
	pv := make([]PartitionValue, len(vals))
	for i, v := range vals {
		if v == "" {
			return nil, fmt.Errorf("table %s: empty value for partition column %s", tx.ref.Table(), tx.spec.PartitionColumns[i])
		}
		pv[i] = PartitionValue{tx.spec.PartitionColumns[i], v}
	}
	p := &stagedPartition{vals: pv, dir: PartitionDir(filepath.Join(tx.staging, "data"), pv)}
	if err := os.MkdirAll(p.dir, 0o755); err != nil {
		return nil, err
	}
	tx.parts[key] = p
	tx.order = append(tx.order, key)
	return p, nil
}

// Write appends a batch (data columns only, in the spec's schema) to the partition with the given
// values (one per partition column; none for an unpartitioned table).
func (tx *Txn) Write(vals []string, b *types.Batch) error {
	if tx.done {
		return errors.New("warehouse: write after commit or abort")
	}
	p, err := tx.partition(vals)
	if err != nil {
		return err
	}
	if p.writer == nil {
		if tx.open >= maxOpenWriters {
			if err := tx.closeOldest(); err != nil {
				return err
			}
		}
		name := fmt.Sprintf("part-%05d-%s.snappy.parquet", p.files, filepath.Base(tx.staging))
		p.writer, err = newFileWriter(filepath.Join(p.dir, name), tx.spec.Schema)
		if err != nil {
			return err
		}
		p.files++
		tx.open++
	}
	p.used = time.Now()
	return p.writer.Write(b)
}

// WriteFile writes b as one new file of the partition with the given values. Unlike Write it is safe
// for concurrent use, so large outputs can be encoded on every core.
func (tx *Txn) WriteFile(vals []string, b *types.Batch) error {
	first, err := tx.ReserveFiles(vals, 1)
	if err != nil {
		return err
	}
	return tx.WriteFileNumbered(vals, first, b)
}

// ReserveFiles reserves n consecutive file numbers in partition vals and returns the first. Readers
// read a partition's files in number order, so concurrent writers that number their files keep the
// rows in a deterministic order (WriteFileNumbered).
func (tx *Txn) ReserveFiles(vals []string, n int) (int, error) {
	if tx.done {
		return 0, errors.New("warehouse: write after commit or abort")
	}
	p, err := tx.partition(vals)
	if err != nil {
		return 0, err
	}
	tx.mu.Lock()
	first := p.files
	p.files += n
	tx.mu.Unlock()
	return first, nil
}

// WriteFileNumbered is WriteFile with a file number from ReserveFiles.
func (tx *Txn) WriteFileNumbered(vals []string, num int, b *types.Batch) error {
	if tx.done {
		return errors.New("warehouse: write after commit or abort")
	}
	p, err := tx.partition(vals)
	if err != nil {
		return err
	}
	name := fmt.Sprintf("part-%05d-%s.snappy.parquet", num, filepath.Base(tx.staging))
	fw, err := newFileWriter(filepath.Join(p.dir, name), tx.spec.Schema)
	if err != nil {
		return err
	}
	if err := fw.Write(b); err != nil {
		fw.Close()
		return err
	}
	return fw.Close()
}

func (tx *Txn) closeOldest() error {
	var oldest *stagedPartition
	for _, p := range tx.parts {
		if p.writer != nil && (oldest == nil || p.used.Before(oldest.used)) {
			oldest = p
		}
	}
	if oldest == nil {
		return nil
	}
	err := oldest.writer.Close()
	oldest.writer = nil
	tx.open--
	return err
}

// AddFile moves an existing Parquet file (e.g. written by DuckDB) into a staged partition. The file
// must hold the spec's data columns.
func (tx *Txn) AddFile(vals []string, path string) error {
	p, err := tx.partition(vals)
	if err != nil {
		return err
	}
	name := fmt.Sprintf("part-%05d-%s.parquet", p.files, filepath.Base(tx.staging))
	p.files++
	return os.Rename(path, filepath.Join(p.dir, name))
}

// Partitions lists the staged partitions' values in the order they were first written.
func (tx *Txn) Partitions() [][]PartitionValue {
	out := make([][]PartitionValue, len(tx.order))
	for i, k := range tx.order {
		out[i] = tx.parts[k].vals
	}
	return out
}

// Abort discards everything staged.
func (tx *Txn) Abort() {
	if tx.done {
		return
	}
	tx.done = true
	for _, p := range tx.parts {
		if p.writer != nil {
			p.writer.Close()
		}
	}
	os.RemoveAll(tx.staging)
}

// Commit finishes the files, updates _chronon.json (schema merged with the existing one, properties
// merged) and swaps each staged partition into place. On error the table is left as it was, except
// for partitions already swapped when the failure is in the middle of the swaps (they are complete).
func (tx *Txn) Commit() (err error) {
	if tx.done {
		return errors.New("warehouse: commit after commit or abort")
	}
	defer func() {
		if err != nil {
			tx.Abort()
		}
	}()
	for _, p := range tx.parts {
		if p.writer != nil {
			if err := p.writer.Close(); err != nil {
				return err
			}
			p.writer = nil
		}
	}
	dir := tx.w.Dir(tx.ref)
	meta, err := tx.mergedMeta(dir)
	if err != nil {
		return err
	}
	if len(tx.spec.PartitionColumns) == 0 || tx.spec.ReplaceTable {
		return tx.commitWholeTable(dir, meta)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := writeMeta(dir, meta); err != nil {
		return err
	}
	for _, k := range tx.order {
		p := tx.parts[k]
		if err := tx.w.swap(p.dir, PartitionDir(dir, p.vals)); err != nil {
			return fmt.Errorf("table %s partition %s: %w", tx.ref.Table(), Partition{Values: p.vals}.Spec(), err)
		}
	}
	tx.done = true
	os.RemoveAll(tx.staging)
	return nil
}

// An unpartitioned table is replaced as a whole (its files and _chronon.json sit in one directory), and
// so is any table written with ReplaceTable: the staged data directory becomes the table directory.
func (tx *Txn) commitWholeTable(dir string, meta *Meta) error {
	data := filepath.Join(tx.staging, "data")
	if err := os.MkdirAll(data, 0o755); err != nil {
		return err
	}
	if err := writeMeta(data, meta); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return err
	}
	if err := tx.w.swap(data, dir); err != nil {
		return fmt.Errorf("table %s: %w", tx.ref.Table(), err)
	}
	tx.done = true
	os.RemoveAll(tx.staging)
	return nil
}

func (tx *Txn) mergedMeta(dir string) (*Meta, error) {
	old, err := readMeta(dir)
	if err != nil {
		return nil, err
	}
	props := map[string]string{}
	if old != nil {
		maps.Copy(props, old.Properties)
	}
	if tx.spec.ReplaceTable {
		clear(props)
	}
	maps.Copy(props, tx.spec.Properties)
	m := &Meta{Columns: metaColumns(tx.spec.Schema), PartitionColumns: tx.spec.PartitionColumns, Properties: props}
	if m.PartitionColumns == nil {
		m.PartitionColumns = []string{}
	}
	if old == nil || len(tx.spec.PartitionColumns) == 0 || tx.spec.ReplaceTable {
		return m, nil
	}
	if !slices.Equal(old.PartitionColumns, tx.spec.PartitionColumns) {
		return nil, fmt.Errorf("table %s is partitioned by %v, this write by %v (drop the table first to change it: rm -r %s)",
			tx.ref.Table(), old.PartitionColumns, tx.spec.PartitionColumns, dir)
	}
	// Keep the existing columns and append new ones (Chronon's auto-expand); a changed type is an error.
	oldSchema, err := old.Schema()
	if err != nil {
		return nil, err
	}
	merged := slices.Clone(oldSchema)
	for _, f := range tx.spec.Schema {
		i := merged.Index(f.Name)
		if i < 0 {
			merged = append(merged, f)
			continue
		}
		if !merged[i].Type.Equal(f.Type) {
			return nil, fmt.Errorf("table %s: column %s is %s in the table but %s in this write (cast it in the query, or drop the table first: rm -r %s)",
				tx.ref.Table(), f.Name, merged[i].Type, f.Type, dir)
		}
	}
	m.Columns = metaColumns(merged)
	m.MixedSchemas = old.MixedSchemas || !sameNames(merged, tx.spec.Schema) || !sameNames(merged, oldSchema)
	return m, nil
}

func sameNames(a, b types.Schema) bool { return slices.Equal(a.Names(), b.Names()) }

// swap moves src to dst, replacing dst. The old dst is parked in .trash first; if the process dies
// between the two renames, Open moves it back.
func (w *Warehouse) swap(src, dst string) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	if _, err := os.Stat(dst); errors.Is(err, os.ErrNotExist) {
		return os.Rename(src, dst)
	}
	trash, err := w.tempDir(".trash", "swap")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(trash, "target"), []byte(dst), 0o644); err != nil {
		return err
	}
	if err := os.Rename(dst, filepath.Join(trash, "old")); err != nil {
		return err
	}
	if err := os.Rename(src, dst); err != nil {
		os.Rename(filepath.Join(trash, "old"), dst)
		return err
	}
	return os.RemoveAll(trash)
}

// tempDir makes <root>/<kind>/<unix-nanos>-<pid>-<label>-<random>.
func (w *Warehouse) tempDir(kind, label string) (string, error) {
	base := filepath.Join(w.Root, kind)
	if err := os.MkdirAll(base, 0o755); err != nil {
		return "", err
	}
	return os.MkdirTemp(base, fmt.Sprintf("%d-%d-%s-", time.Now().UnixNano(), os.Getpid(), label))
}

// Leftovers older than this belong to a dead writer (a swap takes two renames; staging lives as long
// as a job, so it gets a generous bound).
const (
	trashAge   = time.Minute
	stagingAge = 24 * time.Hour
)

// recover undoes half-finished swaps and removes abandoned staging directories.
func (w *Warehouse) recover() {
	now := time.Now()
	age := func(name string) time.Duration {
		ns, _, _ := strings.Cut(name, "-")
		n, err := strconv.ParseInt(ns, 10, 64)
		if err != nil {
			return 0
		}
		return now.Sub(time.Unix(0, n))
	}
	if ents, err := os.ReadDir(filepath.Join(w.Root, ".trash")); err == nil {
		for _, e := range ents {
			if age(e.Name()) < trashAge {
				continue
			}
			dir := filepath.Join(w.Root, ".trash", e.Name())
			if target, err := os.ReadFile(filepath.Join(dir, "target")); err == nil {
				if _, err := os.Stat(string(target)); errors.Is(err, os.ErrNotExist) {
					os.Rename(filepath.Join(dir, "old"), string(target))
				}
			}
			os.RemoveAll(dir)
		}
	}
	if ents, err := os.ReadDir(filepath.Join(w.Root, ".staging")); err == nil {
		for _, e := range ents {
			if age(e.Name()) >= stagingAge {
				os.RemoveAll(filepath.Join(w.Root, ".staging", e.Name()))
			}
		}
	}
}

// StagingDir makes a private directory inside the warehouse (same file system, so its files can be
// renamed into tables) for a writer that produces files itself, e.g. DuckDB's COPY. Remove it when
// done; Open removes abandoned ones after a day.
func (w *Warehouse) StagingDir(label string) (string, error) { return w.tempDir(".staging", label) }

// WritePartition writes one partition (values for the spec's partition columns, none for an
// unpartitioned table) in its own transaction, replacing it if it exists.
func (w *Warehouse) WritePartition(table string, spec TableSpec, values []string, batches ...*types.Batch) error {
	tx, err := w.Begin(table, spec)
	if err != nil {
		return err
	}
	for _, b := range batches {
		if err := tx.Write(values, b); err != nil {
			tx.Abort()
			return err
		}
	}
	if len(batches) == 0 {
		if _, err := tx.partition(values); err != nil {
			tx.Abort()
			return err
		}
	}
	return tx.Commit()
}
