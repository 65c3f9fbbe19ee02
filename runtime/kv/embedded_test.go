package kv_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/chronon-go/chronon/runtime/kv"
	"github.com/chronon-go/chronon/runtime/kv/kvtest"
)

func openEmbedded(t *testing.T) kv.Store {
	s, err := kv.Open(context.Background(), filepath.Join(t.TempDir(), "kv"), kv.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestEmbeddedConformance(t *testing.T) {
	kvtest.RunConformance(t, openEmbedded, kvtest.Config{SwapKeys: 1000})
}

func TestEmbeddedReopenAndReadOnly(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	dir := filepath.Join(t.TempDir(), ".chronon", "kv")
	if _, err := kv.Open(ctx, dir, kv.Options{ReadOnly: true}); err == nil {
		t.Fatal("read-only open of a missing store succeeded")
	}
	s, err := kv.Open(ctx, dir, kv.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.BulkLoad(ctx, "A_BATCH", kv.Rows([]kv.Row{{Key: []byte("k"), Value: []byte("v"), TsMillis: 7}})); err != nil {
		t.Fatal(err)
	}
	if err := s.Create(ctx, "A_STREAMING"); err != nil {
		t.Fatal(err)
	}
	if err := s.MultiPut(ctx, []kv.PutRequest{{Dataset: "A_STREAMING", Key: []byte("k"), Value: []byte("s"), TsMillis: 9}}); err != nil {
		t.Fatal(err)
	}
	// A second process (here: a second open) is refused while the first
	// holds the store.
	if s2, err := kv.Open(ctx, dir, kv.Options{ReadOnly: true}); err == nil {
		s2.Close()
		t.Error("second open of a store in use succeeded")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.MultiGet(ctx, nil); !errors.Is(err, kv.ErrClosed) {
		t.Errorf("MultiGet after Close: %v", err)
	}

	ro, err := kv.Open(ctx, dir, kv.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	r, err := ro.MultiGet(ctx, []kv.GetRequest{{Dataset: "A_BATCH", Key: []byte("k")}, {Dataset: "A_STREAMING", Key: []byte("k")}})
	if err != nil {
		t.Fatal(err)
	}
	if len(r[0].Values) != 1 || string(r[0].Values[0].Bytes) != "v" || r[0].Values[0].TsMillis != 7 {
		t.Errorf("after reopen: %+v", r[0])
	}
	if len(r[1].Values) != 1 || string(r[1].Values[0].Bytes) != "s" {
		t.Errorf("after reopen: %+v", r[1])
	}
	if err := ro.MultiPut(ctx, []kv.PutRequest{{Dataset: "A_BATCH", Key: []byte("k")}}); !errors.Is(err, kv.ErrReadOnly) {
		t.Errorf("put on read-only store: %v", err)
	}
	if err := ro.BulkLoad(ctx, "A_BATCH", kv.Rows(nil)); !errors.Is(err, kv.ErrReadOnly) {
		t.Errorf("bulk load on read-only store: %v", err)
	}
}

func TestRedactURI(t *testing.T) {
	for in, want := range map[string]string{
		"mongodb://admin:s3cret@host:27017/?authSource=admin": "mongodb://xxxxx@host:27017/?authSource=admin",
		"mongodb+srv://u:p@cluster.example.net":               "mongodb+srv://xxxxx@cluster.example.net",
		"mongodb://host:27017":                                "mongodb://host:27017",
		"mongodb://u:p%zz@host":                               "mongodb://xxxxx@host",
	} {
		if got := kv.RedactURI(in); got != want {
			t.Errorf("RedactURI(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestEmbeddedCloseDuringBulkLoad(t *testing.T) {
	s, err := kv.Open(context.Background(), filepath.Join(t.TempDir(), "kv"), kv.Options{})
	if err != nil {
		t.Fatal(err)
	}
	rows := func(yield func(kv.Row, error) bool) {
		for i := 0; i < 100_000; i++ {
			if i == 10 {
				s.Close()
			}
			if !yield(kv.Row{Key: []byte{byte(i), byte(i >> 8), byte(i >> 16)}, Value: make([]byte, 100)}, nil) {
				return
			}
		}
	}
	if err := s.BulkLoad(context.Background(), "D", rows); !errors.Is(err, kv.ErrClosed) {
		t.Fatalf("BulkLoad across Close: %v, want ErrClosed", err)
	}
}
