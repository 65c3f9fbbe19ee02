package backfill

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/chronon-go/chronon/runtime/types"
)

// TestKeyGroupsRandom checks the hash grouping against a map: every key's rows form one group, in
// row order; rows with a null key are in none; find returns the group of a key and -1 otherwise.
func TestKeyGroupsRandom(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	r := rand.New(rand.NewPCG(seed, 3))
	for iter := 0; iter < 20; iter++ {
		n := r.IntN(50000)
		distinct := 1 + r.IntN(1+n/(1+r.IntN(20)))
		user := types.NewColumn(types.StringType, n)
		num := types.NewColumn(types.LongType, n)
		for i := 0; i < n; i++ {
			if r.IntN(50) == 0 {
				user.Append(nil)
			} else {
				user.Append(fmt.Sprint("u", r.IntN(distinct)))
			}
			num.Append(int64(r.IntN(3)))
		}
		cols := []*types.Column{user, num}
		want := map[string][]int32{}
		var buf []byte
		for i := 0; i < n; i++ {
			if k, ok := keyOf(cols, i, &buf); ok {
				want[k] = append(want[k], int32(i))
			}
		}
		g := newKeyGroups(cols, n)
		if g.count() != len(want) {
			t.Fatalf("seed %d iteration %d: %d groups, want %d", seed, iter, g.count(), len(want))
		}
		for k, rows := range want {
			id := g.find(k)
			if id < 0 {
				t.Fatalf("seed %d iteration %d: key %q not found", seed, iter, k)
			}
			if got := g.rows(id); fmt.Sprint(got) != fmt.Sprint(rows) {
				t.Fatalf("seed %d iteration %d: key %q rows %v, want %v", seed, iter, k, got, rows)
			}
		}
		if g.find("no such key") >= 0 {
			t.Fatalf("seed %d: an absent key was found", seed)
		}
	}
}
