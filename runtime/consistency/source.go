package consistency

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net/url"
	"sort"

	"github.com/chronon-go/chronon/runtime/kv"
	"github.com/chronon-go/chronon/runtime/types"
	"github.com/chronon-go/chronon/runtime/warehouse"
)

// rawRecord is one logged fetch as log-flattener sees it, whatever the input (spec §8.2).
type rawRecord struct {
	ds         string // the partition it belongs to
	tsMillis   int64
	schemaHash string
	key, value []byte
}

// rawSource is where log-flattener reads logged fetches and the schemas they reference.
type rawSource interface {
	// days lists the partitions holding records of the join, ascending.
	days(ctx context.Context) ([]string, error)
	// scan calls fn for every record of the join whose ds is in want.
	scan(ctx context.Context, want map[string]bool, fn func(rawRecord) error) error
	// schemas returns the logging schema JSON of each hash it knows among hashes.
	schemas(ctx context.Context, hashes []string) (map[string]string, error)
	describe() string
}

// logSource reads the durable fetch log directly (no dump step). A record's ds is the UTC day of its
// TsMillis, the request's query time: fetches at a past --at-millis then land in the partition of
// that time, which the comparison backfill needs; for live fetches it is the day of the write too.
type logSource struct {
	log      kv.Log
	joinPath string
	// filled by days: every published schema (hash → JSON); the log is small next to the data.
	published map[string]string
}

func (s *logSource) describe() string { return "the fetch log" }

func (s *logSource) days(ctx context.Context) ([]string, error) {
	seen := map[string]bool{}
	s.published = map[string]string{}
	err := s.log.Scan(ctx, []string{s.joinPath, kv.SchemaPublishEvent}, func(r kv.LogRecord) error {
		if r.Name == kv.SchemaPublishEvent {
			s.published[string(r.KeyBytes)] = string(r.ValueBytes)
			return nil
		}
		if r.Name == s.joinPath && r.SchemaHash != "" {
			seen[dayOf(r.TsMillis)] = true
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading the fetch log: %w", err)
	}
	return sortedKeys(seen), nil
}

func (s *logSource) scan(ctx context.Context, want map[string]bool, fn func(rawRecord) error) error {
	return s.log.Scan(ctx, []string{s.joinPath}, func(r kv.LogRecord) error {
		if r.Name != s.joinPath || r.SchemaHash == "" { // Chronon ignores rows without a schema hash
			return nil
		}
		ds := dayOf(r.TsMillis)
		if !want[ds] {
			return nil
		}
		return fn(rawRecord{ds: ds, tsMillis: r.TsMillis, schemaHash: r.SchemaHash, key: r.KeyBytes, value: r.ValueBytes})
	})
}

func (s *logSource) schemas(_ context.Context, hashes []string) (map[string]string, error) {
	out := map[string]string{}
	for _, h := range hashes {
		if v, ok := s.published[h]; ok {
			out[h] = v
		}
	}
	return out, nil
}

// tableSource reads Chronon-format warehouse tables (--log-table/--schema-table): the raw log table
// of spec §8.2 (key_base64, value_base64, ts_millis, schema_hash, name, ds) and the schema table of
// §8.3 (schema_hash, schema_value_last, ds; its latest partition is used).
type tableSource struct {
	w                     *warehouse.Warehouse
	logTable, schemaTable string
	joinPath              string
}

func (s *tableSource) describe() string { return "log table " + s.logTable }

var logTableColumns = []string{"key_base64", "value_base64", "ts_millis", "schema_hash", "name", "ds"}

func (s *tableSource) open(want map[string]bool) (*warehouse.Reader, error) {
	t, err := s.w.Table(s.logTable)
	if err != nil {
		return nil, fmt.Errorf("--log-table: %w", err)
	}
	start, end := "", ""
	for d := range want {
		if start == "" || d < start {
			start = d
		}
		if d > end {
			end = d
		}
	}
	r, err := t.Read(warehouse.ReadOptions{Columns: logTableColumns, Start: start, End: end})
	if err != nil {
		return nil, fmt.Errorf("--log-table %s: %w (expected Chronon's raw log columns %v)", s.logTable, err, logTableColumns)
	}
	for _, f := range r.Schema() {
		if ok := f.Type.Kind == types.String || f.Name == "ts_millis" && f.Type.IsIntegral(); !ok {
			r.Close()
			want := "string"
			if f.Name == "ts_millis" {
				want = "bigint"
			}
			return nil, fmt.Errorf("--log-table %s: column %s is %s, expected %s (spec §8.2: key_base64, value_base64, schema_hash, name, ds strings; ts_millis bigint)", s.logTable, f.Name, f.Type, want)
		}
	}
	return r, nil
}

// matches compares the name column with the join path; Hive keeps a partition column's "/" as %2F.
func (s *tableSource) matches(name string) bool {
	if name == s.joinPath {
		return true
	}
	dec, err := url.PathUnescape(name)
	return err == nil && dec == s.joinPath
}

func (s *tableSource) each(ctx context.Context, want map[string]bool, fn func(b *types.Batch, i int) error) error {
	r, err := s.open(want)
	if err != nil {
		return err
	}
	defer r.Close()
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		b, err := r.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("--log-table %s: %w", s.logTable, err)
		}
		name, hash, ds := b.Cols[4], b.Cols[3], b.Cols[5]
		for i := 0; i < b.Len(); i++ {
			if name.IsNull(i) || !s.matches(name.Strs[i]) || hash.IsNull(i) || hash.Strs[i] == "" {
				continue
			}
			if want != nil && !want[ds.Strs[i]] {
				continue
			}
			if err := fn(b, i); err != nil {
				return err
			}
		}
	}
}

func (s *tableSource) days(ctx context.Context) ([]string, error) {
	seen := map[string]bool{}
	err := s.each(ctx, nil, func(b *types.Batch, i int) error {
		seen[b.Cols[5].Strs[i]] = true
		return nil
	})
	return sortedKeys(seen), err
}

func (s *tableSource) scan(ctx context.Context, want map[string]bool, fn func(rawRecord) error) error {
	return s.each(ctx, want, func(b *types.Batch, i int) error {
		rec := rawRecord{ds: b.Cols[5].Strs[i], schemaHash: b.Cols[3].Strs[i]}
		var err1, err2 error
		if !b.Cols[0].IsNull(i) {
			rec.key, err1 = base64.StdEncoding.DecodeString(b.Cols[0].Strs[i])
		}
		if !b.Cols[1].IsNull(i) {
			rec.value, err2 = base64.StdEncoding.DecodeString(b.Cols[1].Strs[i])
		}
		if err1 != nil || err2 != nil {
			rec.key, rec.value = nil, nil // undecodable: counted as a failed row by the flattener
		}
		if ts := b.Cols[2]; !ts.IsNull(i) {
			rec.tsMillis = ts.Ints[i]
		}
		return fn(rec)
	})
}

func (s *tableSource) schemas(_ context.Context, hashes []string) (map[string]string, error) {
	t, err := s.w.Table(s.schemaTable)
	if err != nil {
		return nil, fmt.Errorf("--schema-table: %w", err)
	}
	days, err := t.PartitionDates()
	if err != nil {
		return nil, err
	}
	if len(days) == 0 {
		return nil, fmt.Errorf("--schema-table %s has no partitions (run its GroupBy backfill first, spec §8.3)", s.schemaTable)
	}
	latest := days[len(days)-1]
	r, err := t.Read(warehouse.ReadOptions{Columns: []string{"schema_hash", "schema_value_last"}, Start: latest, End: latest})
	if err != nil {
		return nil, fmt.Errorf("--schema-table %s: %w (expected columns schema_hash, schema_value_last)", s.schemaTable, err)
	}
	b, err := r.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("--schema-table %s partition %s: %w", s.schemaTable, latest, err)
	}
	want := map[string]bool{}
	for _, h := range hashes {
		want[h] = true
	}
	out := map[string]string{}
	for i := 0; i < b.Len(); i++ {
		if b.Cols[0].IsNull(i) || b.Cols[1].IsNull(i) || !want[b.Cols[0].Strs[i]] {
			continue
		}
		out[b.Cols[0].Strs[i]] = b.Cols[1].Strs[i]
	}
	return out, nil
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
