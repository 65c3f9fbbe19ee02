package expr

import (
	"math"
	"math/bits"

	"github.com/chronon-go/chronon/runtime/types"
)

// hash(...) is Spark's Murmur3Hash (seed 42): the arguments' values are hashed in turn, each result
// seeding the next; NULLs leave the seed unchanged. Strings and binaries use Spark's legacy byte-tail
// variant of Murmur3_x86_32, so results equal Spark's (used for sampling and bucketing expressions).

func init() {
	def("hash", 1, -1, "hash(x, ...) -> int: Spark's Murmur3 hash with seed 42", func(c *checker, call *astCall, args []node) (node, error) {
		ts := make([]*types.Type, len(args))
		for i, a := range args {
			ts[i] = a.typ()
		}
		return c.scalarNullSafe(call, types.IntType, args, func(v []any) any {
			h := int32(42)
			for i, x := range v {
				h = murmurValue(x, ts[i], h)
			}
			return int64(h)
		}), nil
	})
}

func murmurValue(v any, t *types.Type, seed int32) int32 {
	if v == nil {
		return seed
	}
	switch t.Kind {
	case types.Boolean:
		if v.(bool) {
			return murmurInt(1, seed)
		}
		return murmurInt(0, seed)
	case types.Byte, types.Short, types.Int, types.Date:
		return murmurInt(int32(v.(int64)), seed)
	case types.Long, types.Timestamp:
		return murmurLong(v.(int64), seed)
	case types.Float:
		f := float32(v.(float64))
		if f == 0 {
			f = 0 // -0.0 hashes like 0.0
		}
		b := math.Float32bits(f)
		if f != f {
			b = 0x7fc00000 // Java's canonical NaN
		}
		return murmurInt(int32(b), seed)
	case types.Double:
		f := v.(float64)
		if f == 0 {
			f = 0
		}
		b := math.Float64bits(f)
		if math.IsNaN(f) {
			b = 0x7ff8000000000000
		}
		return murmurLong(int64(b), seed)
	case types.String:
		return murmurBytes([]byte(v.(string)), seed)
	case types.Binary:
		return murmurBytes(v.([]byte), seed)
	case types.List:
		for _, x := range v.([]any) {
			seed = murmurValue(x, t.Elem, seed)
		}
		return seed
	case types.Map:
		m := v.(*types.MapValue)
		for i := range m.Keys {
			seed = murmurValue(m.Keys[i], t.Key, seed)
			seed = murmurValue(m.Values[i], t.Value, seed)
		}
		return seed
	case types.Struct:
		for i, x := range v.(types.StructValue) {
			seed = murmurValue(x, t.Fields[i].Type, seed)
		}
		return seed
	}
	return seed
}

func mixK1(k uint32) uint32 {
	k *= 0xcc9e2d51
	k = bits.RotateLeft32(k, 15)
	return k * 0x1b873593
}

func mixH1(h, k uint32) uint32 {
	h ^= k
	h = bits.RotateLeft32(h, 13)
	return h*5 + 0xe6546b64
}

func fmix(h uint32, length uint32) int32 {
	h ^= length
	h ^= h >> 16
	h *= 0x85ebca6b
	h ^= h >> 13
	h *= 0xc2b2ae35
	h ^= h >> 16
	return int32(h)
}

func murmurInt(x, seed int32) int32 {
	return fmix(mixH1(uint32(seed), mixK1(uint32(x))), 4)
}

func murmurLong(x int64, seed int32) int32 {
	h := mixH1(uint32(seed), mixK1(uint32(x)))
	h = mixH1(h, mixK1(uint32(uint64(x)>>32)))
	return fmix(h, 8)
}

func murmurBytes(b []byte, seed int32) int32 {
	h := uint32(seed)
	aligned := len(b) - len(b)%4
	for i := 0; i < aligned; i += 4 {
		w := uint32(b[i]) | uint32(b[i+1])<<8 | uint32(b[i+2])<<16 | uint32(b[i+3])<<24
		h = mixH1(h, mixK1(w))
	}
	for i := aligned; i < len(b); i++ {
		h = mixH1(h, mixK1(uint32(int32(int8(b[i]))))) // Spark mixes each tail byte, sign-extended
	}
	return fmix(h, uint32(len(b)))
}
