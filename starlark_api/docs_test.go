package starlark_api

import (
	"os"
	"strings"
	"testing"
)

// docs/dsl.md names every loadable module, every member and every parameter of the main constructors.
func TestDSLReferenceIsComplete(t *testing.T) {
	data, err := os.ReadFile("../docs/dsl.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(data)
	for mod, members := range APIModules() {
		if !strings.Contains(doc, mod) {
			t.Errorf("docs/dsl.md does not mention module %s", mod)
		}
		for _, m := range members {
			if !strings.Contains(doc, m) {
				t.Errorf("docs/dsl.md does not mention %s.%s", mod, m)
			}
		}
	}
	for fn, params := range map[string][]param{"GroupBy": groupByParams, "Join": joinParams, "Query": queryParams, "Aggregation": aggregationParams} {
		i := strings.Index(doc, "### `"+fn+"(")
		if i < 0 {
			t.Errorf("docs/dsl.md has no heading for %s", fn)
			continue
		}
		heading := doc[i : i+strings.Index(doc[i:], "\n")]
		for _, p := range params {
			if !strings.Contains(heading, p.name) {
				t.Errorf("docs/dsl.md: %s heading lacks parameter %s", fn, p.name)
			}
		}
	}
	for op := range operationModule.Members {
		if !strings.Contains(doc, op) {
			t.Errorf("docs/dsl.md does not mention Operation.%s", op)
		}
	}
}
