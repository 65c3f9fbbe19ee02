package online

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chronon-go/chronon/runtime/aggregate"
	"github.com/chronon-go/chronon/runtime/kv"
	"github.com/chronon-go/chronon/runtime/types"
	"github.com/chronon-go/chronon/thrift/api"
	"github.com/chronon-go/chronon/thrift/conf"
)

const fetchEndDs = "2023-11-30"

var fetchWindows = []*api.Window{{Length: 1, TimeUnit: api.TimeUnit_HOURS}, {Length: 1, TimeUnit: api.TimeUnit_DAYS},
	{Length: 7, TimeUnit: api.TimeUnit_DAYS}}

func testAgg(col string, op api.Operation, w []*api.Window) *api.Aggregation {
	return &api.Aggregation{InputColumn: &col, Operation: &op, ArgMap: map[string]string{}, Windows: w}
}

func testGroupBy(name string, acc api.Accuracy, aggs []*api.Aggregation, keys ...string) *api.GroupBy {
	return &api.GroupBy{MetaData: &api.MetaData{Name: &name}, KeyColumns: keys, Aggregations: aggs,
		Accuracy: &acc, Sources: []*api.Source{{Events: &api.EventSource{Table: ptr("data.t")}}}}
}

// event is one input row of the test GroupBys.
type event struct {
	user  string
	price int64
	ts    int64
}

// fetchFixture is a KV store with three GroupBys uploaded and a join over them:
//   - quickstart.purchases.v1: TEMPORAL events, SUM/COUNT/MAX(price) over 1h, 1d, 7d and unwindowed,
//     batch IR up to batchEnd plus streaming rows after it;
//   - quickstart.returns.v1: SNAPSHOT, SUM(price) 3d and COUNT, keyed by user_id (mapped from the
//     join's "buyer");
//   - quickstart.users.v1: no aggregations, value column "city".
type fetchFixture struct {
	store    kv.Store
	batchEnd int64
	events   map[string][]event // purchases per user, batch and streaming
	snapshot map[string][]any   // returns finalized values per user
	purch    *api.GroupBy
}

func fetchServingInfo(t testing.TB, gb *api.GroupBy, selected types.Schema) *ServingInfo {
	t.Helper()
	si, err := BuildServingInfo(gb, selected, fetchEndDs, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Round trip through the stored form, as the fetcher reads it.
	b, err := si.MarshalCompact(nil)
	if err != nil {
		t.Fatal(err)
	}
	si2, _, err := UnmarshalServingInfo(b)
	if err != nil {
		t.Fatal(err)
	}
	return si2
}

func bulk(t testing.TB, s kv.Store, dataset string, si *ServingInfo, rows []kv.Row) {
	t.Helper()
	b, err := si.MarshalCompact(nil)
	if err != nil {
		t.Fatal(err)
	}
	rows = append(rows, kv.Row{Key: []byte(GroupByServingInfoKey), Value: b, TsMillis: si.BatchEndTsMillis})
	if err := s.BulkLoad(context.Background(), dataset, kv.Rows(rows)); err != nil {
		t.Fatal(err)
	}
}

func newFetchFixture(t testing.TB, users int, seed uint64) *fetchFixture {
	t.Helper()
	ctx := context.Background()
	store, err := kv.OpenEmbedded(t.TempDir(), kv.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	batchEnd, err := aggregate.BatchEnd(fetchEndDs)
	if err != nil {
		t.Fatal(err)
	}
	fx := &fetchFixture{store: store, batchEnd: batchEnd, events: map[string][]event{}, snapshot: map[string][]any{}}
	rng := rand.New(rand.NewPCG(seed, 7))
	selected := types.Schema{{Name: "user_id", Type: types.StringType}, {Name: "price", Type: types.LongType},
		{Name: "city", Type: types.StringType}, {Name: "ts", Type: types.LongType}, {Name: "ds", Type: types.StringType}}

	// TEMPORAL purchases.
	purch := testGroupBy("quickstart.purchases.v1", api.Accuracy_TEMPORAL, []*api.Aggregation{
		testAgg("price", api.Operation_SUM, fetchWindows), testAgg("price", api.Operation_COUNT, fetchWindows),
		testAgg("price", api.Operation_MAX, nil)}, "user_id")
	fx.purch = purch
	psi := fetchServingInfo(t, purch, selected)
	agg, err := aggregate.New(purch.Aggregations, psi.SelectedSchema())
	if err != nil {
		t.Fatal(err)
	}
	on := aggregate.NewOnline(agg)
	irSchema, err := NewAvroSchema("Value", on.BatchIRType().Fields)
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
		user := fmt.Sprint(u)
		key, err := psi.Key.EncodeKeyMap(map[string]any{"user_id": user})
		if err != nil {
			t.Fatal(err)
		}
		n := 5 + rng.IntN(30)
		var evs []event
		for i := 0; i < n; i++ {
			// 10 days before batchEnd up to 2 days after it; streaming rows are those >= batchEnd.
			ts := batchEnd - 10*aggregate.DayMillis + rng.Int64N(12*aggregate.DayMillis)
			evs = append(evs, event{user: user, price: rng.Int64N(100), ts: ts})
		}
		sort.SliceStable(evs, func(i, j int) bool { return evs[i].ts < evs[j].ts })
		fx.events[user] = evs
		b := types.NewBatch(psi.SelectedSchema(), n)
		ts := make([]int64, n)
		for i, e := range evs {
			b.Cols[0].Append(e.price)
			ts[i] = e.ts
			if e.ts >= batchEnd {
				v, err := streamSchema.Encode([]any{e.price})
				if err != nil {
					t.Fatal(err)
				}
				puts = append(puts, kv.PutRequest{Dataset: StreamingDataset(purch.MetaData.GetName()), Key: key, Value: v, TsMillis: e.ts})
			}
		}
		ir := on.BuildBatchIR(aggregate.Events{Batch: b, Ts: ts}, batchEnd)
		v, err := irSchema.Encode(on.Value(ir))
		if err != nil {
			t.Fatal(err)
		}
		rows = append(rows, kv.Row{Key: key, Value: v, TsMillis: batchEnd})
	}
	bulk(t, store, BatchDataset(purch.MetaData.GetName()), psi, rows)
	if err := store.Create(ctx, StreamingDataset(purch.MetaData.GetName())); err != nil {
		t.Fatal(err)
	}
	if err := store.MultiPut(ctx, puts); err != nil {
		t.Fatal(err)
	}

	// SNAPSHOT returns: only even users have data.
	rets := testGroupBy("quickstart.returns.v1", api.Accuracy_SNAPSHOT, []*api.Aggregation{
		testAgg("price", api.Operation_SUM, []*api.Window{{Length: 3, TimeUnit: api.TimeUnit_DAYS}}),
		testAgg("price", api.Operation_COUNT, nil)}, "user_id")
	rsi := fetchServingInfo(t, rets, selected)
	ragg, err := aggregate.New(rets.Aggregations, rsi.SelectedSchema())
	if err != nil {
		t.Fatal(err)
	}
	outSchema, err := NewAvroSchema("Value", ragg.OutputSchema())
	if err != nil {
		t.Fatal(err)
	}
	rows = nil
	for u := 0; u < users; u += 2 {
		key, _ := rsi.Key.EncodeKeyMap(map[string]any{"user_id": fmt.Sprint(u)})
		vals := []any{int64(u * 10), int64(u)}
		fx.snapshot[fmt.Sprint(u)] = vals
		v, err := outSchema.Encode(vals)
		if err != nil {
			t.Fatal(err)
		}
		rows = append(rows, kv.Row{Key: key, Value: v, TsMillis: batchEnd})
	}
	// user 1's stored value is corrupt.
	key1, _ := rsi.Key.EncodeKeyMap(map[string]any{"user_id": "1"})
	rows = append(rows, kv.Row{Key: key1, Value: []byte{0x02, 0xff, 0xff}, TsMillis: batchEnd})
	bulk(t, store, BatchDataset(rets.MetaData.GetName()), rsi, rows)

	// No-aggregation users.
	usersGB := testGroupBy("quickstart.users.v1", api.Accuracy_SNAPSHOT, nil, "user_id")
	usi := fetchServingInfo(t, usersGB, types.Schema{{Name: "user_id", Type: types.StringType},
		{Name: "city", Type: types.StringType}, {Name: "ds", Type: types.StringType}})
	rows = nil
	for u := 0; u < users; u++ {
		key, _ := usi.Key.EncodeKeyMap(map[string]any{"user_id": fmt.Sprint(u)})
		v, err := usi.Selected.Encode([]any{fmt.Sprintf("city%d", u%3)})
		if err != nil {
			t.Fatal(err)
		}
		rows = append(rows, kv.Row{Key: key, Value: v, TsMillis: batchEnd})
	}
	bulk(t, store, BatchDataset(usersGB.MetaData.GetName()), usi, rows)

	// Joins.
	join := func(name string, ders []*api.Derivation) *api.Join {
		return &api.Join{MetaData: &api.MetaData{Name: ptr(name)},
			Left: &api.Source{Events: &api.EventSource{Table: ptr("data.checkouts")}},
			JoinParts: []*api.JoinPart{
				{GroupBy: purch},
				{GroupBy: rets, KeyMapping: map[string]string{"buyer": "user_id"}, Prefix: ptr("r")},
				{GroupBy: usersGB},
			},
			Derivations: ders}
	}
	der := func(name, e string) *api.Derivation { return &api.Derivation{Name: ptr(name), Expression: ptr(e)} }
	joins := map[string]*api.Join{
		"joins/quickstart/training_set.v2": join("quickstart.training_set.v2", nil),
		"joins/quickstart/derived.v1": join("quickstart.derived.v1", []*api.Derivation{der("*", "*"),
			der("total", "quickstart_purchases_v1_price_sum_1d + r_quickstart_returns_v1_price_count"),
			der("who", "upper(user_id)")}),
		"joins/quickstart/renamed.v1": join("quickstart.renamed.v1", []*api.Derivation{
			der("city", "quickstart_users_v1_city"), der("uid", "user_id")}),
		"joins/quickstart/badderive.v1": join("quickstart.badderive.v1", []*api.Derivation{der("*", "*"),
			der("bad", "no_such_column + 1")}),
	}
	var mrows []kv.Row
	for k, j := range joins {
		b, err := conf.MarshalCompact(j, nil)
		if err != nil {
			t.Fatal(err)
		}
		mrows = append(mrows, kv.Row{Key: []byte(k), Value: b, TsMillis: 1})
	}
	if err := store.BulkLoad(ctx, MetadataDataset, kv.Rows(mrows)); err != nil {
		t.Fatal(err)
	}
	return fx
}

// brute computes the purchases features at q straight from §4.2: a window W with tail hop h sums
// events with floor(q-W, h) <= ts < q.
func (fx *fetchFixture) brute(user string, q int64) map[string]any {
	evs := fx.events[user]
	out := map[string]any{}
	windowed := func(w int64) (sum, count int64) {
		start := int64(-1 << 62)
		if w > 0 {
			start = aggregate.Floor(q-w, aggregate.FiveMinute.TailHop(w))
		}
		for _, e := range evs {
			if e.ts >= start && e.ts < q {
				sum += e.price
				count++
			}
		}
		return
	}
	maxV := int64(-1)
	for _, e := range evs {
		if e.ts < q && e.price > maxV {
			maxV = e.price
		}
	}
	for _, w := range []struct {
		suffix string
		ms     int64
	}{{"1h", aggregate.HourMillis}, {"1d", aggregate.DayMillis}, {"7d", 7 * aggregate.DayMillis}} {
		s, c := windowed(w.ms)
		// An empty window finalizes to null, COUNT included (spec §5).
		if c == 0 {
			out["price_sum_"+w.suffix], out["price_count_"+w.suffix] = nil, nil
		} else {
			out["price_sum_"+w.suffix], out["price_count_"+w.suffix] = s, c
		}
	}
	if maxV < 0 {
		out["price_max"] = nil
	} else {
		out["price_max"] = maxV
	}
	return out
}

func atMs(ms int64) *int64 { return &ms }

func jsonEq(t *testing.T, what string, got, want any) {
	t.Helper()
	g, _ := json.Marshal(JSONValue(got))
	w, _ := json.Marshal(JSONValue(want))
	if string(g) != string(w) {
		t.Errorf("%s:\n got %s\nwant %s", what, g, w)
	}
}

func TestFetchGroupByTemporal(t *testing.T) {
	fx := newFetchFixture(t, 20, 1)
	f := NewFetcher(fx.store)
	rng := rand.New(rand.NewPCG(3, 4))
	var reqs []Request
	for u := 0; u < 20; u++ {
		for k := 0; k < 5; k++ {
			q := fx.batchEnd + rng.Int64N(2*aggregate.DayMillis)
			reqs = append(reqs, Request{Name: "quickstart.purchases.v1", Keys: map[string]any{"user_id": fmt.Sprint(u)}, AtMillis: atMs(q)})
		}
	}
	// The boundary itself and a JSON number key (cast to the string key).
	reqs = append(reqs, Request{Name: "quickstart/purchases.v1", Keys: map[string]any{"user_id": json.Number("3")}, AtMillis: atMs(fx.batchEnd)})
	resp, err := f.FetchGroupBys(context.Background(), reqs)
	if err != nil {
		t.Fatal(err)
	}
	if len(resp) != len(reqs) {
		t.Fatalf("%d responses for %d requests", len(resp), len(reqs))
	}
	for _, r := range resp {
		if r.Err != nil {
			t.Fatal(r.Err)
		}
		user := fmt.Sprint(r.Request.Keys["user_id"])
		jsonEq(t, fmt.Sprintf("user %s at %d", user, *r.Request.AtMillis), r.Values, fx.brute(user, *r.Request.AtMillis))
	}

	// Before the batch end: no values; missing key: nil map; null key: dropped.
	resp, err = f.FetchGroupBys(context.Background(), []Request{
		{Name: "quickstart.purchases.v1", Keys: map[string]any{"user_id": "1"}, AtMillis: atMs(fx.batchEnd - 1)},
		{Name: "quickstart.purchases.v1", Keys: map[string]any{"user_id": "nobody"}, AtMillis: atMs(fx.batchEnd + 5)},
		{Name: "quickstart.purchases.v1", Keys: map[string]any{"user_id": nil}},
		{Name: "quickstart.nothing.v1", Keys: map[string]any{"user_id": "1"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp) != 3 {
		t.Fatalf("want 3 responses (null key dropped), got %d", len(resp))
	}
	if resp[0].Values != nil || resp[0].Err != nil {
		t.Errorf("q < batchEnd: want no values, got %v %v", resp[0].Values, resp[0].Err)
	}
	if resp[1].Values != nil || resp[1].Err != nil {
		t.Errorf("missing key: want nil map, got %v %v", resp[1].Values, resp[1].Err)
	}
	if resp[2].Err == nil || !strings.Contains(resp[2].Err.Error(), "QUICKSTART_NOTHING_V1_BATCH") {
		t.Errorf("unknown GroupBy: got %v", resp[2].Err)
	}
}

func TestFetchGroupBySnapshotAndNoAgg(t *testing.T) {
	fx := newFetchFixture(t, 6, 2)
	f := NewFetcher(fx.store)
	resp, err := f.FetchGroupBys(context.Background(), []Request{
		{Name: "quickstart.returns.v1", Keys: map[string]any{"user_id": "4"}},
		{Name: "quickstart.returns.v1", Keys: map[string]any{"user_id": "3"}},
		{Name: "quickstart.users.v1", Keys: map[string]any{"user_id": "5"}},
		{Name: "quickstart.returns.v1", Keys: map[string]any{"user_id": "1"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	jsonEq(t, "snapshot", resp[0].Values, map[string]any{"price_sum_3d": int64(40), "price_count": int64(4)})
	if resp[1].Values != nil || resp[1].Err != nil {
		t.Errorf("absent key: %v %v", resp[1].Values, resp[1].Err)
	}
	jsonEq(t, "no aggs", resp[2].Values, map[string]any{"city": "city2"})
	if resp[3].Err == nil {
		t.Errorf("corrupt value: want an error, got %v", resp[3].Values)
	}
}

func TestFetchBatchVersionTooOld(t *testing.T) {
	fx := newFetchFixture(t, 4, 3)
	// A store that kept mid(ds) as the version: the value must look missing (spec §7.4).
	rsi := fetchServingInfo(t, testGroupBy("quickstart.old.v1", api.Accuracy_SNAPSHOT, nil, "user_id"),
		types.Schema{{Name: "user_id", Type: types.StringType}, {Name: "city", Type: types.StringType}})
	key, _ := rsi.Key.EncodeKeyMap(map[string]any{"user_id": "1"})
	v, _ := rsi.Selected.Encode([]any{"x"})
	bulk(t, fx.store, "QUICKSTART_OLD_V1_BATCH", rsi, []kv.Row{{Key: key, Value: v, TsMillis: fx.batchEnd - aggregate.DayMillis}})
	resp, err := NewFetcher(fx.store).FetchGroupBys(context.Background(), []Request{{Name: "quickstart.old.v1", Keys: map[string]any{"user_id": "1"}}})
	if err != nil {
		t.Fatal(err)
	}
	if resp[0].Values != nil || resp[0].Err != nil {
		t.Errorf("stale batch version: want nil map, got %v %v", resp[0].Values, resp[0].Err)
	}
}

func TestFetchServingInfoRefresh(t *testing.T) {
	fx := newFetchFixture(t, 2, 4)
	f := NewFetcher(fx.store)
	get := func() map[string]any {
		resp, err := f.FetchGroupBys(context.Background(), []Request{{Name: "quickstart.users.v1", Keys: map[string]any{"user_id": "1"}}})
		if err != nil || resp[0].Err != nil {
			t.Fatal(err, resp[0].Err)
		}
		return resp[0].Values
	}
	jsonEq(t, "before", get(), map[string]any{"city": "city1"})
	// A new upload a day later with a different value schema.
	gb := testGroupBy("quickstart.users.v1", api.Accuracy_SNAPSHOT, nil, "user_id")
	si, err := BuildServingInfo(gb, types.Schema{{Name: "user_id", Type: types.StringType},
		{Name: "zip", Type: types.LongType}}, "2023-12-01", nil)
	if err != nil {
		t.Fatal(err)
	}
	key, _ := si.Key.EncodeKeyMap(map[string]any{"user_id": "1"})
	v, _ := si.Selected.Encode([]any{int64(94107)})
	bulk(t, fx.store, "QUICKSTART_USERS_V1_BATCH", si, []kv.Row{{Key: key, Value: v, TsMillis: si.BatchEndTsMillis}})
	jsonEq(t, "after", get(), map[string]any{"zip": int64(94107)})
}

func TestFetchJoin(t *testing.T) {
	fx := newFetchFixture(t, 10, 5)
	f := NewFetcher(fx.store)
	q := fx.batchEnd + 30*aggregate.HourMillis + 17
	resp, err := f.FetchJoins(context.Background(), []Request{
		{Name: "quickstart/training_set.v2", Keys: map[string]any{"user_id": "4", "buyer": "2"}, AtMillis: atMs(q)},
		{Name: "quickstart/training_set.v2", Keys: map[string]any{"user_id": "3"}, AtMillis: atMs(q)},
		{Name: "quickstart.training_set.v2", Keys: map[string]any{"user_id": "5", "buyer": "1"}, AtMillis: atMs(q)},
		{Name: "quickstart/training_set.v2", Keys: map[string]any{"user_id": "nobody", "buyer": "3"}, AtMillis: atMs(q)},
		{Name: "quickstart/none.v1", Keys: map[string]any{"user_id": "1"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	prefixed := func(p string, m map[string]any, into map[string]any) map[string]any {
		for k, v := range m {
			into[p+"_"+k] = v
		}
		return into
	}
	want := prefixed("quickstart_purchases_v1", fx.brute("4", q), map[string]any{})
	want = prefixed("r_quickstart_returns_v1", map[string]any{"price_sum_3d": int64(20), "price_count": int64(2)}, want)
	want["quickstart_users_v1_city"] = "city1"
	jsonEq(t, "join", resp[0].Values, want)

	// Missing left key "buyer": that part's exception, the others served.
	want = prefixed("quickstart_purchases_v1", fx.brute("3", q), map[string]any{})
	want["quickstart_users_v1_city"] = "city0"
	want["r_quickstart_returns_v1_exception"] = "Failed to fetch r_quickstart_returns_v1: Missing keys List(buyer) required by r_quickstart_returns_v1 in query: Map(user_id -> 3)"
	jsonEq(t, "missing left key", resp[1].Values, want)

	// Corrupt stored value of buyer 1: exception for that part only.
	ex, _ := resp[2].Values["r_quickstart_returns_v1_exception"].(string)
	if !strings.Contains(ex, "decoding the batch value") {
		t.Errorf("corrupt part: exception %q", ex)
	}
	if _, ok := resp[2].Values["quickstart_purchases_v1_price_count_7d"]; !ok {
		t.Errorf("corrupt part: other parts missing: %v", resp[2].Values)
	}
	if resp[2].Values["quickstart_users_v1_city"] != "city2" {
		t.Errorf("corrupt part: users part: %v", resp[2].Values)
	}

	// Absent keys: parts contribute no entries.
	if len(resp[3].Values) != 0 {
		t.Errorf("absent keys: want no entries, got %v", resp[3].Values)
	}
	if resp[4].Err == nil {
		t.Errorf("unknown join: want an error")
	}
}

func TestFetchJoinDerivations(t *testing.T) {
	fx := newFetchFixture(t, 6, 6)
	f := NewFetcher(fx.store)
	q := fx.batchEnd + 3*aggregate.HourMillis
	keys := map[string]any{"user_id": "2", "buyer": "4"}
	resp, err := f.FetchJoins(context.Background(), []Request{
		{Name: "quickstart/training_set.v2", Keys: keys, AtMillis: atMs(q)},
		{Name: "quickstart/derived.v1", Keys: keys, AtMillis: atMs(q)},
		{Name: "quickstart/renamed.v1", Keys: keys, AtMillis: atMs(q)},
		{Name: "quickstart/badderive.v1", Keys: keys, AtMillis: atMs(q)},
		{Name: "quickstart/derived.v1", Keys: map[string]any{"user_id": "2", "buyer": "1"}, AtMillis: atMs(q)},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range resp {
		if r.Err != nil {
			t.Fatal(r.Err)
		}
	}
	base := resp[0].Values
	// "*" keeps everything, plus SQL derivations over features and keys.
	want := map[string]any{}
	for k, v := range base {
		want[k] = v
	}
	var total any
	if s, ok := base["quickstart_purchases_v1_price_sum_1d"].(int64); ok {
		total = s + base["r_quickstart_returns_v1_price_count"].(int64)
	}
	want["total"] = total
	want["who"] = "2"
	jsonEq(t, "sql derivations", resp[1].Values, want)

	jsonEq(t, "rename-only", resp[2].Values, map[string]any{"city": base["quickstart_users_v1_city"], "uid": "2"})

	// Failing derivations: base values plus derivation_fetch_exception.
	bad := resp[3].Values
	if _, ok := bad[DerivationExceptionKey]; !ok {
		t.Errorf("bad derivation: no %s in %v", DerivationExceptionKey, bad)
	}
	delete(bad, DerivationExceptionKey)
	jsonEq(t, "bad derivation base", bad, base)

	// A failed part keeps its exception; its derived columns are dropped.
	d := resp[4].Values
	if _, ok := d["r_quickstart_returns_v1_exception"]; !ok {
		t.Errorf("exception not preserved: %v", d)
	}
	for k := range d {
		if strings.HasPrefix(k, "r_quickstart_returns_v1_price") {
			t.Errorf("failed part's column %s kept", k)
		}
	}
}

// BenchmarkFetchJoin measures an in-process join fetch (3 parts, one TEMPORAL with streaming rows)
// against the embedded store, one key per call.
func BenchmarkFetchJoin(b *testing.B) {
	fx := newFetchFixture(b, 200, 9)
	benchJoinFetches(b, fx, NewFetcher(fx.store))
}

// benchJoinFetches fetches training_set.v2 for the fixture's 200 users in turn, one key per call,
// and reports the p50 and p99 latency.
func benchJoinFetches(b *testing.B, fx *fetchFixture, f *Fetcher) {
	ctx := context.Background()
	q := fx.batchEnd + 20*aggregate.HourMillis
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		u := fmt.Sprint(i % 200)
		start := time.Now()
		resp, err := f.FetchJoins(ctx, []Request{{Name: "quickstart/training_set.v2",
			Keys: map[string]any{"user_id": u, "buyer": u}, AtMillis: atMs(q)}})
		lat = append(lat, time.Since(start))
		if err != nil || resp[0].Err != nil {
			b.Fatal(err, resp[0].Err)
		}
	}
	b.StopTimer()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
}

// TestFetchConcurrent shares one Fetcher (and its caches) between goroutines (run with -race).
func TestFetchConcurrent(t *testing.T) {
	fx := newFetchFixture(t, 8, 8)
	f := NewFetcher(fx.store)
	q := fx.batchEnd + 5*aggregate.HourMillis
	errs := make(chan error, 8)
	for g := 0; g < 8; g++ {
		go func(g int) {
			var err error
			for i := 0; i < 20 && err == nil; i++ {
				u := fmt.Sprint((g + i) % 8)
				var resp []Response
				resp, err = f.FetchJoins(context.Background(), []Request{
					{Name: "quickstart/derived.v1", Keys: map[string]any{"user_id": u, "buyer": u}, AtMillis: atMs(q)}})
				if err == nil && resp[0].Err != nil {
					err = resp[0].Err
				}
				if err == nil && resp[0].Values["quickstart_purchases_v1_price_max"] == nil {
					err = fmt.Errorf("user %s: no purchases: %v", u, resp[0].Values)
				}
			}
			errs <- err
		}(g)
	}
	for g := 0; g < 8; g++ {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

func TestFetchGroupByDerivations(t *testing.T) {
	fx := newFetchFixture(t, 2, 10)
	gb := testGroupBy("quickstart.derived_users.v1", api.Accuracy_SNAPSHOT, nil, "user_id")
	gb.Derivations = []*api.Derivation{{Name: ptr("*"), Expression: ptr("*")},
		{Name: ptr("loud_city"), Expression: ptr("concat(upper(city), '!', user_id)")}}
	si := fetchServingInfo(t, gb, types.Schema{{Name: "user_id", Type: types.StringType}, {Name: "city", Type: types.StringType}})
	key, _ := si.Key.EncodeKeyMap(map[string]any{"user_id": "1"})
	v, _ := si.Selected.Encode([]any{"oslo"})
	bulk(t, fx.store, BatchDataset("quickstart.derived_users.v1"), si, []kv.Row{{Key: key, Value: v, TsMillis: si.BatchEndTsMillis}})
	resp, err := NewFetcher(fx.store).FetchGroupBys(context.Background(), []Request{
		{Name: "quickstart.derived_users.v1", Keys: map[string]any{"user_id": json.Number("1")}}})
	if err != nil || resp[0].Err != nil {
		t.Fatal(err, resp[0].Err)
	}
	jsonEq(t, "group-by derivations", resp[0].Values, map[string]any{"city": "oslo", "loud_city": "OSLO!1"})
}

// One Fetcher shared by many goroutines returns exactly the single-request answers (TEMPORAL merges
// share aggregation state per GroupBy, so this guards their serialization).
func TestFetchConcurrentValues(t *testing.T) {
	fx := newFetchFixture(t, 20, 9)
	f := NewFetcher(fx.store)
	var wg sync.WaitGroup
	errs := make(chan string, 16)
	for g := 0; g < 16; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(g), 7))
			for i := 0; i < 40; i++ {
				u := fmt.Sprint(rng.IntN(20))
				q := fx.batchEnd + rng.Int64N(2*aggregate.DayMillis)
				resp, err := f.FetchGroupBys(context.Background(), []Request{{Name: "quickstart.purchases.v1", Keys: map[string]any{"user_id": u}, AtMillis: atMs(q)}})
				if err != nil || len(resp) != 1 || resp[0].Err != nil {
					errs <- fmt.Sprintf("user %s at %d: %v %v", u, q, err, resp)
					return
				}
				got, _ := json.Marshal(resp[0].Values)
				want, _ := json.Marshal(fx.brute(u, q))
				if string(got) != string(want) {
					errs <- fmt.Sprintf("user %s at %d: got %s, want %s", u, q, got, want)
					return
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

// TestFetchJoinConfRefresh: a join conf re-uploaded by metadata-upload reaches a running fetcher after
// ConfTTL; with ConfTTL <= 0 the first conf read is kept.
func TestFetchJoinConfRefresh(t *testing.T) {
	fx := newFetchFixture(t, 3, 9)
	ctx := context.Background()
	req := []Request{{Name: "quickstart/renamed.v1", Keys: map[string]any{"user_id": "1", "buyer": "1"}}}
	keep, refresh := NewFetcher(fx.store), NewFetcher(fx.store)
	keep.ConfTTL, refresh.ConfTTL = 0, time.Nanosecond
	for _, f := range []*Fetcher{keep, refresh} {
		resp, err := f.FetchJoins(ctx, req)
		if err != nil || resp[0].Err != nil {
			t.Fatal(err, resp[0].Err)
		}
		if _, ok := resp[0].Values["uid"]; !ok {
			t.Fatalf("before the re-upload: %v", resp[0].Values)
		}
	}
	// Re-upload the conf with the derivation renamed.
	got, err := fx.store.MultiGet(ctx, []kv.GetRequest{{Dataset: MetadataDataset, Key: []byte("joins/quickstart/renamed.v1")}})
	if err != nil {
		t.Fatal(err)
	}
	v, _ := got[0].Latest()
	j := api.NewJoin()
	if _, err := conf.Unmarshal(v.Bytes, j); err != nil {
		t.Fatal(err)
	}
	for _, d := range j.Derivations {
		if d.GetName() == "uid" {
			n := "uid_v2"
			d.Name = &n
		}
	}
	b, err := conf.MarshalCompact(j, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := fx.store.MultiPut(ctx, []kv.PutRequest{{Dataset: MetadataDataset, Key: []byte("joins/quickstart/renamed.v1"), Value: b, TsMillis: v.TsMillis + 1}}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		f    *Fetcher
		want string
	}{{keep, "uid"}, {refresh, "uid_v2"}} {
		resp, err := c.f.FetchJoins(ctx, req)
		if err != nil || resp[0].Err != nil {
			t.Fatal(err, resp[0].Err)
		}
		if _, ok := resp[0].Values[c.want]; !ok {
			t.Errorf("ConfTTL %v: want feature %s, got %v", c.f.ConfTTL, c.want, resp[0].Values)
		}
	}
}
