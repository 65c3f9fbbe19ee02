// Package sqlshell is the SQL engine of `chronon sql` and of StagingQuery: an embedded DuckDB in which
// every warehouse table is a view `namespace.table` over its Parquet files, plus macros that give
// common Spark SQL function names their Spark meaning (see docs/sql.md).
package sqlshell

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	_ "github.com/marcboeker/go-duckdb/v2" // registers the "duckdb" driver

	"github.com/chronon-go/chronon/runtime/types"
	"github.com/chronon-go/chronon/runtime/warehouse"
)

// Shell is one DuckDB session over a warehouse. It is not safe for concurrent use.
type Shell struct {
	W    *warehouse.Warehouse
	db   *sql.DB
	conn *sql.Conn
	// reserved holds DuckDB's reserved keywords, which need quoting as schema names (e.g. default).
	reserved map[string]bool
	// Warnings lists stored views that could not be re-created (their inputs are gone).
	Warnings []string
	tmpDir   string
}

// Open starts an in-memory DuckDB session in UTC with the Spark macros and the warehouse's tables.
func Open(ctx context.Context, w *warehouse.Warehouse) (*Shell, error) {
	db, err := sql.Open("duckdb", "")
	if err != nil {
		return nil, err
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		db.Close()
		return nil, err
	}
	s := &Shell{W: w, db: db, conn: conn, reserved: map[string]bool{}}
	if err := s.init(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func (s *Shell) init(ctx context.Context) error {
	// Chronon runs Spark in UTC (spec §3.1); DuckDB's default is the machine's zone.
	if _, err := s.conn.ExecContext(ctx, "SET TimeZone = 'UTC'"); err != nil {
		return err
	}
	// Spill files go inside the warehouse (not a .tmp in the working directory) and go away on Close.
	tmp, err := s.W.StagingDir("duckdb")
	if err != nil {
		return err
	}
	s.tmpDir = tmp
	if _, err := s.conn.ExecContext(ctx, "SET temp_directory = "+Literal(tmp)); err != nil {
		return err
	}
	rows, err := s.conn.QueryContext(ctx, "SELECT keyword_name FROM duckdb_keywords() WHERE keyword_category = 'reserved'")
	if err != nil {
		return err
	}
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			rows.Close()
			return err
		}
		s.reserved[strings.ToLower(k)] = true
	}
	rows.Close()
	for _, m := range sparkMacros {
		if _, err := s.conn.ExecContext(ctx, m); err != nil {
			return fmt.Errorf("defining Spark macro: %v\n%s", err, m)
		}
	}
	return s.Refresh(ctx)
}

// Close ends the session.
func (s *Shell) Close() error {
	if s.conn != nil {
		s.conn.Close()
	}
	err := s.db.Close()
	if s.tmpDir != "" {
		os.RemoveAll(s.tmpDir)
	}
	return err
}

// Conn is the session's connection (macros, views and settings live on it).
func (s *Shell) Conn() *sql.Conn { return s.conn }

// Refresh (re)creates a schema per namespace and a view per table and stored view; call it after
// tables were written or created in this session.
func (s *Shell) Refresh(ctx context.Context) error {
	tables, err := s.W.Tables()
	if err != nil {
		return err
	}
	for _, name := range tables {
		t, err := s.W.Table(name)
		if err != nil {
			return err
		}
		src, err := viewSource(t)
		if err != nil {
			return err
		}
		if err := s.createView(ctx, t.Ref.Namespace, t.Ref.Name, src); err != nil {
			return fmt.Errorf("table %s: %w", name, err)
		}
	}
	return s.createStoredViews(ctx)
}

func (s *Shell) createView(ctx context.Context, ns, name, body string) error {
	if _, err := s.conn.ExecContext(ctx, "CREATE SCHEMA IF NOT EXISTS "+Ident(ns)); err != nil {
		return err
	}
	_, err := s.conn.ExecContext(ctx, fmt.Sprintf("CREATE OR REPLACE VIEW %s.%s AS %s", Ident(ns), Ident(name), body))
	return err
}

// viewSource is the SELECT a table's view runs: read_parquet over its files with Hive partitioning
// kept as strings (ds stays a string, as in Spark), or an empty typed relation when it has no files.
func viewSource(t *warehouse.Table) (string, error) {
	m, err := t.Meta()
	if err != nil {
		return "", err
	}
	hasFiles, err := anyParquet(t.Dir)
	if err != nil {
		return "", err
	}
	if !hasFiles {
		schema, err := t.Schema()
		if err != nil {
			return "", err
		}
		if len(schema) == 0 {
			return "SELECT NULL AS empty_table WHERE false", nil
		}
		cols := make([]string, len(schema))
		for i, f := range schema {
			cols[i] = fmt.Sprintf("CAST(NULL AS %s) AS %s", DuckType(f.Type), Ident(f.Name))
		}
		return "SELECT " + strings.Join(cols, ", ") + " WHERE false", nil
	}
	// Matching columns by name costs a footer read per file at bind time (~0.1 ms): only when needed.
	union := ""
	if m.MixedSchemas || m.Derived {
		union = ", union_by_name = true"
	}
	if len(m.PartitionColumns) == 0 {
		return fmt.Sprintf("SELECT * FROM read_parquet(%s%s)", Literal(filepath.Join(t.Dir, "*.parquet")), union), nil
	}
	return fmt.Sprintf("SELECT * FROM read_parquet(%s, hive_partitioning = true, hive_types_autocast = false%s)",
		Literal(filepath.Join(t.Dir, "**", "*.parquet")), union), nil
}

func anyParquet(dir string) (bool, error) {
	found := errors.New("found")
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(d.Name(), ".parquet") {
			return found
		}
		return nil
	})
	if err == found {
		return true, nil
	}
	return false, err
}

// Ident quotes an identifier for DuckDB.
func Ident(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// Literal quotes a string literal for DuckDB.
func Literal(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// DuckType spells a data type in DuckDB.
func DuckType(t *types.Type) string {
	switch t.Kind {
	case types.Boolean:
		return "BOOLEAN"
	case types.Byte:
		return "TINYINT"
	case types.Short:
		return "SMALLINT"
	case types.Int:
		return "INTEGER"
	case types.Long:
		return "BIGINT"
	case types.Float:
		return "FLOAT"
	case types.Double:
		return "DOUBLE"
	case types.String:
		return "VARCHAR"
	case types.Binary:
		return "BLOB"
	case types.Date:
		return "DATE"
	case types.Timestamp:
		return "TIMESTAMPTZ"
	case types.List:
		return DuckType(t.Elem) + "[]"
	case types.Map:
		return "MAP(" + DuckType(t.Key) + ", " + DuckType(t.Value) + ")"
	case types.Struct:
		fs := make([]string, len(t.Fields))
		for i, f := range t.Fields {
			fs[i] = Ident(f.Name) + " " + DuckType(f.Type)
		}
		return "STRUCT(" + strings.Join(fs, ", ") + ")"
	}
	return "VARCHAR"
}

// Stored views (StagingQuery createView) are kept as SQL files under <warehouse>/_views/<ns>/<name>.sql
// and re-created in every session, since the DuckDB catalog itself lives only in memory.
func (s *Shell) viewDir() string { return filepath.Join(s.W.Root, "_views") }

// SaveView stores `CREATE OR REPLACE VIEW ns.name AS query` for every later session and creates it now.
func (s *Shell) SaveView(ctx context.Context, ns, name, query string) error {
	if err := s.createView(ctx, ns, name, s.Rewrite(query)); err != nil {
		return err
	}
	dir := filepath.Join(s.viewDir(), ns)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".view-*")
	if err != nil {
		return err
	}
	_, err = f.WriteString(query)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), filepath.Join(dir, name+".sql"))
	}
	if err != nil {
		os.Remove(f.Name())
	}
	return err
}

func (s *Shell) createStoredViews(ctx context.Context) error {
	type view struct{ ns, name, query string }
	var pending []view
	nss, err := os.ReadDir(s.viewDir())
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, ns := range nss {
		files, _ := filepath.Glob(filepath.Join(s.viewDir(), ns.Name(), "*.sql"))
		sort.Strings(files)
		for _, f := range files {
			q, err := os.ReadFile(f)
			if err != nil {
				return err
			}
			pending = append(pending, view{ns.Name(), strings.TrimSuffix(filepath.Base(f), ".sql"), string(q)})
		}
	}
	// Views may read other views: retry until no more can be created.
	s.Warnings = nil
	for len(pending) > 0 {
		var failed []view
		var errs []string
		for _, v := range pending {
			if err := s.createView(ctx, v.ns, v.name, s.Rewrite(v.query)); err != nil {
				failed = append(failed, v)
				errs = append(errs, fmt.Sprintf("view %s.%s: %v", v.ns, v.name, firstLine(err.Error())))
			}
		}
		if len(failed) == len(pending) {
			s.Warnings = errs
			return nil
		}
		pending = failed
	}
	return nil
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}
