package warehouse

import (
	"fmt"
	"hash/maphash"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/encoding"

	"github.com/chronon-go/chronon/runtime/types"
)

// wantHashes is what a HashRequest must return for values (nil = null).
func wantHashes(h *HashRequest, values []any) (h1 []uint64, h2 []uint32, nulls []int32) {
	for i, v := range values {
		if v == nil {
			nulls = append(nulls, int32(i))
			h1, h2 = append(h1, 0), append(h2, 0)
			continue
		}
		s := v.(string)
		h1, h2 = append(h1, maphash.String(h.Seed1, s)), append(h2, uint32(maphash.String(h.Seed2, s)))
	}
	return h1, h2, nulls
}

func checkHashes(t *testing.T, seed uint64, what string, got *HashRequest, values []any) {
	t.Helper()
	h1, h2, nulls := wantHashes(got, values)
	if len(got.H1) != len(h1) || len(got.H2) != len(h2) {
		t.Fatalf("seed %d: %s: %d/%d hashes for %d rows", seed, what, len(got.H1), len(got.H2), len(h1))
	}
	for i := range h1 {
		if got.H1[i] != h1[i] || got.H2[i] != h2[i] {
			t.Fatalf("seed %d: %s: row %d (%v): hashes %x/%x, want %x/%x", seed, what, i, values[i], got.H1[i], got.H2[i], h1[i], h2[i])
		}
	}
	if fmt.Sprint(got.Nulls) != fmt.Sprint(nulls) && !(len(got.Nulls) == 0 && len(nulls) == 0) {
		t.Fatalf("seed %d: %s: null rows %v, want %v", seed, what, got.Nulls, nulls)
	}
}

// TestHashRequestMatchesValues reads a string key column as hashes (plain pages from our writer,
// dictionary pages from parquet-go's, nulls, several row groups and partitions, the partition
// column itself) and checks every row's hashes against the hashes of the values read as strings.
func TestHashRequestMatchesValues(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 11))
	key := func() any {
		if rng.IntN(7) == 0 {
			return nil
		}
		return fmt.Sprintf("user_%d", rng.IntN(5000))
	}
	s := types.Schema{{Name: "k", Type: types.StringType}, {Name: "v", Type: types.LongType}}
	w, _ := Open(t.TempDir())
	tx, err := w.Begin("db.keys", TableSpec{Schema: s, PartitionColumns: []string{"ds"}})
	if err != nil {
		t.Fatal(err)
	}
	days := []string{"2023-11-01", "2023-11-02", "2023-11-03"}
	var keys, dss []any
	for _, d := range days {
		rows := make([][]any, 1+rng.IntN(2*rowGroupRows))
		for i := range rows {
			rows[i] = []any{key(), int64(i)}
			keys, dss = append(keys, rows[i][0]), append(dss, d)
		}
		if err := tx.Write([]string{d}, batchOf(s, rows)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	tbl, _ := w.Table("db.keys")
	for _, c := range []struct {
		col    string
		values []any
	}{{"k", keys}, {"ds", dss}} {
		h := &HashRequest{Column: c.col, Seed1: maphash.MakeSeed(), Seed2: maphash.MakeSeed()}
		r, err := tbl.Read(ReadOptions{Columns: []string{"v"}, Hash: h})
		if err != nil {
			t.Fatal(err)
		}
		b, err := r.ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if b.Len() != len(c.values) {
			t.Fatalf("seed %d: %d rows, want %d", seed, b.Len(), len(c.values))
		}
		checkHashes(t, seed, "column "+c.col, h, c.values)
	}
	if _, err := tbl.Read(ReadOptions{Hash: &HashRequest{Column: "v"}}); err == nil {
		t.Fatalf("hashing a long column: no error")
	}

	// Files from other writers: dictionary pages (parquet-go's and Spark's default for strings), and
	// delta-length pages, which are read value by value.
	for _, enc := range []encoding.Encoding{&parquet.RLEDictionary, &parquet.DeltaLengthByteArray} {
		path := filepath.Join(t.TempDir(), "keys.parquet")
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		ps := parquet.NewSchema("x", parquet.Group{"k": parquet.Optional(parquet.Encoded(parquet.String(), enc))})
		pw := parquet.NewGenericWriter[any](f, ps, parquet.PageBufferSize(4096))
		var fileKeys []any
		for range 3 { // row groups, each with its own dictionary
			rows := make([]parquet.Row, 1+rng.IntN(20000))
			for i := range rows {
				k := key()
				fileKeys = append(fileKeys, k)
				if k == nil {
					rows[i] = parquet.Row{parquet.NullValue().Level(0, 0, 0)}
				} else {
					rows[i] = parquet.Row{parquet.ValueOf(k).Level(0, 1, 0)}
				}
			}
			if _, err := pw.WriteRows(rows); err != nil {
				t.Fatal(err)
			}
			if err := pw.Flush(); err != nil {
				t.Fatal(err)
			}
		}
		if err := pw.Close(); err != nil {
			t.Fatal(err)
		}
		f.Close()
		r, err := ReadFile(path, []string{"k"})
		if err != nil {
			t.Fatal(err)
		}
		h := &HashRequest{Column: "k", Seed1: maphash.MakeSeed(), Seed2: maphash.MakeSeed()}
		r.hash = h
		b, err := r.ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		checkHashes(t, seed, enc.String()+" file", h, fileKeys)
		for i, v := range fileKeys {
			if got := b.Cols[0].Value(i); got != v {
				t.Fatalf("seed %d: %s file row %d: %v, want %v", seed, enc, i, got, v)
			}
		}
	}
}
