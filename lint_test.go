package main

import (
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// Imports flow downward (DESIGN.md): runtime/ never imports starlark_api/ or compiler/, and
// thrift/ and starlark_api/ never import compiler/ or runtime/; internal/ holds leaves shared by all
// layers and imports none of them.
func TestImportRules(t *testing.T) {
	const mod = "github.com/chronon-go/chronon/"
	forbidden := map[string][]string{
		"runtime/":      {mod + "starlark_api", mod + "compiler"},
		"thrift/":       {mod + "starlark_api", mod + "compiler", mod + "runtime"},
		"starlark_api/": {mod + "compiler", mod + "runtime"},
		"internal/":     {mod + "starlark_api", mod + "compiler", mod + "runtime", mod + "thrift"},
	}
	err := filepath.WalkDir(".", func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") && p != ".") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(p, ".go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), p, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		for dir, bad := range forbidden {
			if !strings.HasPrefix(filepath.ToSlash(p), dir) {
				continue
			}
			for _, imp := range f.Imports {
				path := strings.Trim(imp.Path.Value, `"`)
				for _, b := range bad {
					if path == b || strings.HasPrefix(path, b+"/") {
						t.Errorf("%s imports %s: %s must not depend on it", p, path, dir)
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// Every hand-written Go file is gofmt-clean (generated thrift code is exempt).
func TestGofmt(t *testing.T) {
	gofmt, err := exec.LookPath("gofmt")
	if err != nil {
		gofmt = filepath.Join(runtime.GOROOT(), "bin", "gofmt")
	}
	out, err := exec.Command(gofmt, "-l", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("gofmt: %v\n%s", err, out)
	}
	var bad []string
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if l != "" && !strings.HasPrefix(l, "thrift/api/") {
			bad = append(bad, l)
		}
	}
	if len(bad) > 0 {
		t.Errorf("gofmt -l reports: %s (run gofmt -w)", strings.Join(bad, " "))
	}
}
