package consistency

import (
	"context"
	"encoding/base64"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/chronon-go/chronon/runtime/kv"
	"github.com/chronon-go/chronon/runtime/online"
	"github.com/chronon-go/chronon/runtime/types"
	"github.com/chronon-go/chronon/runtime/warehouse"
	"github.com/chronon-go/chronon/thrift/api"
)

func testJoin(name string, samplePercent *float64) *api.Join {
	ns := "default"
	return &api.Join{MetaData: &api.MetaData{Name: &name, OutputNamespace: &ns, SamplePercent: samplePercent,
		TableProperties: map[string]string{"source": "chronon"}}}
}

func pct(p float64) *float64 { return &p }

func millis(s string) int64 {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t.UnixMilli()
}

// logger appends logged fetches the way the fetch-side logger does (spec §8.1): one schema
// publication per version, then Avro key/value records under the join path.
type logger struct {
	t    *testing.T
	log  *kv.MemLog
	path string
}

func (l *logger) schema(joinName string, key, value types.Schema) *online.LoggingSchemas {
	l.t.Helper()
	ls, err := online.NewLoggingSchemas(joinName, key, value)
	if err != nil {
		l.t.Fatal(err)
	}
	l.append(kv.LogRecord{Name: kv.SchemaPublishEvent, KeyBytes: []byte(ls.Hash), ValueBytes: []byte(ls.LoggingSchema), TsMillis: 1})
	return ls
}

func (l *logger) fetch(ls *online.LoggingSchemas, ts string, key, value []any) {
	l.t.Helper()
	kb, err := ls.Key.Encode(key)
	if err != nil {
		l.t.Fatal(err)
	}
	vb, err := ls.Value.Encode(value)
	if err != nil {
		l.t.Fatal(err)
	}
	l.append(kv.LogRecord{Name: l.path, KeyBytes: kb, ValueBytes: vb, TsMillis: millis(ts), SchemaHash: ls.Hash})
}

func (l *logger) append(r kv.LogRecord) {
	if err := l.log.Append(context.Background(), []kv.LogRecord{r}); err != nil {
		l.t.Fatal(err)
	}
}

// rowsOf renders a table's rows as `col=value` lines for comparison, in file order per partition.
func rowsOf(t *testing.T, w *warehouse.Warehouse, table string) []string {
	t.Helper()
	tb, err := w.Table(table)
	if err != nil {
		t.Fatal(err)
	}
	r, err := tb.Read(warehouse.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for i := 0; i < b.Len(); i++ {
		var parts []string
		for c, f := range b.Schema {
			parts = append(parts, fmt.Sprintf("%s=%v", f.Name, render(b.Cols[c].Value(i))))
		}
		out = append(out, strings.Join(parts, " "))
	}
	return out
}

func render(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = render(e)
		}
		return "[" + strings.Join(parts, ",") + "]"
	case *types.MapValue:
		return sortedJSON(x).(string)
	}
	return fmt.Sprint(v)
}

func openWarehouse(t *testing.T) *warehouse.Warehouse {
	t.Helper()
	w, err := warehouse.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return w
}

var (
	keyV1 = types.Schema{{Name: "user_id", Type: types.StringType}}
	valV1 = types.Schema{
		{Name: "team_gb_v1_price_sum", Type: types.LongType},
		{Name: "ext_contextual_user_id", Type: types.StringType},
		{Name: "team_gb_v1_price_last2", Type: types.ListOf(types.LongType)},
	}
	// v2 drops the list, adds a double; the contextual field goes away too.
	valV2 = types.Schema{
		{Name: "team_gb_v1_price_sum", Type: types.LongType},
		{Name: "team_gb_v1_price_avg", Type: types.DoubleType},
	}
)

// Spec §8.4: two schema versions flattened into one table (union of fields in first-appearance order,
// ext_contextual* dropped), a torn record and a record of an unpublished schema dropped and counted,
// ds = UTC day of the request time, schema_hash_<hash> properties accumulated, and a rerun fills only
// the partitions out_logged lacks.
func TestFlattenSchemaVersions(t *testing.T) {
	ctx := context.Background()
	w := openWarehouse(t)
	l := &logger{t: t, log: &kv.MemLog{}, path: "team/join.v1"}
	v1 := l.schema("team.join.v1", keyV1, valV1)
	v2 := l.schema("team.join.v1", keyV1, valV2)
	l.fetch(v1, "2023-12-01T10:00:00Z", []any{"a"}, []any{int64(5), "a", []any{int64(3), int64(2)}})
	l.fetch(v1, "2023-12-01T23:59:59Z", []any{"b"}, []any{nil, "b", nil})
	l.fetch(v2, "2023-12-02T00:00:00Z", []any{"a"}, []any{int64(7), 2.5})
	// A torn record: the value bytes end early.
	good, _ := v2.Value.Encode([]any{int64(7), 2.5})
	kb, _ := v2.Key.Encode([]any{"c"})
	l.append(kv.LogRecord{Name: l.path, KeyBytes: kb, ValueBytes: good[:len(good)-3], TsMillis: millis("2023-12-02T01:00:00Z"), SchemaHash: v2.Hash})
	// A record whose schema was never published.
	l.append(kv.LogRecord{Name: l.path, KeyBytes: kb, ValueBytes: good, TsMillis: millis("2023-12-02T02:00:00Z"), SchemaHash: "nosuchhash"})
	// Other joins' records and records without a schema hash are not this join's rows.
	l.append(kv.LogRecord{Name: "team/other.v1", KeyBytes: kb, ValueBytes: good, TsMillis: millis("2023-12-02T02:00:00Z"), SchemaHash: v2.Hash})
	l.append(kv.LogRecord{Name: l.path, KeyBytes: kb, ValueBytes: good, TsMillis: millis("2023-12-05T02:00:00Z")})

	j := testJoin("team.join.v1", pct(100))
	res, err := FlattenLog(ctx, w, l.log, j, FlattenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Table != "default.team_join_v1_logged" || !reflect.DeepEqual(res.Days, []string{"2023-12-01", "2023-12-02"}) || res.Rows != 3 || res.Dropped != 2 {
		t.Fatalf("result %+v", res)
	}
	h1, h2 := v1.Hash, v2.Hash
	want := []string{
		"schema_hash=" + h1 + " ts=1701424800000 user_id=a team_gb_v1_price_sum=5 team_gb_v1_price_last2=[3,2] team_gb_v1_price_avg=null ds=2023-12-01",
		"schema_hash=" + h1 + " ts=1701475199000 user_id=b team_gb_v1_price_sum=null team_gb_v1_price_last2=null team_gb_v1_price_avg=null ds=2023-12-01",
		"schema_hash=" + h2 + " ts=1701475200000 user_id=a team_gb_v1_price_sum=7 team_gb_v1_price_last2=null team_gb_v1_price_avg=2.5 ds=2023-12-02",
	}
	if got := rowsOf(t, w, res.Table); !reflect.DeepEqual(got, want) {
		t.Fatalf("rows:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	tb, _ := w.Table(res.Table)
	props, _ := tb.Properties()
	if props["schema_hash_"+h1] != v1.LoggingSchema || props["schema_hash_"+h2] != v2.LoggingSchema ||
		props["chronon_log_table"] != "true" || props["chronon_table_type"] != "logged" || props["source"] != "chronon" {
		t.Fatalf("properties %v", props)
	}

	// Rerun with new records: 12-01 already exists and stays as it is; 12-03 is new.
	l.fetch(v2, "2023-12-01T11:00:00Z", []any{"late"}, []any{int64(1), 1.0})
	l.fetch(v2, "2023-12-03T11:00:00Z", []any{"c"}, []any{int64(9), nil})
	res, err = FlattenLog(ctx, w, l.log, j, FlattenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(res.Days, []string{"2023-12-03"}) || res.Rows != 1 {
		t.Fatalf("rerun result %+v", res)
	}
	got := rowsOf(t, w, res.Table)
	want = append(want, "schema_hash="+h2+" ts=1701601200000 user_id=c team_gb_v1_price_sum=9 team_gb_v1_price_last2=null team_gb_v1_price_avg=null ds=2023-12-03")
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("rows after rerun:\n%s", strings.Join(got, "\n"))
	}
	res, err = FlattenLog(ctx, w, l.log, j, FlattenOptions{})
	if err != nil || !strings.Contains(res.Skipped, "up to date") {
		t.Fatalf("third run: %+v %v", res, err)
	}
}

// Spec §8.4: --end-ds bounds the partitions filled.
func TestFlattenEndDate(t *testing.T) {
	w := openWarehouse(t)
	l := &logger{t: t, log: &kv.MemLog{}, path: "team/join.v1"}
	v1 := l.schema("team.join.v1", keyV1, valV2)
	for _, ts := range []string{"2023-12-01T10:00:00Z", "2023-12-02T10:00:00Z", "2023-12-03T10:00:00Z"} {
		l.fetch(v1, ts, []any{"a"}, []any{int64(1), 1.0})
	}
	res, err := FlattenLog(context.Background(), w, l.log, testJoin("team.join.v1", pct(10)), FlattenOptions{EndDate: "2023-12-02", StepDays: 1})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(res.Days, []string{"2023-12-01", "2023-12-02"}) || res.Rows != 2 {
		t.Fatalf("result %+v", res)
	}
}

// Spec §8.4: the same field name with a different type in another version is an error that names
// the field and both types.
func TestFlattenTypeConflict(t *testing.T) {
	w := openWarehouse(t)
	l := &logger{t: t, log: &kv.MemLog{}, path: "team/join.v1"}
	v1 := l.schema("team.join.v1", keyV1, valV2)
	v2 := l.schema("team.join.v1", keyV1, types.Schema{{Name: "team_gb_v1_price_sum", Type: types.DoubleType}})
	l.fetch(v1, "2023-12-01T10:00:00Z", []any{"a"}, []any{int64(1), 1.0})
	l.fetch(v2, "2023-12-01T11:00:00Z", []any{"a"}, []any{1.5})
	_, err := FlattenLog(context.Background(), w, l.log, testJoin("team.join.v1", pct(100)), FlattenOptions{})
	if err == nil || !strings.Contains(err.Error(), "field team_gb_v1_price_sum is bigint in value schema of logging schema "+v1.Hash+" but double in value schema of logging schema "+v2.Hash) {
		t.Fatalf("err = %v", err)
	}
	if w.Exists("default.team_join_v1_logged") {
		t.Fatal("nothing may be written on error")
	}
}

// Spec §8.4 / §12: samplePercent unset (or 0) means nothing is logged; the job says so and exits.
func TestFlattenSamplePercentUnset(t *testing.T) {
	for _, p := range []*float64{nil, pct(0)} {
		res, err := FlattenLog(context.Background(), openWarehouse(t), &kv.MemLog{}, testJoin("team.join.v1", p), FlattenOptions{})
		if err != nil || !strings.Contains(res.Skipped, "samplePercent is unset or 0") {
			t.Fatalf("%+v %v", res, err)
		}
	}
}

// Spec §8.2/§8.3: --log-table/--schema-table read Chronon's raw log table (base64 columns, the
// dumper's ds) and the latest partition of the schema table.
func TestFlattenChrononTables(t *testing.T) {
	w := openWarehouse(t)
	ls, err := online.NewLoggingSchemas("team.join.v1", keyV1, valV2)
	if err != nil {
		t.Fatal(err)
	}
	logSchema := types.Schema{
		{Name: "schema_hash", Type: types.StringType}, {Name: "key_base64", Type: types.StringType},
		{Name: "value_base64", Type: types.StringType}, {Name: "ts_millis", Type: types.LongType},
		{Name: "ts", Type: types.LongType}, {Name: "name", Type: types.StringType},
	}
	b := types.NewBatch(logSchema, 3)
	add := func(hash, name string, key, value []any, ts int64) {
		kb, _ := ls.Key.Encode(key)
		vb, _ := ls.Value.Encode(value)
		for i, v := range []any{hash, base64.StdEncoding.EncodeToString(kb), base64.StdEncoding.EncodeToString(vb), ts, ts + 5, name} {
			b.Cols[i].Append(v)
		}
	}
	ts := millis("2023-12-01T10:00:00Z")
	add(ls.Hash, "team/join.v1", []any{"a"}, []any{int64(4), 0.5}, ts)
	add(ls.Hash, "team/other.v1", []any{"z"}, []any{int64(4), 0.5}, ts)
	b.Cols[0].AppendNull() // an old row without schema hash: ignored
	for _, c := range b.Cols[1:] {
		c.Append(c.Value(0))
	}
	if err := w.WritePartition("default.chronon_log_table", warehouse.TableSpec{Schema: logSchema, PartitionColumns: []string{"ds"}}, []string{"2023-12-02"}, b); err != nil {
		t.Fatal(err)
	}
	schemaSchema := types.Schema{{Name: "schema_hash", Type: types.StringType}, {Name: "schema_value_last", Type: types.StringType}}
	sb := types.NewBatch(schemaSchema, 1)
	sb.Cols[0].Append(ls.Hash)
	sb.Cols[1].Append(ls.LoggingSchema)
	for _, d := range []string{"2023-11-30", "2023-12-02"} {
		if err := w.WritePartition("default.quickstart_schema", warehouse.TableSpec{Schema: schemaSchema, PartitionColumns: []string{"ds"}}, []string{d}, sb); err != nil {
			t.Fatal(err)
		}
	}
	res, err := FlattenLog(context.Background(), w, nil, testJoin("team.join.v1", pct(100)),
		FlattenOptions{LogTable: "default.chronon_log_table", SchemaTable: "default.quickstart_schema"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"schema_hash=" + ls.Hash + " ts=1701424800000 user_id=a team_gb_v1_price_sum=4 team_gb_v1_price_avg=0.5 ds=2023-12-02"}
	if got := rowsOf(t, w, res.Table); !reflect.DeepEqual(got, want) {
		t.Fatalf("rows %v", got)
	}
	if _, err := FlattenLog(context.Background(), w, nil, testJoin("team.join.v1", pct(100)), FlattenOptions{LogTable: "default.chronon_log_table"}); err == nil ||
		!strings.Contains(err.Error(), "--log-table and --schema-table go together") {
		t.Fatalf("err = %v", err)
	}
}
