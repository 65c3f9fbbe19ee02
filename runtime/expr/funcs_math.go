package expr

import (
	"math"
	"math/rand/v2"
	"strconv"
	"strings"

	"github.com/chronon-go/chronon/runtime/types"
)

// Math functions. Transcendentals use Go's math package, which may differ from Java's StrictMath in
// the last bit for some inputs.

func init() {
	def("abs", 1, 1, "abs(x) -> type of x; abs of the smallest integer wraps (stays negative) like Java", func(c *checker, call *astCall, args []node) (node, error) {
		x, err := c.numArg(call, args, 0)
		if err != nil {
			return nil, err
		}
		t := x.typ()
		return c.scalar(call, t, []node{x}, func(v []any) any {
			if f, ok := v[0].(float64); ok {
				return math.Abs(f)
			}
			n := v[0].(int64)
			if n < 0 {
				n = wrapInt(-n, t.Kind)
			}
			return n
		}), nil
	})
	def("round", 1, 2, "round(x[, scale=0]) -> type of x, HALF_UP on the shortest decimal form of x", buildRound(false))
	def("bround", 1, 2, "bround(x[, scale=0]) -> type of x, HALF_EVEN", buildRound(true))
	def("floor", 1, 1, "floor(x) -> bigint; NaN gives 0, values beyond the bigint range saturate", buildFloorCeil(math.Floor))
	def("ceil,ceiling", 1, 1, "ceil(x) -> bigint; NaN gives 0, values beyond the bigint range saturate", buildFloorCeil(math.Ceil))
	def("pow,power", 2, 2, "pow(x, y) -> double", doubleFn(func(v []float64) any { return math.Pow(v[0], v[1]) }))
	def("sqrt", 1, 1, "sqrt(x) -> double (NaN for negative x)", doubleFn(func(v []float64) any { return math.Sqrt(v[0]) }))
	def("cbrt", 1, 1, "cbrt(x) -> double", doubleFn(func(v []float64) any { return math.Cbrt(v[0]) }))
	def("exp", 1, 1, "exp(x) -> double", doubleFn(func(v []float64) any { return math.Exp(v[0]) }))
	def("ln", 1, 1, "ln(x) -> double; NULL for x <= 0", doubleFn(func(v []float64) any { return logOrNull(v[0], math.Log) }))
	def("log10", 1, 1, "log10(x) -> double; NULL for x <= 0", doubleFn(func(v []float64) any { return logOrNull(v[0], math.Log10) }))
	def("log2", 1, 1, "log2(x) -> double; NULL for x <= 0", doubleFn(func(v []float64) any {
		return logOrNull(v[0], func(x float64) float64 { return math.Log(x) / math.Ln2 })
	}))
	def("log", 1, 2, "log([base,] x) -> double: natural log, or log of x in base; NULL for x <= 0 or base <= 0", doubleFn(func(v []float64) any {
		if len(v) == 1 {
			return logOrNull(v[0], math.Log)
		}
		if v[0] <= 0 || v[1] <= 0 {
			return nil
		}
		return math.Log(v[1]) / math.Log(v[0])
	}))
	def("signum,sign", 1, 1, "signum(x) -> double: -1.0, 0.0 or 1.0", doubleFn(func(v []float64) any {
		switch {
		case v[0] > 0:
			return 1.0
		case v[0] < 0:
			return -1.0
		}
		return v[0] // 0, -0 or NaN
	}))
	def("pmod", 2, 2, "pmod(x, y) -> wider type: positive modulus; NULL when y = 0", func(c *checker, call *astCall, args []node) (node, error) {
		x, err := c.numArg(call, args, 0)
		if err != nil {
			return nil, err
		}
		y, err := c.numArg(call, args, 1)
		if err != nil {
			return nil, err
		}
		t := widerNumeric(x.typ(), y.typ())
		x, y = c.cast(x, t), c.cast(y, t)
		return c.scalar(call, t, []node{x, y}, func(v []any) any {
			r := arith("%", v[0], v[1], t)
			if r == nil {
				return nil
			}
			if f, ok := r.(float64); ok {
				if f < 0 {
					return arith("%", arith("+", f, v[1], t), v[1], t)
				}
				return f
			}
			if r.(int64) < 0 {
				return arith("%", arith("+", r, v[1], t), v[1], t)
			}
			return r
		}), nil
	})
	def("greatest", 2, -1, "greatest(x, y, ...) -> common type; skips NULLs", buildGreatestLeast(1))
	def("least", 2, -1, "least(x, y, ...) -> common type; skips NULLs", buildGreatestLeast(-1))
	def("rand,random", 0, 1, "rand([seed]) -> double in [0, 1), a new value per row; the seed is accepted but ignored", func(c *checker, call *astCall, args []node) (node, error) {
		if len(args) == 1 && !args[0].typ().IsIntegral() && args[0].typ().Kind != types.Null {
			return nil, c.errAt(argPos(call, 0), "rand: the seed must be an integer, got %s", args[0].typ())
		}
		return randNode{}, nil
	})
	def("isnan", 1, 1, "isnan(x) -> boolean; false for NULL", func(c *checker, call *astCall, args []node) (node, error) {
		x, err := c.arg(call, args, 0, types.DoubleType)
		if err != nil {
			return nil, err
		}
		return c.scalarNullSafe(call, types.BooleanType, []node{x}, func(v []any) any {
			return v[0] != nil && math.IsNaN(v[0].(float64))
		}), nil
	})
}

func logOrNull(x float64, f func(float64) float64) any {
	if x <= 0 {
		return nil
	}
	return f(x)
}

// doubleFn builds a function over doubles (every argument cast to double) returning double or NULL.
func doubleFn(f func([]float64) any) func(c *checker, call *astCall, args []node) (node, error) {
	return func(c *checker, call *astCall, args []node) (node, error) {
		a, err := c.argsAs(call, args, types.DoubleType)
		if err != nil {
			return nil, err
		}
		return c.scalar(call, types.DoubleType, a, func(v []any) any {
			var buf [2]float64
			fs := buf[:0]
			for _, x := range v {
				fs = append(fs, x.(float64))
			}
			return f(fs)
		}), nil
	}
}

func buildFloorCeil(f func(float64) float64) func(c *checker, call *astCall, args []node) (node, error) {
	return func(c *checker, call *astCall, args []node) (node, error) {
		x, err := c.numArg(call, args, 0)
		if err != nil {
			return nil, err
		}
		if x.typ().IsIntegral() {
			return c.cast(x, types.LongType), nil
		}
		return c.scalar(call, types.LongType, []node{x}, func(v []any) any { return f2l(f(v[0].(float64))) }), nil
	}
}

func buildRound(halfEven bool) func(c *checker, call *astCall, args []node) (node, error) {
	return func(c *checker, call *astCall, args []node) (node, error) {
		x, err := c.numArg(call, args, 0)
		if err != nil {
			return nil, err
		}
		scale := int64(0)
		if len(args) > 1 {
			s, err := c.arg(call, args, 1, types.IntType)
			if err != nil {
				return nil, err
			}
			v, ok := s.(*litNode)
			if !ok || v.v == nil {
				return nil, c.errAt(argPos(call, 1), "%s: the scale must be a constant integer", strings.ToLower(call.name))
			}
			scale = v.v.(int64)
		}
		t := x.typ()
		return c.scalar(call, t, []node{x}, func(v []any) any {
			if f, ok := v[0].(float64); ok {
				bits := 64
				if t.Kind == types.Float {
					bits = 32
				}
				return roundDecimal(f, int(scale), bits, halfEven)
			}
			return wrapInt(roundInt(v[0].(int64), scale, halfEven), t.Kind)
		}), nil
	}
}

// roundDecimal rounds the shortest decimal representation of f (what Java's Double.toString shows,
// which Spark's BigDecimal(double) uses) to scale fractional digits.
func roundDecimal(f float64, scale, bits int, halfEven bool) float64 {
	if math.IsNaN(f) || math.IsInf(f, 0) || f == 0 {
		return f
	}
	neg := f < 0
	e := strconv.FormatFloat(math.Abs(f), 'e', -1, bits)
	mant, expS, _ := strings.Cut(e, "e")
	digits := strings.Replace(mant, ".", "", 1)
	exp, _ := strconv.Atoi(expS)
	keep := exp + 1 + scale // digits that survive
	if keep >= len(digits) {
		return f
	}
	if keep < 0 {
		return 0
	}
	kept := []byte(digits[:keep])
	up := digits[keep] > '5' || digits[keep] == '5' && !halfEven
	if digits[keep] == '5' && halfEven {
		rest := strings.TrimRight(digits[keep+1:], "0")
		up = rest != "" || keep > 0 && (kept[keep-1]-'0')%2 == 1
	}
	if up { // add one to the kept digits
		i := len(kept) - 1
		for i >= 0 && kept[i] == '9' {
			kept[i] = '0'
			i--
		}
		if i < 0 {
			kept = append([]byte{'1'}, kept...)
		} else {
			kept[i]++
		}
	}
	if len(kept) == 0 {
		kept = []byte{'0'}
	}
	r, _ := strconv.ParseFloat(string(kept)+"e"+strconv.Itoa(-scale), bits)
	if bits == 32 {
		r = float64(float32(r))
	}
	if neg {
		r = -r
	}
	return r
}

func roundInt(x, scale int64, halfEven bool) int64 {
	if scale >= 0 {
		return x
	}
	if scale < -18 {
		return 0
	}
	p := int64(1)
	for i := int64(0); i < -scale; i++ {
		p *= 10
	}
	q, r := x/p, x%p
	if r < 0 {
		r = -r
	}
	up := 2*r > p || 2*r == p && (!halfEven || q%2 != 0)
	if up {
		if x < 0 {
			q--
		} else {
			q++
		}
	}
	return q * p
}

func buildGreatestLeast(sign int) func(c *checker, call *astCall, args []node) (node, error) {
	return func(c *checker, call *astCall, args []node) (node, error) {
		ts := make([]*types.Type, len(args))
		for i, a := range args {
			ts[i] = a.typ()
		}
		t, ok := commonType(ts, false)
		if !ok || t.Kind == types.Map {
			return nil, c.errAt(call.p, "%s needs arguments of one type, got %s", strings.ToLower(call.name), typeList(ts))
		}
		a := make([]node, len(args))
		for i := range args {
			a[i] = c.cast(args[i], t)
		}
		return c.scalarNullSafe(call, t, a, func(v []any) any {
			var best any
			for _, x := range v {
				if x != nil && (best == nil || compareValues(x, best, t)*sign > 0) {
					best = x
				}
			}
			return best
		}), nil
	}
}

// randNode draws a fresh value per row (Spark's per-partition seeded XORShift sequence cannot be
// reproduced, so seeds are ignored).
type randNode struct{}

func (randNode) typ() *types.Type  { return types.DoubleType }
func (randNode) volatile() bool    { return true }
func (randNode) evalRow([]any) any { return rand.Float64() }
func (randNode) evalVec(ctx *batchCtx) vec {
	out := &types.Column{Type: types.DoubleType, Floats: make([]float64, ctx.n)}
	for i := range out.Floats {
		out.Floats[i] = rand.Float64()
	}
	return colVec(out)
}

// Trigonometry, constants and integer helpers.
func init() {
	for name, f := range map[string]func(float64) float64{
		"sin": math.Sin, "cos": math.Cos, "tan": math.Tan, "asin": math.Asin, "acos": math.Acos, "atan": math.Atan,
		"sinh": math.Sinh, "cosh": math.Cosh, "tanh": math.Tanh, "rint": math.RoundToEven,
		"degrees": func(x float64) float64 { return x * 180 / math.Pi }, "radians": func(x float64) float64 { return x / 180 * math.Pi },
		"expm1": math.Expm1, "log1p": func(x float64) float64 {
			if x <= -1 {
				return math.NaN() // replaced by NULL below
			}
			return math.Log1p(x)
		},
	} {
		f, name := f, name
		def(name, 1, 1, name+"(x) -> double", doubleFn(func(v []float64) any {
			r := f(v[0])
			if name == "log1p" && v[0] <= -1 {
				return nil
			}
			return r
		}))
	}
	def("atan2", 2, 2, "atan2(y, x) -> double", doubleFn(func(v []float64) any { return math.Atan2(v[0], v[1]) }))
	def("hypot", 2, 2, "hypot(x, y) -> double", doubleFn(func(v []float64) any { return math.Hypot(v[0], v[1]) }))
	def("pi", 0, 0, "pi() -> double", func(c *checker, call *astCall, args []node) (node, error) {
		return &litNode{v: math.Pi, t: types.DoubleType}, nil
	})
	def("e", 0, 0, "e() -> double", func(c *checker, call *astCall, args []node) (node, error) {
		return &litNode{v: math.E, t: types.DoubleType}, nil
	})
	def("mod", 2, 2, "mod(x, y) -> wider type: x % y; NULL when y = 0", func(c *checker, call *astCall, args []node) (node, error) {
		return c.arithmetic(&astBinary{p: call.p, op: "%", l: call.args[0], r: call.args[1]}, args[0], args[1])
	})
	def("negative", 1, 1, "negative(x) -> type of x: -x", func(c *checker, call *astCall, args []node) (node, error) {
		return c.unaryOn(&astUnary{p: call.p, op: "-", x: call.args[0]}, args[0])
	})
	def("positive", 1, 1, "positive(x) -> type of x: x", func(c *checker, call *astCall, args []node) (node, error) {
		return c.unaryOn(&astUnary{p: call.p, op: "+", x: call.args[0]}, args[0])
	})
	shift := func(name, doc string, f func(x, n int64, k types.Kind) int64) {
		def(name, 2, 2, name+"(x, n) -> type of x (int or bigint): "+doc, func(c *checker, call *astCall, args []node) (node, error) {
			x := args[0]
			if !x.typ().IsIntegral() {
				return nil, c.errAt(argPos(call, 0), "argument 1 of %s must be an integer, got %s", name, x.typ())
			}
			if x.typ().Kind != types.Long {
				x = c.cast(x, types.IntType)
			}
			n, err := c.arg(call, args, 1, types.IntType)
			if err != nil {
				return nil, err
			}
			k := x.typ().Kind
			return c.scalar(call, x.typ(), []node{x, n}, func(v []any) any { return f(v[0].(int64), v[1].(int64), k) }), nil
		})
	}
	// Java masks the shift distance to the operand width.
	width := func(k types.Kind) int64 {
		if k == types.Long {
			return 63
		}
		return 31
	}
	shift("shiftleft", "x << n", func(x, n int64, k types.Kind) int64 { return wrapInt(x<<(n&width(k)), k) })
	shift("shiftright", "x >> n (arithmetic)", func(x, n int64, k types.Kind) int64 { return x >> (n & width(k)) })
	shift("shiftrightunsigned", "x >>> n (logical)", func(x, n int64, k types.Kind) int64 {
		if k == types.Long {
			return int64(uint64(x) >> (n & 63))
		}
		return wrapInt(int64(uint32(x)>>(n&31)), k)
	})
	def("nanvl", 2, 2, "nanvl(x, y) -> double: y if x is NaN, else x", func(c *checker, call *astCall, args []node) (node, error) {
		a, err := c.argsAs(call, args, types.DoubleType)
		if err != nil {
			return nil, err
		}
		return c.scalarNullSafe(call, types.DoubleType, a, func(v []any) any {
			if v[0] != nil && math.IsNaN(v[0].(float64)) {
				return v[1]
			}
			return v[0]
		}), nil
	})
}
