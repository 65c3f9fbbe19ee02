package types

import (
	"math/rand/v2"
	"reflect"
	"runtime"
	"testing"
)

// TestListArena checks that arena-boxed lists behave exactly like ordinary boxes (type switches,
// equality, DeepEqual) and survive garbage collections while the arena itself is gone.
func TestListArena(t *testing.T) {
	var lists [][]any
	var want [][]any
	func() {
		a := &ListArena{}
		for i := 0; i < 5000; i++ {
			n := rand.IntN(12)
			if i%2 == 0 {
				vals := a.Int64s(n)
				w := make([]any, n)
				for j := range vals {
					vals[j] = rand.Int64()
					w[j] = vals[j]
				}
				lists, want = append(lists, a.BoxInt64s(vals).([]any)), append(want, w)
			} else {
				vals := a.Float64s(n)
				w := make([]any, n)
				for j := range vals {
					vals[j] = rand.NormFloat64()
					w[j] = vals[j]
				}
				lists, want = append(lists, a.BoxFloat64s(vals).([]any)), append(want, w)
			}
		}
	}()
	for i := 0; i < 3; i++ {
		runtime.GC()
		_ = make([]int64, 1<<20) // reuse freed memory if anything was wrongly freed
	}
	for i := range lists {
		if !reflect.DeepEqual(lists[i], want[i]) {
			t.Fatalf("list %d: %v, want %v", i, lists[i], want[i])
		}
		for j, e := range lists[i] {
			if e != want[i][j] {
				t.Fatalf("list %d element %d: %v != %v", i, j, e, want[i][j])
			}
			switch e.(type) {
			case int64, float64:
			default:
				t.Fatalf("list %d element %d has type %T", i, j, e)
			}
		}
	}
}
