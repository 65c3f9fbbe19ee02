package backfill

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/datadriven"

	"github.com/chronon-go/chronon/runtime/aggregate"
	"github.com/chronon-go/chronon/runtime/kv"
	"github.com/chronon-go/chronon/runtime/online"
	"github.com/chronon-go/chronon/runtime/types"
	"github.com/chronon-go/chronon/runtime/warehouse"
	"github.com/chronon-go/chronon/thrift/api"
	"github.com/chronon-go/chronon/thrift/conf"
)

func openKV(t testing.TB) kv.Store {
	t.Helper()
	s, err := kv.OpenEmbedded(filepath.Join(t.TempDir(), "kv"), kv.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// stored is what an upload left in the KV store, decoded with the codec.
type stored struct {
	info    *online.ServingInfo
	version int64
	value   *online.AvroSchema
	online  *aggregate.Online // TEMPORAL
	rows    map[string][]any  // key JSON → decoded value
	keys    map[string][]byte // key JSON → key bytes
}

// readBack reads the serving info and every key of the upload table from the KV store and decodes
// them the way the fetcher does: value schema from the serving info (finalized outputs for
// SNAPSHOT, selected columns without aggregations, the batch IR for TEMPORAL).
func readBack(t *testing.T, w *warehouse.Warehouse, s kv.Store, gb *api.GroupBy) *stored {
	t.Helper()
	ctx := context.Background()
	ds := BatchDataset(gb.MetaData.GetName())
	r, err := s.MultiGet(ctx, []kv.GetRequest{{Dataset: ds, Key: []byte(online.GroupByServingInfoKey)}})
	if err != nil || r[0].Err != nil {
		t.Fatalf("serving info: %v %v", err, r[0].Err)
	}
	v, ok := r[0].Latest()
	if !ok {
		t.Fatalf("no serving info in %s", ds)
	}
	info, _, err := online.UnmarshalServingInfo(v.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if v.TsMillis != info.BatchEndTsMillis {
		t.Errorf("serving info version ts %d, want batch end %d", v.TsMillis, info.BatchEndTsMillis)
	}
	st := &stored{info: info, version: v.TsMillis, rows: map[string][]any{}, keys: map[string][]byte{}}
	// value schema as the fetcher derives it
	g := info.Info.GetGroupBy()
	switch {
	case g.Aggregations == nil:
		st.value = info.Selected
	default:
		agg, err := aggregate.New(g.Aggregations, info.SelectedSchema())
		if err != nil {
			t.Fatal(err)
		}
		fields := agg.OutputSchema()
		if inferredAccuracy(g) == api.Accuracy_TEMPORAL {
			st.online = aggregate.NewOnline(agg)
			fields = st.online.BatchIRType().Fields
		}
		if st.value, err = online.NewAvroSchema("Value", fields); err != nil {
			t.Fatal(err)
		}
	}
	table, _ := UploadTable(gb.MetaData)
	b := readTable(t, w, table)
	var reqs []kv.GetRequest
	for i := 0; i < b.Len(); i++ {
		k := b.Col("key_bytes").Value(i).([]byte)
		if string(k) == online.GroupByServingInfoKey {
			continue
		}
		reqs = append(reqs, kv.GetRequest{Dataset: ds, Key: k})
	}
	resp, err := s.MultiGet(ctx, reqs)
	if err != nil {
		t.Fatal(err)
	}
	for i, rr := range resp {
		v, ok := rr.Latest()
		if !ok || rr.Err != nil {
			t.Fatalf("key %x: missing from %s (%v)", reqs[i].Key, ds, rr.Err)
		}
		if v.TsMillis != info.BatchEndTsMillis {
			t.Errorf("version ts %d, want %d", v.TsMillis, info.BatchEndTsMillis)
		}
		key, err := info.Key.Decode(reqs[i].Key)
		if err != nil {
			t.Fatal(err)
		}
		kj, _ := info.Key.EncodeJSON(key)
		val, err := st.value.Decode(v.Bytes)
		if err != nil {
			t.Fatalf("key %s: %v", kj, err)
		}
		st.rows[kj] = val
		st.keys[kj] = reqs[i].Key
	}
	return st
}

func (st *stored) sortedKeys() []string {
	var ks []string
	for k := range st.rows {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// query answers a TEMPORAL key at q from the stored batch IR (no streaming rows).
func (st *stored) query(t *testing.T, key string, q int64) []any {
	t.Helper()
	bir, err := st.online.FromValue(types.StructValue(st.rows[key]))
	if err != nil {
		t.Fatal(err)
	}
	out := types.NewBatch(st.online.Aggregator().OutputSchema(), 1)
	if err := st.online.Query(bir, st.info.BatchEndTsMillis, aggregate.Events{}, q, 0, out); err != nil {
		t.Fatal(err)
	}
	return rowValues(out.Cols, 0)
}

func fmtRow(vs []any) string {
	parts := make([]string, len(vs))
	for i, v := range vs {
		parts[i] = fmtVal(v)
	}
	return strings.Join(parts, ", ")
}

func fmtVal(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case []any:
		return "[" + fmtRow(x) + "]"
	case types.StructValue:
		return "{" + fmtRow(x) + "}"
	case float64:
		return fmt.Sprintf("%.6g", x)
	}
	return fmt.Sprint(v)
}

// SNAPSHOT events: the stored values of every key equal the GroupBy backfill's partition D.
func TestUploadQuickstartPurchases(t *testing.T) {
	w := quickstartWarehouse(t)
	s := openKV(t)
	gb, o := readConf[api.GroupBy](t, "production/group_bys/quickstart/purchases.v1")
	res, err := RunUpload(context.Background(), w, s, gb, o, UploadOptions{EndDate: "2023-11-30"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Dataset != "QUICKSTART_PURCHASES_V1_BATCH" || res.Table != "default.quickstart_purchases_v1_upload" {
		t.Errorf("wrote %s / %s", res.Table, res.Dataset)
	}
	st := readBack(t, w, s, gb)
	if got := st.info.Info.GetBatchEndDate(); got != "2023-12-01" {
		t.Errorf("batchEndDate %s", got)
	}
	if err := RunGroupBy(context.Background(), w, gb, o, JoinOptions{EndDate: "2023-11-30"}); err != nil {
		t.Fatal(err)
	}
	bf := readTable(t, w, "default.quickstart_purchases_v1")
	n := 0
	for i := 0; i < bf.Len(); i++ {
		if bf.Col("ds").Strs[i] != "2023-11-30" {
			continue
		}
		n++
		key, _ := st.info.Key.EncodeJSON([]any{bf.Col("user_id").Value(i)})
		got, ok := st.rows[key]
		if !ok {
			t.Errorf("key %s not uploaded", key)
			continue
		}
		want := rowValues(bf.Cols[1:len(bf.Cols)-1], i)
		if fmtRow(got) != fmtRow(want) {
			t.Errorf("key %s:\n got %s\nwant %s", key, fmtRow(got), fmtRow(want))
		}
	}
	if n == 0 || n != len(st.rows) || res.Keys != n {
		t.Errorf("backfill has %d keys, KV %d, upload reported %d", n, len(st.rows), res.Keys)
	}
	// the upload table: one row per key plus the serving info; json for ~1% of rows
	b := readTable(t, w, res.Table)
	if b.Len() != n+1 {
		t.Errorf("upload table has %d rows, want %d", b.Len(), n+1)
	}
	js := 0
	for i := 0; i < b.Len(); i++ {
		if b.Col("ds").Strs[i] != "2023-11-30" {
			t.Errorf("ds %q", b.Col("ds").Strs[i])
		}
		if !b.Col("key_json").IsNull(i) {
			js++
		}
	}
	if js < 1 || js > 1+n/20 {
		t.Errorf("%d rows with json", js)
	}
}

// TEMPORAL events: the batch IR answers queries in [batchEnd, batchEnd+2d) like the point-in-time
// backfill (Sawtooth at FiveMinute resolution over the partitions a join on that day reads).
func TestUploadQuickstartReturns(t *testing.T) {
	w := quickstartWarehouse(t)
	s := openKV(t)
	gb, o := readConf[api.GroupBy](t, "production/group_bys/quickstart/returns.v1")
	if _, err := RunUpload(context.Background(), w, s, gb, o, UploadOptions{EndDate: "2023-11-30"}); err != nil {
		t.Fatal(err)
	}
	st := readBack(t, w, s, gb)
	if st.online == nil {
		t.Fatal("returns.v1 should be TEMPORAL")
	}
	if st.info.Info.InputAvroSchema == nil {
		t.Error("no inputAvroSchema although returns.v1 has a topic")
	}
	batchEnd := st.info.BatchEndTsMillis
	if batchEnd != midMillis("2023-12-01") {
		t.Fatalf("batch end %d", batchEnd)
	}
	p, err := newGBPlan(gb, o)
	if err != nil {
		t.Fatal(err)
	}
	data, err := p.scanAll(w, "2023-12-01", "2023-12-01", noFold, false)
	if err != nil {
		t.Fatal(err)
	}
	times := []int64{batchEnd, batchEnd + 1, batchEnd + 3600_000 + 17, batchEnd + dayMillis - 1, batchEnd + dayMillis + 5*60_000, batchEnd + 2*dayMillis - 1}
	var queries []query
	var keys []string
	for _, k := range st.sortedKeys() {
		uid := strings.TrimSuffix(strings.TrimPrefix(k, `{"user_id":{"string":"`), `"}}`)
		for _, q := range times {
			queries = append(queries, query{key: uid, q: q})
			keys = append(keys, k)
		}
	}
	want, err := p.valuesAt(data, queries, placement{})
	if err != nil {
		t.Fatal(err)
	}
	nonNull, bad := 0, 0
	for i, q := range queries {
		got := fmtRow(st.query(t, keys[i], q.q))
		w := fmtRow(rowValues(want.Cols, i))
		if got != w {
			bad++
			if bad < 5 {
				t.Errorf("user %s at %d:\n got %s\nwant %s", q.key, q.q, got, w)
			}
		}
		if !strings.HasPrefix(got, "null, null, null") {
			nonNull++
		}
	}
	if len(queries) != 100*len(times) || nonNull < len(queries)/4 {
		t.Errorf("%d queries, %d with values", len(queries), nonNull)
	}
	// user 24 (spec §11.2): at 2023-12-01 the 14d window still holds the 76 refund of 11-22
	for i, q := range queries {
		if q.key == "24" && q.q == batchEnd {
			t.Logf("user 24 at batch end: %s", fmtRow(rowValues(want.Cols, i)))
		}
	}
}

// Entities without aggregations: the raw row of partition D; a missing partition uploads nothing
// but the serving info (spec §11.3).
func TestUploadQuickstartUsers(t *testing.T) {
	w := quickstartWarehouse(t)
	s := openKV(t)
	gb, o := readConf[api.GroupBy](t, "production/group_bys/quickstart/users.v1")
	res, err := RunUpload(context.Background(), w, s, gb, o, UploadOptions{EndDate: "2023-12-01"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Keys != 0 {
		t.Errorf("users --ds 2023-12-01 uploaded %d keys, want 0", res.Keys)
	}
	st := readBack(t, w, s, gb)
	if len(st.rows) != 0 || st.info.Info.GetBatchEndDate() != "2023-12-02" {
		t.Errorf("%d rows, batch end %s", len(st.rows), st.info.Info.GetBatchEndDate())
	}
	if _, err := RunUpload(context.Background(), w, s, gb, o, UploadOptions{EndDate: "2023-11-29"}); err != nil {
		t.Fatal(err)
	}
	st = readBack(t, w, s, gb)
	if len(st.rows) != 101 {
		t.Fatalf("%d keys, want 101", len(st.rows))
	}
	users := readTable(t, w, "data.users")
	for i := 0; i < users.Len(); i++ {
		key, _ := st.info.Key.EncodeJSON([]any{users.Col("user_id").Value(i)})
		want := fmtRow([]any{users.Col("account_created_ds").Value(i), users.Col("email_verified").Value(i)})
		if got := fmtRow(st.rows[key]); got != want {
			t.Errorf("user %s: got %s want %s", key, got, want)
		}
	}
	if names := st.info.SelectedSchema().Names(); strings.Join(names, ",") != "account_created_ds,email_verified" {
		t.Errorf("selected schema %v", names)
	}
}

// failingStore fails bulk loads like an unreachable store.
type failingStore struct{ kv.Store }

func (failingStore) BulkLoad(ctx context.Context, dataset string, rows iter.Seq2[kv.Row, error]) error {
	for range rows {
		break
	}
	return errors.New("connection refused")
}

// A failed KV load leaves the previous upload in place in the KV store and the warehouse.
func TestUploadKVFailure(t *testing.T) {
	w := quickstartWarehouse(t)
	s := openKV(t)
	gb, o := readConf[api.GroupBy](t, "production/group_bys/quickstart/purchases.v1")
	_, err := RunUpload(context.Background(), w, failingStore{s}, gb, o, UploadOptions{EndDate: "2023-11-30"})
	if err == nil || !strings.Contains(err.Error(), "connection refused") || !strings.Contains(err.Error(), "QUICKSTART_PURCHASES_V1_BATCH") {
		t.Fatalf("err = %v", err)
	}
	if w.Exists("default.quickstart_purchases_v1_upload") {
		t.Error("upload table written although the KV load failed")
	}
	if _, err := RunUpload(context.Background(), w, s, gb, o, UploadOptions{EndDate: "2023-11-29"}); err != nil {
		t.Fatal(err)
	}
	if _, err := RunUpload(context.Background(), w, failingStore{s}, gb, o, UploadOptions{EndDate: "2023-11-30"}); err == nil {
		t.Fatal("no error")
	}
	st := readBack(t, w, s, gb)
	if st.info.Info.GetBatchEndDate() != "2023-11-30" {
		t.Errorf("the failed upload replaced the previous one: batch end %s", st.info.Info.GetBatchEndDate())
	}
	if b := readTable(t, w, "default.quickstart_purchases_v1_upload"); b.Col("ds").Strs[0] != "2023-11-29" {
		t.Errorf("upload table ds %s", b.Col("ds").Strs[0])
	}
}

func TestUploadBadInput(t *testing.T) {
	w := quickstartWarehouse(t)
	s := openKV(t)
	gb, o := readConf[api.GroupBy](t, "production/group_bys/quickstart/purchases.v1")
	if _, err := RunUpload(context.Background(), w, s, gb, o, UploadOptions{EndDate: "2023-13-01"}); err == nil || !strings.Contains(err.Error(), "yyyy-MM-dd") {
		t.Errorf("bad date: %v", err)
	}
	nope := "data.nope"
	gb.Sources[0].Events.Table = &nope
	if _, err := RunUpload(context.Background(), w, s, gb, o, UploadOptions{EndDate: "2023-11-30"}); err == nil || !errors.Is(err, warehouse.ErrUnknownTable) {
		t.Errorf("unknown table: %v", err)
	}
	if w.Exists("default.quickstart_purchases_v1_upload") {
		t.Error("upload table written for a failed upload")
	}
}

// TestUploadCases runs testdata/upload/*.txt. Commands:
//
//	table name=ns.t    as in testdata/join
//	upload ds=D [at=T1,T2...]
//	                   input: a GroupBy conf; prints the KV dataset, version ts, and each stored key
//	                   with its decoded value (Avro JSON); for TEMPORAL GroupBys with at= (UTC
//	                   "2006-01-02T15:04:05"), the values the batch IR gives at those times
//	error ds=D         as upload, prints the error
func TestUploadCases(t *testing.T) {
	datadriven.Walk(t, filepath.Join("testdata", "upload"), func(t *testing.T, path string) {
		root := t.TempDir()
		w, err := warehouse.Open(root)
		if err != nil {
			t.Fatal(err)
		}
		s := openKV(t)
		datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
			switch d.Cmd {
			case "table":
				var name string
				d.ScanArgs(t, "name", &name)
				if err := writeCSVTable(w, name, d.Input); err != nil {
					return "error: " + err.Error()
				}
				return ""
			case "upload", "error":
				var ds string
				d.ScanArgs(t, "ds", &ds)
				var gb api.GroupBy
				o, err := conf.Unmarshal([]byte(d.Input), &gb)
				if err != nil {
					return "bad conf: " + err.Error()
				}
				res, err := RunUpload(context.Background(), w, s, &gb, o, UploadOptions{EndDate: ds})
				if d.Cmd == "error" {
					if err == nil {
						return "no error"
					}
					return "error: " + strings.ReplaceAll(err.Error(), root, "<warehouse>") + "\n"
				}
				if err != nil {
					return "error: " + err.Error() + "\n"
				}
				st := readBack(t, w, s, &gb)
				var sb strings.Builder
				fmt.Fprintf(&sb, "%s version %s (batchEndDate %s), %d keys\n", res.Dataset,
					time.UnixMilli(st.version).UTC().Format("2006-01-02T15:04:05"), st.info.Info.GetBatchEndDate(), res.Keys)
				for _, k := range st.sortedKeys() {
					vj, err := st.value.EncodeJSON(st.rows[k])
					if err != nil {
						t.Fatal(err)
					}
					fmt.Fprintf(&sb, "%s -> %s\n", k, vj)
				}
				if d.HasArg("at") && st.online != nil {
					var at string
					d.ScanArgs(t, "at", &at)
					names := st.online.Aggregator().OutputSchema().Names()
					for _, k := range st.sortedKeys() {
						for _, a := range strings.Split(at, ",") {
							tm, err := time.Parse("2006-01-02T15:04:05", a)
							if err != nil {
								t.Fatal(err)
							}
							vals := st.query(t, k, tm.UnixMilli())
							var parts []string
							for i, v := range vals {
								parts = append(parts, names[i]+"="+fmtVal(v))
							}
							fmt.Fprintf(&sb, "%s at %s: %s\n", k, a, strings.Join(parts, " "))
						}
					}
				}
				return sb.String()
			}
			t.Fatalf("unknown command %s", d.Cmd)
			return ""
		})
	})
}

// benchWarehouse holds data.bench_ev: nEvents events of nKeys users over 30 daily partitions
// ending 2023-11-30, ts inside the partition's day.
func benchWarehouse(b *testing.B, nKeys, nEvents int) *warehouse.Warehouse {
	b.Helper()
	w, err := warehouse.Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	schema := types.Schema{{Name: "user_id", Type: types.StringType}, {Name: "amt", Type: types.LongType}, {Name: "ts", Type: types.LongType}}
	spec := warehouse.TableSpec{Schema: schema, PartitionColumns: []string{"ds"}}
	tx, err := w.Begin("data.bench_ev", spec)
	if err != nil {
		b.Fatal(err)
	}
	perDay := nEvents / 30
	x := uint64(88172645463325252)
	rnd := func() uint64 { x ^= x << 13; x ^= x >> 7; x ^= x << 17; return x }
	for d := 0; d < 30; d++ {
		ds := addDays("2023-11-01", d)
		bt := types.NewBatch(schema, perDay)
		for i := 0; i < perDay; i++ {
			bt.Cols[0].Append(fmt.Sprint(rnd() % uint64(nKeys)))
			bt.Cols[1].Append(int64(rnd() % 500))
			bt.Cols[2].Append(midMillis(ds) + int64(rnd()%uint64(dayMillis)))
		}
		if err := tx.Write([]string{ds}, bt); err != nil {
			b.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	return w
}

// BenchmarkUpload measures a whole upload (scan, aggregate, encode, upload table, KV bulk load into
// the embedded store) of 50k keys / 500k events, as keys per second.
func BenchmarkUpload(b *testing.B) {
	const nKeys, nEvents = 50_000, 500_000
	w := benchWarehouse(b, nKeys, nEvents)
	aggs := `"aggregations": [{"inputColumn": "amt", "operation": 7, "argMap": {}, "windows": [{"length": 3, "timeUnit": 1}, {"length": 14, "timeUnit": 1}, {"length": 30, "timeUnit": 1}]},
	  {"inputColumn": "amt", "operation": 6, "argMap": {}, "windows": [{"length": 3, "timeUnit": 1}, {"length": 14, "timeUnit": 1}, {"length": 30, "timeUnit": 1}]},
	  {"inputColumn": "amt", "operation": 13, "argMap": {"k": "10"}}]`
	for _, c := range []struct{ name, topic string }{{"snapshot", ""}, {"temporal", `"topic": "events.bench",`}} {
		b.Run(c.name, func(b *testing.B) {
			var gb api.GroupBy
			o, err := conf.Unmarshal([]byte(`{"metaData": {"name": "bench.`+c.name+`.v1", "outputNamespace": "default"},
			  "sources": [{"events": {"table": "data.bench_ev", `+c.topic+` "query": {"selects": {"user_id": "user_id", "amt": "amt"}, "timeColumn": "ts"}}}],
			  "keyColumns": ["user_id"], `+aggs+`}`), &gb)
			if err != nil {
				b.Fatal(err)
			}
			s := openKV(b)
			keys := 0
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				res, err := RunUpload(context.Background(), w, s, &gb, o, UploadOptions{EndDate: "2023-11-30"})
				if err != nil {
					b.Fatal(err)
				}
				keys += res.Keys
			}
			b.ReportMetric(float64(keys)/b.Elapsed().Seconds(), "keys/s")
		})
	}
}
