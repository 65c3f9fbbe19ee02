package cmds

import (
	"fmt"
	"io"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/chronon-go/chronon/runtime/gen"
	"github.com/chronon-go/chronon/runtime/warehouse"
)

// The test binary doubles as the chronon CLI for crash tests: with CHRONON_TEST_CHILD=1 it runs the
// commands given after "--" and exits.
func TestMain(m *testing.M) {
	if os.Getenv("CHRONON_TEST_CHILD") == "1" {
		args := os.Args
		for i, a := range args {
			if a == "--" {
				args = args[i+1:]
				break
			}
		}
		app := &cli.App{
			Name:           "chronon",
			Flags:          []cli.Flag{&cli.StringFlag{Name: "chronon-root", Value: "."}, WarehouseFlag()},
			Commands:       []*cli.Command{Import(), SQL(), Run()},
			ExitErrHandler: func(*cli.Context, error) {},
		}
		if err := app.Run(append([]string{"chronon"}, args...)); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// A backfill killed with SIGKILL at any moment leaves each output partition either absent or
// complete, and a rerun produces exactly the output of an uninterrupted run (spec: outputs are
// written per partition atomically).
func TestKilledBackfillLeavesNoPartialOutput(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	seed := time.Now().UnixNano()
	r := rand.New(rand.NewSource(seed))
	t.Logf("seed %d", seed)
	root := t.TempDir()
	confRel := filepath.Join("production", "joins", "quickstart", "training_set.v1")
	data, err := os.ReadFile(filepath.Join(repoRoot(), confRel))
	if err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Join(root, filepath.Dir(confRel)), 0o755)
	if err := os.WriteFile(filepath.Join(root, confRel), data, 0o644); err != nil {
		t.Fatal(err)
	}
	counts := &gen.Counts{Purchases: 400_000, Returns: 400_000, Checkouts: 40_000, Users: 20_000}
	mkWarehouse := func(name string) string {
		dir := filepath.Join(root, name)
		w, err := warehouse.Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := gen.Generate(w, gen.Options{Counts: counts, Seed: 7}); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	refWh, crashWh := mkWarehouse("ref"), mkWarehouse("crash")
	args := []string{"run", "--mode", "backfill", "--conf", confRel, "--ds", "2023-11-30", "--step-days", "1"}
	if _, errOut, err := chronon(t, root, append([]string{"--warehouse", refWh}, args...)...); err != nil {
		t.Fatalf("reference run: %v\n%s", err, errOut)
	}
	want := tableDump(t, refWh, "default.quickstart_training_set_v1")

	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	for attempt := 0; attempt < 4; attempt++ {
		cmd := exec.Command(exe, append([]string{"-test.run=^$", "--", "--warehouse", crashWh}, args...)...)
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "CHRONON_TEST_CHILD=1")
		cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(50+r.Intn(1500)) * time.Millisecond)
		cmd.Process.Kill()
		cmd.Wait()
		got := tableDump(t, crashWh, "default.quickstart_training_set_v1")
		for ds, rows := range got {
			if rows != want[ds] {
				t.Fatalf("after kill %d: partition %s is not the complete partition (%d vs %d bytes)", attempt, ds, len(rows), len(want[ds]))
			}
		}
	}
	if _, errOut, err := chronon(t, root, append([]string{"--warehouse", crashWh}, args...)...); err != nil {
		t.Fatalf("rerun: %v\n%s", err, errOut)
	}
	got := tableDump(t, crashWh, "default.quickstart_training_set_v1")
	if len(got) != len(want) {
		t.Fatalf("rerun wrote %d partitions, want %d", len(got), len(want))
	}
	for ds := range want {
		if got[ds] != want[ds] {
			t.Errorf("rerun: partition %s differs from an uninterrupted run", ds)
		}
	}
}

// tableDump renders each partition's rows, sorted, by ds; a missing table is empty.
func tableDump(t *testing.T, dir, table string) map[string]string {
	t.Helper()
	w, err := warehouse.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	if !w.Exists(table) {
		return out
	}
	tb, err := w.Table(table)
	if err != nil {
		t.Fatal(err)
	}
	r, err := tb.Read(warehouse.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	b, err := r.ReadAll()
	if err != nil {
		t.Fatalf("reading %s after a kill: %v", table, err)
	}
	rows := map[string][]string{}
	ds := b.Col("ds")
	for i := 0; i < b.Len(); i++ {
		var vals []string
		for _, c := range b.Cols {
			vals = append(vals, fmt.Sprint(c.Value(i)))
		}
		rows[ds.Strs[i]] = append(rows[ds.Strs[i]], strings.Join(vals, ","))
	}
	for d, rs := range rows {
		sort.Strings(rs)
		out[d] = strings.Join(rs, "\n")
	}
	return out
}
