package starlark_api

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chronon-go/chronon/thrift/api"
)

func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for name, body := range files {
		p := filepath.Join(root, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// Objects read and write their Thrift fields by name, share nested structs as Python does, and are
// named by the file that defines them once it has run (spec §1.2).
func TestObjectsAndNaming(t *testing.T) {
	root := writeFiles(t, map[string]string{
		"group_bys/team/a.star": `
load("ai.chronon.api.ttypes", "Source", "EventSource", "MetaData")
load("ai.chronon.query", "Query", "select")
load("ai.chronon.group_by", "GroupBy", "Aggregation", "Operation")
q = Query(selects = select("k", "v"), time_column = "ts")
src = Source(events = EventSource(table = "t.e", query = q))
v1 = GroupBy(sources = [src], keys = ["k"], aggregations = [Aggregation(input_column = "v", operation = Operation.SUM)])
v1.metaData.description = "set after construction"
assert_eq = v1.sources[0].events.query.selects == {"k": "k", "v": "v"}
same = v1.sources[0].events.query == q
`,
		"joins/team/b.star": `
load("group_bys.team.a", "v1")
x = v1
def mutate():
    v1.metaData.online = True
`,
	})
	l := NewLoader(root, nil)
	m, err := l.LoadFile("group_bys/team/a.star")
	if err != nil {
		t.Fatal(err)
	}
	gb := m.Globals["v1"].(*Object).Go().(*api.GroupBy)
	if gb.MetaData.GetName() != "team.a.v1" || gb.MetaData.GetTeam() != "team" || gb.MetaData.GetDescription() != "set after construction" {
		t.Errorf("metaData = %+v", gb.MetaData)
	}
	for _, n := range []string{"assert_eq", "same"} {
		if m.Globals[n].String() != "True" {
			t.Errorf("%s = %s", n, m.Globals[n])
		}
	}
	if strings.Join(m.Names, ",") != "q,src,v1,assert_eq,same" {
		t.Errorf("binding order %v", m.Names)
	}
	// Loaded modules are shared and frozen.
	mb, err := l.LoadFile("joins/team/b.star")
	if err != nil {
		t.Fatal(err)
	}
	if mb.Globals["x"] != m.Globals["v1"] {
		t.Errorf("a module loaded twice was executed twice")
	}
}
