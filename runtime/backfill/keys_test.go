package backfill

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/chronon-go/chronon/runtime/types"
)

// TestKeyGroupsRandom checks the hash grouping against a map: every key's rows form one group, in
// row order; rows with a null key are in none; probes and find return the group of a key and -1
// otherwise.
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
		if iter%2 == 0 {
			cols = cols[:1] // a single string key is hashed without rendering it
		}
		want := map[string][]int32{}
		var buf []byte
		for i := 0; i < n; i++ {
			if k, ok := keyOf(cols, i, &buf); ok {
				want[k] = append(want[k], int32(i))
			}
		}
		// Probes: some of the keys (some twice) and some absent ones, in random order. Only the
		// probed keys need a group then (others may have one, by a false positive of the filter).
		var probes []string
		for k := range want {
			if r.IntN(3) == 0 {
				continue
			}
			probes = append(probes, k)
			if r.IntN(4) == 0 {
				probes = append(probes, k)
			}
		}
		for j := range r.IntN(20) {
			probes = append(probes, fmt.Sprint("absent", j))
		}
		r.Shuffle(len(probes), func(i, j int) { probes[i], probes[j] = probes[j], probes[i] })
		g := newKeyGroups(hashKeyColumns(cols, n), probes)
		for i, k := range probes {
			if _, ok := want[k]; !ok {
				if g.probe[i] != -1 {
					t.Fatalf("seed %d iteration %d: absent probe %q found group %d", seed, iter, k, g.probe[i])
				}
				continue
			}
			if g.probe[i] < 0 || fmt.Sprint(g.rows(g.probe[i])) != fmt.Sprint(want[k]) {
				t.Fatalf("seed %d iteration %d: probe %q: group %d, want the rows %v", seed, iter, k, g.probe[i], want[k])
			}
		}
		if g.count() > len(want) {
			t.Fatalf("seed %d iteration %d: %d groups for %d keys", seed, iter, g.count(), len(want))
		}
		// Without probes every key has its group.
		g = newKeyGroups(hashKeyColumns(cols, n), nil)
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
