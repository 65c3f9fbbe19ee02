package expr

import (
	"testing"

	"github.com/chronon-go/chronon/runtime/types"
)

// FuzzCompile checks that no input makes the parser or type checker panic, and that whatever compiles
// evaluates on a small batch. Run with: go test -fuzz FuzzCompile ./runtime/expr/
func FuzzCompile(f *testing.F) {
	for _, s := range []string{"a + 1", "CASE WHEN s LIKE 'x%' THEN a ELSE NULL END", "substr(s, -2, 5)",
		"cast(s as array<int>)", "m['k'] IS NULL", "`a` IN (1, 2.5, '3')", "from_unixtime(a, 'yyyy-MM-dd')",
		"x'0A'", "-2147483648", "get_json_object(s, '$.a[*]')", "date_add(s, a) > '2023-01-01'",
		"unix_timestamp(s, 'yyyy-MM-dd HH:mm:ss.SSS')", "date_format(s, s)", "to_date(s, concat(s, 'yyyy'))",
		"regexp_replace(s, s, s)", "split(s, s, a)", "lpad(s, a, s)", "s LIKE s", "get_json_object(s, s)",
		"from_unixtime(a, s)", "substr(s, a, a)", "round(a, -3)", "hash(s, a, m)"} {
		f.Add(s)
	}
	schema := types.Schema{{Name: "a", Type: types.IntType}, {Name: "s", Type: types.StringType},
		{Name: "m", Type: types.MapOf(types.StringType, types.LongType)}}
	b := types.NewBatch(schema, 2)
	b.Cols[0].Append(int64(3))
	b.Cols[0].AppendNull()
	b.Cols[1].Append("2023-12-01")
	b.Cols[1].Append("héllo")
	b.Cols[2].Append(&types.MapValue{Keys: []any{"k"}, Values: []any{int64(1)}})
	b.Cols[2].AppendNull()
	f.Fuzz(func(t *testing.T, src string) {
		e, err := Compile(src, schema)
		if err != nil {
			return
		}
		if _, err := e.Eval(b); err != nil {
			t.Fatalf("%q: %v", src, err)
		}
		if _, err := e.EvalValues([]any{int64(1), "x", nil}); err != nil {
			t.Fatalf("%q: %v", src, err)
		}
	})
}
