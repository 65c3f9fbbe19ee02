package cmds

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/FerretDB/FerretDB/ferretdb"
)

// TestTutorialQuickstartMongo is `chronon quickstart --kv mongodb://...`: the same tutorial with
// the online store and the fetch log in MongoDB (a real server when CHRONON_TEST_MONGO_URI is set,
// else FerretDB embedded in the test binary, see DESIGN.md), run twice.
func TestTutorialQuickstartMongo(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the whole tutorial")
	}
	t.Setenv("CHRONON_KV", "")
	uri := os.Getenv("CHRONON_TEST_MONGO_URI")
	db := fmt.Sprintf("chronon_quickstart_test_%d", os.Getpid())
	if uri == "" {
		dir := t.TempDir()
		f, err := ferretdb.New(&ferretdb.Config{
			Listener:  ferretdb.ListenerConfig{TCP: "127.0.0.1:0"},
			Handler:   "sqlite",
			SQLiteURL: "file:" + dir + "/",
			Logger:    slog.New(slog.NewTextHandler(io.Discard, nil)),
		})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go f.Run(ctx)
		uri = strings.TrimSuffix(f.MongoDBURI(), "/")
	} else if i := strings.Index(strings.TrimPrefix(uri, "mongodb://"), "/"); i >= 0 {
		t.Skip("CHRONON_TEST_MONGO_URI names a database; the test needs its own")
	}
	uri += "/" + db
	root := tutorialRoot(t)
	for run := 0; run < 2; run++ {
		out, _ := runQuickstartCmd(t, root, "--kv", uri)
		checkSummary(t, section(t, out, "compare online with offline"), 808, "")
		want := "404 logged now, 0 already in the fetch log"
		if run == 1 {
			want = "0 logged now, 404 already in the fetch log"
		}
		if strings.Count(out, want) != 2 || !strings.Contains(out, "--kv "+uri) {
			t.Errorf("run %d: want %q twice and --kv %s:\n%s", run+1, want, uri, out)
		}
	}
	if _, err := os.Stat(filepath.Join(root, ".chronon", "kv")); err == nil {
		t.Error("the embedded store was used")
	}
}
