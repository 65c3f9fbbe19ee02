package server

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sort"
	"sync/atomic"
	"testing"

	"github.com/chronon-go/chronon/runtime/aggregate"
	"github.com/chronon-go/chronon/runtime/kv"
	"github.com/chronon-go/chronon/runtime/online"
	"github.com/chronon-go/chronon/runtime/types"
	"github.com/chronon-go/chronon/thrift/api"
	"github.com/chronon-go/chronon/thrift/conf"
)

// The fixture is a slim port of runtime/online/fetch_test.go's: an embedded store with
//   - quickstart.purchases.v1: TEMPORAL events keyed by user_id, SUM/COUNT(price) over 1d/7d and
//     MAX(price), batch IR up to batchEnd plus streaming rows after it;
//   - quickstart.users.v1: no aggregations, value column "city" (user "1" stored corrupt);
//   - join quickstart/training_set.v2 over both.
// Users "0".."users-1" have data.

const fixtureEndDs = "2023-11-30"

func ptr[T any](v T) *T { return &v }

func testGroupBy(name string, acc api.Accuracy, aggs []*api.Aggregation, keys ...string) *api.GroupBy {
	return &api.GroupBy{MetaData: &api.MetaData{Name: &name}, KeyColumns: keys, Aggregations: aggs,
		Accuracy: &acc, Sources: []*api.Source{{Events: &api.EventSource{Table: ptr("data.t")}}}}
}

func testAgg(col string, op api.Operation, w []*api.Window) *api.Aggregation {
	return &api.Aggregation{InputColumn: &col, Operation: &op, ArgMap: map[string]string{}, Windows: w}
}

func servingInfo(t testing.TB, gb *api.GroupBy, selected types.Schema) *online.ServingInfo {
	t.Helper()
	si, err := online.BuildServingInfo(gb, selected, fixtureEndDs, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := si.MarshalCompact(nil)
	if err != nil {
		t.Fatal(err)
	}
	si2, _, err := online.UnmarshalServingInfo(b)
	if err != nil {
		t.Fatal(err)
	}
	return si2
}

func bulk(t testing.TB, s kv.Store, dataset string, si *online.ServingInfo, rows []kv.Row) {
	t.Helper()
	b, err := si.MarshalCompact(nil)
	if err != nil {
		t.Fatal(err)
	}
	rows = append(rows, kv.Row{Key: []byte(online.GroupByServingInfoKey), Value: b, TsMillis: si.BatchEndTsMillis})
	if err := s.BulkLoad(context.Background(), dataset, kv.Rows(rows)); err != nil {
		t.Fatal(err)
	}
}

type fixture struct {
	store    kv.Store
	batchEnd int64
}

func newFixture(t testing.TB, users int) *fixture {
	t.Helper()
	ctx := context.Background()
	store, err := kv.OpenEmbedded(t.TempDir(), kv.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	batchEnd, err := aggregate.BatchEnd(fixtureEndDs)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 7))
	selected := types.Schema{{Name: "user_id", Type: types.StringType}, {Name: "price", Type: types.LongType},
		{Name: "ts", Type: types.LongType}, {Name: "ds", Type: types.StringType}}
	windows := []*api.Window{{Length: 1, TimeUnit: api.TimeUnit_DAYS}, {Length: 7, TimeUnit: api.TimeUnit_DAYS}}
	purch := testGroupBy("quickstart.purchases.v1", api.Accuracy_TEMPORAL, []*api.Aggregation{
		testAgg("price", api.Operation_SUM, windows), testAgg("price", api.Operation_COUNT, windows),
		testAgg("price", api.Operation_MAX, nil)}, "user_id")
	psi := servingInfo(t, purch, selected)
	agg, err := aggregate.New(purch.Aggregations, psi.SelectedSchema())
	if err != nil {
		t.Fatal(err)
	}
	on := aggregate.NewOnline(agg)
	irSchema, err := online.NewAvroSchema("Value", on.BatchIRType().Fields)
	if err != nil {
		t.Fatal(err)
	}
	streamSchema, err := psi.StreamValueSchema()
	if err != nil {
		t.Fatal(err)
	}
	var rows []kv.Row
	var puts []kv.PutRequest
	for u := 0; u < users; u++ {
		key, err := psi.Key.EncodeKeyMap(map[string]any{"user_id": fmt.Sprint(u)})
		if err != nil {
			t.Fatal(err)
		}
		n := 5 + rng.IntN(20)
		ts := make([]int64, n)
		prices := make([]int64, n)
		for i := range ts {
			ts[i] = batchEnd - 10*aggregate.DayMillis + rng.Int64N(12*aggregate.DayMillis)
		}
		sort.Slice(ts, func(i, j int) bool { return ts[i] < ts[j] })
		b := types.NewBatch(psi.SelectedSchema(), n)
		for i := range ts {
			prices[i] = 1 + rng.Int64N(100)
			b.Cols[0].Append(prices[i])
			if ts[i] >= batchEnd {
				v, err := streamSchema.Encode([]any{prices[i]})
				if err != nil {
					t.Fatal(err)
				}
				puts = append(puts, kv.PutRequest{Dataset: online.StreamingDataset(purch.MetaData.GetName()), Key: key, Value: v, TsMillis: ts[i]})
			}
		}
		ir := on.BuildBatchIR(aggregate.Events{Batch: b, Ts: ts}, batchEnd)
		v, err := irSchema.Encode(on.Value(ir))
		if err != nil {
			t.Fatal(err)
		}
		rows = append(rows, kv.Row{Key: key, Value: v, TsMillis: batchEnd})
	}
	bulk(t, store, online.BatchDataset(purch.MetaData.GetName()), psi, rows)
	if err := store.Create(ctx, online.StreamingDataset(purch.MetaData.GetName())); err != nil {
		t.Fatal(err)
	}
	if len(puts) > 0 {
		if err := store.MultiPut(ctx, puts); err != nil {
			t.Fatal(err)
		}
	}

	usersGB := testGroupBy("quickstart.users.v1", api.Accuracy_SNAPSHOT, nil, "user_id")
	usi := servingInfo(t, usersGB, types.Schema{{Name: "user_id", Type: types.StringType},
		{Name: "city", Type: types.StringType}, {Name: "ds", Type: types.StringType}})
	rows = nil
	for u := 0; u < users; u++ {
		key, _ := usi.Key.EncodeKeyMap(map[string]any{"user_id": fmt.Sprint(u)})
		v, err := usi.Selected.Encode([]any{fmt.Sprintf("city%d", u%3)})
		if err != nil {
			t.Fatal(err)
		}
		if u == 1 {
			v = []byte{0x02, 0xff, 0xff} // corrupt
		}
		rows = append(rows, kv.Row{Key: key, Value: v, TsMillis: batchEnd})
	}
	bulk(t, store, online.BatchDataset(usersGB.MetaData.GetName()), usi, rows)

	join := &api.Join{MetaData: &api.MetaData{Name: ptr("quickstart.training_set.v2")},
		Left:      &api.Source{Events: &api.EventSource{Table: ptr("data.checkouts")}},
		JoinParts: []*api.JoinPart{{GroupBy: purch}, {GroupBy: usersGB}}}
	b, err := conf.MarshalCompact(join, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := store.BulkLoad(ctx, online.MetadataDataset, kv.Rows([]kv.Row{{Key: []byte("joins/quickstart/training_set.v2"), Value: b, TsMillis: 1}})); err != nil {
		t.Fatal(err)
	}
	return &fixture{store: store, batchEnd: batchEnd}
}

// flakyStore wraps a store: while down is set every MultiGet fails; while block is set MultiGet
// waits for its context (or release).
type flakyStore struct {
	kv.Store
	down    atomic.Bool
	block   atomic.Bool
	release chan struct{}
}

func (s *flakyStore) MultiGet(ctx context.Context, reqs []kv.GetRequest) ([]kv.GetResponse, error) {
	if s.down.Load() {
		return nil, fmt.Errorf("connection refused (test)")
	}
	if s.block.Load() {
		select {
		case <-s.release:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return s.Store.MultiGet(ctx, reqs)
}
