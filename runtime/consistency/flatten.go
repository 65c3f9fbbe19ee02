package consistency

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/chronon-go/chronon/runtime/kv"
	"github.com/chronon-go/chronon/runtime/online"
	"github.com/chronon-go/chronon/runtime/types"
	"github.com/chronon-go/chronon/runtime/warehouse"
	"github.com/chronon-go/chronon/thrift/api"
)

// contextualPrefix marks value fields that repeat contextual keys (Chronon's Constants.ContextualPrefix).
const contextualPrefix = "ext_contextual"

// FlattenOptions are the flags of `run --mode log-flattener`.
type FlattenOptions struct {
	// EndDate is the last log partition to flatten; "" means every partition in the log.
	EndDate string
	// StepDays bounds the days flattened (and held in memory) per committed chunk; 0 means 30.
	StepDays int
	// Force re-flattens partitions that already exist in out_logged.
	Force bool
	// LogTable and SchemaTable, both set, read Chronon-format warehouse tables (spec §8.2, §8.3)
	// instead of the fetch log.
	LogTable, SchemaTable string
	Log                   io.Writer // progress; nil is quiet
}

// FlattenResult says what a log-flattener run did.
type FlattenResult struct {
	Table   string   // out_logged
	Days    []string // partitions written
	Rows    int      // rows written
	Dropped int      // records that could not be decoded (bad bytes or unknown schema hash)
	// Skipped explains why nothing was done (samplePercent unset, no logs, up to date); "" otherwise.
	Skipped string
}

// loggingSchema is one published schema version (spec §8.1).
type loggingSchema struct {
	hash       string
	json       string
	key, value *online.AvroSchema
}

func parseLoggingSchema(hash, js string) (*loggingSchema, error) {
	var m struct {
		JoinName    string `json:"join_name"`
		KeySchema   string `json:"key_schema"`
		ValueSchema string `json:"value_schema"`
	}
	if err := json.Unmarshal([]byte(js), &m); err != nil {
		return nil, fmt.Errorf("logging schema %s is not JSON: %w", hash, err)
	}
	key, err := online.ParseAvroSchema(m.KeySchema)
	if err != nil {
		return nil, fmt.Errorf("logging schema %s: key_schema: %w", hash, err)
	}
	value, err := online.ParseAvroSchema(m.ValueSchema)
	if err != nil {
		return nil, fmt.Errorf("logging schema %s: value_schema: %w", hash, err)
	}
	return &loggingSchema{hash: hash, json: js, key: key, value: value}, nil
}

// FlattenLog is `run --mode log-flattener` (spec §8.4): it decodes the join's logged fetches into
// out_logged (`schema_hash, ts, <key fields>, <value fields>`, partitioned by ds), one committed
// transaction per chunk of StepDays, filling only the log partitions out_logged lacks. log is the
// fetch log; it is not used when opts.LogTable is set.
func FlattenLog(ctx context.Context, w *warehouse.Warehouse, log kv.Log, j *api.Join, opts FlattenOptions) (*FlattenResult, error) {
	md := j.GetMetaData()
	out, err := LoggedTable(md)
	if err != nil {
		return nil, fmt.Errorf("log-flattener: %w", err)
	}
	res := &FlattenResult{Table: out}
	if md.SamplePercent == nil || *md.SamplePercent <= 0 {
		res.Skipped = fmt.Sprintf("join %s does not log fetches (metaData.samplePercent is unset or 0): nothing to flatten. Set sample_percent on the Join, recompile and fetch again", md.GetName())
		return res, nil
	}
	joinPath := JoinPath(md)
	var src rawSource
	switch {
	case opts.LogTable != "" && opts.SchemaTable != "":
		src = &tableSource{w: w, logTable: opts.LogTable, schemaTable: opts.SchemaTable, joinPath: joinPath}
	case opts.LogTable != "" || opts.SchemaTable != "":
		return nil, fmt.Errorf("log-flattener: --log-table and --schema-table go together (Chronon-format raw log and schema tables); give both, or neither to read the fetch log")
	case log == nil:
		return nil, fmt.Errorf("log-flattener: no fetch log to read")
	default:
		src = &logSource{log: log, joinPath: joinPath}
	}
	what := "log-flattener " + md.GetName()
	logDays, err := src.days(ctx)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	have, err := existingDays(w, out)
	if err != nil {
		return nil, err
	}
	var todo []string
	for _, d := range logDays {
		if (opts.EndDate == "" || d <= opts.EndDate) && (opts.Force || !have[d]) {
			todo = append(todo, d)
		}
	}
	switch {
	case len(logDays) == 0:
		res.Skipped = fmt.Sprintf("%s has no logged fetches of %s yet (fetch it with logging on: chronon run --mode fetch --type join --name %s -k ...)", src.describe(), joinPath, joinPath)
		return res, nil
	case len(todo) == 0:
		res.Skipped = fmt.Sprintf("%s is up to date (log partitions %s..%s)", out, logDays[0], logDays[len(logDays)-1])
		return res, nil
	}
	began := time.Now()
	f := &flattener{w: w, src: src, out: out, md: md, opts: opts, what: what, warned: map[string]bool{}}
	cs := chunks(todo, opts.StepDays)
	for ci, c := range cs {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		rows, dropped, err := f.chunk(ctx, c)
		if err != nil {
			return nil, err
		}
		res.Days = append(res.Days, c...)
		res.Rows += rows
		res.Dropped += dropped
		logf(opts.Log, "%s: chunk %d/%d [%s, %s]: %d rows, %d dropped", what, ci+1, len(cs), c[0], c[len(c)-1], rows, dropped)
	}
	logf(opts.Log, "%s: wrote %d rows in %d partition(s) of %s in %s; %d undecodable record(s) dropped",
		what, res.Rows, len(res.Days), out, time.Since(began).Round(time.Millisecond), res.Dropped)
	return res, nil
}

type flattener struct {
	w      *warehouse.Warehouse
	src    rawSource
	out    string
	md     *api.MetaData
	opts   FlattenOptions
	what   string
	warned map[string]bool // unknown schema hashes already reported
}

// versionMap locates each output data column in one schema version's key or value record.
type versionMap struct {
	s     *loggingSchema
	key   []int // per data column: index in the key record, or -1
	value []int // per data column: index in the value record, or -1
}

// chunk flattens the records of days into one transaction.
func (f *flattener) chunk(ctx context.Context, days []string) (rows, dropped int, err error) {
	want := map[string]bool{}
	for _, d := range days {
		want[d] = true
	}
	var recs []rawRecord
	firstTs := map[string]int64{}
	if err := f.src.scan(ctx, want, func(r rawRecord) error {
		recs = append(recs, r)
		if t, ok := firstTs[r.schemaHash]; !ok || r.tsMillis < t {
			firstTs[r.schemaHash] = r.tsMillis
		}
		return nil
	}); err != nil {
		return 0, 0, fmt.Errorf("%s: %w", f.what, err)
	}
	// Versions in order of first appearance (earliest logged request), so columns added by a newer
	// schema come after the older ones.
	hashes := make([]string, 0, len(firstTs))
	for h := range firstTs {
		hashes = append(hashes, h)
	}
	sort.Slice(hashes, func(a, b int) bool {
		ta, tb := firstTs[hashes[a]], firstTs[hashes[b]]
		return ta < tb || ta == tb && hashes[a] < hashes[b]
	})
	raw, err := f.src.schemas(ctx, hashes)
	if err != nil {
		return 0, 0, fmt.Errorf("%s: %w", f.what, err)
	}
	var versions []*loggingSchema
	for _, h := range hashes {
		js, ok := raw[h]
		if !ok {
			if !f.warned[h] {
				f.warned[h] = true
				logf(f.opts.Log, "%s: schema hash %s was never published (no %s record for it): its rows are dropped", f.what, h, kv.SchemaPublishEvent)
			}
			continue
		}
		s, err := parseLoggingSchema(h, js)
		if err != nil {
			return 0, 0, fmt.Errorf("%s: %w", f.what, err)
		}
		versions = append(versions, s)
	}
	data, err := f.dataColumns(versions)
	if err != nil {
		return 0, 0, err
	}
	maps := map[string]*versionMap{}
	for _, s := range versions {
		maps[s.hash] = locate(s, data)
	}
	schema := append(types.Schema{{Name: "schema_hash", Type: types.StringType}, {Name: "ts", Type: types.LongType}}, data...)
	byDay := map[string]*types.Batch{}
	for _, d := range days {
		byDay[d] = types.NewBatch(schema, 0)
	}
	for _, r := range recs {
		vm := maps[r.schemaHash]
		if vm == nil {
			dropped++
			continue
		}
		k, kerr := vm.s.key.Decode(r.key)
		v, verr := vm.s.value.Decode(r.value)
		if kerr != nil || verr != nil {
			dropped++
			continue
		}
		b := byDay[r.ds]
		b.Cols[0].Append(r.schemaHash)
		b.Cols[1].Append(r.tsMillis)
		for i := range data {
			var x any
			if ki := vm.key[i]; ki >= 0 {
				x = k[ki]
			} else if vi := vm.value[i]; vi >= 0 {
				x = v[vi]
			}
			b.Cols[2+i].Append(x)
		}
		rows++
	}
	props := map[string]string{}
	for k, v := range f.md.TableProperties {
		props[k] = v
	}
	for _, s := range versions {
		props[propSchemaPrefix+s.hash] = s.json
	}
	props[propLogTable] = "true"
	props[warehouse.PropGenerated] = "true"
	props[warehouse.PropTableType] = tableTypeLogged
	tx, err := f.w.Begin(f.out, warehouse.TableSpec{Schema: schema, PartitionColumns: []string{warehouse.PartitionColumn}, Properties: props})
	if err != nil {
		return 0, 0, err
	}
	for _, d := range days {
		// Days whose every record was dropped still get their (empty) partition: they are done.
		if err := tx.Write([]string{d}, byDay[d]); err != nil {
			tx.Abort()
			return 0, 0, fmt.Errorf("%s: writing %s partition %s: %w", f.what, f.out, d, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, 0, fmt.Errorf("%s: %w", f.what, err)
	}
	return rows, dropped, nil
}

// dataColumns is the union of the versions' fields: out_logged's existing data columns first (so the
// table keeps its order), then key fields, then value fields, each in first-appearance order.
// ext_contextual* value fields repeat contextual keys and are left out. A name with two types is an
// error, whichever versions (or the existing table) disagree.
func (f *flattener) dataColumns(versions []*loggingSchema) (types.Schema, error) {
	var out types.Schema
	origin := map[string]string{}
	add := func(fd types.Field, from string) error {
		if i := out.Index(fd.Name); i >= 0 {
			if !out[i].Type.Equal(fd.Type) {
				return fmt.Errorf("%s: field %s is %s in %s but %s in %s; a logged field cannot change type (rename the feature, or drop %s to start over)",
					f.what, fd.Name, out[i].Type, origin[fd.Name], fd.Type, from, f.out)
			}
			return nil
		}
		out = append(out, fd)
		origin[fd.Name] = from
		return nil
	}
	if f.w.Exists(f.out) {
		t, err := f.w.Table(f.out)
		if err != nil {
			return nil, err
		}
		existing, err := t.Schema()
		if err != nil {
			return nil, err
		}
		for _, fd := range existing {
			switch fd.Name {
			case "schema_hash", "ts", warehouse.PartitionColumn:
				continue
			}
			if err := add(fd, "table "+f.out); err != nil {
				return nil, err
			}
		}
	}
	for _, s := range versions {
		for _, fd := range s.key.Fields() {
			if err := add(fd, "key schema of logging schema "+s.hash); err != nil {
				return nil, err
			}
		}
	}
	for _, s := range versions {
		for _, fd := range s.value.Fields() {
			if strings.HasPrefix(fd.Name, contextualPrefix) {
				continue
			}
			if err := add(fd, "value schema of logging schema "+s.hash); err != nil {
				return nil, err
			}
		}
	}
	for _, reserved := range []string{"schema_hash", "ts", warehouse.PartitionColumn} {
		if out.Index(reserved) >= 0 {
			return nil, fmt.Errorf("%s: a logged key or value field is named %s, which out_logged reserves", f.what, reserved)
		}
	}
	return out, nil
}

// locate maps each data column to its position in s's key record (preferred: contextual keys
// appear in both) or value record.
func locate(s *loggingSchema, data types.Schema) *versionMap {
	vm := &versionMap{s: s, key: make([]int, len(data)), value: make([]int, len(data))}
	kf, vf := s.key.Fields(), s.value.Fields()
	for i, fd := range data {
		vm.key[i] = kf.Index(fd.Name)
		vm.value[i] = vf.Index(fd.Name)
		if strings.HasPrefix(fd.Name, contextualPrefix) {
			vm.value[i] = -1
		}
	}
	return vm
}
