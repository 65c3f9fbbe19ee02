package kv

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"
)

// Bulk loads through sorted, ingested SSTables: unsorted rows with repeated (key, ts) pairs (the
// last one wins, as with puts), keys of different lengths and prefixes of each other, one chunk
// cut into parallel tables and many overlapping chunks.
func TestEmbeddedBulkLoadSST(t *testing.T) {
	for _, chunk := range []int{64 << 20, 256 << 10} {
		t.Run(fmt.Sprint(chunk), func(t *testing.T) {
			defer func(old int) { bulkChunkBytes = old }(bulkChunkBytes)
			bulkChunkBytes = chunk
			ctx := context.Background()
			s, err := OpenEmbedded(filepath.Join(t.TempDir(), "kv"), Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			rng := rand.New(rand.NewPCG(1, uint64(chunk)))
			type kt struct {
				k  string
				ts int64
			}
			want := map[kt]string{}
			var rows []Row
			for i := 0; i < 90_000; i++ {
				h := fmt.Sprintf("%x", rng.IntN(40_000))
				k := h[:min(len(h), 1+rng.IntN(3))] + fmt.Sprint(rng.IntN(2000))
				ts := int64(rng.IntN(3)) - 1
				v := fmt.Sprint(i)
				want[kt{k, ts}] = v
				rows = append(rows, Row{Key: []byte(k), Value: []byte(v), TsMillis: ts})
			}
			if err := s.BulkLoad(ctx, "D", Rows(rows)); err != nil {
				t.Fatal(err)
			}
			keys := map[string]bool{}
			for x := range want {
				keys[x.k] = true
			}
			var reqs []GetRequest
			for k := range keys {
				reqs = append(reqs, GetRequest{Dataset: "D", Key: []byte(k)})
			}
			resp, err := s.MultiGet(ctx, reqs)
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for i, r := range resp {
				prev := int64(-1 << 62)
				for _, v := range r.Values {
					n++
					if w := want[kt{string(reqs[i].Key), v.TsMillis}]; string(v.Bytes) != w || v.TsMillis <= prev {
						t.Fatalf("%q ts %d: %q, want %q (versions %+v)", reqs[i].Key, v.TsMillis, v.Bytes, w, r.Values)
					}
					prev = v.TsMillis
				}
			}
			if n != len(want) {
				t.Fatalf("%d versions read, %d loaded", n, len(want))
			}
		})
	}
}
