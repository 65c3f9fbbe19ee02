package expr_test

import (
	"fmt"

	"github.com/chronon-go/chronon/runtime/expr"
	"github.com/chronon-go/chronon/runtime/types"
)

func Example() {
	schema := types.Schema{{Name: "user_id", Type: types.StringType}, {Name: "price", Type: types.LongType}}
	batch := types.NewBatch(schema, 3)
	for i, id := range []string{"5", "7", "9"} {
		batch.Cols[0].Append(id)
		batch.Cols[1].Append(int64(100 * (i + 1)))
	}

	where := expr.MustCompile("price >= 200", schema)
	sel := expr.MustCompile("concat('user_', user_id, ':', price * 2)", schema)
	rows, _ := expr.Where(batch, where)
	col, _ := sel.Eval(rows)
	for i := 0; i < col.Len(); i++ {
		fmt.Println(col.Value(i))
	}

	// The online path: the same expression on one row.
	v, _ := sel.EvalRow(map[string]any{"user_id": "42", "price": 1})
	fmt.Println(v)

	_, err := expr.Compile("usr_id + 1", schema)
	fmt.Println(err)
	// Output:
	// user_7:400
	// user_9:600
	// user_42:2
	// unknown column "usr_id" (did you mean "user_id"?)
	//   usr_id + 1
	//   ^
}
