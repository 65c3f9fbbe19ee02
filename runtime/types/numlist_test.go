package types

import (
	"math/rand/v2"
	"reflect"
	"testing"
	"time"
)

// randomLists returns the same random rows (nulls, empty lists, elements) as a boxed and a compact
// column of type t.
func randomLists(r *rand.Rand, t *Type, n int) (boxed, compact *Column) {
	boxed, compact = NewColumn(t, n), NewCompactListColumn(t, n)
	floats := t.Elem.Kind == Double
	for range n {
		if r.IntN(6) == 0 {
			boxed.AppendNull()
			compact.AppendNull()
			continue
		}
		m := r.IntN(5)
		items := make([]any, m)
		if floats {
			vals := compact.AppendFloats(m)
			for j := range vals {
				vals[j] = r.NormFloat64()
				items[j] = vals[j]
			}
		} else {
			vals := compact.AppendInts(m)
			for j := range vals {
				vals[j] = r.Int64N(100) - 50
				items[j] = vals[j]
			}
		}
		boxed.Append(items)
	}
	return boxed, compact
}

func sameRows(t *testing.T, seed uint64, what string, want, got *Column) {
	t.Helper()
	if want.Len() != got.Len() {
		t.Fatalf("seed %d: %s: %d rows, want %d", seed, what, got.Len(), want.Len())
	}
	for i := 0; i < want.Len(); i++ {
		if w, g := want.Value(i), got.Value(i); !reflect.DeepEqual(w, g) || want.IsNull(i) != got.IsNull(i) {
			t.Fatalf("seed %d: %s: row %d is %v (null %v), want %v (null %v)", seed, what, i, g, got.IsNull(i), w, want.IsNull(i))
		}
	}
}

// TestCompactListsMatchBoxed checks every Column operation on compact list columns against the same
// operation on the boxed form of the same rows.
func TestCompactListsMatchBoxed(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	r := rand.New(rand.NewPCG(seed, 5))
	for iter := 0; iter < 200; iter++ {
		typ := ListOf(LongType)
		if iter%2 == 1 {
			typ = ListOf(DoubleType)
		}
		if !CompactListType(typ) || CompactListType(ListOf(StringType)) {
			t.Fatalf("CompactListType(%s) is wrong", typ)
		}
		var boxed, compact []*Column
		for range 1 + r.IntN(3) {
			b, c := randomLists(r, typ, r.IntN(40))
			boxed, compact = append(boxed, b), append(compact, c)
			sameRows(t, seed, "built", b, c)
			sameRows(t, seed, "expanded", b, c.Expanded())
		}
		total := 0
		for _, c := range boxed {
			total += c.Len()
		}
		nIdx := r.IntN(60)
		if iter%10 == 0 {
			nIdx = 1<<14 + r.IntN(1000) // takeLists splits large takes across cores
		}
		idx := make([]int32, nIdx)
		for i := range idx {
			idx[i] = -1
			if total > 0 && r.IntN(5) > 0 {
				idx[i] = int32(r.IntN(total))
			}
		}
		want := TakeFrom(boxed, idx)
		got := TakeFrom(compact, idx)
		if got.List == nil {
			t.Fatalf("seed %d: TakeFrom of compact columns is not compact", seed)
		}
		sameRows(t, seed, "TakeFrom", want, got)
		mixed := append([]*Column{boxed[0]}, compact[1:]...)
		sameRows(t, seed, "TakeFrom of mixed forms", want, TakeFrom(mixed, idx))
		// Slices, appended to each other, compact to compact and boxed to compact.
		c := compact[0]
		lo := r.IntN(c.Len() + 1)
		hi := lo + r.IntN(c.Len()-lo+1)
		sameRows(t, seed, "Slice", boxed[0].Take(seqIdx(lo, hi)), c.Slice(lo, hi))
		acc, accBoxed := NewCompactListColumn(typ, 0), NewColumn(typ, 0)
		for k := range compact {
			acc.AppendColumn(compact[k].Slice(0, compact[k].Len()))
			accBoxed.AppendColumn(boxed[k])
		}
		sameRows(t, seed, "AppendColumn", accBoxed, acc)
		into := NewColumn(typ, 0)
		into.AppendColumn(compact[0])
		sameRows(t, seed, "AppendColumn into a boxed column", boxed[0], into)
		// Appending a list the compact form cannot hold (a null element) boxes the column.
		b2, c2 := randomLists(r, typ, 1+r.IntN(5))
		odd := []any{nil}
		b2.Append(odd)
		c2.Append(odd)
		if c2.List != nil {
			t.Fatalf("seed %d: a list with a null element left the column compact", seed)
		}
		sameRows(t, seed, "Append of a null element", b2, c2)
		batch := &Batch{Schema: Schema{{Name: "x", Type: typ}}, Cols: []*Column{compact[0]}}
		if e := ExpandedBatch(batch); e.Cols[0].List != nil || batch.Cols[0].List == nil {
			t.Fatalf("seed %d: ExpandedBatch did not box a copy", seed)
		}
	}
}

func seqIdx(lo, hi int) []int32 {
	out := make([]int32, 0, hi-lo)
	for i := lo; i < hi; i++ {
		out = append(out, int32(i))
	}
	return out
}
