package backfill

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"

	"github.com/chronon-go/chronon/runtime/types"
	"github.com/chronon-go/chronon/runtime/warehouse"
	"github.com/chronon-go/chronon/thrift/api"
	"github.com/chronon-go/chronon/thrift/conf"
)

// TestJoinCases runs testdata/join/*.txt, reviewable without Go. Commands:
//
//	table name=ns.t           rows as CSV; the header gives name:type for each column, ds last
//	                          (the partition); "null" is NULL
//	join end=D [start=D] [step=N] [force]
//	                          input: a Join conf (Chronon JSON); prints the output table, sorted
//	group-by end=D [start=D]  input: a GroupBy conf; prints its backfill table
//	error ...                 as join/group-by, prints the error instead
//
// Output tables print as CSV with a header of name:type; rows sorted; NULL as null.
func TestJoinCases(t *testing.T) {
	datadriven.Walk(t, filepath.Join("testdata", "join"), func(t *testing.T, path string) {
		w, err := warehouse.Open(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
			switch d.Cmd {
			case "table":
				var name string
				d.ScanArgs(t, "name", &name)
				if err := writeCSVTable(w, name, d.Input); err != nil {
					return "error: " + err.Error()
				}
				return ""
			case "join", "group-by", "error":
				opts := JoinOptions{}
				d.ScanArgs(t, "end", &opts.EndDate)
				if d.HasArg("start") {
					d.ScanArgs(t, "start", &opts.StartDate)
				}
				if d.HasArg("step") {
					d.ScanArgs(t, "step", &opts.StepDays)
				}
				opts.Force = d.HasArg("force")
				var out string
				var runErr error
				if strings.Contains(d.Input, `"joinParts"`) {
					var j api.Join
					o, err := conf.Unmarshal([]byte(d.Input), &j)
					if err != nil {
						return "bad conf: " + err.Error()
					}
					out, _ = JoinOutputTable(j.MetaData)
					runErr = RunJoin(context.Background(), w, &j, o, opts)
				} else {
					var gb api.GroupBy
					o, err := conf.Unmarshal([]byte(d.Input), &gb)
					if err != nil {
						return "bad conf: " + err.Error()
					}
					out, _ = JoinOutputTable(gb.MetaData)
					runErr = RunGroupBy(context.Background(), w, &gb, o, opts)
				}
				if d.Cmd == "error" {
					if runErr == nil {
						return "no error"
					}
					return runErr.Error() + "\n"
				}
				if runErr != nil {
					return "error: " + runErr.Error() + "\n"
				}
				return printTable(t, w, out)
			}
			t.Fatalf("unknown command %s", d.Cmd)
			return ""
		})
	})
}

func writeCSVTable(w *warehouse.Warehouse, name, input string) error {
	lines := strings.Split(strings.TrimSpace(input), "\n")
	var schema types.Schema
	for _, h := range strings.Split(lines[0], ",") {
		n, ty, ok := strings.Cut(h, ":")
		if !ok {
			return fmt.Errorf("header column %q needs name:type", h)
		}
		typ, err := types.ParseType(ty)
		if err != nil {
			return err
		}
		schema = append(schema, types.Field{Name: n, Type: typ})
	}
	if schema[len(schema)-1].Name != "ds" {
		return fmt.Errorf("the last column must be ds")
	}
	data := schema[:len(schema)-1]
	tx, err := w.Begin(name, warehouse.TableSpec{Schema: data, PartitionColumns: []string{"ds"}})
	if err != nil {
		return err
	}
	byDs := map[string]*types.Batch{}
	var days []string
	for _, l := range lines[1:] {
		vals := strings.Split(l, ",")
		if len(vals) != len(schema) {
			tx.Abort()
			return fmt.Errorf("row %q has %d values, want %d", l, len(vals), len(schema))
		}
		ds := vals[len(vals)-1]
		b := byDs[ds]
		if b == nil {
			b = types.NewBatch(data, 0)
			byDs[ds] = b
			days = append(days, ds)
		}
		for i, f := range data {
			if vals[i] == "null" {
				b.Cols[i].AppendNull()
				continue
			}
			switch f.Type.Kind {
			case types.String:
				b.Cols[i].Append(vals[i])
			case types.Long, types.Int:
				var x int64
				fmt.Sscan(vals[i], &x)
				b.Cols[i].Append(x)
			case types.Double:
				var x float64
				fmt.Sscan(vals[i], &x)
				b.Cols[i].Append(x)
			default:
				tx.Abort()
				return fmt.Errorf("column type %s not supported in test tables", f.Type)
			}
		}
	}
	sort.Strings(days)
	for _, d := range days {
		if err := tx.Write([]string{d}, byDs[d]); err != nil {
			tx.Abort()
			return err
		}
	}
	return tx.Commit()
}

func printTable(t *testing.T, w *warehouse.Warehouse, name string) string {
	b := readTable(t, w, name)
	var header []string
	for _, f := range b.Schema {
		header = append(header, f.Name+":"+f.Type.String())
	}
	var rows []string
	for i := 0; i < b.Len(); i++ {
		var vals []string
		for _, c := range b.Cols {
			vals = append(vals, showValue(c.Value(i)))
		}
		rows = append(rows, strings.Join(vals, ","))
	}
	sort.Strings(rows)
	return strings.Join(header, ",") + "\n" + strings.Join(rows, "\n") + "\n"
}
