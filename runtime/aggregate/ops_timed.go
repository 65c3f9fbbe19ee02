package aggregate

import (
	"math"

	"github.com/chronon-go/chronon/runtime/types"
)

// Timed ops (FIRST, LAST, FIRST_K, LAST_K) order inputs by event ts. Ties are deterministic (spec
// §15.2): among equal timestamps the input added later (scan order: partition ds ascending, then row
// order) counts as later, and in merge(o) the argument o counts as later than the receiver. Callers
// therefore feed rows of one key in scan order and merge partial IRs in scan order.

// payload keeps an input unboxed so LAST over a numeric column does not allocate per event.
type payload struct {
	i int64 // int family and booleans
	f float64
	s string
	a any // binary and containers
}

func (p payload) box(f family) any {
	switch f {
	case famInt:
		return p.i
	case famFloat:
		return p.f
	case famString:
		return p.s
	case famBool:
		return p.i != 0
	}
	return p.a
}

func unboxPayload(f family, v any) (payload, bool) {
	var p payload
	var ok bool
	switch f {
	case famInt:
		p.i, ok = v.(int64)
	case famFloat:
		p.f, ok = v.(float64)
	case famString:
		p.s, ok = v.(string)
	case famBool:
		var b bool
		b, ok = v.(bool)
		p.i = b2i(b)
	default:
		p.a, ok = v, v != nil
	}
	return p, ok
}

// chrononTypeName spells a type as Chronon's DataType.toString does (long, list_long, map_string_int,
// struct_Name); it names IR structs such as TimePair_long.
func chrononTypeName(t *types.Type) string {
	switch t.Kind {
	case types.Int:
		return "int"
	case types.Long:
		return "long"
	case types.Double:
		return "double"
	case types.Float:
		return "float"
	case types.Short:
		return "short"
	case types.Boolean:
		return "bool"
	case types.Byte:
		return "byte"
	case types.String:
		return "string"
	case types.Binary:
		return "binary"
	case types.List:
		return "list_" + chrononTypeName(t.Elem)
	case types.Map:
		return "map_" + chrononTypeName(t.Key) + "_" + chrononTypeName(t.Value)
	case types.Date:
		return "date"
	case types.Timestamp:
		return "timestamp"
	case types.Struct:
		return "struct_" + t.Name
	}
	return "unknown_type"
}

func timePairType(in *types.Type) *types.Type {
	return types.StructOf("TimePair_"+chrononTypeName(in),
		types.Field{Name: "epochMillis", Type: types.LongType},
		types.Field{Name: "payload", Type: in})
}

func pairValue(ts int64, p payload, f family) types.StructValue {
	return types.StructValue{ts, p.box(f)}
}

func pairFromValue(f family, v any) (int64, payload, bool) {
	sv, ok := v.(types.StructValue)
	if !ok || len(sv) != 2 {
		return 0, payload{}, false
	}
	ts, ok := sv[0].(int64)
	if !ok {
		return 0, payload{}, false
	}
	p, ok := unboxPayload(f, sv[1])
	return ts, p, ok
}

// ---- FIRST / LAST: IR TimePair{epochMillis, payload}; output the payload.

type firstLastKernel struct {
	typ  *types.Type
	fam  family
	last bool
}

func (k firstLastKernel) irType() *types.Type  { return timePairType(k.typ) }
func (k firstLastKernel) outType() *types.Type { return k.typ }
func (k firstLastKernel) newState() State      { return &firstLastState{fam: k.fam, last: k.last} }
func (firstLastKernel) deletable() bool        { return false }
func (k firstLastKernel) fromValue(v any) (State, error) {
	ts, p, ok := pairFromValue(k.fam, v)
	if !ok {
		return nil, irError("FIRST/LAST", v)
	}
	return &firstLastState{fam: k.fam, last: k.last, set: true, ts: ts, p: p}, nil
}

type firstLastState struct {
	fam  family
	last bool
	set  bool
	ts   int64
	p    payload
}

// takes reports whether an input at ts, later in scan order than the current one, replaces it.
func (s *firstLastState) takes(ts int64) bool {
	if !s.set {
		return true
	}
	if s.last {
		return ts >= s.ts
	}
	return ts < s.ts
}

func (s *firstLastState) addInt(ts, v int64) {
	if s.takes(ts) {
		s.ts, s.p, s.set = ts, payload{i: v}, true
	}
}
func (s *firstLastState) addFloat(ts int64, v float64) {
	if s.takes(ts) {
		s.ts, s.p, s.set = ts, payload{f: v}, true
	}
}
func (s *firstLastState) addStr(ts int64, v string) {
	if s.takes(ts) {
		s.ts, s.p, s.set = ts, payload{s: v}, true
	}
}
func (s *firstLastState) addBool(ts int64, v bool) {
	if s.takes(ts) {
		s.ts, s.p, s.set = ts, payload{i: b2i(v)}, true
	}
}
func (s *firstLastState) addAny(ts int64, v any) {
	if s.takes(ts) {
		s.ts, s.p, s.set = ts, payload{a: v}, true
	}
}
func (s *firstLastState) merge(o State) {
	x := o.(*firstLastState)
	if x.set && s.takes(x.ts) {
		s.ts, s.p, s.set = x.ts, x.p, true
	}
}
func (s *firstLastState) clone() State { c := *s; return &c }
func (s *firstLastState) result() any  { return s.p.box(s.fam) }
func (s *firstLastState) value() any   { return pairValue(s.ts, s.p, s.fam) }

// ---- FIRST_K / LAST_K: IR list<TimePair> kept in ascending (ts, scan order); FIRST_K keeps the k
// earliest and outputs them ascending, LAST_K keeps the k latest and outputs them most recent first.

type timedK struct {
	typ  *types.Type
	fam  family
	k    int
	last bool
}

func (k timedK) irType() *types.Type  { return types.ListOf(timePairType(k.typ)) }
func (k timedK) outType() *types.Type { return types.ListOf(k.typ) }
func (k timedK) newState() State      { return &timedKState{cfg: k} }
func (timedK) deletable() bool        { return false }
func (k timedK) fromValue(v any) (State, error) {
	l, ok := v.([]any)
	if !ok {
		return nil, irError("FIRST_K/LAST_K", v)
	}
	s := &timedKState{cfg: k}
	for _, e := range l {
		ts, p, ok := pairFromValue(k.fam, e)
		if !ok {
			return nil, irError("FIRST_K/LAST_K", v)
		}
		s.insert(ts, p)
	}
	return s, nil
}

type timedEntry struct {
	ts int64
	p  payload
}

// numEntry is a numeric (int, float or boolean) entry without the payload's pointers: LAST_K over a
// number is the common case, and pointer-free entries are a third the size and need no GC scan.
type numEntry struct {
	ts int64
	v  uint64 // int64 bits, float64 bits, or 0/1
}

func (e timedEntry) at() int64 { return e.ts }
func (e numEntry) at() int64   { return e.ts }

// timedKState keeps its entries in nes for numeric families and in es otherwise.
type timedKState struct {
	cfg timedK
	es  []timedEntry
	nes []numEntry
}

func (k timedK) numeric() bool { return k.fam == famInt || k.fam == famFloat || k.fam == famBool }

func (k timedK) toNum(ts int64, p payload) numEntry {
	if k.fam == famFloat {
		return numEntry{ts, math.Float64bits(p.f)}
	}
	return numEntry{ts, uint64(p.i)}
}

func (k timedK) fromNum(e numEntry) payload {
	if k.fam == famFloat {
		return payload{f: math.Float64frombits(e.v)}
	}
	return payload{i: int64(e.v)}
}

func (s *timedKState) insert(ts int64, p payload) {
	if s.cfg.numeric() {
		s.nes = insertTimed(s.nes, s.cfg.toNum(ts, p), s.cfg.k, s.cfg.last)
	} else {
		s.es = insertTimed(s.es, timedEntry{ts, p}, s.cfg.k, s.cfg.last)
	}
}

// insertTimed places e after every entry with ts <= its ts (it is later in scan order), then trims
// to k from the side that is not kept.
func insertTimed[E interface{ at() int64 }](es []E, e E, k int, last bool) []E {
	n := len(es)
	if k <= 0 {
		return es
	}
	// fast path: sorted input appends
	pos := n
	for pos > 0 && es[pos-1].at() > e.at() {
		pos--
	}
	if n == k {
		if last {
			if pos == 0 {
				return es // earlier than all kept
			}
			copy(es[:pos-1], es[1:pos])
			es[pos-1] = e
			return es
		}
		if pos == k {
			return es // later than all kept
		}
		copy(es[pos+1:], es[pos:k-1])
		es[pos] = e
		return es
	}
	if cap(es) == 0 {
		// Growing one entry at a time reallocated 4-5 times per state; most states stay small,
		// so start at a few entries rather than k.
		es = make([]E, 0, min(k, 8))
	}
	var zero E
	es = append(es, zero)
	copy(es[pos+1:], es[pos:n])
	es[pos] = e
	return es
}

func (s *timedKState) addInt(ts, v int64)           { s.insert(ts, payload{i: v}) }
func (s *timedKState) addFloat(ts int64, v float64) { s.insert(ts, payload{f: v}) }
func (s *timedKState) addStr(ts int64, v string)    { s.insert(ts, payload{s: v}) }
func (s *timedKState) addBool(ts int64, v bool)     { s.insert(ts, payload{i: b2i(v)}) }
func (s *timedKState) addAny(ts int64, v any)       { s.insert(ts, payload{a: v}) }

func (s *timedKState) merge(o State) {
	x := o.(*timedKState)
	if s.cfg.numeric() {
		s.nes = mergeTimed(s.nes, x.nes, s.cfg.k, s.cfg.last)
	} else {
		s.es = mergeTimed(s.es, x.es, s.cfg.k, s.cfg.last)
	}
}

// mergeTimed interleaves both ascending lists; on equal ts the receiver's entries come first because
// the argument is later in scan order.
func mergeTimed[E interface{ at() int64 }](a, b []E, k int, last bool) []E {
	if len(b) == 0 {
		return a
	}
	out := make([]E, 0, len(a)+len(b))
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		if j >= len(b) || (i < len(a) && a[i].at() <= b[j].at()) {
			out = append(out, a[i])
			i++
		} else {
			out = append(out, b[j])
			j++
		}
	}
	if len(out) > k {
		if last {
			out = out[len(out)-k:]
		} else {
			out = out[:k]
		}
	}
	return out
}

func (s *timedKState) clone() State {
	c := &timedKState{cfg: s.cfg}
	room := func(n int) int { return max(n, min(s.cfg.k, 64)) }
	if s.cfg.numeric() {
		c.nes = append(make([]numEntry, 0, room(len(s.nes))), s.nes...)
	} else {
		c.es = append(make([]timedEntry, 0, room(len(s.es))), s.es...)
	}
	return c
}

// n is the number of kept entries; entry i is (ts, payload) in ascending order.
func (s *timedKState) n() int {
	if s.cfg.numeric() {
		return len(s.nes)
	}
	return len(s.es)
}

func (s *timedKState) entry(i int) (int64, payload) {
	if s.cfg.numeric() {
		return s.nes[i].ts, s.cfg.fromNum(s.nes[i])
	}
	return s.es[i].ts, s.es[i].p
}

func (s *timedKState) result() any {
	n := s.n()
	out := make([]any, n)
	for i := 0; i < n; i++ {
		_, p := s.entry(i)
		if s.cfg.last {
			out[n-1-i] = p.box(s.cfg.fam)
		} else {
			out[i] = p.box(s.cfg.fam)
		}
	}
	return out
}

// resultIn is result for int and float elements, built in arena.
func (s *timedKState) resultIn(arena *types.ListArena) any {
	if s.cfg.fam == famInt {
		return arena.BoxInt64s(fillTimed(arena.Int64s(len(s.nes)), s, func(v uint64) int64 { return int64(v) }))
	}
	return arena.BoxFloat64s(fillTimed(arena.Float64s(len(s.nes)), s, math.Float64frombits))
}

// fillTimed writes the kept numeric entries' values into vals in output order (LAST_K: most recent
// first).
func fillTimed[T any](vals []T, s *timedKState, get func(uint64) T) []T {
	n := len(s.nes)
	for i, e := range s.nes {
		if s.cfg.last {
			vals[n-1-i] = get(e.v)
		} else {
			vals[i] = get(e.v)
		}
	}
	return vals
}

func (s *timedKState) value() any {
	out := make([]any, s.n())
	for i := range out {
		ts, p := s.entry(i)
		out[i] = pairValue(ts, p, s.cfg.fam)
	}
	return out
}

func (s *firstLastState) reset() { s.set, s.ts, s.p = false, 0, payload{} }
func (s *timedKState) reset()    { s.es, s.nes = s.es[:0], s.nes[:0] }
