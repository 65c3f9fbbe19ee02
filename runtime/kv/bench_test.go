package kv_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"iter"
	"math/rand"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/chronon-go/chronon/runtime/kv"
)

// Run with e.g.
//
//	go test ./runtime/kv -run '^$' -bench . -benchtime 1000000x
//
// so that a bulk load writes 1M keys, as in docs/online-store.md.

var (
	benchDir  string
	benchOnce sync.Once
	benchS    kv.Store
)

const benchKeys = 1_000_000

func TestMain(m *testing.M) {
	code := m.Run()
	if benchS != nil {
		benchS.Close()
	}
	if benchDir != "" {
		os.RemoveAll(benchDir)
	}
	os.Exit(code)
}

// benchKey is a key shaped like an Avro-encoded single string key.
func benchKey(i int) []byte {
	return fmt.Appendf(nil, "\x02\x1cuser_%09d", i)
}

func benchRows(n int, perm []int, val []byte) iter.Seq2[kv.Row, error] {
	return func(yield func(kv.Row, error) bool) {
		rnd := rand.New(rand.NewSource(1))
		for i := 0; i < n; i++ {
			k := i
			if perm != nil {
				k = perm[i]
			}
			// Incompressible values, so the disk numbers are honest.
			binary.LittleEndian.PutUint64(val, rnd.Uint64())
			binary.LittleEndian.PutUint64(val[len(val)-8:], rnd.Uint64())
			if !yield(kv.Row{Key: benchKey(k), Value: val, TsMillis: 1_700_000_000_000}, nil) {
				return
			}
		}
	}
}

func BenchmarkEmbeddedBulkLoad(b *testing.B) {
	for _, order := range []string{"sorted", "shuffled"} {
		b.Run(order, func(b *testing.B) {
			s, err := kv.OpenEmbedded(filepath.Join(b.TempDir(), "kv"), kv.Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			var perm []int
			if order == "shuffled" {
				perm = rand.New(rand.NewSource(2)).Perm(b.N)
			}
			val := make([]byte, 100)
			rand.New(rand.NewSource(3)).Read(val)
			b.SetBytes(int64(len(val) + len(benchKey(0))))
			b.ResetTimer()
			start := time.Now()
			if err := s.BulkLoad(context.Background(), "BENCH_BATCH", benchRows(b.N, perm, val)); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "keys/s")
		})
	}
}

func benchStore(b *testing.B) kv.Store {
	benchOnce.Do(func() {
		var err error
		if benchDir, err = os.MkdirTemp("", "chronon-kv-bench-"); err != nil {
			b.Fatal(err)
		}
		if benchS, err = kv.OpenEmbedded(benchDir, kv.Options{}); err != nil {
			b.Fatal(err)
		}
		val := make([]byte, 100)
		if err := benchS.BulkLoad(context.Background(), "BENCH_BATCH", benchRows(benchKeys, nil, val)); err != nil {
			b.Fatal(err)
		}
		if os.Getenv("KV_BENCH_COMPACT") != "" {
			if err := kv.CompactForTest(benchS); err != nil {
				b.Fatal(err)
			}
		}
	})
	if benchS == nil {
		b.Fatal("bench store setup failed")
	}
	return benchS
}

func reportLatencies(b *testing.B, d []time.Duration) {
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	at := func(p float64) float64 { return float64(d[int(p*float64(len(d)-1))].Nanoseconds()) / 1e3 }
	b.ReportMetric(at(0.50), "p50-µs")
	b.ReportMetric(at(0.99), "p99-µs")
}

// BenchmarkEmbeddedPointRead: one key per MultiGet over a 1M-key dataset.
func BenchmarkEmbeddedPointRead(b *testing.B) {
	s := benchStore(b)
	rnd := rand.New(rand.NewSource(4))
	lat := make([]time.Duration, b.N)
	ctx := context.Background()
	req := []kv.GetRequest{{Dataset: "BENCH_BATCH"}}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		req[0].Key = benchKey(rnd.Intn(benchKeys))
		t := time.Now()
		r, err := s.MultiGet(ctx, req)
		lat[i] = time.Since(t)
		if err != nil || len(r[0].Values) != 1 {
			b.Fatalf("%v %+v", err, r)
		}
	}
	b.StopTimer()
	reportLatencies(b, lat)
}

// BenchmarkEmbeddedMultiGet20: a join-fetch-sized call (20 keys).
func BenchmarkEmbeddedMultiGet20(b *testing.B) {
	s := benchStore(b)
	rnd := rand.New(rand.NewSource(5))
	lat := make([]time.Duration, b.N)
	ctx := context.Background()
	req := make([]kv.GetRequest, 20)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for j := range req {
			req[j] = kv.GetRequest{Dataset: "BENCH_BATCH", Key: benchKey(rnd.Intn(benchKeys))}
		}
		t := time.Now()
		_, err := s.MultiGet(ctx, req)
		lat[i] = time.Since(t)
		if err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	reportLatencies(b, lat)
}
