package aggregate

import (
	"encoding/binary"
	"errors"
	"math"
	"slices"
	"strconv"
	"strings"
	"unsafe"

	"github.com/axiomhq/hyperloglog"
	"github.com/influxdata/tdigest"

	"github.com/chronon-go/chronon/runtime/types"
)

// ---- APPROX_UNIQUE_COUNT: HyperLogLog++ (github.com/axiomhq/hyperloglog). Chronon uses a DataSketches
// CPC sketch with lgK (default 8); byte compatibility is not required (spec §12), so lgK maps to an HLL
// precision p = clamp(lgK+6, 4, 18) (lgK 8 → p 14, ~0.8% standard error). The sketch starts sparse,
// which is near-exact for small counts.

type hllKernel struct{ p uint8 }

func newHLLKernel(lgK int) hllKernel {
	return hllKernel{p: uint8(min(max(lgK+6, 4), 18))}
}

func (hllKernel) irType() *types.Type  { return types.BinaryType }
func (hllKernel) outType() *types.Type { return types.LongType }
func (k hllKernel) newState() State {
	sk, err := hyperloglog.NewSketch(k.p, true)
	if err != nil {
		panic(err) // p is clamped to the library's range
	}
	return &hllState{sk: sk}
}
func (hllKernel) deletable() bool { return false }
func (k hllKernel) fromValue(v any) (State, error) {
	b, ok := v.([]byte)
	if !ok {
		return nil, irError("APPROX_UNIQUE_COUNT", v)
	}
	s := k.newState().(*hllState)
	if err := s.sk.UnmarshalBinary(b); err != nil {
		return nil, err
	}
	return s, nil
}

type hllState struct {
	unsupported
	sk *hyperloglog.Sketch
}

// mix64 is splitmix64's finalizer: numeric inputs are hashed without going through bytes.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

func (s *hllState) addInt(_, v int64) { s.sk.InsertHash(mix64(uint64(v))) }
func (s *hllState) addFloat(_ int64, v float64) {
	if v == 0 {
		v = 0 // -0.0 and 0.0 are one value
	}
	s.sk.InsertHash(mix64(math.Float64bits(v) ^ 0x5bd1e9955bd1e995))
}
func (s *hllState) addStr(_ int64, v string) {
	s.sk.Insert(unsafe.Slice(unsafe.StringData(v), len(v)))
}
func (s *hllState) addAny(_ int64, v any) { s.sk.Insert(v.([]byte)) }
func (s *hllState) merge(o State) {
	if err := s.sk.Merge(o.(*hllState).sk); err != nil {
		panic(err) // same precision by construction
	}
}
func (s *hllState) clone() State { return &hllState{sk: s.sk.Clone()} }
func (s *hllState) result() any  { return int64(s.sk.Estimate()) }
func (s *hllState) value() any {
	b, err := s.sk.MarshalBinary()
	if err != nil {
		panic(err)
	}
	return b
}

// ---- APPROX_PERCENTILE: inputs cast to float32 (as Chronon's KLL float sketch). Exact while n ≤ k:
// p==0 → min, p==1 → max, else sorted[min(floor(p*n), n-1)] (spec §5). Beyond k values a t-digest
// (github.com/influxdata/tdigest, compression k; Chronon's KLL sketch is JVM-only) answers, with exact
// min and max kept for p==0 and p==1.

type pctKernel struct {
	k  int
	ps []float64
}

func (pctKernel) irType() *types.Type  { return types.BinaryType }
func (pctKernel) outType() *types.Type { return types.ListOf(types.FloatType) }
func (k pctKernel) newState() State    { return &pctState{k: k.k, ps: k.ps} }
func (pctKernel) deletable() bool      { return false }
func (k pctKernel) fromValue(v any) (State, error) {
	b, ok := v.([]byte)
	if !ok {
		return nil, irError("APPROX_PERCENTILE", v)
	}
	s := &pctState{k: k.k, ps: k.ps}
	return s, s.decode(b)
}

type pctState struct {
	unsupported
	k        int
	ps       []float64
	n        int64
	min, max float32
	vals     []float32 // exact mode (td == nil)
	td       *tdigest.TDigest
}

func (s *pctState) add(x float32) {
	if s.n == 0 || x < s.min {
		s.min = x
	}
	if s.n == 0 || x > s.max {
		s.max = x
	}
	s.n++
	if s.td != nil {
		s.td.Add(float64(x), 1)
		return
	}
	s.vals = append(s.vals, x)
	if len(s.vals) > s.k {
		s.toDigest()
	}
}

func (s *pctState) toDigest() {
	s.td = tdigest.NewWithCompression(float64(max(s.k, 20)))
	for _, x := range s.vals {
		s.td.Add(float64(x), 1)
	}
	s.vals = nil
}

func (s *pctState) addInt(_, v int64)           { s.add(float32(v)) }
func (s *pctState) addFloat(_ int64, v float64) { s.add(float32(v)) }
func (s *pctState) merge(o State) {
	x := o.(*pctState)
	if x.n == 0 {
		return
	}
	if s.td == nil && x.td == nil && len(s.vals)+len(x.vals) <= s.k {
		s.vals = append(s.vals, x.vals...)
	} else {
		if s.td == nil {
			s.toDigest()
		}
		if x.td != nil {
			s.td.AddCentroidList(x.td.Centroids())
		} else {
			for _, v := range x.vals {
				s.td.Add(float64(v), 1)
			}
		}
	}
	if s.n == 0 || x.min < s.min {
		s.min = x.min
	}
	if s.n == 0 || x.max > s.max {
		s.max = x.max
	}
	s.n += x.n
}

func (s *pctState) clone() State {
	c := *s
	c.vals = slices.Clone(s.vals)
	if s.td != nil {
		c.td = tdigest.NewWithCompression(s.td.Compression)
		c.td.AddCentroidList(s.td.Centroids())
	}
	return &c
}

func (s *pctState) result() any {
	out := make([]any, len(s.ps))
	var sorted []float32
	if s.td == nil {
		sorted = slices.Clone(s.vals)
		slices.Sort(sorted)
	}
	for i, p := range s.ps {
		var q float32
		switch {
		case p <= 0:
			q = s.min
		case p >= 1:
			q = s.max
		case s.td == nil:
			q = sorted[min(int64(math.Floor(p*float64(s.n))), s.n-1)]
		default:
			q = float32(s.td.Quantile(p))
		}
		out[i] = float64(q)
	}
	return out
}

// value encodes: mode byte (0 exact, 1 digest), n, min, max, then float32 values or (mean, weight)
// float64 centroid pairs.
func (s *pctState) value() any {
	b := make([]byte, 0, 32+8*len(s.vals))
	mode := byte(0)
	if s.td != nil {
		mode = 1
	}
	b = append(b, mode)
	b = binary.LittleEndian.AppendUint64(b, uint64(s.n))
	b = binary.LittleEndian.AppendUint32(b, math.Float32bits(s.min))
	b = binary.LittleEndian.AppendUint32(b, math.Float32bits(s.max))
	if s.td == nil {
		b = binary.LittleEndian.AppendUint32(b, uint32(len(s.vals)))
		for _, x := range s.vals {
			b = binary.LittleEndian.AppendUint32(b, math.Float32bits(x))
		}
		return b
	}
	cs := s.td.Centroids()
	b = binary.LittleEndian.AppendUint32(b, uint32(len(cs)))
	for _, c := range cs {
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(c.Mean))
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(c.Weight))
	}
	return b
}

var errShortIR = errors.New("aggregate: truncated sketch IR")

func (s *pctState) decode(b []byte) error {
	if len(b) < 21 {
		return errShortIR
	}
	mode := b[0]
	s.n = int64(binary.LittleEndian.Uint64(b[1:]))
	s.min = math.Float32frombits(binary.LittleEndian.Uint32(b[9:]))
	s.max = math.Float32frombits(binary.LittleEndian.Uint32(b[13:]))
	cnt := int(binary.LittleEndian.Uint32(b[17:]))
	b = b[21:]
	if mode == 0 {
		if len(b) < 4*cnt {
			return errShortIR
		}
		s.vals = make([]float32, cnt)
		for i := range s.vals {
			s.vals[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
		}
		return nil
	}
	if len(b) < 16*cnt {
		return errShortIR
	}
	s.td = tdigest.NewWithCompression(float64(max(s.k, 20)))
	cs := make(tdigest.CentroidList, cnt)
	for i := range cs {
		cs[i].Mean = math.Float64frombits(binary.LittleEndian.Uint64(b[16*i:]))
		cs[i].Weight = math.Float64frombits(binary.LittleEndian.Uint64(b[16*i+8:]))
	}
	s.td.AddCentroidList(cs)
	return nil
}

// ---- APPROX_HISTOGRAM_K: exact counts while at most k distinct values were seen (spec §5), then a
// mergeable Misra–Gries frequent-items summary with 4k counters (lower-bound counts); finalize keeps
// the k largest (ties by key). Keys are Java's String.valueOf of the item. No maintained Go
// frequent-items library is available to this project, and the algorithm is a few lines.

type freqKernel struct{ k int }

func (freqKernel) irType() *types.Type  { return types.BinaryType }
func (freqKernel) outType() *types.Type { return types.MapOf(types.StringType, types.LongType) }
func (k freqKernel) newState() State    { return &freqState{k: k.k, m: map[string]int64{}} }
func (freqKernel) deletable() bool      { return false }
func (k freqKernel) fromValue(v any) (State, error) {
	b, ok := v.([]byte)
	if !ok || len(b) < 5 {
		return nil, irError("APPROX_HISTOGRAM_K", v)
	}
	s := &freqState{k: k.k, approx: b[0] == 1, m: map[string]int64{}}
	n := int(binary.LittleEndian.Uint32(b[1:]))
	b = b[5:]
	for range n {
		l, w := binary.Uvarint(b)
		if w <= 0 || uint64(len(b)-w) < l+8 {
			return nil, errShortIR
		}
		key := string(b[w : w+int(l)])
		s.m[key] = int64(binary.LittleEndian.Uint64(b[w+int(l):]))
		b = b[w+int(l)+8:]
	}
	return s, nil
}

type freqState struct {
	unsupported
	k      int
	approx bool
	m      map[string]int64
}

func (s *freqState) capacity() int { return max(4*s.k, 16) }

func (s *freqState) incr(key string, w int64) {
	s.m[key] += w
	if !s.approx && len(s.m) > s.k {
		s.approx = true
	}
	s.shrink()
}

// shrink restores the counter budget: subtract the (capacity+1)-th largest count from every counter
// and drop the ones that reach zero (Misra–Gries; mergeable as in Agarwal et al. 2012).
func (s *freqState) shrink() {
	c := s.capacity()
	if !s.approx || len(s.m) <= c {
		return
	}
	counts := make([]int64, 0, len(s.m))
	for _, n := range s.m {
		counts = append(counts, n)
	}
	slices.Sort(counts)
	cut := counts[len(counts)-c-1]
	for key, n := range s.m {
		if n -= cut; n <= 0 {
			delete(s.m, key)
		} else {
			s.m[key] = n
		}
	}
}

func (s *freqState) addInt(_, v int64)           { s.incr(strconv.FormatInt(v, 10), 1) }
func (s *freqState) addFloat(_ int64, v float64) { s.incr(javaDouble(v), 1) }
func (s *freqState) addStr(_ int64, v string)    { s.incr(v, 1) }
func (s *freqState) merge(o State) {
	x := o.(*freqState)
	if x.approx {
		s.approx = true
	}
	for key, n := range x.m {
		s.m[key] += n
	}
	if !s.approx && len(s.m) > s.k {
		s.approx = true
	}
	s.shrink()
}
func (s *freqState) clone() State {
	c := &freqState{k: s.k, approx: s.approx, m: make(map[string]int64, len(s.m))}
	for key, n := range s.m {
		c.m[key] = n
	}
	return c
}
func (s *freqState) result() any {
	if s.k <= 0 {
		return &types.MapValue{}
	}
	if len(s.m) <= s.k {
		return countsMap(s.m, nil)
	}
	return countsMap(s.m, topKeys(s.m, s.k))
}
func (s *freqState) value() any {
	b := []byte{0}
	if s.approx {
		b[0] = 1
	}
	keys := make([]string, 0, len(s.m))
	for key := range s.m {
		keys = append(keys, key)
	}
	slices.Sort(keys)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(keys)))
	for _, key := range keys {
		b = binary.AppendUvarint(b, uint64(len(key)))
		b = append(b, key...)
		b = binary.LittleEndian.AppendUint64(b, uint64(s.m[key]))
	}
	return b
}

// javaDouble renders f as Java's Double.toString does (shortest round-trip digits; plain notation
// for 1e-3 <= |f| < 1e7, otherwise d.dddE±n; always a fractional digit).
func javaDouble(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	case f == 0:
		if math.Signbit(f) {
			return "-0.0"
		}
		return "0.0"
	}
	if a := math.Abs(f); a >= 1e-3 && a < 1e7 {
		s := strconv.FormatFloat(f, 'f', -1, 64)
		if !strings.Contains(s, ".") {
			s += ".0"
		}
		return s
	}
	s := strconv.FormatFloat(f, 'E', -1, 64) // e.g. 1.5E+10, 1E-05
	mant, exp, _ := strings.Cut(s, "E")
	if !strings.Contains(mant, ".") {
		mant += ".0"
	}
	e, _ := strconv.Atoi(exp)
	return mant + "E" + strconv.Itoa(e)
}
