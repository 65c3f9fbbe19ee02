package online

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chronon-go/chronon/runtime/kv"
	"github.com/chronon-go/chronon/thrift/conf"
)

func productionDir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "production")
}

// countingStore counts MultiPut calls and their sizes.
type countingStore struct {
	kv.Store
	batches []int
}

func (c *countingStore) MultiPut(ctx context.Context, reqs []kv.PutRequest) error {
	c.batches = append(c.batches, len(reqs))
	return c.Store.MultiPut(ctx, reqs)
}

func latest(t *testing.T, s kv.Store, dataset, key string) kv.TimedValue {
	t.Helper()
	r, err := s.MultiGet(context.Background(), []kv.GetRequest{{Dataset: dataset, Key: []byte(key)}})
	if err != nil || r[0].Err != nil {
		t.Fatalf("%s %s: %v %v", dataset, key, err, r[0].Err)
	}
	v, ok := r[0].Latest()
	if !ok {
		t.Fatalf("%s %s: missing", dataset, key)
	}
	return v
}

// Uploading production/ stores every conf under its last three path segments as compact JSON that
// decodes back to the conf, and per "<kind>/<team>" the list of conf keys.
func TestMetadataUploadProduction(t *testing.T) {
	s, err := kv.OpenEmbedded(filepath.Join(t.TempDir(), "kv"), kv.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	cs := &countingStore{Store: s}
	now := time.Date(2023, 12, 1, 10, 0, 0, 0, time.UTC)
	var log strings.Builder
	n, err := UploadMetadata(context.Background(), cs, productionDir(), MetadataUploadOptions{BatchSize: 3, Now: func() time.Time { return now }, Log: &log})
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	filepath.WalkDir(productionDir(), func(p string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			files = append(files, p)
		}
		return nil
	})
	if n != len(files) || n < 7 {
		t.Fatalf("uploaded %d confs of %d files\n%s", n, len(files), log.String())
	}
	// batches of at most 3 puts: n conf puts + one per kind/team
	total := 0
	for _, b := range cs.batches {
		if b > 3 {
			t.Errorf("batch of %d puts", b)
		}
		total += b
	}
	teams := map[string]bool{}
	for _, f := range files {
		kind, v := confKindOf(f)
		o, err := conf.ReadFile(f, v)
		if err != nil {
			t.Fatal(err)
		}
		key := ConfKey(f)
		got := latest(t, s, ConfByKeyDataset, key)
		if got.TsMillis != now.UnixMilli() {
			t.Errorf("%s: ts %d", key, got.TsMillis)
		}
		want, _ := conf.MarshalCompact(v, o)
		if string(got.Bytes) != string(want) {
			t.Errorf("%s: stored conf differs from the file's compact JSON", key)
		}
		// round trip: the stored JSON decodes to the same conf
		_, v2 := confKindOf(f)
		o2, err := conf.Unmarshal(got.Bytes, v2)
		if err != nil {
			t.Fatalf("%s: %v", key, err)
		}
		again, _ := conf.MarshalCompact(v2, o2)
		if string(again) != string(want) {
			t.Errorf("%s: does not round-trip", key)
		}
		teams[kind+"/quickstart"] = true
	}
	if total != n+len(teams) {
		t.Errorf("%d puts, want %d", total, n+len(teams))
	}
	v := latest(t, s, EntityByTeamDataset, "joins/quickstart")
	joins, err := DecodeTeamEntities(v.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(joins)
	if strings.Join(joins, " ") != "joins/quickstart/training_set.v1 joins/quickstart/training_set.v2" {
		t.Errorf("joins/quickstart = %v (raw %q)", joins, v.Bytes)
	}
	gbs, _ := DecodeTeamEntities(latest(t, s, EntityByTeamDataset, "group_bys/quickstart").Bytes)
	if len(gbs) != 4 {
		t.Errorf("group_bys/quickstart = %v", gbs)
	}
	// the tutorial's lookup key
	if v := latest(t, s, ConfByKeyDataset, "joins/quickstart/training_set.v2"); !strings.Contains(string(v.Bytes), `"name":"quickstart.training_set.v2"`) {
		t.Errorf("training_set.v2: %.200s", v.Bytes)
	}
}

// A single file uploads one conf; files without metaData.name (or not JSON) are skipped;
// team_override wins over metaData.team; an empty selection is an error.
func TestMetadataUploadFilesAndSkips(t *testing.T) {
	dir := t.TempDir()
	write := func(rel, body string) string {
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("production/joins/team_a/j.v1", `{"metaData": {"name": "team_a.j.v1", "team": "team_a", "customJson": "{\"team_override\": \"team_b\"}"}, "left": {"events": {"table": "data.x", "query": {"selects": {"k": "k"}}}}, "joinParts": []}`)
	write("production/joins/team_a/noname.v1", `{"metaData": {"team": "team_a"}, "joinParts": []}`)
	write("production/joins/team_a/notjson", `not json`)
	write("production/staging_queries/team_a/sq.v1", `{"metaData": {"name": "team_a.sq.v1", "team": "team_a"}, "query": "SELECT 1"}`)
	var log strings.Builder
	entries, err := WalkMetadata(filepath.Join(dir, "production"), &log)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 2 || !strings.Contains(log.String(), "noname.v1: no metaData.name") || !strings.Contains(log.String(), "notjson") {
		t.Fatalf("entries %v\nlog %s", entries, log.String())
	}
	puts := MetadataPuts(entries, 7)
	var got []string
	for _, p := range puts {
		got = append(got, p.Dataset+" "+string(p.Key)+" "+strings.SplitN(string(p.Value), ",", 2)[0])
	}
	want := []string{
		`ZIPLINE_METADATA joins/team_a/j.v1 {"metaData":{"name":"team_a.j.v1"`,
		`ZIPLINE_METADATA staging_queries/team_a/sq.v1 {"metaData":{"name":"team_a.sq.v1"`,
		`CHRONON_ENTITY_BY_TEAM joins/team_b am9pbnMvdGVhbV9hL2oudjE=`,
		`CHRONON_ENTITY_BY_TEAM staging_queries/team_a c3RhZ2luZ19xdWVyaWVzL3RlYW1fYS9zcS52MQ==`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("puts:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	s, err := kv.OpenEmbedded(filepath.Join(t.TempDir(), "kv"), kv.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if n, err := UploadMetadata(context.Background(), s, good, MetadataUploadOptions{}); err != nil || n != 1 {
		t.Fatalf("single file: %d, %v", n, err)
	}
	if _, err := UploadMetadata(context.Background(), s, filepath.Join(dir, "production/joins/team_a/noname.v1"), MetadataUploadOptions{}); err == nil {
		t.Error("a file without name uploaded")
	}
	if _, err := UploadMetadata(context.Background(), s, filepath.Join(dir, "nope"), MetadataUploadOptions{}); err == nil {
		t.Error("missing path accepted")
	}
	s.Close()
	if _, err := UploadMetadata(context.Background(), s, good, MetadataUploadOptions{}); err == nil {
		t.Error("closed store accepted")
	}
}
