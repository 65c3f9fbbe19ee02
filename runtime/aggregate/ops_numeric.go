package aggregate

import (
	"cmp"
	"math"

	"github.com/chronon-go/chronon/runtime/types"
)

// ---- COUNT: long IR, counts non-null inputs; deletable.

type countKernel struct{}

func (countKernel) irType() *types.Type  { return types.LongType }
func (countKernel) outType() *types.Type { return types.LongType }
func (countKernel) newState() State      { return &countState{} }
func (countKernel) deletable() bool      { return true }
func (countKernel) fromValue(v any) (State, error) {
	n, ok := v.(int64)
	if !ok {
		return nil, irError("COUNT", v)
	}
	return &countState{n: n}, nil
}

type countState struct{ n int64 }

func (s *countState) addInt(int64, int64)     { s.n++ }
func (s *countState) addFloat(int64, float64) { s.n++ }
func (s *countState) addStr(int64, string)    { s.n++ }
func (s *countState) addBool(int64, bool)     { s.n++ }
func (s *countState) addAny(int64, any)       { s.n++ }
func (s *countState) delInt(int64)            { s.n-- }
func (s *countState) delFloat(float64)        { s.n-- }
func (s *countState) delStr(string)           { s.n-- }
func (s *countState) delBool(bool)            { s.n-- }
func (s *countState) delAny(any)              { s.n-- }
func (s *countState) merge(o State)           { s.n += o.(*countState).n }
func (s *countState) clone() State            { c := *s; return &c }
func (s *countState) result() any             { return s.n }
func (s *countState) value() any              { return s.n }

// ---- SUM: int/short/byte/bool/long → long, float/double → double; deletable.

type sumLongKernel struct{}

func (sumLongKernel) irType() *types.Type  { return types.LongType }
func (sumLongKernel) outType() *types.Type { return types.LongType }
func (sumLongKernel) newState() State      { return &sumLong{} }
func (sumLongKernel) deletable() bool      { return true }
func (sumLongKernel) fromValue(v any) (State, error) {
	n, ok := v.(int64)
	if !ok {
		return nil, irError("SUM", v)
	}
	return &sumLong{v: n}, nil
}

type sumLong struct {
	unsupported
	v int64
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

func (s *sumLong) addInt(_, v int64)       { s.v += v }
func (s *sumLong) addBool(_ int64, v bool) { s.v += b2i(v) }
func (s *sumLong) delInt(v int64)          { s.v -= v }
func (s *sumLong) delBool(v bool)          { s.v -= b2i(v) }
func (s *sumLong) delFloat(float64)        {}
func (s *sumLong) delStr(string)           {}
func (s *sumLong) delAny(any)              {}
func (s *sumLong) merge(o State)           { s.v += o.(*sumLong).v }
func (s *sumLong) clone() State            { c := *s; return &c }
func (s *sumLong) result() any             { return s.v }
func (s *sumLong) value() any              { return s.v }

type sumDoubleKernel struct{}

func (sumDoubleKernel) irType() *types.Type  { return types.DoubleType }
func (sumDoubleKernel) outType() *types.Type { return types.DoubleType }
func (sumDoubleKernel) newState() State      { return &sumDouble{} }
func (sumDoubleKernel) deletable() bool      { return true }
func (sumDoubleKernel) fromValue(v any) (State, error) {
	f, ok := v.(float64)
	if !ok {
		return nil, irError("SUM", v)
	}
	return &sumDouble{v: f}, nil
}

type sumDouble struct {
	unsupported
	v float64
}

func (s *sumDouble) addFloat(_ int64, v float64) { s.v += v }
func (s *sumDouble) delFloat(v float64)          { s.v -= v }
func (s *sumDouble) delInt(int64)                {}
func (s *sumDouble) delStr(string)               {}
func (s *sumDouble) delBool(bool)                {}
func (s *sumDouble) delAny(any)                  {}
func (s *sumDouble) merge(o State)               { s.v += o.(*sumDouble).v }
func (s *sumDouble) clone() State                { c := *s; return &c }
func (s *sumDouble) result() any                 { return s.v }
func (s *sumDouble) value() any                  { return s.v }

// ---- AVERAGE: IR struct AvgIr{sum double, count int}; deletable.

var avgIRType = types.StructOf("AvgIr", types.Field{Name: "sum", Type: types.DoubleType}, types.Field{Name: "count", Type: types.IntType})

type avgKernel struct{}

func (avgKernel) irType() *types.Type  { return avgIRType }
func (avgKernel) outType() *types.Type { return types.DoubleType }
func (avgKernel) newState() State      { return &avgState{} }
func (avgKernel) deletable() bool      { return true }
func (avgKernel) fromValue(v any) (State, error) {
	sv, ok := v.(types.StructValue)
	if !ok || len(sv) != 2 {
		return nil, irError("AVERAGE", v)
	}
	sum, ok1 := sv[0].(float64)
	n, ok2 := sv[1].(int64)
	if !ok1 || !ok2 {
		return nil, irError("AVERAGE", v)
	}
	return &avgState{sum: sum, n: n}, nil
}

type avgState struct {
	unsupported
	sum float64
	n   int64
}

func (s *avgState) addInt(_, v int64)           { s.sum += float64(v); s.n++ }
func (s *avgState) addFloat(_ int64, v float64) { s.sum += v; s.n++ }
func (s *avgState) delInt(v int64)              { s.sum -= float64(v); s.n-- }
func (s *avgState) delFloat(v float64)          { s.sum -= v; s.n-- }
func (s *avgState) delStr(string)               {}
func (s *avgState) delBool(bool)                {}
func (s *avgState) delAny(any)                  {}
func (s *avgState) merge(o State) {
	x := o.(*avgState)
	s.sum += x.sum
	s.n += x.n
}
func (s *avgState) clone() State { c := *s; return &c }
func (s *avgState) result() any  { return s.sum / float64(s.n) }
func (s *avgState) value() any   { return types.StructValue{s.sum, s.n} }

// ---- VARIANCE: Welford state, population variance; not deletable (as in Chronon).

var varIRType = types.StructOf("VarianceIr",
	types.Field{Name: "count", Type: types.IntType},
	types.Field{Name: "mean", Type: types.DoubleType},
	types.Field{Name: "m2", Type: types.DoubleType})

type varKernel struct{}

func (varKernel) irType() *types.Type  { return varIRType }
func (varKernel) outType() *types.Type { return types.DoubleType }
func (varKernel) newState() State      { return &varState{} }
func (varKernel) deletable() bool      { return false }
func (varKernel) fromValue(v any) (State, error) {
	sv, ok := v.(types.StructValue)
	if !ok || len(sv) != 3 {
		return nil, irError("VARIANCE", v)
	}
	n, ok1 := sv[0].(int64)
	mean, ok2 := sv[1].(float64)
	m2, ok3 := sv[2].(float64)
	if !ok1 || !ok2 || !ok3 {
		return nil, irError("VARIANCE", v)
	}
	return &varState{n: n, mean: mean, m2: m2}, nil
}

type varState struct {
	unsupported
	n        int64
	mean, m2 float64
}

func (s *varState) addInt(_, v int64) { s.addFloat(0, float64(v)) }
func (s *varState) addFloat(_ int64, x float64) {
	s.n++
	d := x - s.mean
	s.mean += d / float64(s.n)
	s.m2 += d * (x - s.mean)
}

// merge uses the parallel Welford update; the mean is combined the way Chronon does (scaled when one
// side dominates) so both implementations round alike.
func (s *varState) merge(o State) {
	x := o.(*varState)
	n := s.n + x.n
	if n == 0 {
		return
	}
	delta := x.mean - s.mean
	deltaN := delta / float64(n)
	mean := combinedMean(float64(s.n), s.mean, float64(x.n), x.mean)
	s.m2 = s.m2 + x.m2 + delta*deltaN*float64(s.n)*float64(x.n)
	s.mean = mean
	s.n = n
}

func combinedMean(wn, an, wk, ak float64) float64 {
	if wn < wk {
		wn, an, wk, ak = wk, ak, wn, an
	}
	n := wn + wk
	switch {
	case n == 0:
		return 0
	case n == wn:
		return an
	}
	scaling := wk / n
	if scaling < 0.1 {
		return an + (ak-an)*scaling
	}
	return (wn*an + wk*ak) / n
}

func (s *varState) clone() State { c := *s; return &c }
func (s *varState) result() any  { return s.m2 / float64(s.n) }
func (s *varState) value() any   { return types.StructValue{s.n, s.mean, s.m2} }

// ---- SKEW / KURTOSIS: central moment sums [n, mean, m2, m3, m4] (list<double> IR); biased estimators.

type momentsKernel struct{ kurtosis bool }

func (momentsKernel) irType() *types.Type  { return types.ListOf(types.DoubleType) }
func (momentsKernel) outType() *types.Type { return types.DoubleType }
func (k momentsKernel) newState() State    { return &momentsState{kurt: k.kurtosis} }
func (momentsKernel) deletable() bool      { return false }
func (k momentsKernel) fromValue(v any) (State, error) {
	l, ok := v.([]any)
	if !ok || len(l) != 5 {
		return nil, irError("moments", v)
	}
	s := &momentsState{kurt: k.kurtosis}
	dst := []*float64{&s.n, &s.m1, &s.m2, &s.m3, &s.m4}
	for i, x := range l {
		f, ok := x.(float64)
		if !ok {
			return nil, irError("moments", v)
		}
		*dst[i] = f
	}
	return s, nil
}

type momentsState struct {
	unsupported
	kurt              bool
	n, m1, m2, m3, m4 float64
}

func (s *momentsState) addInt(_, v int64) { s.addFloat(0, float64(v)) }
func (s *momentsState) addFloat(_ int64, x float64) {
	n1 := s.n
	n := s.n + 1
	delta := x - s.m1
	dn := delta / n
	dn2 := dn * dn
	t1 := delta * dn * n1
	s.m1 += dn
	s.m4 += t1*dn2*(n*n-3*n+3) + 6*dn2*s.m2 - 4*dn*s.m3
	s.m3 += t1*dn*(n-2) - 3*dn*s.m2
	s.m2 += t1
	s.n = n
}

func (s *momentsState) merge(o State) {
	a, b := *s, o.(*momentsState)
	n := a.n + b.n
	if n == 0 {
		return
	}
	d := b.m1 - a.m1
	d2 := d * d
	d3 := d * d2
	d4 := d2 * d2
	s.m1 = (a.n*a.m1 + b.n*b.m1) / n
	s.m2 = a.m2 + b.m2 + d2*a.n*b.n/n
	s.m3 = a.m3 + b.m3 + d3*a.n*b.n*(a.n-b.n)/(n*n) + 3*d*(a.n*b.m2-b.n*a.m2)/n
	s.m4 = a.m4 + b.m4 + d4*a.n*b.n*(a.n*a.n-a.n*b.n+b.n*b.n)/(n*n*n) +
		6*d2*(a.n*a.n*b.m2+b.n*b.n*a.m2)/(n*n) + 4*d*(a.n*b.m3-b.n*a.m3)/n
	s.n = n
}

func (s *momentsState) clone() State { c := *s; return &c }
func (s *momentsState) value() any   { return []any{s.n, s.m1, s.m2, s.m3, s.m4} }
func (s *momentsState) result() any {
	if s.kurt {
		if s.n < 4 || s.m2 == 0 {
			return math.NaN()
		}
		return s.n*s.m4/(s.m2*s.m2) - 3
	}
	if s.n < 3 || s.m2 == 0 {
		return math.NaN()
	}
	return math.Sqrt(s.n) * s.m3 / math.Pow(s.m2, 1.5)
}

// ---- MIN / MAX over int, float or string inputs; IR and output keep the input type.

type orderKernel[T cmp.Ordered] struct {
	typ *types.Type
	max bool
}

func (k orderKernel[T]) irType() *types.Type  { return k.typ }
func (k orderKernel[T]) outType() *types.Type { return k.typ }
func (k orderKernel[T]) newState() State      { return &orderState[T]{max: k.max, c: orderOf[T]()} }
func (orderKernel[T]) deletable() bool        { return false }
func (k orderKernel[T]) fromValue(v any) (State, error) {
	x, ok := v.(T)
	if !ok {
		return nil, irError("MIN/MAX", v)
	}
	return &orderState[T]{max: k.max, c: orderOf[T](), v: x, set: true}, nil
}

type orderState[T cmp.Ordered] struct {
	unsupported
	max bool
	set bool
	v   T
	c   func(a, b T) int
}

func (s *orderState[T]) put(x T) {
	if !s.set || (s.max && s.c(x, s.v) > 0) || (!s.max && s.c(x, s.v) < 0) {
		s.v, s.set = x, true
	}
}

func (s *orderState[T]) addInt(_, v int64)           { s.put(any(v).(T)) }
func (s *orderState[T]) addFloat(_ int64, v float64) { s.put(any(v).(T)) }
func (s *orderState[T]) addStr(_ int64, v string)    { s.put(any(v).(T)) }
func (s *orderState[T]) merge(o State) {
	if x := o.(*orderState[T]); x.set {
		s.put(x.v)
	}
}
func (s *orderState[T]) clone() State { c := *s; return &c }
func (s *orderState[T]) result() any  { return s.v }
func (s *orderState[T]) value() any   { return s.v }

func (s *countState) reset()    { s.n = 0 }
func (s *sumLong) reset()       { s.v = 0 }
func (s *sumDouble) reset()     { s.v = 0 }
func (s *avgState) reset()      { s.sum, s.n = 0, 0 }
func (s *varState) reset()      { s.n, s.mean, s.m2 = 0, 0, 0 }
func (s *momentsState) reset()  { s.n, s.m1, s.m2, s.m3, s.m4 = 0, 0, 0, 0, 0 }
func (s *orderState[T]) reset() { var zero T; s.v, s.set = zero, false }
