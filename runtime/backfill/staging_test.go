package backfill

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"

	"github.com/chronon-go/chronon/runtime/sqlshell"
	"github.com/chronon-go/chronon/runtime/warehouse"
	"github.com/chronon-go/chronon/thrift/api"
	"github.com/chronon-go/chronon/thrift/conf"
)

func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// TestStagingQuery runs testdata/staging.txt. Commands:
//
//	import                      load the quickstart CSVs into a fresh warehouse
//	run end=D [start=D] [step=N] [force]    run the StagingQuery conf (JSON input); prints the log or the error
//	sql                         run a query, print CSV
//	tree                        list every directory and file of the warehouse (bookkeeping included),
//	                            showing that a failed run left nothing behind
func TestStagingQuery(t *testing.T) {
	datadriven.Walk(t, "testdata/staging", func(t *testing.T, path string) {
		var w *warehouse.Warehouse
		datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
			switch d.Cmd {
			case "import":
				var err error
				w, err = warehouse.Open(t.TempDir())
				if err != nil {
					t.Fatal(err)
				}
				for _, name := range []string{"checkouts", "purchases", "returns", "users"} {
					if _, err := w.Import(warehouse.ImportOptions{Table: "data." + name,
						Files: []string{filepath.Join(repoRoot(), "data", "quickstart", name+".csv")}}); err != nil {
						t.Fatal(err)
					}
				}
				return ""
			case "run":
				var sq api.StagingQuery
				if _, err := conf.Unmarshal([]byte(d.Input), &sq); err != nil {
					t.Fatal(err)
				}
				opts := StagingOptions{ConfPath: "test.v1"}
				for _, a := range d.CmdArgs {
					v := ""
					if len(a.Vals) > 0 {
						v = a.Vals[0]
					}
					switch a.Key {
					case "end":
						opts.EndDate = v
					case "start":
						opts.StartDate = v
					case "step":
						fmt.Sscan(v, &opts.StepDays)
					case "force":
						opts.Force = true
					}
				}
				var log bytes.Buffer
				opts.Log = &log
				if err := RunStagingQuery(context.Background(), w, &sq, opts); err != nil {
					return log.String() + "error: " + strings.ReplaceAll(err.Error(), w.Root, "$WH") + "\n"
				}
				return log.String()
			case "sql":
				s, err := sqlshell.Open(context.Background(), w)
				if err != nil {
					t.Fatal(err)
				}
				defer s.Close()
				r, err := s.Run(context.Background(), d.Input)
				if err != nil {
					return "error: " + err.Error() + "\n"
				}
				var b bytes.Buffer
				sqlshell.Write(&b, r, "csv")
				return b.String()
			case "tree":
				return tree(t, w.Root)
			case "props":
				tbl, err := w.Table(d.CmdArgs[0].Key)
				if err != nil {
					return "error: " + err.Error() + "\n"
				}
				props, _ := tbl.Properties()
				var keys []string
				for k := range props {
					keys = append(keys, k)
				}
				sort.Strings(keys)
				var b strings.Builder
				for _, k := range keys {
					fmt.Fprintf(&b, "%s=%s\n", k, props[k])
				}
				return b.String()
			}
			t.Fatalf("unknown command %s", d.Cmd)
			return ""
		})
	})
}

// tree summarises the warehouse: per table its partitions and Parquet files, and every entry in
// the bookkeeping directories (which must be empty after any run, failed or not). The quickstart
// input tables (data.*) are left out.
func tree(t *testing.T, root string) string {
	var b strings.Builder
	for _, kind := range []string{".staging", ".trash"} {
		ents, _ := os.ReadDir(filepath.Join(root, kind))
		for _, e := range ents {
			fmt.Fprintf(&b, "leftover %s/%s\n", kind, e.Name())
		}
	}
	w, _ := warehouse.Open(root)
	tables, _ := w.Tables()
	for _, name := range tables {
		if strings.HasPrefix(name, "data.") {
			continue
		}
		tbl, _ := w.Table(name)
		ps, _ := tbl.Partitions()
		files := 0
		filepath.WalkDir(tbl.Dir, func(p string, d os.DirEntry, err error) error {
			if strings.HasSuffix(p, ".parquet") {
				files++
			}
			return nil
		})
		specs := ""
		if len(ps) > 0 {
			specs = fmt.Sprintf(" %s..%s", ps[0].Spec(), ps[len(ps)-1].Spec())
		}
		fmt.Fprintf(&b, "%s: %d partitions%s, %d files\n", name, len(ps), specs, files)
	}
	views, _ := filepath.Glob(filepath.Join(root, "_views", "*", "*.sql"))
	for _, v := range views {
		rel, _ := filepath.Rel(root, v)
		fmt.Fprintf(&b, "view %s\n", rel)
	}
	return b.String()
}
