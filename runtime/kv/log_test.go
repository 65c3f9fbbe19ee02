package kv_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chronon-go/chronon/runtime/kv"
	"github.com/chronon-go/chronon/runtime/kv/kvtest"
)

func TestMemLogConformance(t *testing.T) {
	kvtest.RunLogConformance(t, func(t *testing.T) kvtest.LogOpener {
		m := &kv.MemLog{}
		return func(*testing.T) kv.Log { return m }
	})
}

func TestEmbeddedLogConformance(t *testing.T) {
	kvtest.RunLogConformance(t, func(t *testing.T) kvtest.LogOpener {
		kvDir := filepath.Join(t.TempDir(), "kv")
		return func(t *testing.T) kv.Log {
			// Read-only, as fetch processes open it: appends still work.
			l, err := kv.OpenLog(context.Background(), kvDir, kv.Options{ReadOnly: true})
			if err != nil {
				t.Fatal(err)
			}
			return l
		}
	})
}

func TestMongoLogConformance(t *testing.T) {
	uri, real := mongoURI(t)
	kvtest.RunLogConformance(t, func(t *testing.T) kvtest.LogOpener {
		db := fmt.Sprintf("chronon_logtest_%d_%d", os.Getpid(), dbSeq.Add(1))
		return func(t *testing.T) kv.Log {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			mo := kv.MongoOptions{Database: db, Options: kv.Options{Timeout: 20 * time.Second, ReadOnly: true}}
			if !real {
				mo.BatchSize = 40
			}
			l, err := kv.OpenMongoLog(ctx, uri, mo)
			if err != nil {
				t.Fatal(err)
			}
			return l
		}
	})
}

func TestLogDir(t *testing.T) {
	for in, want := range map[string]string{
		"/r/.chronon/kv":  "/r/.chronon/kv_log",
		"/r/.chronon/kv/": "/r/.chronon/kv_log",
		"rel/kv":          "rel/kv_log",
	} {
		if got := kv.LogDir(in); got != filepath.FromSlash(want) {
			t.Errorf("LogDir(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestEmbeddedLogTornTail cuts a segment at every byte of its last record,
// as a kill -9 during the write would: earlier records stay readable and the
// torn one is never returned; a later writer's records are unaffected.
func TestEmbeddedLogTornTail(t *testing.T) {
	ctx := context.Background()
	kvDir := filepath.Join(t.TempDir(), "kv")
	l, err := kv.OpenLog(ctx, kvDir, kv.Options{})
	if err != nil {
		t.Fatal(err)
	}
	rec := func(i int) kv.LogRecord {
		return kv.LogRecord{Name: "j/f.v", KeyBytes: []byte{byte(i)}, ValueBytes: []byte("vvvv"), TsMillis: int64(i), SchemaHash: "h", WriteMillis: 9}
	}
	if err := l.Append(ctx, []kv.LogRecord{rec(1), rec(2)}); err != nil {
		t.Fatal(err)
	}
	segs, _ := filepath.Glob(filepath.Join(kv.LogDir(kvDir), "*"))
	if len(segs) != 1 {
		t.Fatalf("want 1 segment, got %v", segs)
	}
	seg := segs[0]
	before, _ := os.ReadFile(seg)
	if err := l.Append(ctx, []kv.LogRecord{rec(3)}); err != nil {
		t.Fatal(err)
	}
	l.Close()
	full, _ := os.ReadFile(seg)

	// A second process's complete segment beside the torn one.
	l2, _ := kv.OpenLog(ctx, kvDir, kv.Options{ReadOnly: true})
	if err := l2.Append(ctx, []kv.LogRecord{rec(4)}); err != nil {
		t.Fatal(err)
	}
	l2.Close()

	count := func() (n int, keys []byte) {
		r, _ := kv.OpenLog(ctx, kvDir, kv.Options{ReadOnly: true})
		defer r.Close()
		if err := r.Scan(ctx, nil, func(x kv.LogRecord) error {
			n++
			keys = append(keys, x.KeyBytes...)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return n, keys
	}
	for cut := len(before); cut < len(full); cut++ {
		if err := os.WriteFile(seg, full[:cut], 0o644); err != nil {
			t.Fatal(err)
		}
		n, keys := count()
		if n != 3 || keys[0] != 1 || keys[1] != 2 || keys[2] != 4 {
			t.Fatalf("cut at %d of %d: got %d records %v, want keys [1 2 4]", cut, len(full), n, keys)
		}
	}
	// A flipped bit in the last record's payload is caught by the CRC.
	bad := append([]byte{}, full...)
	bad[len(bad)-3] ^= 0x40
	os.WriteFile(seg, bad, 0o644)
	if n, _ := count(); n != 3 {
		t.Fatalf("corrupt tail: got %d records, want 3", n)
	}
	os.WriteFile(seg, full, 0o644)
	if n, _ := count(); n != 4 {
		t.Fatalf("intact: got %d records, want 4", n)
	}
}

func TestEmbeddedLogMissingDir(t *testing.T) {
	l, err := kv.OpenLog(context.Background(), filepath.Join(t.TempDir(), "nothing", "kv"), kv.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	n := 0
	if err := l.Scan(context.Background(), nil, func(kv.LogRecord) error { n++; return nil }); err != nil || n != 0 {
		t.Fatalf("Scan of a missing log: %d records, err %v; want none and no error", n, err)
	}
}

func TestMongoLogRedactsCredentials(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := kv.OpenLog(ctx, "mongodb://chronon:s3cretPW@127.0.0.1:1/?connectTimeoutMS=200", kv.Options{Timeout: 500 * time.Millisecond})
	if err == nil || strings.Contains(err.Error(), "s3cretPW") || !strings.Contains(err.Error(), "127.0.0.1:1") {
		t.Fatalf("OpenLog of an unreachable server: %v (want an error naming the server without the password)", err)
	}
}
