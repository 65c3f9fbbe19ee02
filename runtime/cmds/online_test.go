package cmds

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chronon-go/chronon/runtime/kv"
)

func quickstartRoot(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	files, _ := filepath.Glob(filepath.Join(repoRoot(), "data", "quickstart", "*.csv"))
	if _, _, err := chronon(t, root, append([]string{"import"}, files...)...); err != nil {
		t.Fatal(err)
	}
	if err := os.CopyFS(filepath.Join(root, "production"), os.DirFS(filepath.Join(repoRoot(), "production"))); err != nil {
		t.Fatal(err)
	}
	return root
}

// The tutorial's upload and metadata-upload steps, into the default embedded store.
func TestUploadCLI(t *testing.T) {
	root := quickstartRoot(t)
	for _, gb := range []string{"purchases", "returns"} {
		_, log, err := chronon(t, root, "run", "--mode", "upload", "--conf", "production/group_bys/quickstart/"+gb+".v1", "--ds", "2023-12-01")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(log, "KV dataset QUICKSTART_"+strings.ToUpper(gb)+"_V1_BATCH (version ts 1701475200000, batch end 2023-12-02)") {
			t.Errorf("log: %s", log)
		}
	}
	_, log, err := chronon(t, root, "run", "--mode", "metadata-upload", "--conf", "production/joins/quickstart/training_set.v2")
	if err != nil || !strings.Contains(log, "1 confs into ZIPLINE_METADATA") {
		t.Fatalf("%v\n%s", err, log)
	}
	// A folder of confs works too (spec §7.5: --conf is a file or a directory).
	_, log, err = chronon(t, root, "run", "--mode", "metadata-upload", "--conf", "production/joins")
	if err != nil || !strings.Contains(log, "2 confs into ZIPLINE_METADATA") {
		t.Fatalf("folder: %v\n%s", err, log)
	}
	out, _, err := chronon(t, root, "sql", "SELECT count(*) AS n FROM default.quickstart_returns_v1_upload", "--format", "json")
	if err != nil || out != `{"n":101}`+"\n" {
		t.Errorf("upload table: %q %v", out, err)
	}
	s, err := kv.Open(context.Background(), filepath.Join(root, ".chronon", "kv"), kv.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	r, err := s.MultiGet(context.Background(), []kv.GetRequest{
		{Dataset: "QUICKSTART_PURCHASES_V1_BATCH", Key: []byte("group_by_serving_info")},
		{Dataset: "ZIPLINE_METADATA", Key: []byte("joins/quickstart/training_set.v2")},
	})
	if err != nil {
		t.Fatal(err)
	}
	for i, rr := range r {
		if v, ok := rr.Latest(); !ok || rr.Err != nil || len(v.Bytes) == 0 {
			t.Errorf("request %d: %v %v", i, rr.Values, rr.Err)
		}
	}
}

// An unreachable store (here: the embedded store held by another process) fails the upload with
// a clear error and writes nothing; so does an unknown conf.
func TestUploadCLIErrors(t *testing.T) {
	root := quickstartRoot(t)
	dir := filepath.Join(root, "held-kv")
	s, err := kv.Open(context.Background(), dir, kv.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	_, _, err = chronon(t, root, "run", "--mode", "upload", "--kv", dir, "--conf", "production/group_bys/quickstart/purchases.v1", "--ds", "2023-11-30")
	if err == nil || !strings.Contains(err.Error(), "online store "+dir+" is not reachable") {
		t.Fatalf("err = %v", err)
	}
	if _, err := os.Stat(filepath.Join(root, ".chronon", "warehouse", "default", "quickstart_purchases_v1_upload")); err == nil {
		t.Error("upload table written although the store was unreachable")
	}
	file := filepath.Join(root, "a-file")
	os.WriteFile(file, nil, 0o644)
	t.Setenv("CHRONON_KV", filepath.Join(file, "kv"))
	_, _, err = chronon(t, root, "run", "--mode", "metadata-upload", "--conf", "production/joins/quickstart/training_set.v2")
	if err == nil || !strings.Contains(err.Error(), "is not reachable") {
		t.Errorf("CHRONON_KV under a file: %v", err)
	}
	_, _, err = chronon(t, root, "run", "--mode", "upload", "--conf", "production/group_bys/quickstart/nope.v1", "--ds", "2023-11-30")
	if err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("unknown conf: %v", err)
	}
}
