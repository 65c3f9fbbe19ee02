package online

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
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

// The expected values are MD5s computed outside Go (Python's hashlib).
func TestSampledForLogging(t *testing.T) {
	for _, tc := range []struct {
		key []byte
		mod float64 // h % 100000 of the key
	}{
		{[]byte{0x02, 0x02, '5'}, 22882}, // Avro key record {user_id: "5"}
		{[]byte("chronon"), 95440},
		{[]byte{}, 40828}, // a negative long: its absolute value is used
	} {
		if !SampledForLogging(tc.key, tc.mod/1000) {
			t.Errorf("key %x: not sampled at samplePercent %v (h%%100000 = %v)", tc.key, tc.mod/1000, tc.mod)
		}
		if SampledForLogging(tc.key, (tc.mod-1)/1000) {
			t.Errorf("key %x: sampled at samplePercent %v", tc.key, (tc.mod-1)/1000)
		}
		if !SampledForLogging(tc.key, 100) || SampledForLogging(tc.key, 0) {
			t.Errorf("key %x: 100%% must log, 0%% must not", tc.key)
		}
	}
}

func TestLogName(t *testing.T) {
	for _, n := range []string{"team/file.var", "team.file.var", "joins/team/file.var"} {
		if got := LogName(n); got != "team/file.var" {
			t.Errorf("LogName(%q) = %q", n, got)
		}
	}
}

// addJoin stores a copy of the fixture join `from` as `name` with samplePercent sp (nil: unset).
func addJoin(t *testing.T, s kv.Store, from, name string, sp *float64) {
	t.Helper()
	ctx := context.Background()
	resp, err := s.MultiGet(ctx, []kv.GetRequest{{Dataset: MetadataDataset, Key: []byte(JoinMetadataKey(from))}})
	if err != nil {
		t.Fatal(err)
	}
	v, ok := resp[0].Latest()
	if !ok {
		t.Fatalf("no join %s", from)
	}
	j := api.NewJoin()
	if _, err := conf.Unmarshal(v.Bytes, j); err != nil {
		t.Fatal(err)
	}
	j.MetaData.Name = ptr(strings.Replace(name, "/", ".", 1))
	j.MetaData.SamplePercent = sp
	b, err := conf.MarshalCompact(j, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.MultiPut(ctx, []kv.PutRequest{{Dataset: MetadataDataset, Key: []byte(JoinMetadataKey(name)), Value: b, TsMillis: 2}}); err != nil {
		t.Fatal(err)
	}
}

func fptr(v float64) *float64 { return &v }

func fetchJoins(t *testing.T, f *Fetcher, reqs ...Request) []Response {
	t.Helper()
	resp, err := f.FetchJoins(context.Background(), reqs)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range resp {
		if r.Err != nil {
			t.Fatal(r.Err)
		}
	}
	return resp
}

func closeLogger(t *testing.T, l *FetchLogger) {
	t.Helper()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
}

func scanLog(t *testing.T, l kv.Log, names ...string) []kv.LogRecord {
	t.Helper()
	var out []kv.LogRecord
	if err := l.Scan(context.Background(), names, func(r kv.LogRecord) error {
		out = append(out, r)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// publishedSchemas checks the schema publication records and returns the parsed key and value
// schemas by hash.
func publishedSchemas(t *testing.T, recs []kv.LogRecord, joinName string) map[string][2]*AvroSchema {
	t.Helper()
	out := map[string][2]*AvroSchema{}
	for _, r := range recs {
		if r.Name != kv.SchemaPublishEvent {
			continue
		}
		hash, schema := string(r.KeyBytes), string(r.ValueBytes)
		if r.SchemaHash != "" {
			t.Errorf("schema publication has schema hash %q, want none", r.SchemaHash)
		}
		if SchemaHash(schema) != hash {
			t.Errorf("published hash %s != SchemaHash(schema) %s", hash, SchemaHash(schema))
		}
		var m map[string]string
		if err := json.Unmarshal(r.ValueBytes, &m); err != nil {
			t.Fatalf("published schema is not a JSON object of strings: %v", err)
		}
		if m["join_name"] != joinName {
			t.Errorf("published join_name %q, want %q", m["join_name"], joinName)
		}
		if !strings.HasPrefix(schema, `{"join_name":`) || BuildLoggingSchema(m["join_name"], m["key_schema"], m["value_schema"]) != schema {
			t.Errorf("published schema is not in Chronon's layout: %s", schema)
		}
		k, err := ParseAvroSchema(m["key_schema"])
		if err != nil {
			t.Fatal(err)
		}
		v, err := ParseAvroSchema(m["value_schema"])
		if err != nil {
			t.Fatal(err)
		}
		out[hash] = [2]*AvroSchema{k, v}
	}
	return out
}

func TestFetchLoggingRoundTrip(t *testing.T) {
	fx := newFetchFixture(t, 6, 11)
	addJoin(t, fx.store, "quickstart/renamed.v1", "quickstart/logged.v1", fptr(100))
	log := &kv.MemLog{}
	l := NewFetchLogger(log, FetchLoggerOptions{})
	f := NewFetcher(fx.store)
	const now = int64(1_701_400_000_123)
	f.Now = func() int64 { return now }
	f.SetLogger(l)
	q := fx.batchEnd + 7*aggregate.HourMillis
	var reqs, baseReqs []Request
	for u := 0; u < 6; u++ {
		keys := map[string]any{"user_id": fmt.Sprint(u), "buyer": fmt.Sprint((u + 1) % 6)}
		name := "quickstart/logged.v1"
		at := atMs(q)
		switch u {
		case 1:
			name = "quickstart.logged.v1" // logged under "quickstart/logged.v1" too
		case 2:
			at = nil // logged with the request start
		case 3:
			delete(keys, "buyer") // a missing key is a null key field
		}
		reqs = append(reqs, Request{Name: name, Keys: keys, AtMillis: at})
		baseReqs = append(baseReqs, Request{Name: "quickstart/training_set.v2", Keys: keys, AtMillis: at})
	}
	resp := fetchJoins(t, f, reqs...)
	base := fetchJoins(t, f, baseReqs...)
	closeLogger(t, l)

	all := scanLog(t, log)
	schemas := publishedSchemas(t, all, "quickstart.logged.v1")
	if len(schemas) != 1 || len(all) != len(reqs)+1 {
		t.Fatalf("want 1 schema publication and %d fetch records, got %d schemas in %d records", len(reqs), len(schemas), len(all))
	}
	if l.Logged() != int64(len(all)) || l.Dropped() != 0 || l.Failed() != 0 {
		t.Errorf("counters: logged %d dropped %d failed %d", l.Logged(), l.Dropped(), l.Failed())
	}
	recs := scanLog(t, log, "quickstart/logged.v1")
	if len(recs) != len(reqs) {
		t.Fatalf("%d records named quickstart/logged.v1, want %d", len(recs), len(reqs))
	}
	for _, r := range recs {
		sc, ok := schemas[r.SchemaHash]
		if !ok {
			t.Fatalf("record with unpublished schema hash %q", r.SchemaHash)
		}
		if r.WriteMillis == 0 {
			t.Errorf("no write time")
		}
		key, err := sc[0].DecodeMap(r.KeyBytes)
		if err != nil {
			t.Fatal(err)
		}
		if len(key) != 2 || sc[0].Fields()[0].Name != "user_id" || sc[0].Fields()[1].Name != "buyer" {
			t.Fatalf("key schema fields %v, want [user_id buyer]", sc[0].Fields())
		}
		u := 0
		fmt.Sscan(key["user_id"].(string), &u)
		wantTs := q
		if u == 2 {
			wantTs = now
		}
		if r.TsMillis != wantTs {
			t.Errorf("user %d: ts %d, want %d", u, r.TsMillis, wantTs)
		}
		val, err := sc[1].DecodeMap(r.ValueBytes)
		if err != nil {
			t.Fatal(err)
		}
		// base ∪ derived: the underived features from training_set.v2, then city and uid.
		want := map[string]any{}
		for _, fl := range sc[1].Fields() {
			want[fl.Name] = nil
		}
		for k, v := range base[u].Values {
			if !strings.HasSuffix(k, "_exception") {
				want[k] = v
			}
		}
		for k, v := range resp[u].Values {
			if !strings.HasSuffix(k, "_exception") {
				want[k] = v
			}
		}
		if len(want) != len(sc[1].Fields()) {
			t.Errorf("user %d: response has fields outside the value schema: %v", u, want)
		}
		jsonEq(t, fmt.Sprintf("user %d logged value", u), val, want)
		if u == 3 && key["buyer"] != nil {
			t.Errorf("missing key logged as %v", key["buyer"])
		}
	}
}

func TestFetchLoggingSampling(t *testing.T) {
	fx := newFetchFixture(t, 40, 12)
	addJoin(t, fx.store, "quickstart/training_set.v2", "quickstart/half.v1", fptr(50))
	addJoin(t, fx.store, "quickstart/training_set.v2", "quickstart/zero.v1", fptr(0))
	addJoin(t, fx.store, "quickstart/training_set.v2", "quickstart/unset.v1", nil)
	log := &kv.MemLog{}
	l := NewFetchLogger(log, FetchLoggerOptions{})
	f := NewFetcher(fx.store)
	f.SetLogger(l)
	q := fx.batchEnd + aggregate.HourMillis
	var reqs []Request
	for u := 0; u < 40; u++ {
		for _, n := range []string{"quickstart/half.v1", "quickstart/zero.v1", "quickstart/unset.v1"} {
			reqs = append(reqs, Request{Name: n, Keys: map[string]any{"user_id": fmt.Sprint(u), "buyer": "1"}, AtMillis: atMs(q)})
		}
	}
	fetchJoins(t, f, reqs...)
	closeLogger(t, l)
	all := scanLog(t, log)
	schemas := publishedSchemas(t, all, "quickstart.half.v1")
	var sc *AvroSchema
	for _, s := range schemas {
		sc = s[0]
	}
	logged := map[string]bool{}
	for _, r := range all {
		switch r.Name {
		case kv.SchemaPublishEvent:
		case "quickstart/half.v1":
			k, err := sc.DecodeMap(r.KeyBytes)
			if err != nil {
				t.Fatal(err)
			}
			logged[k["user_id"].(string)] = true
		default:
			t.Errorf("join %s logged, but its samplePercent is 0 or unset", r.Name)
		}
	}
	if len(schemas) != 1 {
		t.Fatalf("%d schema publications, want 1", len(schemas))
	}
	n := 0
	for u := 0; u < 40; u++ {
		kb, err := sc.EncodeKey([]any{fmt.Sprint(u), "1"})
		if err != nil {
			t.Fatal(err)
		}
		want := SampledForLogging(kb, 50)
		if logged[fmt.Sprint(u)] != want {
			t.Errorf("user %d: logged %v, want %v", u, logged[fmt.Sprint(u)], want)
		}
		if want {
			n++
		}
	}
	if n == 0 || n == 40 {
		t.Errorf("50%% sampling logged %d of 40 keys", n)
	}
}

// blockingLog holds every Append until release is closed.
type blockingLog struct {
	kv.MemLog
	release chan struct{}
}

func (b *blockingLog) Append(ctx context.Context, recs []kv.LogRecord) error {
	<-b.release
	return b.MemLog.Append(ctx, recs)
}

func TestFetchLoggingOverflow(t *testing.T) {
	fx := newFetchFixture(t, 10, 13)
	addJoin(t, fx.store, "quickstart/training_set.v2", "quickstart/logged.v1", fptr(100))
	log := &blockingLog{release: make(chan struct{})}
	l := NewFetchLogger(log, FetchLoggerOptions{BufferSize: 3})
	f := NewFetcher(fx.store)
	f.SetLogger(l)
	q := fx.batchEnd + aggregate.HourMillis
	var reqs []Request
	for u := 0; u < 10; u++ {
		reqs = append(reqs, Request{Name: "quickstart/logged.v1", Keys: map[string]any{"user_id": fmt.Sprint(u), "buyer": "1"}, AtMillis: atMs(q)})
	}
	done := make(chan []Response)
	go func() {
		resp, _ := f.FetchJoins(context.Background(), reqs)
		done <- resp
	}()
	select {
	case resp := <-done:
		if len(resp) != 10 || resp[9].Err != nil || len(resp[9].Values) == 0 {
			t.Fatalf("fetch with a full log buffer: %v", resp)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("a full log buffer blocked the fetch")
	}
	// 11 records (a schema and 10 fetches) against a stuck writer: at most one batch (BatchSize
	// defaults to BufferSize, 3) taken by the writer plus 3 buffered; the rest dropped.
	if d := l.Dropped(); d < 5 {
		t.Errorf("dropped %d, want >= 5", d)
	}
	close(log.release)
	closeLogger(t, l)
	got := int64(len(scanLog(t, &log.MemLog)))
	if got != l.Logged() || l.Logged()+l.Dropped() != 11 {
		t.Errorf("logged %d (scan %d) + dropped %d, want 11 in all", l.Logged(), got, l.Dropped())
	}
	l.Enqueue(kv.LogRecord{Name: "late"}) // after Close: dropped, no panic
	if l.Dropped()+l.Logged() != 12 {
		t.Errorf("a record after Close was not counted as dropped")
	}
}

// slowLog takes a while per Append, so Close has work left to flush.
type slowLog struct {
	kv.MemLog
	appends int
	mu      sync.Mutex
}

func (s *slowLog) Append(ctx context.Context, recs []kv.LogRecord) error {
	time.Sleep(20 * time.Millisecond)
	s.mu.Lock()
	s.appends++
	s.mu.Unlock()
	return s.MemLog.Append(ctx, recs)
}

func TestFetchLoggerCloseFlushes(t *testing.T) {
	log := &slowLog{}
	l := NewFetchLogger(log, FetchLoggerOptions{BatchSize: 10})
	for i := 0; i < 95; i++ {
		l.Enqueue(kv.LogRecord{Name: "n", TsMillis: int64(i)})
	}
	if err := l.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if l.Logged() != 95 {
		t.Fatalf("after Flush: logged %d of 95", l.Logged())
	}
	for i := 0; i < 50; i++ {
		l.Enqueue(kv.LogRecord{Name: "n", TsMillis: int64(100 + i)})
	}
	closeLogger(t, l)
	closeLogger(t, l) // idempotent
	recs := scanLog(t, &log.MemLog)
	if len(recs) != 145 || l.Logged() != 145 || l.Dropped() != 0 {
		t.Fatalf("after Close: %d records, logged %d, dropped %d; want 145", len(recs), l.Logged(), l.Dropped())
	}
	if log.appends >= 145 {
		t.Errorf("%d appends for 145 records: not batched", log.appends)
	}
	if err := l.Flush(context.Background()); err != nil {
		t.Errorf("Flush after Close: %v", err)
	}
}

type failingLog struct{ kv.MemLog }

func (*failingLog) Append(context.Context, []kv.LogRecord) error { return errors.New("disk on fire") }

func TestFetchLoggingAppendErrors(t *testing.T) {
	fx := newFetchFixture(t, 4, 14)
	addJoin(t, fx.store, "quickstart/training_set.v2", "quickstart/logged.v1", fptr(100))
	var mu sync.Mutex
	var errs []string
	l := NewFetchLogger(&failingLog{}, FetchLoggerOptions{OnError: func(err error) {
		mu.Lock()
		errs = append(errs, err.Error())
		mu.Unlock()
	}})
	f := NewFetcher(fx.store)
	f.SetLogger(l)
	resp := fetchJoins(t, f, Request{Name: "quickstart/logged.v1", Keys: map[string]any{"user_id": "1", "buyer": "2"}})
	if len(resp[0].Values) == 0 {
		t.Fatal("no values")
	}
	closeLogger(t, l)
	if l.Failed() != 2 || l.Logged() != 0 {
		t.Errorf("failed %d logged %d, want 2 and 0", l.Failed(), l.Logged())
	}
	if len(errs) == 0 || !strings.Contains(errs[0], "disk on fire") {
		t.Errorf("OnError got %v", errs)
	}
}

// TestFetchLoggingSchemaChange: a new upload of a part with another value schema rebuilds the
// codec and publishes the new schema; records name the schema they were written with.
func TestFetchLoggingSchemaChange(t *testing.T) {
	fx := newFetchFixture(t, 3, 15)
	addJoin(t, fx.store, "quickstart/training_set.v2", "quickstart/logged.v1", fptr(100))
	log := &kv.MemLog{}
	l := NewFetchLogger(log, FetchLoggerOptions{})
	f := NewFetcher(fx.store)
	f.SetLogger(l)
	keys := map[string]any{"user_id": "1", "buyer": "2"}
	fetchJoins(t, f, Request{Name: "quickstart/logged.v1", Keys: keys})
	fetchJoins(t, f, Request{Name: "quickstart/logged.v1", Keys: keys})

	gb := testGroupBy("quickstart.users.v1", api.Accuracy_SNAPSHOT, nil, "user_id")
	si, err := BuildServingInfo(gb, types.Schema{{Name: "user_id", Type: types.StringType},
		{Name: "zip", Type: types.LongType}}, "2023-12-01", nil)
	if err != nil {
		t.Fatal(err)
	}
	key, _ := si.Key.EncodeKeyMap(map[string]any{"user_id": "1"})
	v, _ := si.Selected.Encode([]any{int64(94107)})
	bulk(t, fx.store, "QUICKSTART_USERS_V1_BATCH", si, []kv.Row{{Key: key, Value: v, TsMillis: si.BatchEndTsMillis}})
	fetchJoins(t, f, Request{Name: "quickstart/logged.v1", Keys: keys})
	closeLogger(t, l)

	all := scanLog(t, log)
	schemas := publishedSchemas(t, all, "quickstart.logged.v1")
	if len(schemas) != 2 || len(all) != 5 {
		t.Fatalf("want 2 schema publications and 3 fetch records, got %d schemas in %d records", len(schemas), len(all))
	}
	var zips []any
	for _, r := range scanLog(t, log, "quickstart/logged.v1") {
		m, err := schemas[r.SchemaHash][1].DecodeMap(r.ValueBytes)
		if err != nil {
			t.Fatal(err)
		}
		if z, ok := m["quickstart_users_v1_zip"]; ok {
			zips = append(zips, z)
		}
	}
	if fmt.Sprint(zips) != "[94107]" {
		t.Errorf("zip logged %v, want once 94107", zips)
	}
}

// TestFetchLoggingConcurrent shares a logging Fetcher between goroutines (run with -race).
func TestFetchLoggingConcurrent(t *testing.T) {
	fx := newFetchFixture(t, 8, 16)
	addJoin(t, fx.store, "quickstart/derived.v1", "quickstart/logged.v1", fptr(100))
	log := &kv.MemLog{}
	l := NewFetchLogger(log, FetchLoggerOptions{BatchSize: 7})
	f := NewFetcher(fx.store)
	f.SetLogger(l)
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 10; i++ {
				u := fmt.Sprint((g + i) % 8)
				fetchJoins(t, f, Request{Name: "quickstart/logged.v1", Keys: map[string]any{"user_id": u, "buyer": u}})
			}
		}(g)
	}
	wg.Wait()
	closeLogger(t, l)
	recs := scanLog(t, log, "quickstart/logged.v1")
	var names []string
	for _, r := range scanLog(t, log, kv.SchemaPublishEvent) {
		names = append(names, string(r.KeyBytes))
	}
	sort.Strings(names)
	if len(recs) != 40 || len(names) != 1 || l.Failed() != 0 {
		t.Errorf("%d fetch records (want 40), schema publications %v (want 1), failed %d", len(recs), names, l.Failed())
	}
}

// BenchmarkFetchJoinLogged is BenchmarkFetchJoin with every fetch logged (samplePercent 100) to
// an embedded segment log: the fetch path's added cost is encoding and a non-blocking enqueue.
func BenchmarkFetchJoinLogged(b *testing.B) {
	fx := newFetchFixture(b, 200, 9)
	sp := 100.0
	resp, err := fx.store.MultiGet(context.Background(), []kv.GetRequest{{Dataset: MetadataDataset, Key: []byte("joins/quickstart/training_set.v2")}})
	if err != nil {
		b.Fatal(err)
	}
	v, _ := resp[0].Latest()
	j := api.NewJoin()
	if _, err := conf.Unmarshal(v.Bytes, j); err != nil {
		b.Fatal(err)
	}
	j.MetaData.SamplePercent = &sp
	jb, _ := conf.MarshalCompact(j, nil)
	if err := fx.store.MultiPut(context.Background(), []kv.PutRequest{{Dataset: MetadataDataset, Key: []byte("joins/quickstart/training_set.v2"), Value: jb, TsMillis: 2}}); err != nil {
		b.Fatal(err)
	}
	log, err := kv.OpenLog(context.Background(), b.TempDir()+"/kv", kv.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer log.Close()
	l := NewFetchLogger(log, FetchLoggerOptions{})
	f := NewFetcher(fx.store)
	f.SetLogger(l)
	benchJoinFetches(b, fx, f)
	l.Close()
	b.ReportMetric(float64(l.Logged()), "logged")
	b.ReportMetric(float64(l.Dropped()), "dropped")
}
