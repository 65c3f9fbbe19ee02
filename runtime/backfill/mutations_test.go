package backfill

import (
	"context"
	"fmt"
	"math"
	"math/rand"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chronon-go/chronon/runtime/aggregate"
	"github.com/chronon-go/chronon/runtime/warehouse"
	"github.com/chronon-go/chronon/thrift/api"
	"github.com/chronon-go/chronon/thrift/conf"
)

// TestMutationsRandom joins random left rows with a random TEMPORAL entity GroupBy (snapshots plus
// mutations, with nulls, late and misplaced mutations, ties with query times, windows of every tail
// hop size) and compares every value with a brute-force evaluation of spec §4.4 written from the
// definition: snapshot partition day(q)-1 with ts < mid(day(q)) (windowed: ts > mid - W and
// ts >= floor(q - W, hop)), then the mutations of partition day(q) with mid <= mutation_ts < q in
// mutation_ts order (windowed: floor(q - W, hop) <= ts < q), is_before rows retracting from the
// deletable operations only. CHRONON_MUTATIONS_SEED=<n> replays one seed.
func TestMutationsRandom(t *testing.T) {
	seed := time.Now().UnixNano()
	iters := 40
	if s := os.Getenv("CHRONON_MUTATIONS_SEED"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		seed, iters = n, 1
	}
	if testing.Short() {
		iters = min(iters, 5)
	}
	for i := 0; i < iters; i++ {
		s := seed + int64(i)
		if !runMutationsCase(t, s) {
			t.Fatalf("failed with seed %d (replay: CHRONON_MUTATIONS_SEED=%d go test ./runtime/backfill -run TestMutationsRandom)", s, s)
		}
	}
}

// A row of the random tables; nil is NULL.
type mutRow struct {
	key            *string
	v, ts, mts, bf *int64 // bf: is_before as 0/1
	ds             string
	src            int // the GroupBy source whose tables hold the row
}

type leftRow struct {
	id  int64
	key *string
	ts  *int64
	ds  string
}

func runMutationsCase(t *testing.T, seed int64) (ok bool) {
	t.Helper()
	rng := rand.New(rand.NewSource(seed))
	ptr := func(v int64) *int64 { return &v }
	maybe := func(p float64, v int64) *int64 {
		if rng.Float64() < p {
			return nil
		}
		return ptr(v)
	}
	keys := []string{"a", "b", "c", "d"}
	key := func(pNull float64) *string {
		if rng.Float64() < pNull {
			return nil
		}
		k := keys[rng.Intn(len(keys))]
		return &k
	}
	const min5 = 5 * 60 * 1000
	// Times before x: often on hop boundaries (x is a midnight or itself aligned), sometimes at an
	// arbitrary millisecond.
	around := func(x, spread int64) int64 {
		d := rng.Int63n(spread)
		if a := []int64{1, min5, min5, 3600000, dayMillis}[rng.Intn(5)]; d >= a {
			d = d / a * a
		}
		return x - d
	}
	windows := []int64{2 * 3600000, 13 * 3600000, dayMillis, 3 * dayMillis, 13 * dayMillis}
	d0 := "2023-11-10"
	var snap, muts []mutRow
	for d := -2; d <= 3; d++ {
		ds := addDays(d0, d)
		end := midMillis(ds) + dayMillis
		for _, k := range keys {
			k := k
			for n := rng.Intn(4); n > 0; n-- {
				ts := around(end, 15*dayMillis)
				if rng.Intn(20) == 0 {
					ts = end + rng.Int63n(3600000) // a future ts: never taken from a snapshot
				}
				snap = append(snap, mutRow{key: &k, v: maybe(0.1, rng.Int63n(40)-10), ts: maybe(0.05, ts), ds: ds})
			}
		}
		if rng.Intn(3) == 0 {
			snap = append(snap, mutRow{v: ptr(1), ts: ptr(end - 1), ds: ds})
		}
	}
	for d := -1; d <= 3; d++ {
		ds := addDays(d0, d)
		mid := midMillis(ds)
		for n := rng.Intn(12); n > 0; n-- {
			mts := mid + rng.Int63n(dayMillis)
			if rng.Intn(2) == 0 {
				mts = mts / min5 * min5
			}
			switch rng.Intn(20) {
			case 0:
				mts = mid - 1 - rng.Int63n(3600000) // landed late: before the batch end
			case 1:
				mts = mid + dayMillis + rng.Int63n(3600000) // the next day's
			case 2:
				mts = mid - 1
			case 3:
				mts = mid
			}
			ts := around(mts, 10*dayMillis)
			if rng.Intn(3) == 0 {
				ts = around(mts, 4*3600000)
			}
			if rng.Intn(10) == 0 {
				ts = mts + rng.Int63n(6*3600000) // ts after its mutation time
			}
			k := key(0.05)
			r := mutRow{key: k, v: maybe(0.1, rng.Int63n(40)-10), ts: maybe(0.05, ts), mts: maybe(0.05, mts), ds: ds}
			if rng.Intn(3) == 0 { // an update: the old value out, the new one in, at the same time
				old := r
				old.v, old.bf = maybe(0.1, rng.Int63n(40)-10), ptr(1)
				muts = append(muts, old)
				r.bf = ptr(0)
			} else {
				r.bf = maybe(0.1, int64(rng.Intn(2)))
			}
			muts = append(muts, r)
		}
	}
	sources := 1 + rng.Intn(2)
	for i := range snap {
		snap[i].src = rng.Intn(sources)
	}
	for i := range muts {
		muts[i].src = rng.Intn(sources)
		if i > 0 && muts[i-1].bf != nil && *muts[i-1].bf == 1 && muts[i].mts == muts[i-1].mts {
			muts[i].src = muts[i-1].src
		}
	}
	var left []leftRow
	for d := 0; d <= 2; d++ {
		day := addDays(d0, d)
		mid := midMillis(day)
		for n, rows := 0, 2+rng.Intn(10); n < rows; n++ {
			q := mid + rng.Int63n(dayMillis)
			if rng.Intn(2) == 0 {
				q = q / min5 * min5
			}
			switch rng.Intn(6) {
			case 0: // exactly at a mutation time of that day
				for _, m := range muts {
					if m.ds == day && m.mts != nil && rng.Intn(3) == 0 {
						q = *m.mts
						break
					}
				}
			case 1: // exactly at the ts of a mutation of that day applied before it
				for _, m := range muts {
					if m.ds == day && m.mts != nil && m.ts != nil && *m.ts > *m.mts && dayOf(*m.ts) == day && rng.Intn(2) == 0 {
						q = *m.ts
						break
					}
				}
			case 2, 3: // a window starts exactly at the ts of a mutation or snapshot row of that day
				w := windows[rng.Intn(len(windows))]
				var qs []int64
				for _, r := range muts {
					if r.ds == day && r.ts != nil && r.mts != nil && *r.mts < *r.ts+w && dayOf(*r.ts+w) == day {
						qs = append(qs, *r.ts+w)
					}
				}
				for _, r := range snap {
					if r.ds == addDays(day, -1) && r.ts != nil && dayOf(*r.ts+w) == day {
						qs = append(qs, *r.ts+w)
					}
				}
				if len(qs) > 0 {
					q = qs[rng.Intn(len(qs))]
				}
			}
			// The first two rows of a day keep chunks (step 1) from having no ts at all.
			ds := day
			if n >= 2 && rng.Intn(4) == 0 {
				ds = addDays(day, 1) // left ds and day(ts) may differ
			}
			ts := ptr(q)
			if n >= 2 && ds == day && rng.Intn(20) == 0 {
				ts = nil
			}
			left = append(left, leftRow{id: int64(len(left)), key: key(0.05), ts: ts, ds: ds})
		}
	}

	// Aggregations: SUM, COUNT, AVERAGE (deletable), MAX, LAST (not) with random windows.
	winChoices := []string{`{"length": 2, "timeUnit": 0}`, `{"length": 13, "timeUnit": 0}`, `{"length": 1, "timeUnit": 1}`, `{"length": 3, "timeUnit": 1}`, `{"length": 13, "timeUnit": 1}`}
	var aggs []string
	for _, op := range []int{7, 6, 8, 1, 3} {
		var ws []string
		for _, w := range winChoices {
			if rng.Intn(3) == 0 {
				ws = append(ws, w)
			}
		}
		a := fmt.Sprintf(`{"inputColumn": "v", "operation": %d, "argMap": {}`, op)
		if len(ws) > 0 {
			a += `, "windows": [` + strings.Join(ws, ", ") + `]`
		}
		aggs = append(aggs, a+"}")
	}
	step := []int{1, 30}[rng.Intn(2)]
	var srcs []string
	for i := 0; i < sources; i++ {
		srcs = append(srcs, fmt.Sprintf(`{"entities": {"snapshotTable": "r.snap%d", "mutationTable": "r.mut%d", "mutationTopic": "m", "query": {"selects": {"user": "user", "v": "v"}, "timeColumn": "ts", "reversalColumn": "before = 1"}}}`, i, i))
	}
	joinConf := `{"metaData": {"name": "t.m.v1", "outputNamespace": "o"}, "left": {"events": {"table": "r.left", "query": {"selects": {"user": "user", "ts": "ts", "id": "id"}, "timeColumn": "ts"}}},
 "joinParts": [{"groupBy": {"metaData": {"name": "t.g.v1"}, "sources": [` + strings.Join(srcs, ", ") + `], "keyColumns": ["user"],
   "aggregations": [` + strings.Join(aggs, ", ") + `]}}]}`

	w, err := warehouse.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	str := func(p *string) string {
		if p == nil {
			return "null"
		}
		return *p
	}
	num := func(p *int64) string {
		if p == nil {
			return "null"
		}
		return strconv.FormatInt(*p, 10)
	}
	var sb strings.Builder
	for i := 0; i < sources; i++ {
		sb.Reset()
		sb.WriteString("user:string,v:long,ts:long,ds:string\n")
		for d := -2; d <= 3; d++ { // every partition exists (null keys are dropped)
			fmt.Fprintf(&sb, "null,1,%d,%s\n", midMillis(addDays(d0, d)), addDays(d0, d))
		}
		for _, r := range snap {
			if r.src == i {
				fmt.Fprintf(&sb, "%s,%s,%s,%s\n", str(r.key), num(r.v), num(r.ts), r.ds)
			}
		}
		if err := writeCSVTable(w, fmt.Sprintf("r.snap%d", i), sb.String()); err != nil {
			t.Fatal(err)
		}
		sb.Reset()
		sb.WriteString("user:string,v:long,ts:long,mutation_ts:long,before:long,ds:string\n")
		for _, r := range muts {
			if r.src == i {
				fmt.Fprintf(&sb, "%s,%s,%s,%s,%s,%s\n", str(r.key), num(r.v), num(r.ts), num(r.mts), num(r.bf), r.ds)
			}
		}
		if err := writeCSVTable(w, fmt.Sprintf("r.mut%d", i), sb.String()); err != nil {
			t.Fatal(err)
		}
	}
	sb.Reset()
	sb.WriteString("user:string,ts:long,id:long,ds:string\n")
	for _, r := range left {
		fmt.Fprintf(&sb, "%s,%s,%d,%s\n", str(r.key), num(r.ts), r.id, r.ds)
	}
	if err := writeCSVTable(w, "r.left", sb.String()); err != nil {
		t.Fatal(err)
	}
	var j api.Join
	o, err := conf.Unmarshal([]byte(joinConf), &j)
	if err != nil {
		t.Fatalf("seed %d: %v\n%s", seed, err, joinConf)
	}
	if err := RunJoin(context.Background(), w, &j, o, JoinOptions{EndDate: addDays(d0, 3), StepDays: step}); err != nil {
		t.Errorf("seed %d: %v", seed, err)
		return false
	}
	out := readTable(t, w, "o.t_m_v1")
	parts := aggregate.ExpandParts(j.JoinParts[0].GroupBy.Aggregations)
	idCol := out.Col("id")
	if out.Len() != len(left) {
		t.Errorf("seed %d: %d output rows, want %d", seed, out.Len(), len(left))
		return false
	}
	first := out.Schema.Index("id") + 1
	ok = true
	for i := 0; i < out.Len(); i++ {
		l := left[idCol.Ints[i]]
		for pi, p := range parts {
			got := out.Cols[first+pi].Value(i)
			want := bruteMutations(l, p, snap, muts)
			if !sameValue(got, want) {
				t.Errorf("seed %d: left row %d (key %s, ts %s, ds %s) column %s: got %v, want %v", seed, l.id, str(l.key), num(l.ts), l.ds, out.Schema[first+pi].Name, got, want)
				ok = false
			}
		}
	}
	if !ok {
		t.Logf("seed %d conf:\n%s", seed, joinConf)
	}
	return ok
}

func sameValue(got, want any) bool {
	if g, ok := got.(float64); ok {
		w, ok := want.(float64)
		return ok && math.Abs(g-w) <= 1e-9*math.Max(1, math.Abs(w))
	}
	return got == want
}

// bruteMutations evaluates one part for one left row from the definition (see TestMutationsRandom).
func bruteMutations(l leftRow, p aggregate.Part, snap, muts []mutRow) any {
	if l.key == nil || l.ts == nil {
		return nil
	}
	q := *l.ts
	day := dayOf(q)
	be := midMillis(day)
	prev := addDays(day, -1)
	w := p.Millis()
	start := int64(0)
	if w > 0 {
		start = aggregate.Floor(q-w, aggregate.FiveMinute.TailHop(w))
	}
	type ev struct {
		v       int64
		ts      int64
		retract bool
	}
	var evs []ev
	// Snapshot rows in ts order; ties in scan order: source order, then table order. A null ts sorts
	// first.
	var srows []mutRow
	for _, r := range bySource(snap) {
		if r.ds == prev && r.key != nil && *r.key == *l.key {
			srows = append(srows, r)
		}
	}
	tsOf := func(r mutRow) int64 {
		if r.ts == nil {
			return nullTs
		}
		return *r.ts
	}
	slices.SortStableFunc(srows, func(a, b mutRow) int { return cmpInt64(tsOf(a), tsOf(b)) })
	for _, r := range srows {
		ts := tsOf(r)
		if ts >= be || r.v == nil {
			continue
		}
		if w > 0 && (r.ts == nil || ts <= be-w || ts < start) {
			continue
		}
		evs = append(evs, ev{v: *r.v, ts: ts})
	}
	var mrows []mutRow
	for _, r := range bySource(muts) {
		if r.ds == day && r.key != nil && *r.key == *l.key && r.mts != nil && *r.mts >= be && *r.mts < q {
			mrows = append(mrows, r)
		}
	}
	slices.SortStableFunc(mrows, func(a, b mutRow) int { return cmpInt64(*a.mts, *b.mts) })
	for _, r := range mrows {
		ts := tsOf(r)
		if w > 0 && (r.ts == nil || ts < start || ts >= q) {
			continue
		}
		if r.v == nil {
			continue
		}
		evs = append(evs, ev{v: *r.v, ts: ts, retract: r.bf != nil && *r.bf == 1})
	}
	deletable := p.Operation == api.Operation_SUM || p.Operation == api.Operation_COUNT || p.Operation == api.Operation_AVERAGE
	init := false
	var sum, cnt int64
	var best *ev
	for i := range evs {
		e := &evs[i]
		if e.retract {
			if deletable {
				init = true
				sum -= e.v
				cnt--
			}
			continue
		}
		init = true
		sum += e.v
		cnt++
		switch p.Operation {
		case api.Operation_MAX:
			if best == nil || e.v > best.v {
				best = e
			}
		case api.Operation_LAST:
			if best == nil || e.ts >= best.ts { // ties: the later one wins (spec §15.2)
				best = e
			}
		}
	}
	if !init {
		return nil
	}
	switch p.Operation {
	case api.Operation_SUM:
		return sum
	case api.Operation_COUNT:
		return cnt
	case api.Operation_AVERAGE:
		a := float64(sum) / float64(cnt)
		if math.IsNaN(a) || math.IsInf(a, 0) {
			return nil
		}
		return a
	}
	if best == nil {
		return nil
	}
	return best.v
}

// bySource orders rows by source, stably (the scan order of a union of sources).
func bySource(rows []mutRow) []mutRow {
	out := slices.Clone(rows)
	slices.SortStableFunc(out, func(a, b mutRow) int { return a.src - b.src })
	return out
}
