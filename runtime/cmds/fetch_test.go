package cmds

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"

	"github.com/chronon-go/chronon/runtime/kv"
	"github.com/chronon-go/chronon/runtime/online"
	"github.com/chronon-go/chronon/runtime/types"
	"github.com/chronon-go/chronon/thrift/api"
	"github.com/chronon-go/chronon/thrift/conf"
)

func strp(s string) *string { return &s }

// fetchStore uploads a no-aggregation GroupBy keyed by user_id and a join over it into
// <root>/.chronon/kv.
func fetchStore(t *testing.T, root string) {
	t.Helper()
	ctx := context.Background()
	store, err := kv.OpenEmbedded(filepath.Join(root, ".chronon", "kv"), kv.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	gb := &api.GroupBy{MetaData: &api.MetaData{Name: strp("quickstart.users.v1")}, KeyColumns: []string{"user_id"},
		Sources: []*api.Source{{Events: &api.EventSource{Table: strp("data.users")}}}}
	si, err := online.BuildServingInfo(gb, types.Schema{{Name: "user_id", Type: types.StringType},
		{Name: "city", Type: types.StringType}, {Name: "age", Type: types.LongType}}, "2023-11-30", nil)
	if err != nil {
		t.Fatal(err)
	}
	info, _ := si.MarshalCompact(nil)
	key, _ := si.Key.EncodeKeyMap(map[string]any{"user_id": "5"})
	val, _ := si.Selected.Encode([]any{"Paris", int64(41)})
	if err := store.BulkLoad(ctx, online.BatchDataset("quickstart.users.v1"), kv.Rows([]kv.Row{
		{Key: []byte(online.GroupByServingInfoKey), Value: info, TsMillis: si.BatchEndTsMillis},
		{Key: key, Value: val, TsMillis: si.BatchEndTsMillis}})); err != nil {
		t.Fatal(err)
	}
	j := &api.Join{MetaData: &api.MetaData{Name: strp("quickstart.training_set.v2")},
		Left: &api.Source{Events: &api.EventSource{Table: strp("data.checkouts")}}, JoinParts: []*api.JoinPart{{GroupBy: gb}}}
	jb, _ := conf.MarshalCompact(j, nil)
	if err := store.BulkLoad(ctx, online.MetadataDataset, kv.Rows([]kv.Row{
		{Key: []byte("joins/quickstart/training_set.v2"), Value: jb, TsMillis: 1}})); err != nil {
		t.Fatal(err)
	}
}

func TestFetchCLI(t *testing.T) {
	root := t.TempDir()
	t.Setenv("CHRONON_KV", "")
	fetchStore(t, root)
	// With --conf (dispatched by run's conf kind).
	confPath := filepath.Join(root, "production", "joins", "quickstart", "training_set.v2")
	if err := os.MkdirAll(filepath.Dir(confPath), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(confPath, []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, _, err := chronon(t, root, "run", "--mode", "fetch", "--conf", confPath, "-k", `[{"user_id":"5"},{"user_id":6}]`)
	if err != nil {
		t.Fatal(err)
	}
	// The absent key 6 yields a join response without entries (not a null map).
	want := "--- [FETCHED RESULT] ---\n{\n  \"quickstart_users_v1_age\": 41,\n  \"quickstart_users_v1_city\": \"Paris\"\n}\n" +
		"--- [FETCHED RESULT] ---\n{}\n"
	if out != want {
		t.Errorf("join fetch:\n%s\nwant\n%s", out, want)
	}

	// Without --conf: RunFetch (what run.go calls for --mode fetch without --conf).
	var buf, errBuf bytes.Buffer
	app := &cli.App{Name: "chronon",
		Flags:    []cli.Flag{&cli.StringFlag{Name: "chronon-root", Value: root}},
		Commands: []*cli.Command{{Name: "run", Flags: RunFlags, Action: RunFetch}},
		Writer:   &buf, ErrWriter: &errBuf, ExitErrHandler: func(*cli.Context, error) {}}
	keysFile := filepath.Join(root, "keys.jsonl")
	if err := os.WriteFile(keysFile, []byte("{\"user_id\": 5}\n{\"user_id\": \"7\"}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := app.Run([]string{"chronon", "run", "--mode", "fetch", "--type", "group-by", "--name", "quickstart.users.v1", "-f", keysFile}); err != nil {
		t.Fatal(err)
	}
	want = "--- [FETCHED RESULT] ---\n{\n  \"age\": 41,\n  \"city\": \"Paris\"\n}\nNo data present for the provided key.\n"
	if buf.String() != want {
		t.Errorf("group-by fetch:\n%s\nwant\n%s", buf.String(), want)
	}
}

// The tutorial's fetch step after upload and metadata-upload (docs/fetch.md).
func TestFetchQuickstart(t *testing.T) {
	if testing.Short() {
		t.Skip("uploads the quickstart")
	}
	root := quickstartRoot(t)
	for _, gb := range []string{"purchases", "returns"} {
		if _, log, err := chronon(t, root, "run", "--mode", "upload", "--conf", "production/group_bys/quickstart/"+gb+".v1", "--ds", "2023-12-01"); err != nil {
			t.Fatal(err, log)
		}
	}
	if _, log, err := chronon(t, root, "run", "--mode", "metadata-upload", "--conf", "production/joins/quickstart/training_set.v2"); err != nil {
		t.Fatal(err, log)
	}
	// batchEnd 2023-12-02 + 1h.
	out, log, err := chronon(t, root, "run", "--mode", "fetch", "--conf", "production/joins/quickstart/training_set.v2",
		"-k", `{"user_id":"5"}`, "--at-millis", "1701478800000")
	if err != nil {
		t.Fatal(err, log)
	}
	if !strings.HasPrefix(out, "--- [FETCHED RESULT] ---\n{\n") || strings.Contains(out, "_exception") ||
		!strings.Contains(out, `"quickstart_purchases_v1_purchase_price_sum_14d": `) || !strings.Contains(out, `"quickstart_returns_v1_`) {
		t.Errorf("join fetch:\n%s\n%s", out, log)
	}
	t.Logf("%s", out)
	out, _, err = chronon(t, root, "run", "--mode", "fetch", "--conf", "production/group_bys/quickstart/purchases.v1",
		"-k", `{"user_id":"no such user"}`, "--at-millis", "1701478800000")
	if err != nil || out != "No data present for the provided key.\n" {
		t.Errorf("missing key: %q %v", out, err)
	}
}
