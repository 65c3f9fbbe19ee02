package sqlshell

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/chronon-go/chronon/runtime/warehouse"
)

// Result is a fully read query result.
type Result struct {
	Columns []string
	Types   []string // DuckDB type names, e.g. BIGINT, VARCHAR[], STRUCT("a" INTEGER)
	Rows    [][]any  // values as the DuckDB driver returns them
}

// QueryError is a statement DuckDB rejected: its message and the SQL it ran.
type QueryError struct {
	SQL string
	Err error
}

func (e *QueryError) Error() string { return strings.TrimSpace(e.Err.Error()) }
func (e *QueryError) Unwrap() error { return e.Err }

// Exec runs statements that return no rows (several may be separated by semicolons).
func (s *Shell) Exec(ctx context.Context, q string) error {
	q = s.Rewrite(q)
	if _, err := s.conn.ExecContext(ctx, q); err != nil {
		return s.queryError(q, err)
	}
	return nil
}

var missingTable = regexp.MustCompile(`Table with name (\w+) does not exist!\n(Did you mean [^\n]*\n)?`)

// queryError wraps DuckDB's error; for an unknown table DuckDB's guess (which varies between runs)
// is replaced by the closest warehouse tables.
func (s *Shell) queryError(q string, err error) error {
	msg := err.Error()
	if m := missingTable.FindStringSubmatchIndex(msg); m != nil {
		name := msg[m[2]:m[3]]
		tables, _ := s.W.Tables()
		var short []string
		for _, t := range tables {
			_, n, _ := strings.Cut(t, ".")
			short = append(short, n)
		}
		hint := "It is not in the warehouse " + s.W.Root + "; load it with `chronon import` or run the job that writes it.\n"
		var sugg []string
		for _, n := range warehouse.Suggest(name, short) {
			for i, t := range tables {
				if short[i] == n && !slices.Contains(sugg, t) {
					sugg = append(sugg, t)
				}
			}
		}
		if len(sugg) > 0 {
			hint = "Did you mean " + strings.Join(sugg, " or ") + "?\n"
		}
		msg = msg[:m[0]] + "Table with name " + name + " does not exist!\n" + hint + msg[m[1]:]
		err = errors.New(msg)
	}
	return &QueryError{SQL: q, Err: err}
}

// Query runs one statement and reads all its rows.
func (s *Shell) Query(ctx context.Context, q string) (*Result, error) {
	q = s.Rewrite(q)
	rows, err := s.conn.QueryContext(ctx, q)
	if err != nil {
		return nil, s.queryError(q, err)
	}
	defer rows.Close()
	res, err := readRows(rows)
	if err != nil {
		return nil, s.queryError(q, err)
	}
	return res, nil
}

func readRows(rows *sql.Rows) (*Result, error) {
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	cts, err := rows.ColumnTypes()
	if err != nil {
		return nil, err
	}
	res := &Result{Columns: cols}
	for _, ct := range cts {
		res.Types = append(res.Types, ct.DatabaseTypeName())
	}
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		markTimestamps(res.Types, vals)
		res.Rows = append(res.Rows, vals)
	}
	return res, rows.Err()
}

// Run executes a script: every statement but the last with Exec, the last with Query, so
// `CREATE ...; SELECT ...` works in one `chronon sql` call.
func (s *Shell) Run(ctx context.Context, script string) (*Result, error) {
	stmts := SplitStatements(script)
	if len(stmts) == 0 {
		return nil, fmt.Errorf("no SQL statement given")
	}
	for _, st := range stmts[:len(stmts)-1] {
		if err := s.Exec(ctx, st); err != nil {
			return nil, err
		}
	}
	return s.Query(ctx, stmts[len(stmts)-1])
}

// Stream runs a script like Run but hands the last statement's rows to p as they are read, so a
// large result is never held in memory (except by the table printer, which aligns columns).
func (s *Shell) Stream(ctx context.Context, script string, p Printer) error {
	stmts := SplitStatements(script)
	if len(stmts) == 0 {
		return fmt.Errorf("no SQL statement given")
	}
	for _, st := range stmts[:len(stmts)-1] {
		if err := s.Exec(ctx, st); err != nil {
			return err
		}
	}
	q := s.Rewrite(stmts[len(stmts)-1])
	rows, err := s.conn.QueryContext(ctx, q)
	if err != nil {
		return s.queryError(q, err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return s.queryError(q, err)
	}
	cts, err := rows.ColumnTypes()
	if err != nil {
		return s.queryError(q, err)
	}
	typeNames := make([]string, len(cts))
	for i, ct := range cts {
		typeNames[i] = ct.DatabaseTypeName()
	}
	if err := p.Header(cols); err != nil {
		return err
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return s.queryError(q, err)
		}
		markTimestamps(typeNames, vals)
		if err := p.Row(vals); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return s.queryError(q, err)
	}
	return p.Close()
}

// SplitStatements splits on semicolons outside strings, quoted identifiers and comments.
func SplitStatements(script string) []string {
	var out []string
	start := 0
	flush := func(end int) {
		if st := strings.TrimSpace(script[start:end]); st != "" && !onlyComments(st) {
			out = append(out, st)
		}
		start = end + 1
	}
	for i := 0; i < len(script); i++ {
		switch c := script[i]; {
		case c == '\'' || c == '"':
			for i++; i < len(script) && script[i] != c; i++ {
			}
		case c == '-' && strings.HasPrefix(script[i:], "--"):
			for i < len(script) && script[i] != '\n' {
				i++
			}
		case c == '/' && strings.HasPrefix(script[i:], "/*"):
			if j := strings.Index(script[i+2:], "*/"); j >= 0 {
				i += j + 3
			} else {
				i = len(script)
			}
		case c == ';':
			flush(i)
		}
	}
	flush(len(script))
	return out
}

// onlyComments reports whether a statement holds nothing but comments and space.
func onlyComments(s string) bool {
	for i := 0; i < len(s); {
		switch {
		case s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r':
			i++
		case strings.HasPrefix(s[i:], "--") || strings.HasPrefix(s[i:], "/*"):
			i = skipComment(s, i)
		default:
			return false
		}
	}
	return true
}
