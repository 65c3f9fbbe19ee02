package kvtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/chronon-go/chronon/runtime/kv"
)

// LogOpener opens another handle on one log's storage, as a second process
// would; handles from one opener see each other's records.
type LogOpener func(t *testing.T) kv.Log

// RunLogConformance runs the kv.Log suite (spec §8.1–8.2). fresh returns an
// opener over new, empty storage; handles it opens are closed by the suite.
func RunLogConformance(t *testing.T, fresh func(t *testing.T) LogOpener) {
	tests := []struct {
		name string
		fn   func(t *testing.T, ctx context.Context, open LogOpener)
	}{
		{"EmptyScan", testLogEmpty},
		{"RoundTrip", testLogRoundTrip},
		{"NameFilter", testLogNames},
		{"SeveralWriters", testLogWriters},
		{"ConcurrentAppends", testLogConcurrent},
		{"DurableAcrossReopen", testLogReopen},
		{"LargeRecord", testLogLarge},
		{"ScanStopsOnError", testLogScanError},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			tc.fn(t, ctx, fresh(t))
		})
	}
}

func openLog(t *testing.T, open LogOpener) kv.Log {
	l := open(t)
	t.Cleanup(func() { l.Close() })
	return l
}

func scanAll(t *testing.T, ctx context.Context, l kv.Log, names ...string) []kv.LogRecord {
	t.Helper()
	var out []kv.LogRecord
	if err := l.Scan(ctx, names, func(r kv.LogRecord) error {
		out = append(out, r)
		return nil
	}); err != nil {
		t.Fatalf("Scan(%v): %v", names, err)
	}
	return out
}

// showLog renders records order-independently (Scan promises no order).
func showLog(recs []kv.LogRecord) string {
	s := make([]string, len(recs))
	for i, r := range recs {
		s[i] = fmt.Sprintf("%s|%x|%x|%d|%s|%d", r.Name, r.KeyBytes, r.ValueBytes, r.TsMillis, r.SchemaHash, r.WriteMillis)
	}
	sort.Strings(s)
	return fmt.Sprint(s)
}

func logRec(name string, i int) kv.LogRecord {
	return kv.LogRecord{
		Name:        name,
		KeyBytes:    []byte{0x02, byte(i), 0x00},
		ValueBytes:  []byte(fmt.Sprintf("value-%d", i)),
		TsMillis:    1_700_000_000_000 + int64(i),
		SchemaHash:  "aGFzaA==xy",
		WriteMillis: 1_700_000_000_500 + int64(i),
	}
}

func appendLog(t *testing.T, ctx context.Context, l kv.Log, recs ...kv.LogRecord) {
	t.Helper()
	if err := l.Append(ctx, recs); err != nil {
		t.Fatalf("Append: %v", err)
	}
}

func testLogEmpty(t *testing.T, ctx context.Context, open LogOpener) {
	l := openLog(t, open)
	if got := scanAll(t, ctx, l); len(got) != 0 {
		t.Fatalf("fresh log has records: %s", showLog(got))
	}
	appendLog(t, ctx, l) // an empty batch is fine
	if got := scanAll(t, ctx, l); len(got) != 0 {
		t.Fatalf("empty append made records: %s", showLog(got))
	}
}

func testLogRoundTrip(t *testing.T, ctx context.Context, open LogOpener) {
	l := openLog(t, open)
	want := []kv.LogRecord{
		logRec("quickstart/training_set.v2", 1),
		// A schema publication: text key and value, no schema hash.
		{Name: kv.SchemaPublishEvent, KeyBytes: []byte("abcdefghij"), ValueBytes: []byte(`{"join_name":"x"}`), TsMillis: 5, WriteMillis: 6},
		// Empty key and value bytes and a negative ts survive.
		{Name: "t/f.v", KeyBytes: []byte{}, ValueBytes: []byte{}, TsMillis: -1, SchemaHash: "h"},
	}
	appendLog(t, ctx, l, want...)
	got := scanAll(t, ctx, l)
	if showLog(got) != showLog(want) {
		t.Fatalf("scan:\n got %s\nwant %s", showLog(got), showLog(want))
	}
}

func testLogNames(t *testing.T, ctx context.Context, open LogOpener) {
	l := openLog(t, open)
	a, b, c := logRec("a/x.v1", 1), logRec("b/y.v1", 2), logRec(kv.SchemaPublishEvent, 3)
	appendLog(t, ctx, l, a, b, c)
	appendLog(t, ctx, l, logRec("a/x.v1", 4))
	for _, tc := range []struct {
		names []string
		want  []kv.LogRecord
	}{
		{[]string{"a/x.v1"}, []kv.LogRecord{a, logRec("a/x.v1", 4)}},
		{[]string{"b/y.v1", kv.SchemaPublishEvent}, []kv.LogRecord{b, c}},
		{[]string{"nobody"}, nil},
		{nil, []kv.LogRecord{a, b, c, logRec("a/x.v1", 4)}},
	} {
		if got := scanAll(t, ctx, l, tc.names...); showLog(got) != showLog(tc.want) {
			t.Errorf("Scan(%v):\n got %s\nwant %s", tc.names, showLog(got), showLog(tc.want))
		}
	}
}

// testLogWriters: two handles (two processes) append to the same log; a third
// sees both, including records appended after it was opened.
func testLogWriters(t *testing.T, ctx context.Context, open LogOpener) {
	w1, w2, r := openLog(t, open), openLog(t, open), openLog(t, open)
	appendLog(t, ctx, w1, logRec("n", 1))
	appendLog(t, ctx, w2, logRec("n", 2))
	appendLog(t, ctx, w1, logRec("n", 3))
	want := []kv.LogRecord{logRec("n", 1), logRec("n", 2), logRec("n", 3)}
	if got := scanAll(t, ctx, r); showLog(got) != showLog(want) {
		t.Fatalf("scan:\n got %s\nwant %s", showLog(got), showLog(want))
	}
}

func testLogConcurrent(t *testing.T, ctx context.Context, open LogOpener) {
	const writers, batches, per = 4, 5, 10
	handles := []kv.Log{openLog(t, open), openLog(t, open)}
	var wg sync.WaitGroup
	errs := make(chan error, writers*batches)
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			l := handles[w%len(handles)]
			for b := 0; b < batches; b++ {
				recs := make([]kv.LogRecord, per)
				for i := range recs {
					recs[i] = logRec(fmt.Sprintf("w%d", w), b*per+i)
				}
				if err := l.Append(ctx, recs); err != nil {
					errs <- err
					return
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("concurrent Append: %v", err)
	}
	got := scanAll(t, ctx, openLog(t, open))
	if len(got) != writers*batches*per {
		t.Fatalf("got %d records, want %d", len(got), writers*batches*per)
	}
	seen := map[string]bool{}
	for _, r := range got {
		k := fmt.Sprintf("%s/%x", r.Name, r.KeyBytes)
		if seen[k] {
			t.Fatalf("record %s scanned twice", k)
		}
		seen[k] = true
	}
}

func testLogReopen(t *testing.T, ctx context.Context, open LogOpener) {
	l := open(t)
	appendLog(t, ctx, l, logRec("n", 1), logRec("n", 2))
	if err := l.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	want := []kv.LogRecord{logRec("n", 1), logRec("n", 2)}
	if got := scanAll(t, ctx, openLog(t, open)); showLog(got) != showLog(want) {
		t.Fatalf("after reopen:\n got %s\nwant %s", showLog(got), showLog(want))
	}
}

func testLogLarge(t *testing.T, ctx context.Context, open LogOpener) {
	l := openLog(t, open)
	big := bytes.Repeat([]byte("0123456789abcdef"), 64<<10) // 1 MiB
	rec := kv.LogRecord{Name: "big", KeyBytes: []byte{1}, ValueBytes: big, TsMillis: 1, SchemaHash: "h", WriteMillis: 2}
	appendLog(t, ctx, l, rec)
	got := scanAll(t, ctx, l, "big")
	if len(got) != 1 || !bytes.Equal(got[0].ValueBytes, big) {
		t.Fatalf("large record did not round-trip (%d records)", len(got))
	}
}

func testLogScanError(t *testing.T, ctx context.Context, open LogOpener) {
	l := openLog(t, open)
	appendLog(t, ctx, l, logRec("n", 1), logRec("n", 2), logRec("n", 3))
	stop := errors.New("stop")
	calls := 0
	err := l.Scan(ctx, nil, func(kv.LogRecord) error {
		calls++
		return stop
	})
	if !errors.Is(err, stop) || calls != 1 {
		t.Fatalf("Scan returned %v after %d calls, want the callback's error after 1", err, calls)
	}
}
