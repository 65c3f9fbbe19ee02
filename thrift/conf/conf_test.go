package conf_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chronon-go/chronon/thrift/api"
	"github.com/chronon-go/chronon/thrift/conf"
)

// Every golden conf written by Chronon's compile.py must decode and re-encode to the same bytes (spec §1.5).
func TestGoldenRoundTrip(t *testing.T) {
	root := filepath.Join("..", "..", "..", "shared", "golden", "compile")
	files, _ := filepath.Glob(filepath.Join(root, "*", "*", "*"))
	if len(files) == 0 {
		t.Fatalf("no golden confs under %s", root)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var v any = &api.GroupBy{}
		if strings.Contains(f, "/joins/") {
			v = &api.Join{}
		}
		o, err := conf.Unmarshal(data, v)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		out, err := conf.Marshal(v, o)
		if err != nil {
			t.Fatal(err)
		}
		if string(out) != string(data) {
			t.Errorf("%s: round trip differs:\n%s", f, out)
		}
	}
}
