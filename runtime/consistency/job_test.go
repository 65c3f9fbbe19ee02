package consistency

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chronon-go/chronon/runtime/backfill"
	"github.com/chronon-go/chronon/runtime/kv"
	"github.com/chronon-go/chronon/runtime/online"
	"github.com/chronon-go/chronon/runtime/types"
	"github.com/chronon-go/chronon/runtime/warehouse"
	"github.com/chronon-go/chronon/thrift/api"
	"github.com/chronon-go/chronon/thrift/conf"
)

// A join over one TEMPORAL GroupBy (SUM 1d, AVERAGE, LAST_K 2) with left data.requests.
const joinConf = `{
  "metaData": {"name": "team.join.v1", "outputNamespace": "default", "team": "team", "samplePercent": 100.0,
               "tableProperties": {"source": "chronon"}},
  "left": {"events": {"table": "data.requests", "query": {"selects": {"user_id": "user_id", "ts": "ts"}, "timeColumn": "ts", "startPartition": "2023-12-01"}}},
  "joinParts": [{"groupBy": {
    "metaData": {"name": "team.purchases.v1", "team": "team"},
    "sources": [{"events": {"table": "data.purchases", "query": {"selects": {"user_id": "user_id", "price": "price"}, "timeColumn": "ts"}}}],
    "keyColumns": ["user_id"],
    "accuracy": 0,
    "aggregations": [
      {"inputColumn": "price", "operation": 7, "argMap": {}, "windows": [{"length": 1, "timeUnit": 1}]},
      {"inputColumn": "price", "operation": 8, "argMap": {}},
      {"inputColumn": "price", "operation": 13, "argMap": {"k": "2"}}
    ]}}]
}`

var eventSchema = types.Schema{{Name: "user_id", Type: types.StringType}, {Name: "price", Type: types.LongType}, {Name: "ts", Type: types.LongType}}

func writeEvents(t *testing.T, w *warehouse.Warehouse, table string, schema types.Schema, rows [][]any) {
	t.Helper()
	byDay := map[string]*types.Batch{}
	for _, r := range rows {
		d := dayOf(r[len(r)-1].(int64))
		if byDay[d] == nil {
			byDay[d] = types.NewBatch(schema, 0)
		}
		for i, v := range r {
			byDay[d].Cols[i].Append(v)
		}
	}
	tx, err := w.Begin(table, warehouse.TableSpec{Schema: schema, PartitionColumns: []string{"ds"}})
	if err != nil {
		t.Fatal(err)
	}
	for d, b := range byDay {
		if err := tx.Write([]string{d}, b); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

// TestComputeMetricsEndToEnd runs the whole chain of spec §8 without a fetcher: the join is
// backfilled for the requests (standing in for what serving returned, since online equals offline by
// construction of §4.5), its rows are logged as the fetch logger would (§8.1), flattened (§8.4) and
// compared (§8.5). With the log untouched every mismatch count is 0; with one planted wrong value
// exactly that feature has one mismatch. The metrics land in out_consistency, out_consistency_upload
// and the KV dataset.
func TestComputeMetricsEndToEnd(t *testing.T) {
	ctx := context.Background()
	for _, planted := range []bool{false, true} {
		t.Run(fmt.Sprint("planted=", planted), func(t *testing.T) {
			w := openWarehouse(t)
			day := int64(86_400_000)
			base := millis("2023-11-25T00:00:00Z")
			var purchases, requests [][]any
			for i := int64(0); i < 120; i++ {
				purchases = append(purchases, []any{fmt.Sprint("u", i%6), i * 13, base + i*day/16})
			}
			for i := int64(0); i < 40; i++ {
				requests = append(requests, []any{fmt.Sprint("u", i%7), millis("2023-12-01T00:00:00Z") + i*3_700_000})
			}
			writeEvents(t, w, "data.purchases", eventSchema, purchases)
			writeEvents(t, w, "data.requests", types.Schema{{Name: "user_id", Type: types.StringType}, {Name: "ts", Type: types.LongType}}, requests)
			var j api.Join
			order, err := conf.Unmarshal([]byte(joinConf), &j)
			if err != nil {
				t.Fatal(err)
			}
			if err := backfill.RunJoin(ctx, w, &j, order, backfill.JoinOptions{EndDate: "2023-12-03"}); err != nil {
				t.Fatal(err)
			}
			served := readAll(t, w, "default.team_join_v1")

			// Log every served row (key user_id, value every feature), as the fetch logger does.
			var valueFields types.Schema
			for _, f := range served.Schema {
				if f.Name != "user_id" && f.Name != "ts" && f.Name != "ds" {
					valueFields = append(valueFields, f)
				}
			}
			l := &logger{t: t, log: &kv.MemLog{}, path: "team/join.v1"}
			ls := l.schema("team.join.v1", keyV1, valueFields)
			const plantedRow, plantedFeature = 17, "team_purchases_v1_price_average"
			for i := 0; i < served.Len(); i++ {
				var value []any
				for _, f := range valueFields {
					v := served.Col(f.Name).Value(i)
					if planted && i == plantedRow && f.Name == plantedFeature {
						v = v.(float64) + 1
					}
					value = append(value, v)
				}
				l.fetch(ls, time.UnixMilli(served.Col("ts").Ints[i]).UTC().Format(time.RFC3339Nano), []any{served.Col("user_id").Strs[i]}, value)
			}
			if _, err := FlattenLog(ctx, w, l.log, &j, FlattenOptions{}); err != nil {
				t.Fatal(err)
			}
			store, err := kv.OpenEmbedded(filepath.Join(t.TempDir(), "kv"), kv.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer store.Close()
			now := millis("2023-12-05T12:00:00Z")
			var log bytes.Buffer
			res, err := ComputeMetrics(ctx, w, store, &j, order, MetricsOptions{Log: &log, Now: func() time.Time { return time.UnixMilli(now) }})
			if err != nil {
				t.Fatalf("%v\n%s", err, log.String())
			}
			if res.ComparisonTable != "default.team_join_v1_comparison" || res.Table != "default.team_join_v1_consistency" ||
				res.UploadTable != "default.team_join_v1_consistency_upload" || strings.Join(res.Days, ",") != "2023-12-01,2023-12-02" {
				t.Fatalf("result %+v", res)
			}
			// Summary: every feature compared on all 40 rows, no null mismatches, and mismatches only
			// where planted.
			if len(res.Summary.Features) != 3 {
				t.Fatalf("summary features %+v", res.Summary.Features)
			}
			for _, f := range res.Summary.Features {
				want := int64(0)
				if planted && f.Feature == plantedFeature {
					want = 1
				}
				if f.Rows != 40 || f.Mismatches != want || f.NullMismatches() != 0 || (f.MeanSMAPE != nil && (*f.MeanSMAPE > 0) != (want > 0)) {
					t.Errorf("summary %+v, want 40 rows, %d mismatches, 0 null mismatches", f, want)
				}
			}
			var sb strings.Builder
			res.Summary.Print(&sb)
			t.Logf("\n%s", sb.String())
			wantTotal := "total (3 features)               120   0           0.00%       0                -\n"
			if planted {
				wantTotal = "total (3 features)               120   1           0.83%       0                -\n"
			}
			if !strings.Contains(sb.String(), wantTotal) {
				t.Errorf("summary lacks %q:\n%s", wantTotal, sb.String())
			}

			// out_consistency: one row per hour with requests, bucket start ts and its day.
			cons := readAll(t, w, res.Table)
			if cons.Schema[0].Name != "JoinPath" || cons.Schema[len(cons.Schema)-2].Name != "ts" || cons.Len() != res.Buckets || cons.Len() != 40 {
				t.Fatalf("out_consistency: %d rows (buckets %d), columns %v", cons.Len(), res.Buckets, cons.Schema.Names())
			}
			for i := 0; i < cons.Len(); i++ {
				if ts := cons.Col("ts").Ints[i]; ts%BucketMillis != 0 || dayOf(ts) != cons.Col("ds").Strs[i] {
					t.Fatalf("row %d: ts %d ds %s", i, ts, cons.Col("ds").Strs[i])
				}
			}
			// out_consistency_upload: the metrics rows plus the two schema rows in today's partition.
			up := readAll(t, w, res.UploadTable)
			if up.Len() != 42 {
				t.Fatalf("upload rows %d", up.Len())
			}
			keyAv, _ := online.NewAvroSchema("Key", types.Schema{{Name: "JoinPath", Type: types.StringType}})
			key, _ := keyAv.Encode([]any{"team/join.v1"})
			resp, err := store.MultiGet(ctx, []kv.GetRequest{
				{Dataset: ConsistencyDataset, Key: key},
				{Dataset: ConsistencyDataset, Key: []byte("team/join.v1__valueSchema")},
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(resp[0].Values) != 40 || len(resp[1].Values) != 1 || resp[1].Values[0].TsMillis != now {
				t.Fatalf("KV: %d metric versions, %d value schemas", len(resp[0].Values), len(resp[1].Values))
			}
			valAv, err := online.ParseAvroSchema(string(resp[1].Values[0].Bytes))
			if err != nil {
				t.Fatal(err)
			}
			row, err := valAv.DecodeMap(resp[0].Values[0].Bytes)
			if err != nil {
				t.Fatal(err)
			}
			if row["team_purchases_v1_price_sum_1d_total_count"] != int64(1) {
				t.Fatalf("decoded metrics %v", row)
			}

			// A rerun has nothing to do and summarizes what exists.
			res2, err := ComputeMetrics(ctx, w, store, &j, order, MetricsOptions{})
			if err != nil || len(res2.Days) != 0 || res2.Summary.Total().Rows != 120 {
				t.Fatalf("rerun %+v %v", res2, err)
			}
		})
	}
}

func readAll(t *testing.T, w *warehouse.Warehouse, table string) *types.Batch {
	t.Helper()
	b, err := readDays(w, table, nil, "", "")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Spec §8.5 step 1: the comparison join reads out_logged with the left key columns, ts as time, the
// original start partition and a RAND() sample; consistencySamplePercent 0 skips the job.
func TestComparisonJoin(t *testing.T) {
	var j api.Join
	order, err := conf.Unmarshal([]byte(joinConf), &j)
	if err != nil {
		t.Fatal(err)
	}
	half := 50.0
	j.MetaData.ConsistencySamplePercent = &half
	j.JoinParts[0].KeyMapping = map[string]string{"uid": "user_id"}
	cj, err := ComparisonJoin(&j, order)
	if err != nil {
		t.Fatal(err)
	}
	data, err := conf.MarshalCompact(cj.Left, order)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"events":{"table":"default.team_join_v1_logged","query":{"selects":{"uid":"uid"},"wheres":["RAND() <= 0.5"],"startPartition":"2023-12-01","timeColumn":"ts","setups":[]}}}`
	if string(data) != want {
		t.Fatalf("left\n%s\nwant\n%s", data, want)
	}
	if cj.MetaData.GetName() != "team.join.v1_comparison" || cj.MetaData.TableProperties[propOOCTable] != "true" || j.MetaData.GetName() != "team.join.v1" {
		t.Fatalf("metaData %+v", cj.MetaData)
	}
	zero := 0.0
	j.MetaData.ConsistencySamplePercent = &zero
	res, err := ComputeMetrics(context.Background(), openWarehouse(t), nil, &j, order, MetricsOptions{})
	if err != nil || !strings.Contains(res.Skipped, "consistencySamplePercent = 0") {
		t.Fatalf("%+v %v", res, err)
	}
}
