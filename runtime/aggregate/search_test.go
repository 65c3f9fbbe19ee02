package aggregate

import (
	"math/rand/v2"
	"slices"
	"sort"
	"testing"
	"time"
)

// TestFirstAtOrAfter checks the window search, by scan and by bisection, against sort.Search.
func TestFirstAtOrAfter(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	r := rand.New(rand.NewPCG(seed, 9))
	for range 20000 {
		ts := make([]int64, r.IntN(40))
		for i := range ts {
			ts[i] = r.Int64N(20)
		}
		slices.Sort(ts)
		q := r.Int64N(24) - 2
		want := sort.Search(len(ts), func(i int) bool { return ts[i] >= q })
		if got := firstAtOrAfter(ts, q); got != want {
			t.Fatalf("seed %d: firstAtOrAfter(%v, %d) = %d, want %d", seed, ts, q, got, want)
		}
	}
}
