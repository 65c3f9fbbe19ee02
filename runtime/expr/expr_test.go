package expr

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"

	"github.com/chronon-go/chronon/runtime/types"
)

// The datadriven files in testdata/ hold the expression semantics in a form reviewable without Go:
//
//	table                      sets the input for the following cases
//	a int, b string            first line: the schema
//	1, 'x'                     then one row per line, each cell a constant SQL expression
//	----
//	2 rows
//
//	eval                       one expression per line; prints its type and the value per row
//	a + 1
//	----
//	a + 1 -> int: 2, NULL
//
// Every case is evaluated three ways (columnar, row values, row map) and any disagreement is printed.
// Run with --rewrite to regenerate the expected output.
func TestDataDriven(t *testing.T) {
	datadriven.Walk(t, "testdata", func(t *testing.T, path string) {
		tbl := &testTable{n: 1, rows: [][]any{nil}, batch: &types.Batch{}}
		datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
			switch d.Cmd {
			case "table":
				nt, err := parseTestTable(d.Input)
				if err != nil {
					return "error: " + err.Error() + "\n"
				}
				*tbl = *nt
				return fmt.Sprintf("%d rows\n", tbl.n)
			case "eval":
				var sb strings.Builder
				for _, line := range strings.Split(d.Input, "\n") {
					if strings.TrimSpace(line) == "" {
						continue
					}
					sb.WriteString(evalCase(tbl, line))
				}
				return sb.String()
			}
			return "unknown command " + d.Cmd
		})
	})
}

type testTable struct {
	schema types.Schema
	batch  *types.Batch
	rows   [][]any
	n      int
}

// splitTopLevel splits on commas outside brackets (schemas like map<string,int>).
func splitTopLevel(s string) []string {
	var out []string
	depth, start := 0, 0
	for i, c := range s {
		switch c {
		case '<', '(':
			depth++
		case '>', ')':
			depth--
		case ',':
			if depth == 0 {
				out = append(out, s[start:i])
				start = i + 1
			}
		}
	}
	return append(out, s[start:])
}

func parseTestTable(input string) (*testTable, error) {
	lines := strings.Split(input, "\n")
	tbl := &testTable{}
	if strings.TrimSpace(lines[0]) != "" {
		for _, col := range splitTopLevel(lines[0]) {
			name, typ, ok := strings.Cut(strings.TrimSpace(col), " ")
			if !ok {
				return nil, fmt.Errorf("schema entry %q needs a name and a type", col)
			}
			t, err := types.ParseType(typ)
			if err != nil {
				return nil, err
			}
			tbl.schema = append(tbl.schema, types.Field{Name: name, Type: t})
		}
	}
	tbl.batch = types.NewBatch(tbl.schema, 0)
	for _, line := range lines[1:] {
		if strings.TrimSpace(line) == "" {
			continue
		}
		cells, err := parseRow(line)
		if err != nil {
			return nil, err
		}
		if len(cells) != len(tbl.schema) {
			return nil, fmt.Errorf("row %q has %d cells, schema has %d columns", line, len(cells), len(tbl.schema))
		}
		row := make([]any, len(cells))
		for i, cell := range cells {
			v := cell.root.evalRow(nil)
			ft := tbl.schema[i].Type
			if !cell.Type().Equal(ft) {
				if !canCast(cell.Type(), ft) {
					return nil, fmt.Errorf("cell %q is %s, column %s is %s", cell.src, cell.Type(), tbl.schema[i].Name, ft)
				}
				v = castValue(v, cell.Type(), ft)
			}
			row[i] = v
			tbl.batch.Cols[i].Append(v)
		}
		tbl.rows = append(tbl.rows, row)
	}
	tbl.n = len(tbl.rows)
	return tbl, nil
}

// parseRow compiles the comma-separated constant expressions of one table row.
func parseRow(line string) ([]*Expr, error) {
	toks, err := lex(line)
	if err != nil {
		return nil, err
	}
	p := &parser{src: line, toks: toks}
	var out []*Expr
	for {
		a, err := p.expr(0)
		if err != nil {
			return nil, err
		}
		c := &checker{src: line, used: map[int]bool{}}
		n, err := c.check(a)
		if err != nil {
			return nil, err
		}
		out = append(out, &Expr{src: line, root: n})
		t := p.next()
		if t.kind == tEOF {
			return out, nil
		}
		if !isOp(t, ",") {
			return nil, errorf(line, t.pos, "expected ','")
		}
	}
}

func evalCase(tbl *testTable, src string) string {
	e, err := Compile(src, tbl.schema)
	if err != nil {
		return src + "\nerror: " + err.Error() + "\n"
	}
	col, err := e.EvalN(tbl.batch, tbl.n)
	if err != nil {
		return src + "\neval error: " + err.Error() + "\n"
	}
	if col.Len() != tbl.n {
		return fmt.Sprintf("%s\nMISMATCH: columnar result has %d rows, want %d\n", src, col.Len(), tbl.n)
	}
	vals := make([]string, tbl.n)
	var problems []string
	for i := 0; i < tbl.n; i++ {
		cv := col.Value(i)
		vals[i] = formatValue(cv, e.Type())
		row := tbl.rows[i]
		if row == nil {
			row = make([]any, len(tbl.schema))
		}
		rv, err := e.EvalValues(row)
		if err != nil {
			problems = append(problems, err.Error())
		} else if !sameValue(cv, rv, e.Type()) {
			problems = append(problems, fmt.Sprintf("MISMATCH row %d: columnar %s, row path %s", i, vals[i], formatValue(rv, e.Type())))
		}
		m := map[string]any{}
		for j, f := range tbl.schema {
			m[f.Name] = row[j]
		}
		mv, err := e.EvalRow(m)
		if err != nil {
			problems = append(problems, err.Error())
		} else if !sameValue(cv, mv, e.Type()) {
			problems = append(problems, fmt.Sprintf("MISMATCH row %d: columnar %s, map path %s", i, vals[i], formatValue(mv, e.Type())))
		}
	}
	out := fmt.Sprintf("%s -> %s: %s\n", src, e.Type(), strings.Join(vals, ", "))
	for _, p := range problems {
		out += p + "\n"
	}
	return out
}

// sameValue compares boxed values exactly (NaN equals NaN, -0.0 differs from 0.0).
func sameValue(a, b any, t *types.Type) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	if f, ok := a.(float64); ok {
		g, ok := b.(float64)
		return ok && (math.IsNaN(f) && math.IsNaN(g) || math.Float64bits(f) == math.Float64bits(g))
	}
	return formatValue(a, t) == formatValue(b, t)
}

// TestCatalogCoverage keeps docs/expressions.md and the datadriven files complete: every function
// name must be documented and exercised by at least one case.
func TestCatalogCoverage(t *testing.T) {
	doc, err := os.ReadFile("../../docs/expressions.md")
	if err != nil {
		t.Fatal(err)
	}
	var data strings.Builder
	files, _ := filepath.Glob("testdata/*")
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		data.Write(b)
	}
	lowerData := strings.ToLower(data.String())
	for _, name := range Functions() {
		if !strings.Contains(string(doc), "`"+name+"`") && !strings.Contains(string(doc), "`"+name+"(") {
			t.Errorf("function %s is not documented in docs/expressions.md", name)
		}
		if !strings.Contains(lowerData, name+"(") {
			t.Errorf("function %s has no case in testdata/", name)
		}
	}
}
