package warehouse

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"

	"github.com/chronon-go/chronon/runtime/types"
)

// TestImport runs testdata/import.txt. Commands:
//
//	file name=N [newline]   write the input as file N (without a final newline unless `newline`)
//	import [table=T] [schema=S] [partition-column=C] files=A,B   import; prints the result or the error
//	read table=T            print the schema and the rows (ds order), or the error
//	tree                    list the warehouse's tables and any leftover staging or trash entries
func TestImport(t *testing.T) {
	dir := t.TempDir()
	w, err := Open(filepath.Join(dir, "wh"))
	if err != nil {
		t.Fatal(err)
	}
	datadriven.RunTest(t, "testdata/import.txt", func(t *testing.T, d *datadriven.TestData) string {
		arg := func(k string) string {
			for _, a := range d.CmdArgs {
				if a.Key == k {
					return strings.Join(a.Vals, ",")
				}
			}
			return ""
		}
		clean := func(err error) string {
			return "error: " + strings.ReplaceAll(strings.ReplaceAll(err.Error(), dir+"/", ""), w.Root, "$WH") + "\n"
		}
		switch d.Cmd {
		case "file":
			content := d.Input
			if d.HasArg("newline") {
				content += "\n"
			}
			if err := os.WriteFile(filepath.Join(dir, arg("name")), []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
			return ""
		case "import":
			opts := ImportOptions{Table: arg("table"), PartitionColumn: arg("partition-column")}
			for _, f := range strings.Split(arg("files"), ",") {
				opts.Files = append(opts.Files, filepath.Join(dir, f))
			}
			if s := arg("schema"); s != "" {
				opts.Types, err = ParseTypeList(s)
				if err != nil {
					return clean(err)
				}
			}
			res, err := w.Import(opts)
			if err != nil {
				return clean(err)
			}
			return fmt.Sprintf("%d rows, partitions %v\n", res.Rows, res.Partitions)
		case "read":
			tbl, err := w.Table(arg("table"))
			if err != nil {
				return clean(err)
			}
			s, err := tbl.Schema()
			if err != nil {
				return clean(err)
			}
			r, err := tbl.Read(ReadOptions{})
			if err != nil {
				return clean(err)
			}
			b, err := r.ReadAll()
			if err != nil {
				return clean(err)
			}
			var out strings.Builder
			for i, f := range s {
				if i > 0 {
					out.WriteString(", ")
				}
				fmt.Fprintf(&out, "%s %s", f.Name, f.Type)
			}
			out.WriteString("\n")
			for _, row := range rowsOf(b) {
				for i, v := range row {
					if i > 0 {
						out.WriteString(" | ")
					}
					if v == nil {
						out.WriteString("NULL")
					} else {
						fmt.Fprint(&out, v)
					}
				}
				out.WriteString("\n")
			}
			return out.String()
		case "tree":
			var out strings.Builder
			for _, kind := range []string{".staging", ".trash"} {
				ents, _ := os.ReadDir(filepath.Join(w.Root, kind))
				for _, e := range ents {
					fmt.Fprintf(&out, "leftover %s/%s\n", kind, e.Name())
				}
			}
			tables, _ := w.Tables()
			for _, name := range tables {
				tbl, _ := w.Table(name)
				ps, _ := tbl.Partitions()
				var specs []string
				for _, p := range ps {
					specs = append(specs, p.Spec())
				}
				fmt.Fprintf(&out, "%s %v\n", name, specs)
			}
			return out.String()
		}
		t.Fatalf("unknown command %s", d.Cmd)
		return ""
	})
}

func TestImportParquet(t *testing.T) {
	dir := t.TempDir()
	s := types.Schema{{Name: "user_id", Type: types.StringType}, {Name: "ds", Type: types.StringType}, {Name: "tags", Type: types.ListOf(types.StringType)}}
	path := filepath.Join(dir, "in.parquet")
	fw, err := newFileWriter(path, s)
	if err != nil {
		t.Fatal(err)
	}
	rows := [][]any{{"1", "2023-11-01", []any{"a"}}, {"2", "2023-11-02", nil}, {"3", "2023-11-01", []any{}}}
	if err := fw.Write(batchOf(s, rows)); err != nil {
		t.Fatal(err)
	}
	if err := fw.Close(); err != nil {
		t.Fatal(err)
	}
	w, _ := Open(filepath.Join(dir, "wh"))
	res, err := w.Import(ImportOptions{Table: "data.tags", Files: []string{path}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Rows != 3 || strings.Join(res.Partitions, ",") != "2023-11-01,2023-11-02" {
		t.Fatalf("%+v", res)
	}
	tbl, _ := w.Table("data.tags")
	r, _ := tbl.Read(ReadOptions{Columns: []string{"ds", "user_id", "tags"}})
	b, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := [][]any{{"2023-11-01", "1", []any{"a"}}, {"2023-11-01", "3", []any{}}, {"2023-11-02", "2", nil}}
	if !reflect.DeepEqual(rowsOf(b), want) {
		t.Fatalf("got %v", rowsOf(b))
	}
	if _, err := w.Import(ImportOptions{Table: "data.tags", Files: []string{path}, Types: map[string]*types.Type{"user_id": types.LongType}}); err == nil ||
		!strings.Contains(err.Error(), "--schema applies to CSV input only") {
		t.Fatalf("got %v", err)
	}
}
