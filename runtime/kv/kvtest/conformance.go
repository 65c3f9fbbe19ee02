// Package kvtest is the conformance suite every kv.Store implementation runs
// (spec §7.4), so the embedded and MongoDB stores cannot drift apart.
package kvtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"iter"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chronon-go/chronon/runtime/kv"
)

// Config adapts the suite to what a backend can do.
type Config struct {
	// NonAtomicSwap allows readers to miss some or all keys during a bulk
	// load's switch (FerretDB cannot rename over a collection, and a query
	// racing the drop ends early). Readers must still never see values of
	// two different loads in one MultiGet.
	NonAtomicSwap bool
	// SwapKeys is the dataset size in the concurrent bulk-load test
	// (default 200; keep small for slow test servers).
	SwapKeys int
	// Timeout bounds each subtest (default 60s).
	Timeout time.Duration
}

// RunConformance runs the suite; open returns a fresh, empty store and
// arranges its cleanup.
func RunConformance(t *testing.T, open func(t *testing.T) kv.Store, cfg Config) {
	if cfg.SwapKeys == 0 {
		cfg.SwapKeys = 200
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 60 * time.Second
	}
	tests := []struct {
		name string
		fn   func(t *testing.T, ctx context.Context, s kv.Store, cfg Config)
	}{
		{"PutGet", testPutGet},
		{"VersionsAndAfterTs", testVersions},
		{"SameTsReplaces", testSameTs},
		{"MultiGetAcrossDatasets", testAcrossDatasets},
		{"MissingKeys", testMissing},
		{"UnknownDataset", testUnknown},
		{"CreateIdempotent", testCreateIdempotent},
		{"BulkLoadReplaces", testBulkReplaces},
		{"BulkLoadFailureKeepsOld", testBulkFailure},
		{"BulkLoadAtomicForReaders", testBulkAtomic},
		{"LargeValues", testLarge},
		{"ConcurrentPuts", testConcurrentPuts},
		{"CanceledContext", testCanceled},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), cfg.Timeout)
			defer cancel()
			tc.fn(t, ctx, open(t), cfg)
		})
	}
}

func ts(v int64) *int64 { return &v }

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func get(t *testing.T, ctx context.Context, s kv.Store, reqs ...kv.GetRequest) []kv.GetResponse {
	t.Helper()
	out, err := s.MultiGet(ctx, reqs)
	must(t, err)
	if len(out) != len(reqs) {
		t.Fatalf("MultiGet returned %d responses for %d requests", len(out), len(reqs))
	}
	return out
}

// show renders versions as "value@ts ..." for readable failures.
func show(r kv.GetResponse) string {
	if r.Err != nil {
		return "error: " + r.Err.Error()
	}
	var b bytes.Buffer
	for i, v := range r.Values {
		if i > 0 {
			b.WriteByte(' ')
		}
		if len(v.Bytes) > 32 {
			fmt.Fprintf(&b, "<%d bytes>@%d", len(v.Bytes), v.TsMillis)
		} else {
			fmt.Fprintf(&b, "%s@%d", v.Bytes, v.TsMillis)
		}
	}
	return b.String()
}

func expect(t *testing.T, got kv.GetResponse, want string) {
	t.Helper()
	if s := show(got); s != want {
		t.Errorf("got %q, want %q", s, want)
	}
}

func put(dataset, key, value string, ts int64) kv.PutRequest {
	return kv.PutRequest{Dataset: dataset, Key: []byte(key), Value: []byte(value), TsMillis: ts}
}

func testPutGet(t *testing.T, ctx context.Context, s kv.Store, _ Config) {
	must(t, s.Create(ctx, "A_BATCH"))
	must(t, s.MultiPut(ctx, []kv.PutRequest{put("A_BATCH", "k1", "v1", 100), put("A_BATCH", "k2", "v2", 100)}))
	r := get(t, ctx, s, kv.GetRequest{Dataset: "A_BATCH", Key: []byte("k1")}, kv.GetRequest{Dataset: "A_BATCH", Key: []byte("k2")})
	expect(t, r[0], "v1@100")
	expect(t, r[1], "v2@100")
	if l, ok := r[0].Latest(); !ok || string(l.Bytes) != "v1" {
		t.Errorf("Latest = %v %v", l, ok)
	}
	// Binary keys with zero bytes and an empty value round-trip.
	key := []byte{0, 1, 0, 255}
	must(t, s.MultiPut(ctx, []kv.PutRequest{{Dataset: "A_BATCH", Key: key, Value: nil, TsMillis: 5}}))
	r = get(t, ctx, s, kv.GetRequest{Dataset: "A_BATCH", Key: key})
	if len(r[0].Values) != 1 || len(r[0].Values[0].Bytes) != 0 || r[0].Values[0].TsMillis != 5 {
		t.Errorf("binary key: got %s", show(r[0]))
	}
}

func testVersions(t *testing.T, ctx context.Context, s kv.Store, _ Config) {
	must(t, s.Create(ctx, "V_STREAMING"))
	// Out of ts order, including a negative ts, across two calls.
	must(t, s.MultiPut(ctx, []kv.PutRequest{put("V_STREAMING", "k", "c", 300), put("V_STREAMING", "k", "a", 100)}))
	must(t, s.MultiPut(ctx, []kv.PutRequest{put("V_STREAMING", "k", "b", 200), put("V_STREAMING", "k", "neg", -5)}))
	q := func(after *int64) kv.GetRequest {
		return kv.GetRequest{Dataset: "V_STREAMING", Key: []byte("k"), AfterTsMillis: after}
	}
	r := get(t, ctx, s, q(nil), q(ts(200)), q(ts(201)), q(ts(301)), q(ts(-10)))
	expect(t, r[0], "neg@-5 a@100 b@200 c@300")
	expect(t, r[1], "b@200 c@300")
	expect(t, r[2], "c@300")
	expect(t, r[3], "")
	expect(t, r[4], "neg@-5 a@100 b@200 c@300")
	if l, _ := r[0].Latest(); l.TsMillis != 300 {
		t.Errorf("Latest ts = %d", l.TsMillis)
	}
}

func testSameTs(t *testing.T, ctx context.Context, s kv.Store, _ Config) {
	must(t, s.Create(ctx, "S"))
	must(t, s.MultiPut(ctx, []kv.PutRequest{put("S", "k", "first", 10)}))
	must(t, s.MultiPut(ctx, []kv.PutRequest{put("S", "k", "second", 10), put("S", "k", "other", 11)}))
	expect(t, get(t, ctx, s, kv.GetRequest{Dataset: "S", Key: []byte("k")})[0], "second@10 other@11")
}

func testAcrossDatasets(t *testing.T, ctx context.Context, s kv.Store, _ Config) {
	must(t, s.Create(ctx, "X_BATCH"))
	must(t, s.Create(ctx, "X_STREAMING"))
	must(t, s.MultiPut(ctx, []kv.PutRequest{
		put("X_BATCH", "k", "batch", 1000), put("X_STREAMING", "k", "s1", 900), put("X_STREAMING", "k", "s2", 1100),
		put("X_BATCH", "j", "jb", 1000),
	}))
	r := get(t, ctx, s,
		kv.GetRequest{Dataset: "X_STREAMING", Key: []byte("k"), AfterTsMillis: ts(1000)},
		kv.GetRequest{Dataset: "X_BATCH", Key: []byte("k")},
		kv.GetRequest{Dataset: "X_BATCH", Key: []byte("j")},
		kv.GetRequest{Dataset: "X_STREAMING", Key: []byte("k")},
		kv.GetRequest{Dataset: "X_BATCH", Key: []byte("k")}, // duplicate request
		kv.GetRequest{Dataset: "X_STREAMING", Key: []byte("j")},
	)
	expect(t, r[0], "s2@1100")
	expect(t, r[1], "batch@1000")
	expect(t, r[2], "jb@1000")
	expect(t, r[3], "s1@900 s2@1100")
	expect(t, r[4], "batch@1000")
	expect(t, r[5], "")
	if r, err := s.MultiGet(ctx, nil); err != nil || len(r) != 0 {
		t.Errorf("empty MultiGet = %v, %v", r, err)
	}
}

func testMissing(t *testing.T, ctx context.Context, s kv.Store, _ Config) {
	must(t, s.Create(ctx, "M"))
	must(t, s.MultiPut(ctx, []kv.PutRequest{put("M", "ab", "v", 1), put("M", "b", "w", 1)}))
	// Neither a prefix nor an extension of a stored key matches it.
	r := get(t, ctx, s,
		kv.GetRequest{Dataset: "M", Key: []byte("a")},
		kv.GetRequest{Dataset: "M", Key: []byte("abc")},
		kv.GetRequest{Dataset: "M", Key: []byte("nope")},
		kv.GetRequest{Dataset: "M", Key: []byte("ab")},
	)
	for i := 0; i < 3; i++ {
		if r[i].Err != nil || len(r[i].Values) != 0 {
			t.Errorf("missing key %d: got %s, want no values and no error", i, show(r[i]))
		}
		if _, ok := r[i].Latest(); ok {
			t.Errorf("missing key %d: Latest ok", i)
		}
	}
	expect(t, r[3], "v@1")
}

func testUnknown(t *testing.T, ctx context.Context, s kv.Store, _ Config) {
	must(t, s.Create(ctx, "KNOWN"))
	must(t, s.MultiPut(ctx, []kv.PutRequest{put("KNOWN", "k", "v", 1)}))
	r := get(t, ctx, s, kv.GetRequest{Dataset: "NOPE_BATCH", Key: []byte("k")}, kv.GetRequest{Dataset: "KNOWN", Key: []byte("k")})
	if !errors.Is(r[0].Err, kv.ErrUnknownDataset) {
		t.Errorf("unknown dataset get: err = %v, want ErrUnknownDataset", r[0].Err)
	}
	expect(t, r[1], "v@1") // one bad dataset does not fail the others
	err := s.MultiPut(ctx, []kv.PutRequest{put("KNOWN", "k2", "v", 1), put("NOPE_BATCH", "k", "v", 1)})
	if !errors.Is(err, kv.ErrUnknownDataset) {
		t.Errorf("unknown dataset put: err = %v, want ErrUnknownDataset", err)
	}
	expect(t, get(t, ctx, s, kv.GetRequest{Dataset: "KNOWN", Key: []byte("k2")})[0], "")
	if err := s.Create(ctx, ""); err == nil {
		t.Error("Create(\"\") succeeded")
	}
}

func testCreateIdempotent(t *testing.T, ctx context.Context, s kv.Store, _ Config) {
	must(t, s.Create(ctx, "C"))
	must(t, s.MultiPut(ctx, []kv.PutRequest{put("C", "k", "v", 1)}))
	must(t, s.Create(ctx, "C"))
	expect(t, get(t, ctx, s, kv.GetRequest{Dataset: "C", Key: []byte("k")})[0], "v@1")
}

func rowsOf(prefix, value string, n int, ts int64) []kv.Row {
	rows := make([]kv.Row, n)
	for i := range rows {
		rows[i] = kv.Row{Key: []byte(fmt.Sprintf("%s%05d", prefix, i)), Value: []byte(value), TsMillis: ts}
	}
	return rows
}

func testBulkReplaces(t *testing.T, ctx context.Context, s kv.Store, _ Config) {
	// A load creates a missing dataset.
	must(t, s.BulkLoad(ctx, "B_BATCH", kv.Rows(rowsOf("old", "o", 30, 100))))
	must(t, s.MultiPut(ctx, []kv.PutRequest{put("B_BATCH", "put", "p", 50)}))
	expect(t, get(t, ctx, s, kv.GetRequest{Dataset: "B_BATCH", Key: []byte("old00007")})[0], "o@100")
	// A load replaces everything, puts included.
	rows := append(rowsOf("new", "n", 30, 200), kv.Row{Key: []byte("old00001"), Value: []byte("again"), TsMillis: 200})
	must(t, s.BulkLoad(ctx, "B_BATCH", kv.Rows(rows)))
	r := get(t, ctx, s,
		kv.GetRequest{Dataset: "B_BATCH", Key: []byte("old00007")},
		kv.GetRequest{Dataset: "B_BATCH", Key: []byte("put")},
		kv.GetRequest{Dataset: "B_BATCH", Key: []byte("new00029")},
		kv.GetRequest{Dataset: "B_BATCH", Key: []byte("old00001")},
	)
	expect(t, r[0], "")
	expect(t, r[1], "")
	expect(t, r[2], "n@200")
	expect(t, r[3], "again@200")
	// Puts after a load land in the new contents; an empty load empties.
	must(t, s.MultiPut(ctx, []kv.PutRequest{put("B_BATCH", "new00000", "later", 300)}))
	expect(t, get(t, ctx, s, kv.GetRequest{Dataset: "B_BATCH", Key: []byte("new00000")})[0], "n@200 later@300")
	must(t, s.BulkLoad(ctx, "B_BATCH", kv.Rows(nil)))
	r = get(t, ctx, s, kv.GetRequest{Dataset: "B_BATCH", Key: []byte("new00000")})
	expect(t, r[0], "")
}

func testBulkFailure(t *testing.T, ctx context.Context, s kv.Store, _ Config) {
	must(t, s.BulkLoad(ctx, "F", kv.Rows(rowsOf("k", "old", 10, 1))))
	boom := errors.New("source failed")
	var rows iter.Seq2[kv.Row, error] = func(yield func(kv.Row, error) bool) {
		for _, r := range rowsOf("k", "new", 5, 2) {
			if !yield(r, nil) {
				return
			}
		}
		yield(kv.Row{}, boom)
	}
	if err := s.BulkLoad(ctx, "F", rows); !errors.Is(err, boom) {
		t.Fatalf("BulkLoad with failing source: err = %v", err)
	}
	expect(t, get(t, ctx, s, kv.GetRequest{Dataset: "F", Key: []byte("k00003")})[0], "old@1")
	// The next load still works.
	must(t, s.BulkLoad(ctx, "F", kv.Rows(rowsOf("k", "new", 3, 2))))
	expect(t, get(t, ctx, s, kv.GetRequest{Dataset: "F", Key: []byte("k00003")})[0], "")
	expect(t, get(t, ctx, s, kv.GetRequest{Dataset: "F", Key: []byte("k00002")})[0], "new@2")
}

// testBulkAtomic reloads a dataset while readers fetch all its keys in one
// call: every answer must come wholly from one load.
func testBulkAtomic(t *testing.T, ctx context.Context, s kv.Store, cfg Config) {
	n := cfg.SwapKeys
	must(t, s.BulkLoad(ctx, "SWAP_BATCH", kv.Rows(rowsOf("k", "gen0", n, 1))))
	reqs := make([]kv.GetRequest, n)
	for i := range reqs {
		reqs[i] = kv.GetRequest{Dataset: "SWAP_BATCH", Key: []byte(fmt.Sprintf("k%05d", i))}
	}
	var stop atomic.Bool
	var reads, empties atomic.Int64
	var wg sync.WaitGroup
	errc := make(chan error, 4)
	for w := 0; w < 2; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				r, err := s.MultiGet(ctx, reqs)
				if err != nil {
					errc <- err
					return
				}
				seen := map[string]int{}
				for _, x := range r {
					switch {
					case x.Err != nil && cfg.NonAtomicSwap:
						// Without an atomic swap the collection is briefly absent: a server may report
						// it as unknown or fail the read outright (FerretDB: "no such table"). Both
						// count as keys missing, which NonAtomicSwap allows; mixed loads stay errors.
						seen[""]++
					case x.Err != nil:
						errc <- x.Err
						return
					case len(x.Values) == 0:
						seen[""]++
					default:
						seen[string(x.Values[len(x.Values)-1].Bytes)]++
					}
				}
				reads.Add(1)
				loads := len(seen)
				if seen[""] > 0 && cfg.NonAtomicSwap {
					loads-- // missing keys are allowed, values of two loads are not
				}
				if loads > 1 {
					errc <- fmt.Errorf("one MultiGet saw a mix of loads: %v", seen)
					return
				}
				if seen[""] > 0 {
					if !cfg.NonAtomicSwap {
						errc <- fmt.Errorf("a MultiGet saw keys missing during a reload: %v", seen)
						return
					}
					empties.Add(1)
				}
			}
		}()
	}
	for g := 1; g <= 3; g++ {
		if err := s.BulkLoad(ctx, "SWAP_BATCH", kv.Rows(rowsOf("k", fmt.Sprintf("gen%d", g), n, int64(g+1)))); err != nil {
			stop.Store(true)
			wg.Wait()
			t.Fatal(err)
		}
	}
	stop.Store(true)
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Error(err)
	}
	r := get(t, ctx, s, reqs[n-1])
	expect(t, r[0], "gen3@4")
	t.Logf("%d concurrent reads, %d saw keys missing", reads.Load(), empties.Load())
}

func testLarge(t *testing.T, ctx context.Context, s kv.Store, _ Config) {
	big := func(n int, seed byte) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(i*7) ^ seed
		}
		return b
	}
	v1, v2 := big(1<<20, 1), big(4<<20, 2)
	must(t, s.Create(ctx, "L"))
	must(t, s.MultiPut(ctx, []kv.PutRequest{{Dataset: "L", Key: []byte("k"), Value: v1, TsMillis: 1}}))
	must(t, s.BulkLoad(ctx, "L2", kv.Rows([]kv.Row{{Key: []byte("k"), Value: v2, TsMillis: 2}})))
	r := get(t, ctx, s, kv.GetRequest{Dataset: "L", Key: []byte("k")}, kv.GetRequest{Dataset: "L2", Key: []byte("k")})
	if len(r[0].Values) != 1 || !bytes.Equal(r[0].Values[0].Bytes, v1) {
		t.Errorf("1 MiB value: got %s", show(r[0]))
	}
	if len(r[1].Values) != 1 || !bytes.Equal(r[1].Values[0].Bytes, v2) {
		t.Errorf("4 MiB value: got %s", show(r[1]))
	}
}

func testConcurrentPuts(t *testing.T, ctx context.Context, s kv.Store, _ Config) {
	must(t, s.Create(ctx, "P"))
	const writers, each = 8, 20
	var wg sync.WaitGroup
	errc := make(chan error, writers)
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				// Own key per writer plus a shared key with distinct ts.
				err := s.MultiPut(ctx, []kv.PutRequest{
					put("P", fmt.Sprintf("w%d", w), fmt.Sprint(i), int64(i)),
					put("P", "shared", fmt.Sprintf("%d-%d", w, i), int64(w*each+i)),
				})
				if err != nil {
					errc <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}
	reqs := []kv.GetRequest{{Dataset: "P", Key: []byte("shared")}}
	for w := 0; w < writers; w++ {
		reqs = append(reqs, kv.GetRequest{Dataset: "P", Key: []byte(fmt.Sprintf("w%d", w))})
	}
	r := get(t, ctx, s, reqs...)
	if got := len(r[0].Values); got != writers*each {
		t.Errorf("shared key: %d versions, want %d", got, writers*each)
	}
	for i, v := range r[0].Values {
		if v.TsMillis != int64(i) {
			t.Fatalf("shared key: version %d has ts %d", i, v.TsMillis)
		}
	}
	for w := 1; w <= writers; w++ {
		if got := len(r[w].Values); got != each {
			t.Errorf("writer %d: %d versions, want %d", w-1, got, each)
		}
	}
}

func testCanceled(t *testing.T, ctx context.Context, s kv.Store, _ Config) {
	must(t, s.Create(ctx, "X"))
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := s.MultiGet(cctx, []kv.GetRequest{{Dataset: "X", Key: []byte("k")}}); err == nil {
		t.Error("MultiGet with a canceled context succeeded")
	}
	if err := s.MultiPut(cctx, []kv.PutRequest{put("X", "k", "v", 1)}); err == nil {
		t.Error("MultiPut with a canceled context succeeded")
	}
	if err := s.BulkLoad(cctx, "X", kv.Rows(rowsOf("k", "v", 3, 1))); err == nil {
		t.Error("BulkLoad with a canceled context succeeded")
	}
}
