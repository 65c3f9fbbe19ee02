package cmds

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/chronon-go/chronon/runtime/kv"
	"github.com/chronon-go/chronon/runtime/online"
	"github.com/chronon-go/chronon/thrift/api"
	"github.com/chronon-go/chronon/thrift/conf"
)

// Two `chronon run --mode fetch` processes (separate invocations, each opening the store
// read-only) log into the embedded fetch log beside the store; --no-log logs nothing.
func TestFetchCLILogs(t *testing.T) {
	root := t.TempDir()
	t.Setenv("CHRONON_KV", "")
	fetchStore(t, root)
	kvDir := filepath.Join(root, ".chronon", "kv")
	// The fixture's join, now sampled at 100%.
	func() {
		store, err := kv.OpenEmbedded(kvDir, kv.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer store.Close()
		gb := &api.GroupBy{MetaData: &api.MetaData{Name: strp("quickstart.users.v1")}, KeyColumns: []string{"user_id"},
			Sources: []*api.Source{{Events: &api.EventSource{Table: strp("data.users")}}}}
		sp := 100.0
		j := &api.Join{MetaData: &api.MetaData{Name: strp("quickstart.training_set.v2"), SamplePercent: &sp},
			Left: &api.Source{Events: &api.EventSource{Table: strp("data.checkouts")}}, JoinParts: []*api.JoinPart{{GroupBy: gb}}}
		jb, _ := conf.MarshalCompact(j, nil)
		if err := store.MultiPut(context.Background(), []kv.PutRequest{{Dataset: online.MetadataDataset,
			Key: []byte("joins/quickstart/training_set.v2"), Value: jb, TsMillis: 2}}); err != nil {
			t.Fatal(err)
		}
	}()
	fetch := func(extra ...string) {
		t.Helper()
		args := append([]string{"run", "--mode", "fetch", "--name", "quickstart/training_set.v2", "-k", `{"user_id":"5"}`,
			"--at-millis", "1701478800000"}, extra...)
		if out, log, err := chronon(t, root, args...); err != nil {
			t.Fatal(err, out, log)
		}
	}
	fetch()
	fetch()
	fetch("--no-log")

	log, err := kv.OpenLog(context.Background(), kvDir, kv.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	var fetches, schemas []kv.LogRecord
	if err := log.Scan(context.Background(), nil, func(r kv.LogRecord) error {
		switch r.Name {
		case kv.SchemaPublishEvent:
			schemas = append(schemas, r)
		case "quickstart/training_set.v2":
			fetches = append(fetches, r)
		default:
			t.Errorf("unexpected record %q", r.Name)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	// One schema publication per process (each builds its codec).
	if len(fetches) != 2 || len(schemas) != 2 {
		t.Fatalf("%d fetch records and %d schema publications, want 2 and 2", len(fetches), len(schemas))
	}
	hash := string(schemas[0].KeyBytes)
	if string(schemas[1].KeyBytes) != hash || online.SchemaHash(string(schemas[0].ValueBytes)) != hash {
		t.Errorf("schema hashes %q %q", schemas[0].KeyBytes, schemas[1].KeyBytes)
	}
	for _, r := range fetches {
		if r.SchemaHash != hash || r.TsMillis != 1701478800000 {
			t.Errorf("fetch record: hash %q ts %d", r.SchemaHash, r.TsMillis)
		}
	}
	segs, _ := filepath.Glob(filepath.Join(kv.LogDir(kvDir), "*"))
	if len(segs) != 2 {
		t.Errorf("want one segment per logging process, got %v", segs)
	}
	if _, err := os.Stat(filepath.Join(root, ".chronon", "kv_log")); err != nil {
		t.Errorf("log not at <root>/.chronon/kv_log: %v", err)
	}
}
