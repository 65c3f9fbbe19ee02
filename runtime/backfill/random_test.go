package backfill

import (
	"context"
	"flag"
	"fmt"
	"math/rand"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/chronon-go/chronon/runtime/types"
	"github.com/chronon-go/chronon/runtime/warehouse"
	"github.com/chronon-go/chronon/thrift/api"
)

var seedFlag = flag.Int64("seed", 0, "seed for the randomized backfill test (0: time-based)")

// A brute-force reference of spec §3.4 and §4 for event joins: which partitions are scanned, which
// events each window admits at a left row's time, and SUM/COUNT/MAX/LAST_K over them. Partitions and
// event times disagree on purpose (as in the quickstart data), keys and values have nulls, and some
// events sit exactly at query times and hop edges.

type refEvent struct {
	key string // "" = null
	v   *int64
	ts  int64
	ds  string
}

type refLeft struct {
	key string
	ts  int64
	ds  string
}

func TestRandomizedJoinAgainstBruteForce(t *testing.T) {
	seed := *seedFlag
	if seed == 0 {
		seed = time.Now().UnixNano()
	}
	for iter := 0; iter < 6; iter++ {
		s := seed + int64(iter)
		t.Run(fmt.Sprint(s), func(t *testing.T) {
			defer func() {
				if t.Failed() {
					t.Logf("reproduce with: go test ./runtime/backfill -run TestRandomizedJoinAgainstBruteForce -seed %d", s)
				}
			}()
			randomJoinCase(t, rand.New(rand.NewSource(s)), iter%2 == 0)
		})
	}
}

func randomJoinCase(t *testing.T, r *rand.Rand, temporal bool) {
	w, err := warehouse.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	base := midMillis("2023-11-20")
	keys := []string{"a", "b", "c"}
	// Left rows over three days; the first queries coincide with event times and hop edges.
	var left []refLeft
	for i := 0; i < 40; i++ {
		ts := base + int64(r.Intn(3))*dayMillis + r.Int63n(dayMillis)
		if i%7 == 0 {
			ts = base + dayMillis + int64(r.Intn(24))*3600*1000 // on an hour edge
		}
		k := keys[r.Intn(len(keys))]
		if i%9 == 0 {
			k = "d"
		}
		left = append(left, refLeft{key: k, ts: ts, ds: dayOf(ts)})
	}
	var events []refEvent
	for i := 0; i < 300; i++ {
		ts := base - 6*dayMillis + r.Int63n(10*dayMillis)
		if i%11 == 0 {
			ts = left[r.Intn(len(left))].ts // exactly at a query time: excluded (end-exclusive)
		}
		if i%13 == 0 {
			ts = (ts / (3600 * 1000)) * 3600 * 1000 // on an hour edge
		}
		ds := dayOf(ts + int64(r.Intn(3)-1)*dayMillis) // partition ≠ day(ts) for a third of the rows
		k := keys[r.Intn(len(keys))]
		if r.Intn(20) == 0 {
			k = ""
		}
		if i%17 == 0 {
			// Key "d" has only old events: with an unwindowed part they are all folded into its
			// history (history.go), and its left rows are answered from that alone.
			k, ts = "d", base-6*dayMillis+r.Int63n(dayMillis)
			ds = dayOf(ts)
		}
		var v *int64
		if r.Intn(10) != 0 {
			x := int64(r.Intn(100))
			v = &x
		}
		events = append(events, refEvent{key: k, v: v, ts: ts, ds: ds})
	}
	// Distinct event times keep LAST_K free of ties (ties are covered by runtime/aggregate's tests).
	seen := map[int64]bool{}
	var uniq []refEvent
	for _, e := range events {
		if !seen[e.ts] {
			seen[e.ts] = true
			uniq = append(uniq, e)
		}
	}
	events = uniq
	writeEvents(t, w, events)
	writeLeft(t, w, left)

	windows := []*api.Window{{Length: 1, TimeUnit: api.TimeUnit_DAYS}, {Length: 3, TimeUnit: api.TimeUnit_DAYS}}
	if temporal {
		windows = append(windows, &api.Window{Length: 13, TimeUnit: api.TimeUnit_HOURS}, &api.Window{Length: 2, TimeUnit: api.TimeUnit_HOURS})
	}
	unbounded := r.Intn(2) == 0
	op := func(o api.Operation) *api.Operation { return &o }
	in := "v"
	aggs := []*api.Aggregation{
		{InputColumn: &in, Operation: op(api.Operation_SUM), ArgMap: map[string]string{}, Windows: windows},
		{InputColumn: &in, Operation: op(api.Operation_COUNT), ArgMap: map[string]string{}, Windows: windows},
		{InputColumn: &in, Operation: op(api.Operation_MAX), ArgMap: map[string]string{}, Windows: windows},
	}
	if unbounded {
		aggs = append(aggs, &api.Aggregation{InputColumn: &in, Operation: op(api.Operation_LAST_K), ArgMap: map[string]string{"k": "3"}})
	}
	gbName, ns, tc := "t.gb.v1", "out", "ts"
	src := &api.Source{Events: &api.EventSource{Table: strp("data.ev"), Query: &api.Query{Selects: map[string]string{"user_id": "user_id", "v": "v"}, TimeColumn: &tc}}}
	if temporal {
		src.Events.Topic = strp("topic")
	}
	gb := &api.GroupBy{MetaData: &api.MetaData{Name: &gbName}, Sources: []*api.Source{src}, KeyColumns: []string{"user_id"}, Aggregations: aggs}
	jn := "t.j.v1"
	j := &api.Join{
		MetaData:  &api.MetaData{Name: &jn, OutputNamespace: &ns},
		Left:      &api.Source{Events: &api.EventSource{Table: strp("data.left"), Query: &api.Query{Selects: map[string]string{"user_id": "user_id", "ts": "ts"}, TimeColumn: &tc}}},
		JoinParts: []*api.JoinPart{{GroupBy: gb}},
	}
	if err := RunJoin(context.Background(), w, j, nil, JoinOptions{EndDate: "2023-11-25"}); err != nil {
		t.Fatal(err)
	}
	out := readTable(t, w, "out.t_j_v1")
	if out.Len() != len(left) {
		t.Fatalf("%d output rows, want %d", out.Len(), len(left))
	}
	// Scanned partitions (spec §3.4).
	minDay, maxDay := left[0].ds, left[0].ds
	for _, l := range left {
		minDay, maxDay = min(minDay, l.ds), max(maxDay, l.ds)
	}
	S, E := minDay, maxDay
	if !temporal {
		S, E = addDays(minDay, -1), addDays(maxDay, -1)
	}
	maxW := int64(0)
	for _, w := range windows {
		maxW = max(maxW, winMillis(w))
	}
	scanStart := ""
	if !unbounded {
		scanStart = dayOf(midMillis(addDays(S, -1)) - maxW)
	}
	nOut := 0
	for _, e := range events {
		if e.ds > E {
			nOut++
		}
	}
	t.Logf("temporal=%v S=%s E=%s scanStart=%q events beyond E: %d of %d", temporal, S, E, scanStart, nOut, len(events))
	for i := 0; i < out.Len(); i++ {
		k, q := out.Col("user_id").Strs[i], out.Col("ts").Ints[i]
		if !temporal {
			q = midMillis(dayOf(q))
		}
		var evs []refEvent
		for _, e := range events {
			if e.key == k && e.ds <= E && (scanStart == "" || e.ds >= scanStart) {
				evs = append(evs, e)
			}
		}
		for _, wnd := range windows {
			W := winMillis(wnd)
			lo := q - W
			if temporal {
				h := tailHop(W)
				lo = floorDiv(q-W, h) * h
			}
			var in []refEvent
			for _, e := range evs {
				if e.ts >= lo && e.ts < q {
					in = append(in, e)
				}
			}
			suffix := fmt.Sprintf("_%d%s", wnd.Length, map[api.TimeUnit]string{api.TimeUnit_DAYS: "d", api.TimeUnit_HOURS: "h"}[wnd.TimeUnit])
			check(t, out, i, "t_gb_v1_v_sum"+suffix, refSum(in))
			check(t, out, i, "t_gb_v1_v_count"+suffix, refCount(in))
			check(t, out, i, "t_gb_v1_v_max"+suffix, refMax(in))
		}
		if unbounded {
			var in []refEvent
			for _, e := range evs {
				if e.ts < q {
					in = append(in, e)
				}
			}
			check(t, out, i, "t_gb_v1_v_last3", refLastK(in, 3))
		}
	}
}

func strp(s string) *string { return &s }

func winMillis(w *api.Window) int64 {
	if w.TimeUnit == api.TimeUnit_HOURS {
		return int64(w.Length) * 3600 * 1000
	}
	return int64(w.Length) * dayMillis
}

func tailHop(w int64) int64 {
	switch {
	case w >= 12*dayMillis:
		return dayMillis
	case w >= 12*3600*1000:
		return 3600 * 1000
	}
	return 5 * 60 * 1000
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

func refSum(es []refEvent) string {
	var s int64
	n := 0
	for _, e := range es {
		if e.v != nil {
			s += *e.v
			n++
		}
	}
	if n == 0 {
		return "null"
	}
	return fmt.Sprint(s)
}

func refCount(es []refEvent) string {
	n := 0
	for _, e := range es {
		if e.v != nil {
			n++
		}
	}
	if n == 0 {
		return "null" // an empty window is null, COUNT included (spec §5)
	}
	return fmt.Sprint(n)
}

func refMax(es []refEvent) string {
	var m *int64
	for _, e := range es {
		if e.v != nil && (m == nil || *e.v > *m) {
			m = e.v
		}
	}
	if m == nil {
		return "null"
	}
	return fmt.Sprint(*m)
}

func refLastK(es []refEvent, k int) string {
	var vs []refEvent
	for _, e := range es {
		if e.v != nil {
			vs = append(vs, e)
		}
	}
	if len(vs) == 0 {
		return "null"
	}
	sort.Slice(vs, func(a, b int) bool { return vs[a].ts > vs[b].ts })
	var parts []string
	for i := 0; i < len(vs) && i < k; i++ {
		parts = append(parts, fmt.Sprint(*vs[i].v))
	}
	return "[" + strings.Join(parts, " ") + "]"
}

func check(t *testing.T, b *types.Batch, row int, col, want string) {
	t.Helper()
	c := b.Col(col)
	if c == nil {
		t.Fatalf("no column %s in %v", col, b.Schema.Names())
	}
	if got := showValue(c.Value(row)); got != want {
		t.Errorf("row %d (user %s, ts %d) %s = %s, want %s", row, b.Col("user_id").Strs[row], b.Col("ts").Ints[row], col, got, want)
	}
}

func writeEvents(t *testing.T, w *warehouse.Warehouse, events []refEvent) {
	t.Helper()
	schema := types.Schema{{Name: "user_id", Type: types.StringType}, {Name: "v", Type: types.LongType}, {Name: "ts", Type: types.LongType}}
	tx, err := w.Begin("data.ev", warehouse.TableSpec{Schema: schema, PartitionColumns: []string{"ds"}})
	if err != nil {
		t.Fatal(err)
	}
	byDs := map[string]*types.Batch{}
	var days []string
	for _, e := range events {
		b := byDs[e.ds]
		if b == nil {
			b = types.NewBatch(schema, 0)
			byDs[e.ds] = b
			days = append(days, e.ds)
		}
		if e.key == "" {
			b.Cols[0].AppendNull()
		} else {
			b.Cols[0].Append(e.key)
		}
		if e.v == nil {
			b.Cols[1].AppendNull()
		} else {
			b.Cols[1].Append(*e.v)
		}
		b.Cols[2].Append(e.ts)
	}
	sort.Strings(days)
	for _, d := range days {
		if err := tx.Write([]string{d}, byDs[d]); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

func writeLeft(t *testing.T, w *warehouse.Warehouse, left []refLeft) {
	t.Helper()
	schema := types.Schema{{Name: "user_id", Type: types.StringType}, {Name: "ts", Type: types.LongType}}
	tx, err := w.Begin("data.left", warehouse.TableSpec{Schema: schema, PartitionColumns: []string{"ds"}})
	if err != nil {
		t.Fatal(err)
	}
	byDs := map[string]*types.Batch{}
	for _, l := range left {
		b := byDs[l.ds]
		if b == nil {
			b = types.NewBatch(schema, 0)
			byDs[l.ds] = b
		}
		b.Cols[0].Append(l.key)
		b.Cols[1].Append(l.ts)
	}
	for d, b := range byDs {
		if err := tx.Write([]string{d}, b); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}
