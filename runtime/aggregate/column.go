package aggregate

import (
	"fmt"
	"slices"

	"github.com/chronon-go/chronon/runtime/types"
	"github.com/chronon-go/chronon/thrift/api"
)

// inputMode says how a column aggregator reads its input column (spec §5 Containers).
type inputMode int

const (
	modeDirect      inputMode = iota // the value is one input (scalars; any value for timed ops)
	modeVector                       // simple op on list<scalar>: every non-null element is an input
	modeElementWise                  // element_wise on a list: one aggregation per position
	modeMap                          // simple op on map<string,V>: one aggregation per map key
)

// columnAgg aggregates one input column for one bucket column (a "base" aggregation: windows are
// applied above it, by combining hop IRs).
type columnAgg struct {
	name    string // input column, for messages
	op      api.Operation
	k       kernel
	mode    inputMode
	in      int // input column index
	bucket  int // bucket column index, -1 if none
	irT     *types.Type
	outT    *types.Type
	errp    *error // first data error (shared by the Aggregator)
	scalarT *types.Type
	alloc   func() State // chunked allocation of the common small states (nil: kernel.newState)
}

// newState returns an empty state; small numeric states come out of chunks, which saves an
// allocation per hop and key in backfills.
func (c *columnAgg) newState() State {
	if c.alloc != nil {
		return c.alloc()
	}
	return c.k.newState()
}

func chunked[T any](init func(*T) State) func() State {
	var buf []T
	return func() State {
		if len(buf) == 0 {
			buf = make([]T, 256)
		}
		p := &buf[0]
		buf = buf[1:]
		return init(p)
	}
}

func allocatorFor(k kernel) func() State {
	switch k.(type) {
	case countKernel:
		return chunked(func(p *countState) State { return p })
	case sumLongKernel:
		return chunked(func(p *sumLong) State { return p })
	case sumDoubleKernel:
		return chunked(func(p *sumDouble) State { return p })
	case avgKernel:
		return chunked(func(p *avgState) State { return p })
	case varKernel:
		return chunked(func(p *varState) State { return p })
	}
	return nil
}

func isScalar(t *types.Type) bool {
	switch t.Kind {
	case types.List, types.Map, types.Struct, types.Null:
		return false
	}
	return true
}

func newColumnAgg(a *api.Aggregation, bucket string, schema types.Schema, errp *error) (*columnAgg, error) {
	op := a.GetOperation()
	name := a.GetInputColumn()
	fail := func(format string, args ...any) (*columnAgg, error) {
		return nil, fmt.Errorf("aggregation %s of column %q: %s", op, name, fmt.Sprintf(format, args...))
	}
	in := schema.Index(name)
	if in < 0 {
		return fail("no such input column (have %v)", schema.Names())
	}
	c := &columnAgg{name: name, op: op, in: in, bucket: -1, errp: errp}
	t := schema[in].Type
	scalar := t
	switch {
	case !IsTimed(op) && t.Kind == types.List && isScalar(t.Elem):
		c.mode, scalar = modeVector, t.Elem
		if a.GetElementWise() {
			c.mode = modeElementWise
		}
	case !IsTimed(op) && t.Kind == types.Map && t.Key.Kind == types.String:
		c.mode, scalar = modeMap, t.Value
	}
	if a.GetElementWise() && c.mode != modeElementWise {
		return fail("element_wise needs a list of scalars as input, got %s", t)
	}
	if bucket != "" {
		c.bucket = schema.Index(bucket)
		if c.bucket < 0 {
			return fail("no such bucket column %q", bucket)
		}
		if bt := schema[c.bucket].Type; bt.Kind != types.String {
			return fail("bucket column %q must be a string, got %s", bucket, bt)
		}
		if c.mode == modeMap || c.mode == modeElementWise {
			return fail("buckets cannot be combined with map inputs or element_wise")
		}
	}
	k, err := newKernel(op, a.GetArgMap(), scalar)
	if err != nil {
		return fail("%v", err)
	}
	c.k, c.scalarT = k, scalar
	c.alloc = allocatorFor(k)
	c.irT, c.outT = k.irType(), k.outType()
	switch c.mode {
	case modeElementWise:
		c.irT, c.outT = types.ListOf(c.irT), types.ListOf(c.outT)
	case modeMap:
		c.irT, c.outT = types.MapOf(types.StringType, c.irT), types.MapOf(types.StringType, c.outT)
	}
	if c.bucket >= 0 {
		c.irT, c.outT = types.MapOf(types.StringType, c.irT), types.MapOf(types.StringType, c.outT)
	}
	return c, nil
}

func (c *columnAgg) setErr(format string, args ...any) {
	if *c.errp == nil {
		*c.errp = fmt.Errorf("aggregation %s of column %q: %s", c.op, c.name, fmt.Sprintf(format, args...))
	}
}

// update adds row of b (at time ts) to *slot. Null inputs and null bucket values are skipped.
func (c *columnAgg) update(slot *State, b *types.Batch, row int, ts int64) {
	col := b.Cols[c.in]
	if col.IsNull(row) {
		return
	}
	if c.bucket >= 0 {
		bc := b.Cols[c.bucket]
		if bc.IsNull(row) {
			return
		}
		key := bc.Strs[row]
		var sub State
		if *slot != nil {
			sub = (*slot).(*keyedState).m[key]
		}
		c.updateInner(&sub, col, row, ts)
		if sub != nil {
			// created lazily so that a bucket seeing only empty lists stays null
			if *slot == nil {
				*slot = &keyedState{m: map[string]State{}}
			}
			(*slot).(*keyedState).m[key] = sub
		}
		return
	}
	c.updateInner(slot, col, row, ts)
}

func (c *columnAgg) updateInner(slot *State, col *types.Column, row int, ts int64) {
	switch c.mode {
	case modeDirect:
		if *slot == nil {
			*slot = c.newState()
		}
		s := *slot
		switch col.Type.Kind {
		case types.Byte, types.Short, types.Int, types.Long:
			s.addInt(ts, col.Ints[row])
		case types.Float, types.Double:
			s.addFloat(ts, col.Floats[row])
		case types.String:
			s.addStr(ts, col.Strs[row])
		case types.Boolean:
			s.addBool(ts, col.Bools[row])
		case types.Binary:
			s.addAny(ts, col.Bytes[row])
		default:
			s.addAny(ts, col.Values[row])
		}
	default:
		c.walk(slot, col, row, ts, false)
	}
}

// walk feeds the values row contributes in a container mode (vector, element-wise, map) into their
// sub-states: added at ts, or retracted when remove. Updates and retractions share it so that both
// treat nulls, lengths and keys alike.
func (c *columnAgg) walk(slot *State, col *types.Column, row int, ts int64, remove bool) {
	switch c.mode {
	case modeVector:
		for _, e := range col.Values[row].([]any) {
			if e != nil {
				c.apply(slot, ts, e, remove)
			}
		}
	case modeElementWise:
		l := col.Values[row].([]any)
		if slices.Contains(l, nil) {
			c.setErr("element_wise input has a null element")
			return
		}
		if *slot == nil {
			*slot = &listState{subs: make([]State, len(l))}
		}
		ls := (*slot).(*listState)
		if len(ls.subs) != len(l) {
			c.setErr("element_wise inputs have different lengths (%d and %d)", len(ls.subs), len(l))
			return
		}
		for i, e := range l {
			c.apply(&ls.subs[i], ts, e, remove)
		}
	case modeMap:
		// any non-null map initialises the IR, even an empty one (Chronon's MapColumnAggregator), so
		// it finalizes to {} rather than null
		if *slot == nil {
			*slot = &keyedState{m: map[string]State{}}
		}
		m := (*slot).(*keyedState).m
		mv := col.Values[row].(*types.MapValue)
		for i, key := range mv.Keys {
			ks, ok := key.(string)
			if mv.Values[i] == nil || !ok {
				continue
			}
			sub := m[ks]
			c.apply(&sub, ts, mv.Values[i], remove)
			m[ks] = sub
		}
	}
}

// apply adds v to (or retracts it from) *slot, starting an empty state if needed; a retraction
// into an empty IR starts from the inverse (e.g. a count of -1), as in Chronon.
func (c *columnAgg) apply(slot *State, ts int64, v any, remove bool) {
	if *slot == nil {
		*slot = c.newState()
	}
	if remove {
		delBoxed((*slot).(deleter), v)
	} else {
		addBoxed(*slot, ts, v)
	}
}

// remove retracts row from *slot (deletable ops only; mutation is_before rows). It mirrors update:
// a retraction into an empty IR starts from the inverse (e.g. a count of -1), as in Chronon.
func (c *columnAgg) remove(slot *State, b *types.Batch, row int) {
	col := b.Cols[c.in]
	if col.IsNull(row) {
		return
	}
	if c.bucket < 0 {
		c.removeInner(slot, col, row)
		return
	}
	bc := b.Cols[c.bucket]
	if bc.IsNull(row) {
		return
	}
	if *slot == nil {
		*slot = &keyedState{m: map[string]State{}}
	}
	m := (*slot).(*keyedState).m
	key := bc.Strs[row]
	sub := m[key]
	c.removeInner(&sub, col, row)
	if sub != nil {
		m[key] = sub
	}
}

func (c *columnAgg) removeInner(slot *State, col *types.Column, row int) {
	if c.mode == modeDirect {
		c.apply(slot, 0, col.Value(row), true)
		return
	}
	c.walk(slot, col, row, 0, true)
}

// final is the finalized output value; NaN/Inf become null only at the top level (spec §5).
func (c *columnAgg) final(s State) any {
	if s == nil {
		return nil
	}
	if c.mode == modeDirect || c.mode == modeVector {
		if c.bucket < 0 {
			return sane(s.result())
		}
	}
	return s.result()
}

// irValue serializes an IR to a types value of c.irT (nil for an empty IR).
func (c *columnAgg) irValue(s State) any {
	if s == nil {
		return nil
	}
	return s.value()
}

// irFromValue rebuilds an IR from irValue's output.
func (c *columnAgg) irFromValue(v any) (State, error) {
	if v == nil {
		return nil, nil
	}
	inner := func(v any) (State, error) {
		switch c.mode {
		case modeElementWise:
			l, ok := v.([]any)
			if !ok {
				return nil, irError("element_wise", v)
			}
			ls := &listState{subs: make([]State, len(l))}
			for i, e := range l {
				if e == nil {
					continue
				}
				s, err := c.k.fromValue(e)
				if err != nil {
					return nil, err
				}
				ls.subs[i] = s
			}
			return ls, nil
		case modeMap:
			return keyedFromValue(v, c.k.fromValue)
		}
		return c.k.fromValue(v)
	}
	if c.bucket >= 0 {
		return keyedFromValue(v, inner)
	}
	return inner(v)
}

func keyedFromValue(v any, sub func(any) (State, error)) (State, error) {
	mv, ok := v.(*types.MapValue)
	if !ok {
		return nil, irError("map", v)
	}
	ks := &keyedState{m: make(map[string]State, len(mv.Keys))}
	for i, key := range mv.Keys {
		k, ok := key.(string)
		if !ok {
			return nil, irError("map key", key)
		}
		if mv.Values[i] == nil {
			continue
		}
		s, err := sub(mv.Values[i])
		if err != nil {
			return nil, err
		}
		ks.m[k] = s
	}
	return ks, nil
}

// keyedState holds one IR per map key or bucket value.
type keyedState struct {
	unsupported
	m map[string]State
}

func (s *keyedState) merge(o State) {
	for k, x := range o.(*keyedState).m {
		cur := s.m[k]
		Merge(&cur, x)
		s.m[k] = cur
	}
}

func (s *keyedState) clone() State {
	c := &keyedState{m: make(map[string]State, len(s.m))}
	for k, x := range s.m {
		c.m[k] = x.clone()
	}
	return c
}

func (s *keyedState) sortedKeys() []string {
	keys := make([]string, 0, len(s.m))
	for k := range s.m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func (s *keyedState) result() any {
	keys := s.sortedKeys()
	mv := &types.MapValue{Keys: make([]any, len(keys)), Values: make([]any, len(keys))}
	for i, k := range keys {
		mv.Keys[i] = k
		mv.Values[i] = s.m[k].result()
	}
	return mv
}

func (s *keyedState) value() any {
	keys := s.sortedKeys()
	mv := &types.MapValue{Keys: make([]any, len(keys)), Values: make([]any, len(keys))}
	for i, k := range keys {
		mv.Keys[i] = k
		mv.Values[i] = s.m[k].value()
	}
	return mv
}

// listState holds one IR per list position (element_wise).
type listState struct {
	unsupported
	subs []State
}

func (s *listState) merge(o State) {
	x := o.(*listState)
	for len(s.subs) < len(x.subs) {
		s.subs = append(s.subs, nil)
	}
	for i, sub := range x.subs {
		Merge(&s.subs[i], sub)
	}
}

func (s *listState) clone() State {
	c := &listState{subs: make([]State, len(s.subs))}
	for i, x := range s.subs {
		c.subs[i] = Clone(x)
	}
	return c
}

func (s *listState) result() any {
	out := make([]any, len(s.subs))
	for i, x := range s.subs {
		if x != nil {
			out[i] = x.result()
		}
	}
	return out
}

func (s *listState) value() any {
	out := make([]any, len(s.subs))
	for i, x := range s.subs {
		if x != nil {
			out[i] = x.value()
		}
	}
	return out
}
