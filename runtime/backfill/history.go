package backfill

import (
	"fmt"
	"math"
	"runtime"
	"slices"

	"github.com/chronon-go/chronon/runtime/aggregate"
	"github.com/chronon-go/chronon/runtime/types"
	"github.com/chronon-go/chronon/runtime/warehouse"
)

// Bounded memory for unwindowed aggregations (issue 4, scope 6). An unwindowed part (e.g. the
// quickstart's LAST_K over all purchases) needs every event since the source's start partition, so
// scanning them all would make memory grow with total history. Instead, events older than every
// window start and query of a chunk are streamed a few partitions at a time and folded into one
// IR per key for the unwindowed parts (aggregate.Sawtooth.Fold); only younger events stay as rows.
// Memory then grows with keys, plus the events of the windows being computed.

// noFold disables folding (scanAll's foldBefore).
const noFold = math.MinInt64

// foldPartitions is how many partitions are read at once while folding history: fewer, larger
// reads mean fewer history lookups and state visits per key, at a bounded memory cost.
const foldPartitions = 30

// history is what folding keeps of old events.
type history struct {
	ids    map[string]int32
	keys   *types.Batch        // key columns, one row per key in ids order (GroupBy backfills output them)
	priors [][]aggregate.State // per key: per aggregation base, the folded IR (nil: nothing folded)
}

func (h *history) prior(key string) []aggregate.State {
	if h == nil {
		return nil
	}
	if id, ok := h.ids[key]; ok {
		return h.priors[id]
	}
	return nil
}

// canFold tells whether scans of this GroupBy may fold old events: aggregations over plain event
// sources with at least one unwindowed part (otherwise the scan range is bounded by the windows).
func (p *gbPlan) canFold() bool {
	if p.gb.Aggregations == nil || p.entities || p.maxWindow >= 0 {
		return false
	}
	for _, s := range p.gb.Sources {
		if s.Events == nil || s.Events.GetIsCumulative() {
			return false
		}
	}
	return true
}

// foldCutoff is the earliest start, over the chunk's queries, of any window of the GroupBy:
// events before it only matter to the unwindowed parts. Window starts are floored to their tail hop,
// at most a day, so flooring to the day is safe.
func (p *gbPlan) foldCutoff(minQuery int64) int64 {
	cut := minQuery
	for _, part := range aggregate.ExpandParts(p.gb.Aggregations) {
		if !aggregate.Unbounded(part.Window) {
			cut = min(cut, aggregate.Floor(minQuery-aggregate.WindowMillis(part.Window), dayMillis))
		}
	}
	return aggregate.Floor(cut, dayMillis) - dayMillis // a day of margin for ts/ds skew
}

// scanFolding scans one event source over [start, end], folding rows with ts < cut into h and
// returning the others in scan order. Partitions before day(cut) are read foldPartitions at a time.
func (p *gbPlan) scanFolding(w *warehouse.Warehouse, sq sourceQuery, cut int64, h **history) (*scanned, error) {
	table, _, err := sourceTable(sq.src)
	if err != nil {
		return nil, err
	}
	t, err := w.Table(table)
	if err != nil {
		return nil, err
	}
	days, err := t.PartitionDates()
	if err != nil {
		return nil, err
	}
	foldDay := dayOf(cut)
	var old []string
	for _, d := range days {
		if (sq.start == "" || d >= sq.start) && (sq.end == "" || d <= sq.end) && d < foldDay {
			old = append(old, d)
		}
	}
	var kept []*types.Batch
	fold := func(s *scanned) error {
		b := s.batch
		if *h == nil {
			nh, err := p.newHistory(b.Schema)
			if err != nil {
				return err
			}
			*h = nh
		}
		keep, err := (*h).fold(p, b, cut)
		if err != nil {
			return err
		}
		if len(keep) > 0 {
			kept = append(kept, takeBatch(b, keep))
		}
		return nil
	}
	for i := 0; i < len(old); i += foldPartitions {
		chunk := old[i:min(i+foldPartitions, len(old))]
		q := sq
		q.start, q.end = chunk[0], chunk[len(chunk)-1]
		q.hashKey = false // folding looks keys up by value
		s, err := scan(w, q)
		if err != nil {
			return nil, err
		}
		if err := fold(s); err != nil {
			return nil, err
		}
	}
	q := sq
	if len(old) > 0 {
		q.start = addDays(old[len(old)-1], 1)
	}
	recent, err := scan(w, q)
	if err != nil {
		return nil, err
	}
	if len(kept) == 0 {
		return recent, nil
	}
	// Old rows that were not folded (ts at or after the cutoff) keep their place before the recent
	// partitions' rows: scan order decides ties (spec §15.2).
	if kh := recent.keys; kh != nil {
		// The recent rows' key came as hashes: hash the kept rows' keys alike and drop their column.
		kb := types.Concat(kept[0].Schema, kept)
		kh.prepend([]*types.Column{kb.Col(sq.keys[0])}, kb.Len())
		i := kb.Schema.Index(sq.keys[0])
		kb = &types.Batch{Schema: slices.Delete(slices.Clone(kb.Schema), i, i+1), Cols: slices.Delete(slices.Clone(kb.Cols), i, i+1)}
		kept = []*types.Batch{kb}
	}
	recent.batch = types.Concat(recent.batch.Schema, append(kept, recent.batch))
	return recent, nil
}

func (p *gbPlan) newHistory(schema types.Schema) (*history, error) {
	h := &history{ids: map[string]int32{}, keys: &types.Batch{}}
	for _, k := range p.keys {
		i := schema.Index(k)
		if i < 0 {
			return nil, fmt.Errorf("GroupBy %s: key column %s is not selected", p.name, k)
		}
		h.keys.Schema = append(h.keys.Schema, schema[i])
		h.keys.Cols = append(h.keys.Cols, types.NewColumn(schema[i].Type, 0))
	}
	return h, nil
}

// fold folds b's rows with ts before cut and returns the indices of the rows it did not fold. Rows
// are grouped by key first (one history lookup per key, not per row), then keys are folded in
// parallel, each in scan order.
func (h *history) fold(p *gbPlan, b *types.Batch, cut int64) ([]int32, error) {
	keyCols := make([]*types.Column, len(p.keys))
	for i, k := range p.keys {
		keyCols[i] = b.Col(k)
	}
	tsCol := b.Col("ts")
	tsOf := func(i int32) int64 {
		if tsCol == nil || tsCol.IsNull(int(i)) {
			return -1 << 62 // null time: before every query, like computer.run
		}
		return tsCol.Ints[i]
	}
	var keep []int32
	for i := 0; i < b.Len(); i++ {
		if tsOf(int32(i)) >= cut {
			keep = append(keep, int32(i))
		}
	}
	groups := newKeyGroups(hashKeyColumns(keyCols, b.Len()), nil) // rows with a null key are in no group: never queried
	ids := make([]int32, groups.count())
	var buf []byte
	for g := range ids {
		rows := groups.rows(int32(g))
		k, _ := keyOf(keyCols, int(rows[0]), &buf)
		id, seen := h.ids[k]
		if !seen {
			id = int32(len(h.priors))
			h.ids[k] = id
			h.priors = append(h.priors, nil)
			for j, c := range keyCols {
				h.keys.Cols[j].Append(c.Value(int(rows[0])))
			}
		}
		ids[g] = id
	}
	workers := runtime.GOMAXPROCS(0)
	err := onWorkers(workers, func(wi int) error {
		agg, err := aggregate.New(p.gb.Aggregations, b.Schema)
		if err != nil {
			return fmt.Errorf("GroupBy %s: %w", p.name, err)
		}
		// Fold ignores hops, but the windows must validate against the resolution.
		st, err := aggregate.NewSawtooth(agg, aggregate.ResolutionFor(p.accuracy))
		if err != nil {
			return fmt.Errorf("GroupBy %s: %w", p.name, err)
		}
		var rows []int32
		var times []int64
		for g := wi; g < len(ids); g += workers {
			// In time order (stable, so ties keep scan order) as computer.run feeds events:
			// LAST_K-like states then append instead of inserting.
			rows, times = rows[:0], times[:0]
			for _, r := range groups.rows(int32(g)) {
				if ts := tsOf(r); ts < cut {
					rows, times = append(rows, r), append(times, ts)
				}
			}
			sortByTs(rows, times)
			prior := h.priors[ids[g]]
			for i, r := range rows {
				prior = st.Fold(prior, b, int(r), times[i])
			}
			h.priors[ids[g]] = prior
		}
		return agg.Err()
	})
	if err != nil {
		return nil, err
	}
	return keep, nil
}
