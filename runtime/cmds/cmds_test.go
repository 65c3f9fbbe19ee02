package cmds

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"
)

func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// chronon runs the commands as the binary would, in a fresh root.
func chronon(t *testing.T, root string, args ...string) (string, string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	app := &cli.App{
		Name: "chronon",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "chronon-root", Value: root},
			WarehouseFlag(),
		},
		Commands:       []*cli.Command{Import(), SQL(), Run()},
		Writer:         &out,
		ErrWriter:      &errOut,
		ExitErrHandler: func(*cli.Context, error) {},
	}
	err := app.Run(append([]string{"chronon"}, args...))
	return out.String(), errOut.String(), err
}

func TestQuickstartFlow(t *testing.T) {
	root := t.TempDir()
	data := filepath.Join(repoRoot(), "data", "quickstart")
	files, _ := filepath.Glob(filepath.Join(data, "*.csv"))
	out, _, err := chronon(t, root, append([]string{"import"}, files...)...)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "imported 500 rows into data.purchases (30 partition(s), ds 2023-11-01..2023-11-30)") {
		t.Fatalf("import output:\n%s", out)
	}
	if _, err := os.Stat(filepath.Join(root, ".chronon", "warehouse", "data", "purchases", "ds=2023-11-01")); err != nil {
		t.Fatal("default warehouse location not used:", err)
	}
	conf := filepath.Join(root, "production", "staging_queries", "quickstart", "sq.v1")
	os.MkdirAll(filepath.Dir(conf), 0o755)
	os.WriteFile(conf, []byte(`{"metaData": {"name": "quickstart.sq.v1", "outputNamespace": "default"},
		"query": "SELECT user_id, ds FROM data.checkouts WHERE ds BETWEEN '{{ start_date }}' AND '{{ end_date }}'",
		"startPartition": "2023-11-25"}`), 0o644)
	_, log, err := chronon(t, root, "run", "--mode", "backfill", "--conf", "production/staging_queries/quickstart/sq.v1", "--ds", "2023-11-30", "--step-days", "3")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log, "computing 2023-11-28..2023-11-30 [2/2]") {
		t.Fatalf("run log:\n%s", log)
	}
	out, _, err = chronon(t, root, "sql", "SELECT count(*) AS n, min(ds) AS d FROM default.quickstart_sq_v1", "--format", "json")
	if err != nil {
		t.Fatal(err)
	}
	if out != `{"n":200,"d":"2023-11-30"}`+"\n" {
		t.Fatalf("sql output %q", out)
	}
}

func TestRunErrors(t *testing.T) {
	root := t.TempDir()
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"run", "--mode", "upload", "--conf", "production/staging_queries/q/x.v1"}, `mode "upload" does not apply to staging_queries`},
		{[]string{"run", "--conf", "x.v1"}, "should look like production/<group_bys|joins|staging_queries>/<team>/<file>.<var>"},
		{[]string{"run", "--conf", "production/staging_queries/q/missing.v1"}, "conf production/staging_queries/q/missing.v1 does not exist"},
		{[]string{"run"}, "--conf is required"},
		{[]string{"sql", "SELECT 1", "--format", "xml"}, `--format "xml": use one of table, csv, json`},
		{[]string{"import", "--table", "data.x"}, "no input files"},
		{[]string{"sql", "SELECT * FROM data.nope"}, "Table with name nope does not exist!"},
	} {
		_, _, err := chronon(t, root, c.args...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: got %v, want %q", c.args, err, c.want)
		}
	}
	// A Chronon mode nobody has built yet is reported as such (checked before the conf is read).
	for kind, modes := range chrononModes {
		for _, mode := range modes {
			if runModes[kind][mode] != nil {
				continue
			}
			_, _, err := chronon(t, root, "run", "--mode", mode, "--conf", "production/"+kind+"/team/missing.v1")
			want := "mode " + mode + " for " + kind + " is not available yet"
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("%s %s: got %v, want %q", kind, mode, err, want)
			}
			break
		}
	}
}

func TestWarehouseLocation(t *testing.T) {
	root := t.TempDir()
	csv := filepath.Join(repoRoot(), "data", "quickstart", "users.csv")
	os.WriteFile(filepath.Join(root, "teams.json"), []byte(`{"default": {"common_env": {"CHRONON_WAREHOUSE": "wh-from-teams"}}}`), 0o644)
	if _, _, err := chronon(t, root, "import", csv); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "wh-from-teams", "data", "users")); err != nil {
		t.Fatal("teams.json common_env not used:", err)
	}
	flag := filepath.Join(root, "flag-wh")
	if _, _, err := chronon(t, root, "--warehouse", flag, "import", csv); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(flag, "data", "users")); err != nil {
		t.Fatal("--warehouse not used:", err)
	}
}
