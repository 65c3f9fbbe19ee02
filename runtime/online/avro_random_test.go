package online

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/hamba/avro/v2"

	"github.com/chronon-go/chronon/runtime/types"
)

// TestAvroRandomRoundTrip builds random schemas (nested lists, maps, structs, repeated names) and
// random rows, and checks that (1) Decode(Encode(row)) == row, (2) hamba/avro's own generic decoder
// reads the same values from our bytes and its encoder (Java-style blocks, no byte-size headers)
// writes the same bytes (when no map has several entries: hamba iterates Go maps), and (3) the schema JSON parses back to the same rendering. Set
// CHRONON_TEST_SEED to replay a seed.
func TestAvroRandomRoundTrip(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("CHRONON_TEST_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		seed = v
	}
	t.Logf("seed %d (replay with CHRONON_TEST_SEED=%d)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	javaStyle := avro.Config{DisableBlockSizeHeader: true}.Freeze()
	for iter := 0; iter < 300; iter++ {
		g := &randGen{rng: rng}
		fields := g.fields(0)
		s, err := NewAvroSchema("Value", fields)
		if err != nil {
			t.Fatalf("seed %d iter %d: schema %v: %v", seed, iter, fields, err)
		}
		p, err := ParseAvroSchema(s.String())
		if err != nil || p.String() != s.String() {
			t.Fatalf("seed %d iter %d: schema does not re-parse (%v):\n%s", seed, iter, err, s.String())
		}
		if !reflect.DeepEqual(stripNames(p.Type()), stripNames(types.StructOf("", fields...))) {
			t.Fatalf("seed %d iter %d: parsed type %s != %s", seed, iter, p.Type(), types.StructOf("", fields...))
		}
		hs, err := avro.Parse(s.Compact())
		if err != nil {
			t.Fatalf("seed %d iter %d: hamba parse: %v", seed, iter, err)
		}
		for r := 0; r < 5; r++ {
			row := make([]any, len(fields))
			for i, f := range fields {
				row[i] = g.value(f.Type, true)
			}
			b, err := s.Encode(row)
			if err != nil {
				t.Fatalf("seed %d iter %d: encode %s: %v", seed, iter, fmtValue(types.StructValue(row)), err)
			}
			back, err := s.Decode(b)
			if err != nil {
				t.Fatalf("seed %d iter %d: decode: %v", seed, iter, err)
			}
			if fmtValue(types.StructValue(back)) != fmtValue(types.StructValue(row)) {
				t.Fatalf("seed %d iter %d: round trip\n got %s\nwant %s", seed, iter, fmtValue(types.StructValue(back)), fmtValue(types.StructValue(row)))
			}
			if js, err := s.EncodeJSON(row); err != nil || !json.Valid([]byte(js)) {
				t.Fatalf("seed %d iter %d: EncodeJSON: %v %s", seed, iter, err, js)
			}
			var generic any
			if err := avro.Unmarshal(hs, b, &generic); err != nil {
				t.Fatalf("seed %d iter %d: hamba cannot read our bytes: %v\n%s", seed, iter, err, s.String())
			}
			fromHambaVal := hambaToBoxed(s.root, generic)
			if fmtValue(fromHambaVal) != fmtValue(types.StructValue(row)) {
				t.Fatalf("seed %d iter %d: hamba reads\n %s\nwant %s", seed, iter, fmtValue(fromHambaVal), fmtValue(types.StructValue(row)))
			}
			hb, err := javaStyle.Marshal(hs, generic)
			if err != nil {
				t.Fatalf("seed %d iter %d: hamba marshal: %v", seed, iter, err)
			}
			// Go maps have no order: compare bytes only when every map has at most one entry.
			if !hasMultiEntryMap(row) && !bytes.Equal(hb, b) {
				t.Fatalf("seed %d iter %d: hamba writes %x, we write %x", seed, iter, hb, b)
			}
		}
	}
}

// stripNames clears struct and field names (Avro names are sanitized and made unique).
func stripNames(t *types.Type) *types.Type {
	c := *t
	c.Name = ""
	switch t.Kind {
	case types.List:
		c.Elem = stripNames(t.Elem)
	case types.Map:
		c.Key, c.Value = stripNames(t.Key), stripNames(t.Value)
	case types.Struct:
		c.Fields = make([]types.Field, len(t.Fields))
		for i, f := range t.Fields {
			c.Fields[i] = types.Field{Type: stripNames(f.Type)}
		}
	}
	return &c
}

// hambaToBoxed converts hamba's generic value (records as map[string]any, non-primitive union
// branches wrapped as {"branch": v}, ints as int, floats as float32) into our boxed form. Map entry
// order is lost in hamba's Go maps, so maps are compared with sorted keys (randGen writes sorted keys).
func hambaToBoxed(n *avroNode, v any) any {
	if v == nil {
		return nil
	}
	if n.nullable && (n.kind == types.List || n.kind == types.Map || n.kind == types.Struct) {
		for _, inner := range v.(map[string]any) {
			v = inner
		}
	}
	switch n.kind {
	case types.Byte, types.Short, types.Int:
		return int64(v.(int))
	case types.Float:
		return float64(v.(float32))
	case types.List:
		l := v.([]any)
		out := make([]any, len(l))
		for i, e := range l {
			out[i] = hambaToBoxed(n.items, e)
		}
		return out
	case types.Map:
		m := v.(map[string]any)
		out := &types.MapValue{Keys: []any{}, Values: []any{}}
		for _, k := range sortedKeys(m) {
			out.Keys = append(out.Keys, k)
			out.Values = append(out.Values, hambaToBoxed(n.items, m[k]))
		}
		return out
	case types.Struct:
		m := v.(map[string]any)
		out := make(types.StructValue, len(n.fields))
		for i, f := range n.fields {
			out[i] = hambaToBoxed(f.node, m[f.name])
		}
		return out
	}
	return v
}

func hasMultiEntryMap(v any) bool {
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			if hasMultiEntryMap(e) {
				return true
			}
		}
	case types.StructValue:
		return hasMultiEntryMap([]any(x))
	case *types.MapValue:
		return len(x.Keys) > 1 || hasMultiEntryMap(x.Values)
	}
	return false
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	for i := 1; i < len(keys); i++ {
		for j := i; j > 0 && keys[j] < keys[j-1]; j-- {
			keys[j], keys[j-1] = keys[j-1], keys[j]
		}
	}
	return keys
}

type randGen struct {
	rng *rand.Rand
}

var randNames = []string{"a", "b", "sum", "count", "x.y", "x-y", "Value", "ts", "ValueStruct", "a_REPEATED_NAME_0"}

func (g *randGen) fields(depth int) types.Schema {
	n := g.rng.IntN(4)
	if depth == 0 {
		n++
	}
	out := make(types.Schema, 0, n)
	used := map[string]bool{}
	for len(out) < n {
		name := randNames[g.rng.IntN(len(randNames))]
		if used[SanitizeName(name)] {
			continue
		}
		used[SanitizeName(name)] = true
		out = append(out, types.Field{Name: name, Type: g.typ(depth)})
	}
	return out
}

var randPrims = []*types.Type{types.BooleanType, types.ByteType, types.ShortType, types.IntType, types.LongType,
	types.FloatType, types.DoubleType, types.StringType, types.BinaryType}

func (g *randGen) typ(depth int) *types.Type {
	if depth >= 3 || g.rng.IntN(3) > 0 {
		return randPrims[g.rng.IntN(len(randPrims))]
	}
	switch g.rng.IntN(3) {
	case 0:
		return types.ListOf(g.typ(depth + 1))
	case 1:
		return types.MapOf(types.StringType, g.typ(depth+1))
	}
	return types.StructOf("", g.fields(depth+1)...)
}

// value draws a value of t; nullable positions are null 1 time in 5.
func (g *randGen) value(t *types.Type, nullable bool) any {
	if nullable && g.rng.IntN(5) == 0 {
		return nil
	}
	switch t.Kind {
	case types.Boolean:
		return g.rng.IntN(2) == 1
	case types.Byte:
		return int64(int8(g.rng.Uint32()))
	case types.Short:
		return int64(int16(g.rng.Uint32()))
	case types.Int:
		return int64(int32(g.rng.Uint32()))
	case types.Long:
		switch g.rng.IntN(3) {
		case 0:
			return int64(g.rng.Uint64())
		case 1:
			return []int64{math.MinInt64, math.MaxInt64, 0, -1}[g.rng.IntN(4)]
		}
		return g.rng.Int64N(1000) - 500
	case types.Float:
		return float64(float32(g.rng.NormFloat64() * 1e3))
	case types.Double:
		if g.rng.IntN(10) == 0 {
			return math.Inf(1)
		}
		return g.rng.NormFloat64() * math.Pow(10, float64(g.rng.IntN(40)-20))
	case types.String:
		return fmt.Sprintf("s%dé", g.rng.IntN(1000))[:g.rng.IntN(5)]
	case types.Binary:
		b := make([]byte, g.rng.IntN(5))
		for i := range b {
			b[i] = byte(g.rng.Uint32())
		}
		return b
	case types.List:
		out := make([]any, g.rng.IntN(4))
		for i := range out {
			out[i] = g.value(t.Elem, false)
		}
		return out
	case types.Map:
		m := &types.MapValue{Keys: []any{}, Values: []any{}}
		for i, n := 0, g.rng.IntN(4); i < n; i++ {
			m.Keys = append(m.Keys, "k"+strconv.Itoa(i))
			m.Values = append(m.Values, g.value(t.Value, false))
		}
		return m
	case types.Struct:
		out := make(types.StructValue, len(t.Fields))
		for i, f := range t.Fields {
			out[i] = g.value(f.Type, true)
		}
		return out
	}
	panic(t.String())
}
