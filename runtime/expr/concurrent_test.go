package expr

import (
	"github.com/chronon-go/chronon/runtime/types"
	"sync"
	"testing"
)

func TestConcurrentEval(t *testing.T) {
	s := types.Schema{{Name: "s", Type: types.StringType}}
	e := MustCompile("regexp_replace(s, s, 'x') || from_unixtime(length(s), concat('yyyy', s))", s)
	b := types.NewBatch(s, 3)
	b.Cols[0].Append("a")
	b.Cols[0].Append("b")
	b.Cols[0].Append("-MM")
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 200; j++ {
				if _, err := e.Eval(b); err != nil {
					t.Error(err)
				}
				e.EvalRow(map[string]any{"s": "q"})
			}
		}()
	}
	wg.Wait()
}
