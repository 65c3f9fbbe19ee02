package aggregate

import (
	"fmt"
	"math"
	"slices"

	"github.com/chronon-go/chronon/runtime/types"
)

// Events are one key's input rows in time order: entry i is row Rows[i] of Batch (row i when Rows is
// nil) at event time Ts[i]. Ts must be ascending, and rows with equal ts must be in scan order
// (partition ds ascending, then row order): that order breaks FIRST/LAST ties (spec §15.2).
type Events struct {
	Batch *types.Batch
	Rows  []int32
	Ts    []int64
	// Entity mutations only (Online.Query): mutation time and is_before flag per entry.
	MutationTs []int64
	IsBefore   []bool
	// Prior, when not nil, holds per base the IR of events folded away before these (see
	// Sawtooth.Fold): earlier in time than every event and every window start, so it only feeds
	// the unwindowed parts. It is not modified.
	Prior []State
}

// span reports whether the events are the consecutive rows [lo, lo+len(Ts)) in order.
func (e Events) span() (lo int, ok bool) {
	if len(e.Rows) == 0 {
		return 0, true
	}
	first := e.Rows[0]
	for i, r := range e.Rows {
		if r != first+int32(i) {
			return 0, false
		}
	}
	return int(first), true
}

func (e Events) row(i int) int {
	if e.Rows == nil {
		return i
	}
	return int(e.Rows[i])
}

// SortEvents returns the row order for ts sorted ascending and the sorted times (ts itself when it is
// already sorted); the sort is stable so
// equal timestamps keep scan order. The same helper orders query times (map results back by rows).
func SortEvents(ts []int64) (rows []int32, sorted []int64) {
	rows = make([]int32, len(ts))
	for i := range rows {
		rows[i] = int32(i)
	}
	if slices.IsSorted(ts) {
		return rows, ts // already in order (common for time-partitioned sources)
	}
	slices.SortStableFunc(rows, func(a, b int32) int {
		switch {
		case ts[a] < ts[b]:
			return -1
		case ts[a] > ts[b]:
			return 1
		}
		return 0
	})
	sorted = make([]int64, len(ts))
	for i, r := range rows {
		sorted[i] = ts[r]
	}
	return rows, sorted
}

// Sawtooth computes point-in-time window values for many query times of one key (spec §4.2): for a
// window W with tail hop h the value at q aggregates events with floor(q-W, h) <= ts < q; unwindowed
// columns aggregate every ts < q. As in Chronon, events are rolled into hops (1d/1h/5min, or 1d for
// Daily); a query merges tail-size hops for [floor(q-W,h), floor(q,h)), smaller hops up to
// floor(q,5min), and raw events for the rest. The result equals the formula above. Only hops that
// some query reads are built; tail hops slide as queries advance (see slider), and the part below the
// tail hop is shared by all windows of an aggregation. A Sawtooth is not safe for concurrent use.
type Sawtooth struct {
	agg      *Aggregator
	res      Resolution
	win      []int64 // per part; 0 = unwindowed
	tailIdx  []int   // per part: index of its tail hop in sizes
	sizes    []int64 // hop sizes in use, largest first
	windowed []bool  // per base: feeds a windowed part
	cumul    []bool  // per base: feeds an unwindowed part

	// per hop size: largest window whose tail hop it is (0: none), and whether a larger tail uses it
	// as filler; they bound the ranges where hops are needed.
	maxTailW []int64
	filler   []bool

	// scratch reused across Compute calls
	arena   types.ListArena // LAST_K/FIRST_K results
	hops    [][]hop
	cum     []State
	needed  [][][2]int64
	scratch []State // per part: reusable accumulator (see resettable)
	sliders []slider
	cursors [][]int // per part: hop cursors (tail lo, tail hi)
	minTail []int   // per base: smallest tail hop index of its windowed parts, -1 if none

	// per base and hop size index j: the merge of [floor(q, size_j), q) for the current query
	heads       [][]State
	headScratch [][]State
	headCursors [][]int
	slab        []State // hop IR storage, allocated in chunks

	// directLimit: when events × queries is at most this, windows are aggregated straight from the
	// events instead of through hops (same windows, same results; cheaper for the many keys with a
	// handful of events). Tests set it to force either path.
	directLimit int

	// typed loops of the direct path (direct.go): per part its loop and K, per input column the
	// gathered values of the current key, and the columns to gather
	loops      []loopKind
	loopK      []int
	gath       []gathered
	gatherCols []int
	// the distinct (window length, tail hop index) pairs of windowed parts, each part's pair, and
	// the current query's first event per pair
	windows  [][2]int64
	windowOf []int
	windowLo []int
}

// defaultDirectLimit was chosen on the quickstart shape (about ten events per key): the direct path
// is faster there, and hops win once a key has hundreds of events or queries.
const defaultDirectLimit = 512

type hop struct {
	start int64
	irs   []State // per base
}

// NewSawtooth prepares window evaluation for agg at resolution res (Daily rejects HOURS windows).
func NewSawtooth(agg *Aggregator, res Resolution) (*Sawtooth, error) {
	if err := checkWindows(agg.parts, res); err != nil {
		return nil, err
	}
	s := &Sawtooth{agg: agg, res: res, windowed: make([]bool, len(agg.bases)), cumul: make([]bool, len(agg.bases)), directLimit: defaultDirectLimit}
	all := res.HopSizes()
	largest := len(all) // index of the largest tail hop in use
	for i, p := range agg.parts {
		w := p.Millis()
		s.win = append(s.win, w)
		if w == 0 {
			s.tailIdx = append(s.tailIdx, -1)
			s.cumul[agg.partBase[i]] = true
			continue
		}
		j := slices.Index(all, res.TailHop(w))
		s.tailIdx = append(s.tailIdx, j)
		largest = min(largest, j)
		s.windowed[agg.partBase[i]] = true
	}
	if largest < len(all) {
		s.sizes = all[largest:]
		for i := range s.tailIdx {
			if s.tailIdx[i] >= 0 {
				s.tailIdx[i] -= largest
			}
		}
	}
	s.hops = make([][]hop, len(s.sizes))
	s.needed = make([][][2]int64, len(s.sizes))
	s.maxTailW = make([]int64, len(s.sizes))
	s.filler = make([]bool, len(s.sizes))
	s.scratch = make([]State, len(agg.parts))
	s.sliders = make([]slider, len(agg.parts))
	s.cursors = make([][]int, len(agg.parts))
	for i := range s.cursors {
		s.cursors[i] = make([]int, 2)
	}
	nb := len(agg.bases)
	s.minTail = make([]int, nb)
	s.heads = make([][]State, nb)
	s.headScratch = make([][]State, nb)
	s.headCursors = make([][]int, nb)
	for b := range nb {
		s.minTail[b] = -1
		s.heads[b] = make([]State, len(s.sizes))
		s.headScratch[b] = make([]State, len(s.sizes))
		s.headCursors[b] = make([]int, len(s.sizes))
	}
	s.windowOf = make([]int, len(agg.parts))
	for p, w := range s.win {
		if w == 0 {
			continue
		}
		wt := [2]int64{w, int64(s.tailIdx[p])}
		k := slices.Index(s.windows, wt)
		if k < 0 {
			k = len(s.windows)
			s.windows = append(s.windows, wt)
		}
		s.windowOf[p] = k
	}
	s.windowLo = make([]int, len(s.windows))
	s.gath = make([]gathered, len(agg.schema))
	for i := range agg.parts {
		c := agg.bases[agg.partBase[i]]
		kind := loopFor(c, agg.schema[c.in].Type)
		s.loops = append(s.loops, kind)
		k := 0
		if tk, ok := c.k.(timedK); ok {
			k = tk.k
		}
		s.loopK = append(s.loopK, k)
		if kind != loopNone && !slices.Contains(s.gatherCols, c.in) {
			s.gatherCols = append(s.gatherCols, c.in)
		}
	}
	for i, ti := range s.tailIdx {
		if b := agg.partBase[i]; ti >= 0 && (s.minTail[b] < 0 || ti < s.minTail[b]) {
			s.minTail[b] = ti
		}
	}
	for i, ti := range s.tailIdx {
		if ti < 0 {
			continue
		}
		s.maxTailW[ti] = max(s.maxTailW[ti], s.win[i])
		for j := ti + 1; j < len(s.sizes); j++ {
			s.filler[j] = true
		}
	}
	return s, nil
}

// Fold adds the event at row of b (time ts) to prior, the per-base IRs of history that precedes
// every query and window of later Compute calls: only the bases of unwindowed parts keep it (a
// windowed part never sees such events). Folding old history this way bounds memory by keys
// instead of events. prior may be nil; the (possibly new) slice is returned. Events must be folded
// in ascending (ts, scan order) per key only where the operation cares (LAST/FIRST family and
// LAST_K/FIRST_K order by ts, then by fold order).
func (s *Sawtooth) Fold(prior []State, b *types.Batch, row int, ts int64) []State {
	if prior == nil {
		prior = make([]State, len(s.agg.bases))
	}
	for i, c := range s.agg.bases {
		if s.cumul[i] {
			c.update(&prior[i], b, row, ts)
		}
	}
	return prior
}

// FoldsAnything reports whether Fold keeps anything, i.e. some part is unwindowed.
func (s *Sawtooth) FoldsAnything() bool {
	for _, c := range s.cumul {
		if c {
			return true
		}
	}
	return false
}

// Aggregator returns the underlying aggregator.
func (s *Sawtooth) Aggregator() *Aggregator { return s.agg }

// Compute appends one output row per query time to out (a batch of Aggregator.OutputSchema()).
// queries must be ascending.
func (s *Sawtooth) Compute(ev Events, queries []int64, out *types.Batch) error {
	if !slices.IsSorted(queries) {
		return fmt.Errorf("aggregate: query times must be ascending")
	}
	if len(out.Cols) != len(s.agg.parts) {
		return fmt.Errorf("aggregate: output batch has %d columns, want %d", len(out.Cols), len(s.agg.parts))
	}
	if len(ev.Ts)*len(queries) <= s.directLimit {
		s.computeDirect(ev, queries, out)
		return s.agg.Err()
	}
	s.neededRanges(queries)
	s.buildHops(ev)
	nb := len(s.agg.bases)
	if s.cum == nil {
		s.cum = make([]State, nb)
	}
	clear(s.cum)
	for b, st := range ev.Prior {
		if st != nil && s.cumul[b] {
			s.cum[b] = st.clone()
		}
	}
	for i := range s.sliders {
		s.sliders[i].reset()
		clear(s.cursors[i])
	}
	for b := range s.headCursors {
		clear(s.headCursors[b])
	}
	ci := 0
	for _, q := range queries {
		for ; ci < len(ev.Ts) && ev.Ts[ci] < q; ci++ {
			r := ev.row(ci)
			for b, c := range s.agg.bases {
				if s.cumul[b] {
					c.update(&s.cum[b], ev.Batch, r, ev.Ts[ci])
				}
			}
		}
		for b, mt := range s.minTail {
			if mt >= 0 {
				s.computeHeads(ev, q, b, mt)
			}
		}
		for p := range s.agg.parts {
			b := s.agg.partBase[p]
			if s.win[p] == 0 {
				s.agg.appendFinal(out.Cols[p], p, s.cum[b], &s.arena)
				continue
			}
			acc := s.window(q, p, b)
			s.agg.appendFinal(out.Cols[p], p, acc, &s.arena)
		}
	}
	return s.agg.Err()
}

// computeDirect evaluates every query by aggregating the events of each window directly: the window
// of part p at q is [Floor(q-W, tail hop), q), unwindowed parts take every event before q.
func (s *Sawtooth) computeDirect(ev Events, queries []int64, out *types.Batch) {
	for _, in := range s.gatherCols {
		s.gath[in].gather(ev, ev.Batch.Cols[in])
	}
	for _, q := range queries {
		hi := firstAtOrAfter(ev.Ts, q)
		// Each distinct window starts at the same event for all its parts: search once.
		for k, wt := range s.windows {
			s.windowLo[k] = firstAtOrAfter(ev.Ts[:hi], Floor(q-wt[0], s.sizes[wt[1]]))
		}
		for p := range s.agg.parts {
			b := s.agg.partBase[p]
			lo := 0
			w := s.win[p]
			if w != 0 {
				lo = s.windowLo[s.windowOf[p]]
			}
			if kind := s.loops[p]; kind != loopNone && (w != 0 || b >= len(ev.Prior) || ev.Prior[b] == nil) {
				runLoop(kind, s.loopK[p], &s.gath[s.agg.bases[b].in], lo, hi, out.Cols[p], &s.arena)
				continue
			}
			// A fresh state each time: a reset one would look initialized even when every input in
			// the window is null, and such a window must finalize to null (spec §5).
			var acc State
			if w == 0 && b < len(ev.Prior) && ev.Prior[b] != nil {
				acc = ev.Prior[b].clone()
			}
			for i := lo; i < hi; i++ {
				s.agg.bases[b].update(&acc, ev.Batch, ev.row(i), ev.Ts[i])
			}
			s.agg.appendFinal(out.Cols[p], p, acc, &s.arena)
		}
	}
}

// window computes part p (base b) at q from hops and raw events.
func (s *Sawtooth) window(q int64, p, b int) State {
	ti := s.tailIdx[p]
	hs := s.hops[ti]
	cursors := s.cursors[p]
	lo := advanceTo(hs, Floor(q-s.win[p], s.sizes[ti]), &cursors[0])
	hi := max(lo, advanceTo(hs, Floor(q, s.sizes[ti]), &cursors[1]))
	front, back := s.sliders[p].advance(hs, b, lo, hi)
	var acc State
	s.mergeAcc(&acc, p, front)
	s.mergeAcc(&acc, p, back)
	s.mergeAcc(&acc, p, s.heads[b][ti])
	return acc
}

// computeHeads fills s.heads[b][j] = the merge of everything in [floor(q, size_j), q) for base b:
// smaller hops down to 5min, then raw events. Every window of b whose tail hop is size j shares it,
// so the filler work is done once per base and query instead of once per window.
func (s *Sawtooth) computeHeads(ev Events, q int64, b, minTail int) {
	last := len(s.sizes) - 1
	c := s.agg.bases[b]
	var raw State
	i, _ := slices.BinarySearch(ev.Ts, Floor(q, s.sizes[last]))
	for ; i < len(ev.Ts) && ev.Ts[i] < q; i++ {
		c.update(&raw, ev.Batch, ev.row(i), ev.Ts[i])
	}
	heads := s.heads[b]
	heads[last] = raw
	for j := last - 1; j >= minTail; j-- {
		var acc State
		hs := s.hops[j+1]
		end := Floor(q, s.sizes[j+1])
		scratch := &s.headScratch[b][j]
		for k := advanceTo(hs, Floor(q, s.sizes[j]), &s.headCursors[b][j]); k < len(hs) && hs[k].start < end; k++ {
			mergeInto(&acc, scratch, hs[k].irs[b])
		}
		mergeInto(&acc, scratch, heads[j+1])
		heads[j] = acc
	}
}

// advanceTo moves cursor *c to the first hop starting at or after t. Query times ascend, so every
// cursor only moves forward: hop lookups cost O(hops + queries) per key instead of a search each.
func advanceTo(hs []hop, t int64, c *int) int {
	k := *c
	for k < len(hs) && hs[k].start < t {
		k++
	}
	*c = k
	return k
}

// mergeAcc merges src into part p's accumulator (see mergeInto).
func (s *Sawtooth) mergeAcc(acc *State, p int, src State) { mergeInto(acc, &s.scratch[p], src) }

// mergeInto is Merge that, instead of cloning src into an empty *acc, reuses the state left in
// *scratch by the previous query when it can be reset. Accumulators are finalized (or consumed)
// before the next query reuses them.
func mergeInto(acc, scratch *State, src State) {
	if src == nil {
		return
	}
	if *acc == nil {
		if r, ok := (*scratch).(resettable); ok {
			r.reset()
			*acc = *scratch
			(*acc).merge(src)
			return
		}
		*acc = src.clone()
		*scratch = *acc
		return
	}
	(*acc).merge(src)
}

// neededRanges computes, per hop size, the time ranges whose hops some query will read: for size j,
// [min(floor(q - maxTailW_j, size_j), floor(q, size_{j-1}) if it fills a larger tail), floor(q, size_j)).
// Hops elsewhere are never built, which keeps sparse keys from paying for 5min and 1h hops.
func (s *Sawtooth) neededRanges(qs []int64) {
	for j, size := range s.sizes {
		iv := s.needed[j][:0]
		for _, q := range qs {
			lo := int64(math.MaxInt64)
			if s.maxTailW[j] > 0 {
				lo = Floor(q-s.maxTailW[j], size)
			}
			if s.filler[j] {
				lo = min(lo, Floor(q, s.sizes[j-1]))
			}
			hi := Floor(q, size)
			if lo >= hi {
				continue
			}
			if n := len(iv); n > 0 && lo <= iv[n-1][1] {
				iv[n-1][1] = max(iv[n-1][1], hi)
				continue
			}
			iv = append(iv, [2]int64{lo, hi})
		}
		s.needed[j] = iv
	}
}

// newIRs carves a base IR row out of a chunk, saving an allocation per hop.
func (s *Sawtooth) newIRs(nb int) []State {
	if cap(s.slab)-len(s.slab) < nb {
		s.slab = make([]State, 0, max(4096, nb))
	}
	n := len(s.slab)
	s.slab = s.slab[:n+nb]
	return s.slab[n : n+nb : n+nb]
}

// buildHops rolls events into hops of every size in use, for the bases that feed windowed parts.
func (s *Sawtooth) buildHops(ev Events) {
	nb := len(s.agg.bases)
	for j := range s.hops {
		s.hops[j] = s.hops[j][:0]
	}
	if len(s.sizes) == 0 {
		return
	}
	cursor := make([]int, len(s.sizes))
	for i, ts := range ev.Ts {
		r := ev.row(i)
		for j, h := range s.sizes {
			iv := s.needed[j]
			c := cursor[j]
			for c < len(iv) && iv[c][1] <= ts {
				c++
			}
			cursor[j] = c
			if c == len(iv) || ts < iv[c][0] {
				continue
			}
			start := Floor(ts, h)
			hs := s.hops[j]
			if len(hs) == 0 || hs[len(hs)-1].start != start {
				hs = append(hs, hop{start: start, irs: s.newIRs(nb)})
				s.hops[j] = hs
			}
			irs := hs[len(hs)-1].irs
			for b, c := range s.agg.bases {
				if s.windowed[b] {
					c.update(&irs[b], ev.Batch, r, ts)
				}
			}
		}
	}
}

// firstAtOrAfter is the index of the first of the ascending times ts at or after t (len(ts) if
// none): a scan for a handful of times (a key's events, the usual case), else a binary search.
func firstAtOrAfter(ts []int64, t int64) int {
	if len(ts) <= 16 {
		for i, x := range ts {
			if x >= t {
				return i
			}
		}
		return len(ts)
	}
	lo, hi := 0, len(ts)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if ts[m] < t {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}
