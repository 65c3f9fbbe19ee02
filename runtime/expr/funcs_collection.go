package expr

import (
	"fmt"
	"sort"
	"strings"

	"github.com/chronon-go/chronon/runtime/types"
)

// Array, map and struct functions.

func init() {
	def("array", 0, -1, "array(x, ...) -> array<common type>", func(c *checker, call *astCall, args []node) (node, error) {
		ts := make([]*types.Type, len(args))
		for i, a := range args {
			ts[i] = a.typ()
		}
		t, ok := commonType(ts, true)
		if !ok {
			return nil, c.errAt(call.p, "array elements must have compatible types, got %s", typeList(ts))
		}
		a := make([]node, len(args))
		for i := range args {
			a[i] = c.cast(args[i], t)
		}
		return c.scalarNullSafe(call, types.ListOf(t), a, func(v []any) any { return append([]any{}, v...) }), nil
	})
	def("size,cardinality", 1, 1, "size(array|map) -> int; -1 for NULL (Spark's legacy sizeOfNull)", func(c *checker, call *astCall, args []node) (node, error) {
		k := args[0].typ().Kind
		if k != types.List && k != types.Map && k != types.Null {
			return nil, c.errAt(argPos(call, 0), "size needs an array or a map, got %s", args[0].typ())
		}
		return c.scalarNullSafe(call, types.IntType, args, func(v []any) any {
			switch x := v[0].(type) {
			case []any:
				return int64(len(x))
			case *types.MapValue:
				return int64(len(x.Keys))
			}
			return int64(-1)
		}), nil
	})
	def("element_at", 2, 2, "element_at(array, index) -> element: 1-based, negative from the end, NULL out of range; element_at(map, key) -> value", func(c *checker, call *astCall, args []node) (node, error) {
		t := args[0].typ()
		switch t.Kind {
		case types.List:
			idx, err := c.arg(call, args, 1, types.IntType)
			if err != nil {
				return nil, err
			}
			if v, ok := constArg([]node{idx}, 0); ok && v != nil && v.(int64) == 0 {
				return nil, c.errAt(argPos(call, 1), "element_at: SQL array indices start at 1")
			}
			return c.scalar(call, t.Elem, []node{args[0], idx}, func(v []any) any {
				xs, i := v[0].([]any), v[1].(int64)
				switch {
				case i > 0:
					return arrayAt(xs, i-1)
				case i < 0:
					return arrayAt(xs, int64(len(xs))+i)
				}
				return nil
			}), nil
		case types.Map:
			k, err := c.arg(call, args, 1, t.Key)
			if err != nil {
				return nil, err
			}
			return c.scalar(call, t.Value, []node{args[0], k}, func(v []any) any {
				return mapGet(v[0].(*types.MapValue), v[1], t.Key)
			}), nil
		}
		return nil, c.errAt(argPos(call, 0), "element_at needs an array or a map, got %s", t)
	})
	def("array_contains", 2, 2, "array_contains(array, value) -> boolean; NULL if not found and the array has NULLs", func(c *checker, call *astCall, args []node) (node, error) {
		t := args[0].typ()
		if t.Kind != types.List {
			return nil, c.errAt(argPos(call, 0), "array_contains needs an array, got %s", t)
		}
		et, ok := widerType(t.Elem, args[1].typ(), false)
		if !ok {
			return nil, c.errAt(argPos(call, 1), "array_contains: cannot look for %s in %s", args[1].typ(), t)
		}
		arr, x := c.cast(args[0], types.ListOf(et)), c.cast(args[1], et)
		return c.scalar(call, types.BooleanType, []node{arr, x}, func(v []any) any {
			sawNull := false
			for _, e := range v[0].([]any) {
				if e == nil {
					sawNull = true
				} else if compareValues(e, v[1], et) == 0 {
					return true
				}
			}
			if sawNull {
				return nil
			}
			return false
		}), nil
	})
	def("map", 0, -1, "map(k1, v1, k2, v2, ...) -> map<K,V>; a later duplicate key wins; a NULL key makes the map NULL", func(c *checker, call *astCall, args []node) (node, error) {
		if len(args)%2 != 0 {
			return nil, c.errAt(call.p, "map needs key/value pairs, got %d arguments", len(args))
		}
		var kts, vts []*types.Type
		for i := 0; i < len(args); i += 2 {
			kts = append(kts, args[i].typ())
			vts = append(vts, args[i+1].typ())
		}
		kt, ok1 := commonType(kts, true)
		vt, ok2 := commonType(vts, true)
		if !ok1 || !ok2 {
			return nil, c.errAt(call.p, "map keys and values must each have compatible types, got keys %s and values %s", typeList(kts), typeList(vts))
		}
		if kt.Kind == types.Map {
			return nil, c.errAt(call.p, "map keys cannot be maps")
		}
		a := make([]node, len(args))
		for i := range args {
			if i%2 == 0 {
				a[i] = c.cast(args[i], kt)
			} else {
				a[i] = c.cast(args[i], vt)
			}
		}
		return c.scalarNullSafe(call, types.MapOf(kt, vt), a, func(v []any) any {
			m := &types.MapValue{Keys: []any{}, Values: []any{}}
		next:
			for i := 0; i < len(v); i += 2 {
				if v[i] == nil {
					return nil
				}
				for j, k := range m.Keys {
					if compareValues(k, v[i], kt) == 0 {
						m.Values[j] = v[i+1]
						continue next
					}
				}
				m.Keys = append(m.Keys, v[i])
				m.Values = append(m.Values, v[i+1])
			}
			return m
		}), nil
	})
	def("map_keys", 1, 1, "map_keys(map) -> array<K>", func(c *checker, call *astCall, args []node) (node, error) {
		t := args[0].typ()
		if t.Kind != types.Map {
			return nil, c.errAt(argPos(call, 0), "map_keys needs a map, got %s", t)
		}
		return c.scalar(call, types.ListOf(t.Key), args, func(v []any) any { return append([]any{}, v[0].(*types.MapValue).Keys...) }), nil
	})
	def("map_values", 1, 1, "map_values(map) -> array<V>", func(c *checker, call *astCall, args []node) (node, error) {
		t := args[0].typ()
		if t.Kind != types.Map {
			return nil, c.errAt(argPos(call, 0), "map_values needs a map, got %s", t)
		}
		return c.scalar(call, types.ListOf(t.Value), args, func(v []any) any { return append([]any{}, v[0].(*types.MapValue).Values...) }), nil
	})
	def("named_struct", 2, -1, "named_struct(name1, v1, ...) -> struct", func(c *checker, call *astCall, args []node) (node, error) {
		if len(args)%2 != 0 {
			return nil, c.errAt(call.p, "named_struct needs name/value pairs, got %d arguments", len(args))
		}
		var fields []types.Field
		var vals []node
		for i := 0; i < len(args); i += 2 {
			name, ok := constArg(args, i)
			if !ok || args[i].typ().Kind != types.String || name == nil {
				return nil, c.errAt(argPos(call, i), "named_struct: field names must be string literals")
			}
			fields = append(fields, types.Field{Name: name.(string), Type: args[i+1].typ()})
			vals = append(vals, args[i+1])
		}
		return c.scalarNullSafe(call, types.StructOf("", fields...), vals, func(v []any) any { return types.StructValue(append([]any{}, v...)) }), nil
	})
	def("struct", 1, -1, "struct(x, ...) -> struct: fields named after columns, else col1, col2, ...", func(c *checker, call *astCall, args []node) (node, error) {
		fields := make([]types.Field, len(args))
		for i, a := range args {
			name := fmt.Sprintf("col%d", i+1)
			switch x := call.args[i].(type) {
			case *astIdent:
				name = x.name
			case *astField:
				name = x.name
			}
			fields[i] = types.Field{Name: name, Type: a.typ()}
		}
		return c.scalarNullSafe(call, types.StructOf("", fields...), args, func(v []any) any { return types.StructValue(append([]any{}, v...)) }), nil
	})
	def("get_json_object", 2, 2, "get_json_object(json, path) -> string: $ .name ['name'] [n] [*]; NULL for invalid JSON or no match", func(c *checker, call *astCall, args []node) (node, error) {
		a, err := c.argsAs(call, args, types.StringType)
		if err != nil {
			return nil, err
		}
		var konst []jsonStep
		if v, ok := constArg(a, 1); ok && v != nil {
			steps, ok := parseJSONPath(v.(string))
			if !ok {
				return nil, c.errAt(argPos(call, 1), "get_json_object: invalid JSON path %q", v)
			}
			konst = steps
		}
		return c.scalar(call, types.StringType, a, func(v []any) any {
			steps := konst
			if steps == nil {
				var ok bool
				if steps, ok = parseJSONPath(v[1].(string)); !ok {
					return nil
				}
			}
			return getJSONObject(v[0].(string), steps)
		}), nil
	})
}

// More array and map functions.
func init() {
	arrayArg := func(c *checker, call *astCall, args []node) (*types.Type, error) {
		t := args[0].typ()
		if t.Kind != types.List {
			return nil, c.errAt(argPos(call, 0), "%s needs an array, got %s", strings.ToLower(call.name), t)
		}
		return t, nil
	}
	def("sort_array", 1, 2, "sort_array(array[, asc=true]) -> array: NULLs first ascending, last descending", func(c *checker, call *astCall, args []node) (node, error) {
		t, err := arrayArg(c, call, args)
		if err != nil {
			return nil, err
		}
		a := []node{args[0]}
		if len(args) > 1 {
			asc, err := c.arg(call, args, 1, types.BooleanType)
			if err != nil {
				return nil, err
			}
			a = append(a, asc)
		}
		return c.scalar(call, t, a, func(v []any) any {
			xs := append([]any{}, v[0].([]any)...)
			asc := len(v) < 2 || v[1].(bool)
			sort.SliceStable(xs, func(i, j int) bool {
				cmp := compareNullable(xs[i], xs[j], t.Elem)
				if asc {
					return cmp < 0
				}
				return cmp > 0
			})
			return xs
		}), nil
	})
	def("array_distinct", 1, 1, "array_distinct(array) -> array: first occurrences, in order", func(c *checker, call *astCall, args []node) (node, error) {
		t, err := arrayArg(c, call, args)
		if err != nil {
			return nil, err
		}
		return c.scalar(call, t, args, func(v []any) any {
			var out []any
		next:
			for _, x := range v[0].([]any) {
				for _, y := range out {
					if compareNullable(x, y, t.Elem) == 0 && (x == nil) == (y == nil) {
						continue next
					}
				}
				out = append(out, x)
			}
			if out == nil {
				out = []any{}
			}
			return out
		}), nil
	})
	def("array_join", 2, 3, "array_join(array, sep[, nullReplacement]) -> string: NULL elements skipped unless replaced", func(c *checker, call *astCall, args []node) (node, error) {
		if _, err := arrayArg(c, call, args); err != nil {
			return nil, err
		}
		arr, err := c.arg(call, args, 0, types.ListOf(types.StringType))
		if err != nil {
			return nil, err
		}
		rest, err := c.argsAs(call, args[1:], types.StringType)
		if err != nil {
			return nil, err
		}
		return c.scalar(call, types.StringType, append([]node{arr}, rest...), func(v []any) any {
			var parts []string
			for _, x := range v[0].([]any) {
				if x == nil {
					if len(v) > 2 {
						parts = append(parts, v[2].(string))
					}
					continue
				}
				parts = append(parts, x.(string))
			}
			return strings.Join(parts, v[1].(string))
		}), nil
	})
	def("slice", 3, 3, "slice(array, start, length) -> array: start is 1-based (negative from the end); NULL for start 0 or a negative length", func(c *checker, call *astCall, args []node) (node, error) {
		t, err := arrayArg(c, call, args)
		if err != nil {
			return nil, err
		}
		rest, err := c.argsAs(call, args[1:], types.IntType)
		if err != nil {
			return nil, err
		}
		return c.scalar(call, t, append([]node{args[0]}, rest...), func(v []any) any {
			xs, start, n := v[0].([]any), v[1].(int64), v[2].(int64)
			if start == 0 || n < 0 {
				return nil // Spark raises an error
			}
			if start < 0 {
				start += int64(len(xs)) + 1
			}
			i := start - 1
			if i < 0 || i >= int64(len(xs)) {
				return []any{}
			}
			end := min(i+n, int64(len(xs)))
			return append([]any{}, xs[i:end]...)
		}), nil
	})
	extreme := func(name string, sign int) {
		def(name, 1, 1, name+"(array) -> element: NULL elements skipped; NULL for an empty array", func(c *checker, call *astCall, args []node) (node, error) {
			t, err := arrayArg(c, call, args)
			if err != nil {
				return nil, err
			}
			return c.scalar(call, t.Elem, args, func(v []any) any {
				var best any
				for _, x := range v[0].([]any) {
					if x != nil && (best == nil || compareValues(x, best, t.Elem)*sign > 0) {
						best = x
					}
				}
				return best
			}), nil
		})
	}
	extreme("array_max", 1)
	extreme("array_min", -1)
	def("array_position", 2, 2, "array_position(array, value) -> bigint: 1-based position of the first match, 0 if none", func(c *checker, call *astCall, args []node) (node, error) {
		t, err := arrayArg(c, call, args)
		if err != nil {
			return nil, err
		}
		x, err := c.arg(call, args, 1, t.Elem)
		if err != nil {
			return nil, err
		}
		return c.scalar(call, types.LongType, []node{args[0], x}, func(v []any) any {
			for i, e := range v[0].([]any) {
				if e != nil && compareValues(e, v[1], t.Elem) == 0 {
					return int64(i + 1)
				}
			}
			return int64(0)
		}), nil
	})
	def("flatten", 1, 1, "flatten(array<array<T>>) -> array<T>; NULL if any inner array is NULL", func(c *checker, call *astCall, args []node) (node, error) {
		t, err := arrayArg(c, call, args)
		if err != nil {
			return nil, err
		}
		if t.Elem.Kind != types.List {
			return nil, c.errAt(argPos(call, 0), "flatten needs an array of arrays, got %s", t)
		}
		return c.scalar(call, t.Elem, args, func(v []any) any {
			out := []any{}
			for _, inner := range v[0].([]any) {
				if inner == nil {
					return nil
				}
				out = append(out, inner.([]any)...)
			}
			return out
		}), nil
	})
	def("map_from_arrays", 2, 2, "map_from_arrays(keys, values) -> map; NULL when the lengths differ or a key is NULL", func(c *checker, call *astCall, args []node) (node, error) {
		kt, vt := args[0].typ(), args[1].typ()
		if kt.Kind != types.List || vt.Kind != types.List {
			return nil, c.errAt(call.p, "map_from_arrays needs two arrays, got %s and %s", kt, vt)
		}
		return c.scalar(call, types.MapOf(kt.Elem, vt.Elem), args, func(v []any) any {
			ks, vs := v[0].([]any), v[1].([]any)
			if len(ks) != len(vs) {
				return nil
			}
			m := &types.MapValue{Keys: []any{}, Values: []any{}}
		next:
			for i, k := range ks {
				if k == nil {
					return nil
				}
				for j, x := range m.Keys {
					if compareValues(x, k, kt.Elem) == 0 {
						m.Values[j] = vs[i]
						continue next
					}
				}
				m.Keys = append(m.Keys, k)
				m.Values = append(m.Values, vs[i])
			}
			return m
		}), nil
	})
	def("map_contains_key", 2, 2, "map_contains_key(map, key) -> boolean", func(c *checker, call *astCall, args []node) (node, error) {
		t := args[0].typ()
		if t.Kind != types.Map {
			return nil, c.errAt(argPos(call, 0), "map_contains_key needs a map, got %s", t)
		}
		k, err := c.arg(call, args, 1, t.Key)
		if err != nil {
			return nil, err
		}
		return c.scalar(call, types.BooleanType, []node{args[0], k}, func(v []any) any {
			for _, x := range v[0].(*types.MapValue).Keys {
				if x != nil && compareValues(x, v[1], t.Key) == 0 {
					return true
				}
			}
			return false
		}), nil
	})
	def("typeof", 1, 1, "typeof(x) -> string: the Spark name of x's type", func(c *checker, call *astCall, args []node) (node, error) {
		return &litNode{v: args[0].typ().String(), t: types.StringType}, nil
	})
}
