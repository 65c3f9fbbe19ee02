package kv

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"iter"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"
)

const crashEnv = "CHRONON_KV_CRASH_CHILD"

// TestCrashMidBulkLoad kills (SIGKILL) a process in the middle of a bulk
// load and checks that the previous contents are still served and that the
// half-written generation is removed on the next open.
func TestCrashMidBulkLoad(t *testing.T) {
	if dir := os.Getenv(crashEnv); dir != "" {
		crashChild(dir)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	dir := filepath.Join(t.TempDir(), "kv")
	s, err := OpenEmbedded(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	old := make([]Row, 1000)
	for i := range old {
		old[i] = Row{Key: []byte(fmt.Sprintf("key%07d", i)), Value: []byte("old"), TsMillis: 1}
	}
	if err := s.BulkLoad(ctx, "D_BATCH", Rows(old)); err != nil {
		t.Fatal(err)
	}
	s.Close()

	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestCrashMidBulkLoad$")
	cmd.Env = append(os.Environ(), crashEnv+"="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Kill once the child reports rows written into the new generation.
	sc := bufio.NewScanner(out)
	loading := false
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "loading") {
			loading = true
			break
		}
	}
	time.Sleep(50 * time.Millisecond)
	cmd.Process.Kill()
	cmd.Wait()
	if !loading {
		t.Fatal("child never started loading")
	}

	s, err = OpenEmbedded(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	reqs := []GetRequest{{Dataset: "D_BATCH", Key: []byte("key0000000")}, {Dataset: "D_BATCH", Key: []byte("key0000999")}, {Dataset: "D_BATCH", Key: []byte("key0005000")}}
	r, err := s.MultiGet(ctx, reqs)
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{"old", "old", ""} {
		got := ""
		if v, ok := r[i].Latest(); ok {
			got = string(v.Bytes)
		}
		if got != want || r[i].Err != nil {
			t.Errorf("%s after crash: %q (%v), want %q", reqs[i].Key, got, r[i].Err, want)
		}
	}
	// No SSTable of the dead load is left outside the store.
	if _, err := os.Stat(filepath.Join(dir, bulkTmpDir)); !os.IsNotExist(err) {
		t.Errorf("%s survived reopening: %v", bulkTmpDir, err)
	}
	// Only the live generation has data left.
	e := s.(*embedded)
	live := e.gens["D_BATCH"]
	it, err := e.db.NewIter(&pebble.IterOptions{LowerBound: []byte{pfxData}, UpperBound: []byte{pfxData + 1}})
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	lo, hi := genBounds(live)
	n := 0
	for it.First(); it.Valid(); it.Next() {
		if bytes.Compare(it.Key(), lo) < 0 || bytes.Compare(it.Key(), hi) >= 0 {
			t.Fatalf("data of a dead generation survived: %x", it.Key())
		}
		n++
	}
	if n != len(old) {
		t.Errorf("%d live rows, want %d", n, len(old))
	}
}

// crashChild bulk-loads rows until it is killed.
func crashChild(dir string) {
	bulkChunkBytes = 1 << 20 // several SSTables ingested before the kill, one being written
	s, err := OpenEmbedded(dir, Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	var rows iter.Seq2[Row, error] = func(yield func(Row, error) bool) {
		val := bytes.Repeat([]byte("n"), 100)
		for i := 0; i < 50_000_000; i++ {
			if i == 200_000 {
				fmt.Println("loading")
			}
			if !yield(Row{Key: []byte(fmt.Sprintf("key%07d", i)), Value: val, TsMillis: 2}, nil) {
				return
			}
		}
	}
	s.BulkLoad(context.Background(), "D_BATCH", rows)
	// Reaching here means the parent did not kill us in time.
	os.Exit(3)
}
