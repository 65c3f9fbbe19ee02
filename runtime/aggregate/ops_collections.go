package aggregate

import (
	"cmp"
	"crypto/md5"
	"encoding/hex"
	"slices"
	"sort"

	"github.com/chronon-go/chronon/runtime/types"
)

// box converts a key back to its types value: binary keys are held as strings internally.
func box[T cmp.Ordered](x T, binary bool) any {
	if binary {
		return []byte(any(x).(string))
	}
	return x
}

func unbox[T cmp.Ordered](v any) (T, bool) {
	if b, ok := v.([]byte); ok {
		s, ok := any(string(b)).(T)
		return s, ok
	}
	x, ok := v.(T)
	return x, ok
}

// ---- UNIQUE_COUNT: exact set (list<input> IR, written sorted so equal sets serialize equally).

type uniqueKernel[T cmp.Ordered] struct {
	typ    *types.Type
	binary bool
}

func (k uniqueKernel[T]) irType() *types.Type { return types.ListOf(k.typ) }
func (uniqueKernel[T]) outType() *types.Type  { return types.LongType }
func (k uniqueKernel[T]) newState() State {
	return &uniqueState[T]{m: map[T]struct{}{}, binary: k.binary}
}
func (uniqueKernel[T]) deletable() bool { return false }
func (k uniqueKernel[T]) fromValue(v any) (State, error) {
	l, ok := v.([]any)
	if !ok {
		return nil, irError("UNIQUE_COUNT", v)
	}
	s := &uniqueState[T]{m: make(map[T]struct{}, len(l)), binary: k.binary}
	for _, e := range l {
		x, ok := unbox[T](e)
		if !ok {
			return nil, irError("UNIQUE_COUNT", v)
		}
		s.m[x] = struct{}{}
	}
	return s, nil
}

type uniqueState[T cmp.Ordered] struct {
	unsupported
	m      map[T]struct{}
	binary bool
}

func (s *uniqueState[T]) addInt(_, v int64)           { s.m[any(v).(T)] = struct{}{} }
func (s *uniqueState[T]) addFloat(_ int64, v float64) { s.m[any(v).(T)] = struct{}{} }
func (s *uniqueState[T]) addStr(_ int64, v string)    { s.m[any(v).(T)] = struct{}{} }
func (s *uniqueState[T]) addAny(_ int64, v any)       { s.m[any(string(v.([]byte))).(T)] = struct{}{} }
func (s *uniqueState[T]) merge(o State) {
	for x := range o.(*uniqueState[T]).m {
		s.m[x] = struct{}{}
	}
}
func (s *uniqueState[T]) clone() State {
	c := &uniqueState[T]{m: make(map[T]struct{}, len(s.m)), binary: s.binary}
	for x := range s.m {
		c.m[x] = struct{}{}
	}
	return c
}
func (s *uniqueState[T]) result() any { return int64(len(s.m)) }
func (s *uniqueState[T]) value() any  { return sortedKeys(s.m, s.binary) }

func sortedKeys[T cmp.Ordered](m map[T]struct{}, binary bool) []any {
	keys := make([]T, 0, len(m))
	for x := range m {
		keys = append(keys, x)
	}
	slices.Sort(keys)
	out := make([]any, len(keys))
	for i, x := range keys {
		out[i] = box(x, binary)
	}
	return out
}

// ---- BOUNDED_UNIQUE_COUNT: at most k distinct values are kept; result min(distinct, k). Strings are
// kept as MD5 hex (as Chronon does for non-numeric inputs) so the IR stays small.

type boundedKernel[T cmp.Ordered] struct {
	typ    *types.Type // element type of the IR list
	k      int
	hash   bool // strings: keep md5 hex
	binary bool
}

func (k boundedKernel[T]) irType() *types.Type { return types.ListOf(k.typ) }
func (boundedKernel[T]) outType() *types.Type  { return types.LongType }
func (k boundedKernel[T]) newState() State {
	return &boundedState[T]{m: make(map[T]struct{}, min(k.k, 16)), k: k.k, hash: k.hash, binary: k.binary}
}
func (boundedKernel[T]) deletable() bool { return false }
func (k boundedKernel[T]) fromValue(v any) (State, error) {
	l, ok := v.([]any)
	if !ok {
		return nil, irError("BOUNDED_UNIQUE_COUNT", v)
	}
	s := k.newState().(*boundedState[T])
	for _, e := range l {
		x, ok := unbox[T](e)
		if !ok {
			return nil, irError("BOUNDED_UNIQUE_COUNT", v)
		}
		s.put(x)
	}
	return s, nil
}

type boundedState[T cmp.Ordered] struct {
	unsupported
	m      map[T]struct{}
	k      int
	hash   bool
	binary bool
}

func (s *boundedState[T]) put(x T) {
	if len(s.m) < s.k {
		s.m[x] = struct{}{}
	}
}

func (s *boundedState[T]) addInt(_, v int64)           { s.put(any(v).(T)) }
func (s *boundedState[T]) addFloat(_ int64, v float64) { s.put(any(v).(T)) }
func (s *boundedState[T]) addStr(_ int64, v string) {
	if len(s.m) >= s.k {
		return
	}
	if s.hash {
		sum := md5.Sum([]byte(v))
		v = hex.EncodeToString(sum[:])
	}
	s.put(any(v).(T))
}
func (s *boundedState[T]) addAny(_ int64, v any) { s.put(any(string(v.([]byte))).(T)) }
func (s *boundedState[T]) merge(o State) {
	for x := range o.(*boundedState[T]).m {
		s.put(x)
	}
}
func (s *boundedState[T]) clone() State {
	c := *s
	c.m = make(map[T]struct{}, len(s.m))
	for x := range s.m {
		c.m[x] = struct{}{}
	}
	return &c
}
func (s *boundedState[T]) result() any { return int64(min(len(s.m), s.k)) }
func (s *boundedState[T]) value() any  { return sortedKeys(s.m, s.binary) }

// ---- TOP_K / BOTTOM_K: a bounded heap of the k best values; output sorted (TOP_K descending,
// BOTTOM_K ascending).

type orderLimitKernel[T cmp.Ordered] struct {
	typ *types.Type
	k   int
	top bool
}

func (k orderLimitKernel[T]) irType() *types.Type  { return types.ListOf(k.typ) }
func (k orderLimitKernel[T]) outType() *types.Type { return types.ListOf(k.typ) }
func (k orderLimitKernel[T]) newState() State {
	c := orderOf[T]()
	if k.top {
		// heap root = worst kept value; for TOP_K the smallest
		return &heapState[T]{k: k.k, worse: func(a, b T) bool { return c(a, b) < 0 }, c: c, top: true}
	}
	return &heapState[T]{k: k.k, worse: func(a, b T) bool { return c(a, b) > 0 }, c: c}
}
func (orderLimitKernel[T]) deletable() bool { return false }
func (k orderLimitKernel[T]) fromValue(v any) (State, error) {
	l, ok := v.([]any)
	if !ok {
		return nil, irError("TOP_K/BOTTOM_K", v)
	}
	s := k.newState().(*heapState[T])
	for _, e := range l {
		x, ok := e.(T)
		if !ok {
			return nil, irError("TOP_K/BOTTOM_K", v)
		}
		s.put(x)
	}
	return s, nil
}

type heapState[T cmp.Ordered] struct {
	unsupported
	h     []T
	k     int
	top   bool
	worse func(a, b T) bool
	c     func(a, b T) int
}

func (s *heapState[T]) put(x T) {
	if len(s.h) < s.k {
		s.h = append(s.h, x)
		s.up(len(s.h) - 1)
		return
	}
	if s.k == 0 || !s.worse(s.h[0], x) {
		return
	}
	s.h[0] = x
	s.down(0)
}

func (s *heapState[T]) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !s.worse(s.h[i], s.h[p]) {
			return
		}
		s.h[i], s.h[p] = s.h[p], s.h[i]
		i = p
	}
}

func (s *heapState[T]) down(i int) {
	n := len(s.h)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		m := l
		if r := l + 1; r < n && s.worse(s.h[r], s.h[l]) {
			m = r
		}
		if !s.worse(s.h[m], s.h[i]) {
			return
		}
		s.h[i], s.h[m] = s.h[m], s.h[i]
		i = m
	}
}

func (s *heapState[T]) addInt(_, v int64)           { s.put(any(v).(T)) }
func (s *heapState[T]) addFloat(_ int64, v float64) { s.put(any(v).(T)) }
func (s *heapState[T]) addStr(_ int64, v string)    { s.put(any(v).(T)) }
func (s *heapState[T]) merge(o State) {
	for _, x := range o.(*heapState[T]).h {
		s.put(x)
	}
}
func (s *heapState[T]) clone() State {
	c := *s
	c.h = slices.Clone(s.h)
	return &c
}

// sorted lists the kept values best first.
func (s *heapState[T]) sorted() []any {
	xs := slices.Clone(s.h)
	if s.top {
		slices.SortFunc(xs, func(a, b T) int { return s.c(b, a) })
	} else {
		slices.SortFunc(xs, s.c)
	}
	out := make([]any, len(xs))
	for i, x := range xs {
		out[i] = x
	}
	return out
}
func (s *heapState[T]) result() any { return s.sorted() }
func (s *heapState[T]) value() any  { return s.sorted() }

// ---- HISTOGRAM: exact counts per string value (map<string,int>); deletable. With k > 0 finalize keeps
// at most k keys whose count reaches the k-th largest count; ties are resolved by key (Chronon leaves
// the choice to hash order, spec §5).

var histIRType = types.MapOf(types.StringType, types.IntType)

type histKernel struct{ k int }

func (histKernel) irType() *types.Type  { return histIRType }
func (histKernel) outType() *types.Type { return histIRType }
func (k histKernel) newState() State    { return &histState{m: map[string]int64{}, k: k.k} }
func (histKernel) deletable() bool      { return true }
func (k histKernel) fromValue(v any) (State, error) {
	mv, ok := v.(*types.MapValue)
	if !ok {
		return nil, irError("HISTOGRAM", v)
	}
	s := &histState{m: make(map[string]int64, len(mv.Keys)), k: k.k}
	for i, key := range mv.Keys {
		ks, ok1 := key.(string)
		n, ok2 := mv.Values[i].(int64)
		if !ok1 || !ok2 {
			return nil, irError("HISTOGRAM", v)
		}
		s.m[ks] = n
	}
	return s, nil
}

type histState struct {
	unsupported
	m map[string]int64
	k int
}

func (s *histState) incr(key string, by int64) {
	n := s.m[key] + by
	if n == 0 {
		delete(s.m, key)
	} else {
		s.m[key] = n
	}
}

func (s *histState) addStr(_ int64, v string) { s.incr(v, 1) }
func (s *histState) delStr(v string)          { s.incr(v, -1) }
func (s *histState) delInt(int64)             {}
func (s *histState) delFloat(float64)         {}
func (s *histState) delBool(bool)             {}
func (s *histState) delAny(any)               {}
func (s *histState) merge(o State) {
	for key, n := range o.(*histState).m {
		s.incr(key, n)
	}
}
func (s *histState) clone() State {
	c := &histState{m: make(map[string]int64, len(s.m)), k: s.k}
	for key, n := range s.m {
		c.m[key] = n
	}
	return c
}
func (s *histState) value() any { return countsMap(s.m, nil) }
func (s *histState) result() any {
	if s.k <= 0 || len(s.m) <= s.k {
		return countsMap(s.m, nil)
	}
	return countsMap(s.m, topKeys(s.m, s.k))
}

// topKeys returns the k keys with the largest counts (ties by key).
func topKeys(m map[string]int64, k int) []string {
	keys := make([]string, 0, len(m))
	for key := range m {
		keys = append(keys, key)
	}
	sort.Slice(keys, func(i, j int) bool {
		if m[keys[i]] != m[keys[j]] {
			return m[keys[i]] > m[keys[j]]
		}
		return keys[i] < keys[j]
	})
	if len(keys) > k {
		keys = keys[:k]
	}
	return keys
}

// countsMap renders counts as a MapValue sorted by key (Go maps have no stable order).
func countsMap(m map[string]int64, only []string) *types.MapValue {
	keys := only
	if keys == nil {
		keys = make([]string, 0, len(m))
		for key := range m {
			keys = append(keys, key)
		}
	}
	keys = slices.Clone(keys)
	slices.Sort(keys)
	mv := &types.MapValue{Keys: make([]any, len(keys)), Values: make([]any, len(keys))}
	for i, key := range keys {
		mv.Keys[i] = key
		mv.Values[i] = m[key]
	}
	return mv
}
