package aggregate

// slider keeps, for one windowed part, the merge of the tail-size hops inside the window as queries
// advance (queries are ascending, so both window ends only move right). It is the "two stacks"
// sliding-window scheme: hops [lo, m) are covered by suffix merges built at the last rebuild, hops
// [m, hi) by one running merge (back). A window costs O(1) merges amortized instead of one merge per
// hop. Merge order is preserved (earlier hops first), so timed-op ties resolve as in a plain scan.
type slider struct {
	lo, m, hi int
	sbase     int
	suffix    []State // suffix[i-sbase] = merge(hops[i..m))
	back      State   // merge(hops[m..hi))
	pool      []State // emptied resettable states for reuse
}

func (sl *slider) reset() {
	for _, st := range sl.suffix {
		sl.release(st)
	}
	sl.release(sl.back)
	sl.suffix, sl.back = sl.suffix[:0], nil
	sl.lo, sl.m, sl.hi, sl.sbase = 0, 0, 0, 0
}

// copyOf returns an owned copy of src (nil stays nil), reusing a pooled state when possible.
func (sl *slider) copyOf(src State) State {
	if src == nil {
		return nil
	}
	if n := len(sl.pool); n > 0 {
		st := sl.pool[n-1]
		sl.pool = sl.pool[:n-1]
		st.(resettable).reset()
		st.merge(src)
		return st
	}
	return src.clone()
}

func (sl *slider) release(st State) {
	if _, ok := st.(resettable); ok {
		sl.pool = append(sl.pool, st)
	}
}

func (sl *slider) add(dst *State, src State) {
	if src == nil {
		return
	}
	if *dst == nil {
		*dst = sl.copyOf(src)
		return
	}
	(*dst).merge(src)
}

// advance moves the window to hop indexes [lo, hi) of hs (base b) and returns the front (earlier) and
// back (later) merges covering it; either may be nil. Neither may be mutated by the caller.
func (sl *slider) advance(hs []hop, b, lo, hi int) (front, back State) {
	if lo >= sl.hi {
		// no overlap with the previous window (sparse queries): a plain merge into back, which is
		// all a lone query needs; suffixes are only built once windows start to overlap
		for _, st := range sl.suffix {
			sl.release(st)
		}
		sl.release(sl.back)
		sl.suffix, sl.back = sl.suffix[:0], nil
		for i := lo; i < hi; i++ {
			sl.add(&sl.back, hs[i].irs[b])
		}
		sl.lo, sl.m, sl.hi, sl.sbase = lo, lo, hi, lo
		return nil, sl.back
	}
	if lo >= sl.m {
		// front exhausted: rebuild suffix merges over the whole new window
		for _, st := range sl.suffix {
			sl.release(st)
		}
		sl.release(sl.back)
		sl.back = nil
		n := hi - lo
		if cap(sl.suffix) < n {
			sl.suffix = make([]State, n)
		}
		sl.suffix = sl.suffix[:n]
		var next State
		for i := hi - 1; i >= lo; i-- {
			st := sl.copyOf(hs[i].irs[b])
			if next != nil {
				if st == nil {
					st = sl.copyOf(next)
				} else {
					st.merge(next)
				}
			}
			sl.suffix[i-lo] = st
			next = st
		}
		sl.sbase, sl.m = lo, hi
	} else {
		for i := max(sl.hi, sl.m); i < hi; i++ {
			sl.add(&sl.back, hs[i].irs[b])
		}
	}
	sl.lo, sl.hi = lo, hi
	if lo < sl.m {
		front = sl.suffix[lo-sl.sbase]
	}
	return front, sl.back
}
