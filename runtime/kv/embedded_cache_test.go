package kv

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
)

// The embedded store's read cache must never serve what a later write replaced.
func TestEmbeddedReadCache(t *testing.T) {
	ctx := context.Background()
	s, err := OpenEmbedded(filepath.Join(t.TempDir(), "kv"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	latest := func(ds, key string, after *int64) string {
		t.Helper()
		r, err := s.MultiGet(ctx, []GetRequest{{Dataset: ds, Key: []byte(key), AfterTsMillis: after}})
		if err != nil || r[0].Err != nil {
			t.Fatal(err, r[0].Err)
		}
		v, ok := r[0].Latest()
		if !ok {
			return "<none>"
		}
		return fmt.Sprintf("%s@%d/%d", v.Bytes, v.TsMillis, len(r[0].Values))
	}
	if err := s.Create(ctx, "S"); err != nil {
		t.Fatal(err)
	}
	ten := int64(10)
	for _, step := range []struct {
		put        *PutRequest
		want, from string // latest, latest with afterTs 10
	}{
		{nil, "<none>", "<none>"},
		{&PutRequest{Dataset: "S", Key: []byte("k"), Value: []byte("a"), TsMillis: 5}, "a@5/1", "<none>"},
		{nil, "a@5/1", "<none>"},
		{&PutRequest{Dataset: "S", Key: []byte("k"), Value: []byte("b"), TsMillis: 10}, "b@10/2", "b@10/1"},
		{&PutRequest{Dataset: "S", Key: []byte("k"), Value: []byte("c"), TsMillis: 10}, "c@10/2", "c@10/1"},
		{&PutRequest{Dataset: "S", Key: []byte("other"), Value: []byte("x"), TsMillis: 99}, "c@10/2", "c@10/1"},
	} {
		if step.put != nil {
			if err := s.MultiPut(ctx, []PutRequest{*step.put}); err != nil {
				t.Fatal(err)
			}
		}
		for range 2 { // miss, then hit
			if got := latest("S", "k", nil); got != step.want {
				t.Fatalf("after %+v: %s, want %s", step.put, got, step.want)
			}
			if got := latest("S", "k", &ten); got != step.from {
				t.Fatalf("after %+v (afterTs 10): %s, want %s", step.put, got, step.from)
			}
		}
	}
	// A caller mutating what it got does not change what the next caller gets.
	r, _ := s.MultiGet(ctx, []GetRequest{{Dataset: "S", Key: []byte("k")}})
	r[0].Values[1].Bytes[0] = 'z'
	if got := latest("S", "k", nil); got != "c@10/2" {
		t.Fatalf("after mutating a result: %s", got)
	}
	// Bulk loads replace what was cached.
	for i, v := range []string{"p", "q"} {
		if err := s.BulkLoad(ctx, "S", Rows([]Row{{Key: []byte("k"), Value: []byte(v), TsMillis: 1}})); err != nil {
			t.Fatal(err)
		}
		for range 2 {
			if got := latest("S", "k", nil); got != v+"@1/1" {
				t.Fatalf("after bulk load %d: %s", i, got)
			}
		}
	}
	// Concurrent readers never see a version older than a put that returned before they started.
	var wg sync.WaitGroup
	var mu sync.Mutex
	done := int64(0)
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; n < 300; n++ {
				mu.Lock()
				min := done
				mu.Unlock()
				r, err := s.MultiGet(ctx, []GetRequest{{Dataset: "S", Key: []byte("k")}})
				if err != nil {
					t.Error(err)
					return
				}
				if v, _ := r[0].Latest(); v.TsMillis < min {
					t.Errorf("read ts %d after the put of ts %d returned", v.TsMillis, min)
					return
				}
			}
		}()
	}
	for ts := int64(2); ts < 300; ts++ {
		if err := s.MultiPut(ctx, []PutRequest{{Dataset: "S", Key: []byte("k"), Value: []byte("v"), TsMillis: ts}}); err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		done = ts
		mu.Unlock()
	}
	wg.Wait()
}
