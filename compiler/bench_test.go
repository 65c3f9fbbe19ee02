package compiler_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/chronon-go/chronon/compiler"
)

// writeSyntheticRepo writes n definitions: GroupBys in 10 teams and, for every fourth file, a Join over
// the GroupBys defined so far in its team. Goal (issue 2): 500 definitions compile in under 2 s here.
func writeSyntheticRepo(b *testing.B, root string, n int) {
	b.Helper()
	write := func(rel, body string) {
		p := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	teams := `{"default": {"table_properties": {"source": "chronon"}, "namespace": "default"}`
	for t := 0; t < 10; t++ {
		teams += fmt.Sprintf(`, "team%d": {"namespace": "ns%d"}`, t, t)
	}
	write("teams.json", teams+"}")
	gbs := map[int][]int{}
	for i := 0; i < n; i++ {
		team := i % 10
		if i%4 == 3 && len(gbs[team]) > 0 {
			body := "load(\"ai.chronon.join\", \"Join\", \"JoinPart\")\nload(\"ai.chronon.api.ttypes\", \"Source\", \"EventSource\")\nload(\"ai.chronon.query\", \"Query\", \"select\")\n"
			parts := ""
			for _, g := range gbs[team] {
				body += fmt.Sprintf("load(\"group_bys.team%d.gb%d\", gb%d = \"v1\")\n", team, g, g)
				parts += fmt.Sprintf("JoinPart(group_by = gb%d), ", g)
			}
			body += fmt.Sprintf("left = Source(events = EventSource(table = \"data.left%d\", query = Query(selects = select(\"user_id\"), time_column = \"ts\")))\n", i)
			body += fmt.Sprintf("v1 = Join(left = left, right_parts = [%s], online = True)\n", parts)
			write(fmt.Sprintf("joins/team%d/join%d.star", team, i), body)
			continue
		}
		gbs[team] = append(gbs[team], i)
		write(fmt.Sprintf("group_bys/team%d/gb%d.star", team, i), fmt.Sprintf(`load("ai.chronon.api.ttypes", "Source", "EventSource")
load("ai.chronon.query", "Query", "select")
load("ai.chronon.group_by", "GroupBy", "Aggregation", "Operation", "Window", "TimeUnit")
windows = [Window(length = d, timeUnit = TimeUnit.DAYS) for d in [1, 7, 30]]
src = Source(events = EventSource(table = "data.events%d", query = Query(selects = select("user_id", "value"), time_column = "ts")))
v1 = GroupBy(
    sources = [src],
    keys = ["user_id"],
    aggregations = [Aggregation(input_column = "value", operation = op, windows = windows) for op in [Operation.SUM, Operation.COUNT, Operation.AVERAGE]] +
        [Aggregation(input_column = "value", operation = Operation.LAST_K(5))],
    online = True,
)
`, i))
	}
}

func BenchmarkCompile500Definitions(b *testing.B) {
	root := b.TempDir()
	writeSyntheticRepo(b, root, 500)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		os.RemoveAll(filepath.Join(root, "production"))
		if _, err := compiler.Compile(compiler.Options{Root: root}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(500*float64(b.N)/b.Elapsed().Seconds(), "defs/s")
}
