package aggregate

import (
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"

	"github.com/chronon-go/chronon/runtime/types"
	"github.com/chronon-go/chronon/thrift/api"
)

// TestDataDriven runs testdata/*.txt (format: testdata/README.md). Rewrite expectations with
// `go test ./runtime/aggregate -run TestDataDriven -rewrite`.
func TestDataDriven(t *testing.T) {
	files, err := filepath.Glob("testdata/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			var h ddHarness
			datadriven.RunTest(t, f, h.run)
		})
	}
}

type ddHarness struct {
	schema types.Schema
	batch  *types.Batch
	ts     []int64
	aggs   []*api.Aggregation
	agg    *Aggregator
	acc    api.Accuracy
}

func (h *ddHarness) run(t *testing.T, d *datadriven.TestData) string {
	out, err := h.dispatch(t, d)
	if err != nil {
		return "error: " + err.Error() + "\n"
	}
	return out
}

func (h *ddHarness) events() Events {
	rows, ts := SortEvents(h.ts)
	return Events{Batch: h.batch, Rows: rows, Ts: ts}
}

func (h *ddHarness) dispatch(t *testing.T, d *datadriven.TestData) (string, error) {
	switch d.Cmd {
	case "events":
		// first line: schema; then one event per line in scan order.
		lines := nonEmptyLines(d.Input)
		if len(lines) == 0 {
			return "", fmt.Errorf("events: need a schema line")
		}
		s, err := parseSchema(lines[0])
		if err != nil {
			return "", err
		}
		b, ts, err := parseEvents(s, lines[1:])
		if err != nil {
			return "", err
		}
		h.schema, h.batch, h.ts, h.agg = s, b, ts, nil
		return fmt.Sprintf("%d events\n", len(ts)), nil

	case "aggregate":
		// one aggregation per line; prints the output columns (spec §2.1).
		h.aggs = nil
		for _, l := range nonEmptyLines(d.Input) {
			a, err := parseAgg(l)
			if err != nil {
				return "", err
			}
			h.aggs = append(h.aggs, a)
		}
		h.acc = api.Accuracy_TEMPORAL
		if d.HasArg("accuracy") {
			var s string
			d.ScanArgs(t, "accuracy", &s)
			if s == "snapshot" {
				h.acc = api.Accuracy_SNAPSHOT
			}
		}
		a, err := New(h.aggs, h.schema)
		if err != nil {
			return "", err
		}
		if _, err := NewSawtooth(a, ResolutionFor(h.acc)); err != nil {
			return "", err
		}
		h.agg = a
		var sb strings.Builder
		for _, f := range a.OutputSchema() {
			fmt.Fprintf(&sb, "%s %s\n", f.Name, f.Type)
		}
		return sb.String(), nil

	case "query":
		// point-in-time values at each query time (spec §4.2; SNAPSHOT aggregates use daily hops).
		var qs []int64
		for _, l := range nonEmptyLines(d.Input) {
			q, err := parseTs(l)
			if err != nil {
				return "", err
			}
			qs = append(qs, q)
		}
		return h.compute(sortedCopy(qs), ResolutionFor(h.acc))

	case "snapshot":
		// SNAPSHOT values for partitions ds (spec §4.3): windows [mid(D+1)-W, mid(D+1)).
		var qs []int64
		for _, l := range nonEmptyLines(d.Input) {
			q, err := SnapshotEnd(l)
			if err != nil {
				return "", err
			}
			qs = append(qs, q)
		}
		return h.compute(sortedCopy(qs), Daily)

	case "online":
		// batch IR uploaded for batch_end (a yyyy-MM-dd partition end, i.e. mid(ds+1)) merged with
		// streaming events ts >= batch end at each query (spec §4.5); the IR is round-tripped through
		// its types value as the KV store would.
		var be string
		d.ScanArgs(t, "batch_end", &be)
		batchEnd, err := MidnightMillis(be)
		if err != nil {
			return "", err
		}
		o := NewOnline(h.agg)
		ev, stream := h.events(), h.events()
		if mi := h.schema.Index("mutation_ts"); mi >= 0 {
			// entity mutations: rows with a mutation_ts are the stream, the others the snapshot
			ev, stream = h.split(mi)
		}
		bir, err := o.FromValue(o.Value(o.BuildBatchIR(ev, batchEnd)))
		if err != nil {
			return "", err
		}
		var sb strings.Builder
		names := h.agg.OutputSchema().Names()
		for _, l := range nonEmptyLines(d.Input) {
			q, err := parseTs(l)
			if err != nil {
				return "", err
			}
			out := types.NewBatch(h.agg.OutputSchema(), 1)
			if err := o.Query(bir, batchEnd, stream, q, 0, out); err != nil {
				fmt.Fprintf(&sb, "at %s\n  %v\n", fmtTs(q), err)
				continue
			}
			sb.WriteString(fmtRows(names, []int64{q}, out))
		}
		return sb.String(), nil

	case "ir":
		// base IRs over all events, as serialized values; checks the value round trip.
		ev := h.events()
		ir := make([]State, h.agg.NumBases())
		for i := range ev.Ts {
			h.agg.Update(ir, ev.Batch, ev.row(i), ev.Ts[i])
		}
		var sb strings.Builder
		for i, f := range h.agg.BaseIRSchema() {
			v := h.agg.BaseIRValue(i, ir[i])
			back, err := h.agg.BaseIRFromValue(i, v)
			if err != nil {
				return "", err
			}
			if v2 := h.agg.BaseIRValue(i, back); !reflect.DeepEqual(v, v2) {
				return "", fmt.Errorf("IR %s does not round-trip: %s vs %s", f.Name, fmtValue(v), fmtValue(v2))
			}
			fmt.Fprintf(&sb, "%s %s = %s\n", f.Name, f.Type, fmtValue(v))
		}
		return sb.String(), h.agg.Err()
	}
	return "", fmt.Errorf("unknown command %q", d.Cmd)
}

// split separates snapshot rows (null mutation_ts) from mutation rows, each in ts order.
func (h *ddHarness) split(mi int) (snap, muts Events) {
	rows, ts := SortEvents(h.ts)
	snap.Batch, muts.Batch = h.batch, h.batch
	mc, bc := h.batch.Cols[mi], h.batch.Col("is_before")
	for i, r := range rows {
		if mc.IsNull(int(r)) {
			snap.Rows, snap.Ts = append(snap.Rows, r), append(snap.Ts, ts[i])
			continue
		}
		muts.Rows, muts.Ts = append(muts.Rows, r), append(muts.Ts, ts[i])
		muts.MutationTs = append(muts.MutationTs, mc.Ints[r])
		muts.IsBefore = append(muts.IsBefore, bc != nil && !bc.IsNull(int(r)) && bc.Bools[r])
	}
	return snap, muts
}

func (h *ddHarness) compute(qs []int64, res Resolution) (string, error) {
	if h.agg == nil {
		return "", fmt.Errorf("no aggregate")
	}
	st, err := NewSawtooth(h.agg, res)
	if err != nil {
		return "", err
	}
	out := types.NewBatch(h.agg.OutputSchema(), len(qs))
	if err := st.Compute(h.events(), qs, out); err != nil {
		return "", err
	}
	return fmtRows(h.agg.OutputSchema().Names(), qs, out), nil
}
