package kv_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"

	"github.com/chronon-go/chronon/runtime/kv"
	"github.com/chronon-go/chronon/runtime/kv/kvtest"
)

// The MongoDB store is tested against a real server when
// CHRONON_TEST_MONGO_URI is set, else against FerretDB embedded in the test
// binary (SQLite in a temp directory), which speaks the wire protocol but is
// slow and cannot rename over a collection (see DESIGN.md).
var (
	ferretOnce sync.Once
	ferretURI  string
	ferretErr  error
	dbSeq      atomic.Int64
)

func mongoURI(t *testing.T) (uri string, real bool) {
	if u := os.Getenv("CHRONON_TEST_MONGO_URI"); u != "" {
		return u, true
	}
	ferretOnce.Do(func() {
		// Lives for the whole test binary: startup is the slow part.
		dir, err := os.MkdirTemp("", "chronon-ferretdb-")
		if err != nil {
			ferretErr = err
			return
		}
		f, err := ferretdb.New(&ferretdb.Config{
			Listener:  ferretdb.ListenerConfig{TCP: "127.0.0.1:0"},
			Handler:   "sqlite",
			SQLiteURL: "file:" + dir + "/",
			Logger:    slog.New(slog.NewTextHandler(io.Discard, nil)),
		})
		if err != nil {
			ferretErr = err
			return
		}
		go f.Run(context.Background())
		ferretURI = f.MongoDBURI()
	})
	if ferretErr != nil {
		t.Fatalf("starting FerretDB: %v", ferretErr)
	}
	return ferretURI, false
}

func openMongo(t *testing.T) kv.Store {
	uri, real := mongoURI(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db := fmt.Sprintf("chronon_test_%d_%d", os.Getpid(), dbSeq.Add(1))
	mo := kv.MongoOptions{Database: db, Options: kv.Options{Timeout: 20 * time.Second}}
	if !real {
		mo.BatchSize = 40
	}
	s, err := kv.OpenMongoWith(ctx, uri, mo)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if real {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			kv.DropMongoDatabaseForTest(ctx, s)
		}
		s.Close()
	})
	return s
}

func TestMongoConformance(t *testing.T) {
	_, real := mongoURI(t)
	cfg := kvtest.Config{SwapKeys: 200, NonAtomicSwap: !real}
	kvtest.RunConformance(t, openMongo, cfg)
}

func TestMongoRedactsCredentials(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// Nothing listens on port 1: connecting fails quickly.
	_, err := kv.Open(ctx, "mongodb://chronon:s3cretPW@127.0.0.1:1/?connectTimeoutMS=200", kv.Options{Timeout: 500 * time.Millisecond})
	if err == nil {
		t.Fatal("open of an unreachable server succeeded")
	}
	if strings.Contains(err.Error(), "s3cretPW") {
		t.Fatalf("error leaks the password: %v", err)
	}
	if !strings.Contains(err.Error(), "127.0.0.1:1") {
		t.Errorf("error does not name the server: %v", err)
	}
}
