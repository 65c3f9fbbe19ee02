package backfill

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/chronon-go/chronon/runtime/kv"
	"github.com/chronon-go/chronon/thrift/api"
	"github.com/chronon-go/chronon/thrift/conf"
)

// BenchmarkUploadRate uploads a quickstart-shaped GroupBy (production/group_bys/quickstart/
// purchases.v1: SUM/COUNT/AVERAGE over 3d/14d/30d and LAST_K(10) of one long column, keyed by a
// string user_id) over synthetic events into a fresh embedded store, and reports the rates of the
// steps separately, in keys (upload rows) per second:
//
//   - compute-keys/s: ComputeUpload (scan, aggregation, Avro encoding);
//   - kv-keys/s:      the KV bulk load alone (kv.Store.BulkLoad of every row + the serving info:
//     the "keys written into the store per second of the store step");
//   - store-keys/s:   Upload.Store (the `<out>_upload` Parquet table and the KV bulk load);
//   - e2e-keys/s:     RunUpload, compute + store, what `chronon run --mode upload` does.
//
// CHRONON_BENCH_UPLOAD_KEYS sets the number of keys (default 200k, 5 events per key over 30 days).
// `make bench-fetch` runs it with -benchtime 1x.
func BenchmarkUploadRate(b *testing.B) {
	nKeys := 200_000
	if s := os.Getenv("CHRONON_BENCH_UPLOAD_KEYS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			b.Fatalf("CHRONON_BENCH_UPLOAD_KEYS=%q", s)
		}
		nKeys = n
	}
	w := benchWarehouse(b, nKeys, 5*nKeys)
	text, err := os.ReadFile("../../production/group_bys/quickstart/purchases.v1")
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name string
		acc  api.Accuracy
	}{{"snapshot", api.Accuracy_SNAPSHOT}, {"temporal", api.Accuracy_TEMPORAL}} {
		b.Run(c.name, func(b *testing.B) {
			var gb api.GroupBy
			order, err := conf.Unmarshal(text, &gb)
			if err != nil {
				b.Fatal(err)
			}
			name := "bench." + c.name + ".v1"
			gb.MetaData.Name = &name
			gb.Accuracy = &c.acc
			q := gb.Sources[0].Events.Query
			table := "data.bench_ev"
			gb.Sources[0].Events.Table = &table
			q.Selects = map[string]string{"user_id": "user_id", "purchase_price": "amt"}
			ctx := context.Background()
			var compute, kvLoad, store, e2e time.Duration
			keys := 0
			for i := 0; i < b.N; i++ {
				s, err := kv.OpenEmbedded(filepath.Join(b.TempDir(), "kv"), kv.Options{})
				if err != nil {
					b.Fatal(err)
				}
				t0 := time.Now()
				up, err := ComputeUpload(w, &gb, order, "2023-11-30")
				if err != nil {
					b.Fatal(err)
				}
				t1 := time.Now()
				if err := s.BulkLoad(ctx, BatchDataset(name), up.kvRows()); err != nil {
					b.Fatal(err)
				}
				t2 := time.Now()
				if _, err := up.Store(ctx, w, s, io.Discard); err != nil {
					b.Fatal(err)
				}
				t3 := time.Now()
				if _, err := RunUpload(ctx, w, s, &gb, order, UploadOptions{EndDate: "2023-11-30"}); err != nil {
					b.Fatal(err)
				}
				e2e += time.Since(t3)
				compute, kvLoad, store = compute+t1.Sub(t0), kvLoad+t2.Sub(t1), store+t3.Sub(t2)
				keys += len(up.Rows)
				s.Close()
			}
			rate := func(d time.Duration) float64 { return float64(keys) / d.Seconds() }
			b.ReportMetric(float64(keys/b.N), "keys")
			b.ReportMetric(rate(compute), "compute-keys/s")
			b.ReportMetric(rate(kvLoad), "kv-keys/s")
			b.ReportMetric(rate(store), "store-keys/s")
			b.ReportMetric(rate(e2e), "e2e-keys/s")
		})
	}
}
