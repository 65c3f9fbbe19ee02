package compiler_test

import (
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"golang.org/x/tools/txtar"

	"github.com/chronon-go/chronon/compiler"
)

var rewrite = flag.Bool("rewrite", false, "rewrite the want sections of testdata/errors/*.txtar")

// goldenDir holds the output of Chronon's own compile.py for the quickstart (shared/ beside the repo).
var goldenDir = filepath.Join("..", "..", "shared", "golden", "compile")

func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// readTree returns every file under dir by relative path.
func readTree(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if os.IsNotExist(err) {
				return nil
			}
			return err
		}
		if d.IsDir() {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		out[filepath.ToSlash(rel)] = string(data)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func compile(t *testing.T, root string, inputs ...string) (*compiler.Result, error) {
	t.Helper()
	return compiler.Compile(compiler.Options{Root: root, Inputs: inputs})
}

// Upstream-identical quickstart definitions compile to exactly compile.py's bytes (spec §1.5, §1.7),
// and a second compile changes nothing (the output is a fixed point).
func TestGoldenQuickstart(t *testing.T) {
	golden := readTree(t, goldenDir)
	if len(golden) == 0 {
		t.Fatalf("no golden confs in %s: the shared/ folder must sit beside the repository", goldenDir)
	}
	root := t.TempDir()
	copyTree(t, filepath.Join("testdata", "upstream"), root)
	if _, err := compile(t, root); err != nil {
		t.Fatal(err)
	}
	got := readTree(t, filepath.Join(root, "production"))
	for name, want := range golden {
		if got[name] != want {
			t.Errorf("production/%s differs from compile.py's output:\n--- got ---\n%s\n--- want ---\n%s", name, got[name], want)
		}
	}
	res, err := compile(t, root)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Written) != 0 {
		t.Errorf("second compile rewrote %v", res.Written)
	}
	if again := readTree(t, filepath.Join(root, "production")); !equalTrees(got, again) {
		t.Errorf("second compile changed production/")
	}
}

// The checked-in production/ is exactly what `chronon compile` writes for the checked-in definitions.
func TestCheckedInProductionIsCompiled(t *testing.T) {
	root := t.TempDir()
	for _, d := range []string{"group_bys", "joins", "staging_queries"} {
		copyTree(t, filepath.Join("..", d), filepath.Join(root, d))
	}
	data, err := os.ReadFile(filepath.Join("..", "teams.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "teams.json"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := compile(t, root); err != nil {
		t.Fatal(err)
	}
	got := readTree(t, filepath.Join(root, "production"))
	want := readTree(t, filepath.Join("..", "production"))
	if !equalTrees(got, want) {
		for _, k := range union(got, want) {
			if got[k] != want[k] {
				t.Errorf("production/%s: the checked-in file is not what chronon compile writes; run `make quickstart` (or chronon compile) and commit", k)
			}
		}
	}
}

// Compiling a join writes the join and its online GroupBys, as compile.py does (spec §1.6).
func TestCompileJoinWritesItsGroupBys(t *testing.T) {
	root := t.TempDir()
	copyTree(t, filepath.Join("testdata", "upstream"), root)
	res, err := compile(t, root, "joins/quickstart/training_set.star")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"production/group_bys/quickstart/purchases.v1",
		"production/group_bys/quickstart/returns.v1",
		"production/group_bys/quickstart/users.v1",
		"production/joins/quickstart/training_set.v1",
		"production/joins/quickstart/training_set.v2",
	}
	if strings.Join(res.Written, ",") != strings.Join(want, ",") {
		t.Errorf("wrote %v, want %v", res.Written, want)
	}
	golden := readTree(t, goldenDir)
	for _, w := range want {
		rel := strings.TrimPrefix(w, "production/")
		got, _ := os.ReadFile(filepath.Join(root, w))
		if string(got) != golden[rel] {
			t.Errorf("%s differs from compile.py's output", w)
		}
	}
	// Recompiling one of its GroupBys alone must name the joins that embed it (spec §1.6).
	_, err = compile(t, root, "group_bys/quickstart/purchases.star")
	if err == nil || !strings.Contains(err.Error(), "quickstart.training_set.v1, quickstart.training_set.v2") {
		t.Errorf("want an error naming the dependent joins, got %v", err)
	}
	if _, err := compiler.Compile(compiler.Options{Root: root, Inputs: []string{"group_bys/quickstart/purchases.star"}, ForceOverwrite: true}); err != nil {
		t.Errorf("with --force-overwrite the dependents are recompiled: %v", err)
	}
}

func equalTrees(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func union(a, b map[string]string) []string {
	seen := map[string]bool{}
	var out []string
	for _, m := range []map[string]string{a, b} {
		for k := range m {
			if !seen[k] {
				seen[k] = true
				out = append(out, k)
			}
		}
	}
	sort.Strings(out)
	return out
}

// Bad input: each testdata/errors/*.txtar holds a small repository, the compile arguments and the
// exact error. The compile must fail, and production/ must be left exactly as it was.
//
// Sections: files of the repository; "args" (one input path per line, optional; "--force-overwrite"
// allowed); "want" (the error text).
func TestErrors(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("testdata", "errors", "*.txtar"))
	if len(files) == 0 {
		t.Fatal("no error cases")
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".txtar"), func(t *testing.T) {
			ar, err := txtar.ParseFile(f)
			if err != nil {
				t.Fatal(err)
			}
			root := t.TempDir()
			var want string
			wantIdx := -1
			opts := compiler.Options{Root: root}
			hasTeams := false
			for i, file := range ar.Files {
				switch file.Name {
				case "want":
					want, wantIdx = strings.TrimSpace(string(file.Data)), i
					continue
				case "args":
					for _, a := range strings.Fields(string(file.Data)) {
						if a == "--force-overwrite" {
							opts.ForceOverwrite = true
						} else {
							opts.Inputs = append(opts.Inputs, a)
						}
					}
					continue
				case "teams.json", "no-teams.json":
					hasTeams = true
				}
				p := filepath.Join(root, file.Name)
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, file.Data, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if !hasTeams {
				data, _ := os.ReadFile(filepath.Join("..", "teams.json"))
				os.WriteFile(filepath.Join(root, "teams.json"), data, 0o644)
			}
			before := readTree(t, filepath.Join(root, "production"))
			_, err = compiler.Compile(opts)
			if err == nil {
				t.Fatalf("compile succeeded, want error:\n%s", want)
			}
			got := strings.ReplaceAll(err.Error(), root+string(filepath.Separator), "")
			got = strings.ReplaceAll(got, root, "<root>")
			if *rewrite {
				if wantIdx < 0 {
					ar.Files = append(ar.Files, txtar.File{Name: "want"})
					wantIdx = len(ar.Files) - 1
				}
				ar.Files[wantIdx].Data = []byte(got + "\n")
				if err := os.WriteFile(f, txtar.Format(ar), 0o644); err != nil {
					t.Fatal(err)
				}
			} else if got != want {
				t.Errorf("error:\n%s\nwant:\n%s", got, want)
			}
			if after := readTree(t, filepath.Join(root, "production")); !equalTrees(before, after) {
				t.Errorf("a failed compile changed production/")
			}
			if wantIdx < 0 && !*rewrite {
				t.Errorf("no want section")
			}
		})
	}
}

// Feature cases: each testdata/compile/*.txtar holds definition files and, under production/, the
// exact confs they compile to (reviewed by hand against Chronon's Python; regenerate with -rewrite).
// Compiling the expected output's repository a second time must change nothing.
func TestCompileCases(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("testdata", "compile", "*.txtar"))
	if len(files) == 0 {
		t.Fatal("no compile cases")
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".txtar"), func(t *testing.T) {
			ar, err := txtar.ParseFile(f)
			if err != nil {
				t.Fatal(err)
			}
			root := t.TempDir()
			want := map[string]string{}
			var inputs []txtar.File
			for _, file := range ar.Files {
				if strings.HasPrefix(file.Name, "production/") {
					want[strings.TrimPrefix(file.Name, "production/")] = strings.TrimSuffix(string(file.Data), "\n")
					continue
				}
				inputs = append(inputs, file)
				p := filepath.Join(root, file.Name)
				os.MkdirAll(filepath.Dir(p), 0o755)
				if err := os.WriteFile(p, file.Data, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := os.Stat(filepath.Join(root, "teams.json")); err != nil {
				data, _ := os.ReadFile(filepath.Join("..", "teams.json"))
				os.WriteFile(filepath.Join(root, "teams.json"), data, 0o644)
			}
			if _, err := compile(t, root); err != nil {
				t.Fatal(err)
			}
			got := readTree(t, filepath.Join(root, "production"))
			if *rewrite {
				out := &txtar.Archive{Comment: ar.Comment, Files: inputs}
				for _, k := range union(got, nil) {
					out.Files = append(out.Files, txtar.File{Name: "production/" + k, Data: []byte(got[k] + "\n")})
				}
				if err := os.WriteFile(f, txtar.Format(out), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			for _, k := range union(got, want) {
				if got[k] != want[k] {
					t.Errorf("production/%s:\n--- got ---\n%s\n--- want ---\n%s", k, got[k], want[k])
				}
			}
			res, err := compile(t, root)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Written) > 0 {
				t.Errorf("second compile rewrote %v", res.Written)
			}
		})
	}
}

// Deprecation dates only warn (spec §1.6): a join using a deprecated GroupBy says so and is written.
func TestDeprecationWarns(t *testing.T) {
	root := t.TempDir()
	copyTree(t, filepath.Join("testdata", "upstream"), root)
	p := filepath.Join(root, "group_bys", "quickstart", "returns.star")
	data, _ := os.ReadFile(p)
	os.WriteFile(p, []byte(strings.Replace(string(data), "online = True,", "online = True,\n    deprecation_date = \"2024-01-01\",", 1)), 0o644)
	var stderr strings.Builder
	res, err := compiler.Compile(compiler.Options{Root: root, Inputs: []string{"joins/quickstart/training_set.star"}, Stderr: &stderr})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Written) != 5 {
		t.Errorf("wrote %v", res.Written)
	}
	want := "quickstart.training_set.v1 uses quickstart.returns.v1, which is deprecated on 2024-01-01"
	if !strings.Contains(stderr.String(), want) {
		t.Errorf("warnings:\n%s\nwant a line containing %q", stderr.String(), want)
	}
}
