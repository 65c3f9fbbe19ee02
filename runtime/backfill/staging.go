// Package backfill computes offline outputs of Chronon confs. This file holds the StagingQuery job
// (spec §9): render the query's date macros per chunk, run it in DuckDB over the warehouse, and write
// each output partition atomically.
package backfill

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/chronon-go/chronon/runtime/sqlshell"
	"github.com/chronon-go/chronon/runtime/types"
	"github.com/chronon-go/chronon/runtime/warehouse"
	"github.com/chronon-go/chronon/thrift/api"
)

// StagingOptions are the run flags of a StagingQuery backfill.
type StagingOptions struct {
	ConfPath  string // for messages
	EndDate   string // --end-ds / --ds (required)
	StartDate string // --start-ds: overrides the conf's startPartition
	StepDays  int    // chunk size in days; 0 means 30 (Chronon's default)
	Force     bool   // recompute partitions that already exist (and holes before the first one)
	Log       io.Writer
}

// Table-type value of chronon_table_type for StagingQuery outputs.
const tableTypeStagingQuery = "staging_query"

// SignalPartitionsTable is the table createView records views in (per namespace).
const SignalPartitionsTable = "chronon_signal_partitions"

// Sanitize turns a conf name into a table name: every character outside [a-zA-Z0-9_] becomes _.
func Sanitize(name string) string {
	return regexp.MustCompile(`[^a-zA-Z0-9_]`).ReplaceAllString(name, "_")
}

// StagingOutputTable is `<outputNamespace>.<sanitize(name)>`.
func StagingOutputTable(sq *api.StagingQuery) (string, error) {
	md := sq.GetMetaData()
	if md == nil || md.GetName() == "" {
		return "", errors.New("metaData.name is missing")
	}
	if md.GetOutputNamespace() == "" {
		return "", errors.New("metaData.outputNamespace is missing (set it in the conf or teams.json)")
	}
	return md.GetOutputNamespace() + "." + Sanitize(md.GetName()), nil
}

type stagingJob struct {
	w     *warehouse.Warehouse
	sq    *api.StagingQuery
	opts  StagingOptions
	out   string
	shell *sqlshell.Shell
	log   io.Writer
	props map[string]string
	parts []string // partition columns
}

// RunStagingQuery backfills a StagingQuery conf into the warehouse.
func RunStagingQuery(ctx context.Context, w *warehouse.Warehouse, sq *api.StagingQuery, opts StagingOptions) error {
	out, err := StagingOutputTable(sq)
	if err != nil {
		return fmt.Errorf("%s: %w", opts.ConfPath, err)
	}
	if strings.TrimSpace(sq.GetQuery()) == "" {
		return fmt.Errorf("%s: the conf has no query", opts.ConfPath)
	}
	if _, err := time.Parse(warehouse.DateFormat, opts.EndDate); err != nil {
		return fmt.Errorf("end date %q is not yyyy-MM-dd", opts.EndDate)
	}
	if opts.StepDays == 0 {
		opts.StepDays = 30
	}
	if opts.StepDays < 0 {
		return fmt.Errorf("--step-days must be positive, got %d", opts.StepDays)
	}
	if opts.Log == nil {
		opts.Log = io.Discard
	}
	j := &stagingJob{w: w, sq: sq, opts: opts, out: out, log: opts.Log}
	j.props = map[string]string{}
	for k, v := range sq.GetMetaData().GetTableProperties() {
		j.props[k] = v
	}
	j.props[warehouse.PropGenerated] = "true"
	j.props[warehouse.PropTableType] = tableTypeStagingQuery
	j.parts, err = partitionColumns(sq.GetMetaData())
	if err != nil {
		return fmt.Errorf("%s: %w", opts.ConfPath, err)
	}
	j.shell, err = sqlshell.Open(ctx, w)
	if err != nil {
		return err
	}
	defer j.shell.Close()
	for i, setup := range sq.GetSetups() {
		if err := j.shell.Exec(ctx, setup); err != nil {
			return fmt.Errorf("staging query %s: setups[%d] failed in DuckDB: %v\nsetup SQL:\n%s", sq.GetMetaData().GetName(), i, err, setup)
		}
	}
	if sq.GetCreateView() {
		return j.createView(ctx)
	}
	return j.backfill(ctx)
}

// partitionColumns is ds plus customJson.additional_partition_cols.
func partitionColumns(md *api.MetaData) ([]string, error) {
	cols := []string{warehouse.PartitionColumn}
	if md.GetCustomJson() == "" {
		return cols, nil
	}
	var cj struct {
		Extra []string `json:"additional_partition_cols"`
	}
	if err := json.Unmarshal([]byte(md.GetCustomJson()), &cj); err != nil {
		return nil, fmt.Errorf("metaData.customJson: %v", err)
	}
	return append(cols, cj.Extra...), nil
}

func (j *stagingJob) macros(start, end string) []macro {
	lit := func(v string) func(map[string]string) (string, error) {
		return func(map[string]string) (string, error) { return v, nil }
	}
	return []macro{
		{"start_date", lit(start)},
		{"end_date", lit(end)},
		{"latest_date", lit(j.opts.EndDate)},
		{"max_date", func(args map[string]string) (string, error) {
			name := args["table"]
			if name == "" {
				return "", errors.New("max_date needs a table argument: {{ max_date(table=namespace.table) }}")
			}
			t, err := j.w.Table(name)
			if err != nil {
				return "", err
			}
			dates, err := t.PartitionDates()
			if err != nil {
				return "", err
			}
			if len(dates) == 0 {
				return "", fmt.Errorf("table %s has no partitions to take max_date of", name)
			}
			return dates[len(dates)-1], nil
		}},
	}
}

func (j *stagingJob) name() string { return j.sq.GetMetaData().GetName() }

func (j *stagingJob) backfill(ctx context.Context) error {
	if j.sq.StartPartition == nil {
		// No start: the query runs once (start/end render as null, as in Chronon) and is saved.
		fmt.Fprintf(j.log, "staging query %s: no startPartition, running the query once into %s\n", j.name(), j.out)
		return j.runChunk(ctx, "null", "null", "")
	}
	start := j.sq.GetStartPartition()
	if j.opts.StartDate != "" {
		start = j.opts.StartDate
	}
	md := j.sq.GetMetaData()
	if md.IsSetHistoricalBackfill() && !md.GetHistoricalBackfill() {
		start = j.opts.EndDate // historicalBackfill=false: only the latest partition
	}
	all, err := dateRange(start, j.opts.EndDate)
	if err != nil {
		return err
	}
	missing, err := j.missing(all)
	if err != nil {
		return err
	}
	if len(missing) == 0 {
		fmt.Fprintf(j.log, "staging query %s: %s already has every partition in %s..%s (use --force to recompute)\n", j.name(), j.out, start, j.opts.EndDate)
		return nil
	}
	chunks := chunk(missing, j.opts.StepDays)
	for i, c := range chunks {
		fmt.Fprintf(j.log, "staging query %s: computing %s..%s [%d/%d]\n", j.name(), c[0], c[1], i+1, len(chunks))
		if err := j.runChunk(ctx, c[0], c[1], fmt.Sprintf("range %s..%s: ", c[0], c[1])); err != nil {
			return err
		}
	}
	return nil
}

// missing drops partitions the output already has and, like Chronon, the hole before the earliest
// existing partition (assumed removed by retention) unless --force.
func (j *stagingJob) missing(all []string) ([]string, error) {
	if j.opts.Force || !j.w.Exists(j.out) {
		return all, nil
	}
	t, err := j.w.Table(j.out)
	if err != nil {
		return nil, err
	}
	existing, err := t.PartitionDates()
	if err != nil {
		return nil, err
	}
	have := map[string]bool{}
	for _, d := range existing {
		have[d] = true
	}
	cutoff := all[0]
	if len(existing) > 0 && existing[0] > cutoff {
		cutoff = existing[0]
	}
	var out, skipped []string
	for _, d := range all {
		switch {
		case d < cutoff:
			skipped = append(skipped, d)
		case !have[d]:
			out = append(out, d)
		}
	}
	if len(skipped) > 0 {
		fmt.Fprintf(j.log, "staging query %s: skipping %d partition(s) before the earliest existing output partition %s (%s..%s); use --force to fill them\n",
			j.name(), len(skipped), cutoff, skipped[0], skipped[len(skipped)-1])
	}
	return out, nil
}

// runChunk renders the query for [start, end], runs it with DuckDB's partitioned COPY into a staging
// directory, and commits the partitions it produced.
func (j *stagingJob) runChunk(ctx context.Context, start, end, where string) error {
	q, err := render(j.sq.GetQuery(), j.macros(start, end))
	if err != nil {
		return fmt.Errorf("staging query %s: %s%w", j.name(), where, err)
	}
	fail := func(err error) error {
		return fmt.Errorf("staging query %s: %squery failed in DuckDB: %v\nrendered SQL:\n%s", j.name(), where, err, strings.TrimSpace(q))
	}
	stmts := sqlshell.SplitStatements(q)
	if len(stmts) != 1 {
		return fmt.Errorf("staging query %s: %sthe query must be exactly one SELECT statement, found %d (put other statements in setups)\nrendered SQL:\n%s",
			j.name(), where, len(stmts), strings.TrimSpace(q))
	}
	body := stmts[0]
	desc, err := j.shell.Query(ctx, "DESCRIBE "+body+"\n")
	if err != nil {
		return fail(err)
	}
	cols := map[string]bool{}
	for _, r := range desc.Rows {
		cols[fmt.Sprint(r[0])] = true
	}
	for _, p := range j.parts {
		if !cols[p] {
			names := make([]string, 0, len(cols))
			for c := range cols {
				names = append(names, c)
			}
			sort.Strings(names)
			return fmt.Errorf("staging query %s: %sthe query must produce the partition column %s (it produces %s); add e.g. `, ds` to the select list\nrendered SQL:\n%s",
				j.name(), where, p, strings.Join(names, ", "), strings.TrimSpace(q))
		}
	}
	dir, err := j.w.StagingDir("copy")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	parts := make([]string, len(j.parts))
	for i, p := range j.parts {
		parts[i] = sqlshell.Ident(p)
	}
	// Partition values are cast to text so ds=2023-11-01 whatever type the query gives it.
	copySQL := fmt.Sprintf("COPY (\n%s\n) TO %s (FORMAT parquet, COMPRESSION snappy, PARTITION_BY (%s), FILENAME_PATTERN 'part-{i}')",
		body, sqlshell.Literal(filepath.Join(dir, "out")), strings.Join(parts, ", "))
	if err := j.shell.Exec(ctx, copySQL); err != nil {
		// DuckDB sometimes fails on a NULL partition value ("basic_string: construction from null")
		// instead of writing a ds=NULL directory, depending on which thread meets it first: say what
		// is wrong either way.
		for _, p := range j.parts {
			nulls, qerr := j.shell.Query(ctx, fmt.Sprintf("SELECT 1 FROM (\n%s\n) WHERE %s IS NULL LIMIT 1", body, sqlshell.Ident(p)))
			if qerr == nil && len(nulls.Rows) > 0 {
				return fmt.Errorf("staging query %s: %s%w\nrendered SQL:\n%s", j.name(), where, nullPartitionError(p), strings.TrimSpace(q))
			}
		}
		var qe *sqlshell.QueryError
		if errors.As(err, &qe) {
			return fail(qe.Err)
		}
		return fail(err)
	}
	files, err := copiedFiles(filepath.Join(dir, "out"), j.parts)
	if err != nil {
		return fmt.Errorf("staging query %s: %s%w\nrendered SQL:\n%s", j.name(), where, err, strings.TrimSpace(q))
	}
	if len(files) == 0 {
		fmt.Fprintf(j.log, "staging query %s: %sthe query returned no rows; nothing written\n", j.name(), where)
		return nil
	}
	schema, err := warehouse.FileSchema(files[0].path)
	if err != nil {
		return err
	}
	tx, err := j.w.Begin(j.out, warehouse.TableSpec{Schema: schema, PartitionColumns: j.parts, Properties: j.props})
	if err != nil {
		return err
	}
	for _, f := range files {
		if err := tx.AddFile(f.vals, f.path); err != nil {
			tx.Abort()
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	// Later chunks (or the query itself) may read the output table.
	if err := j.shell.Refresh(ctx); err != nil {
		return err
	}
	fmt.Fprintf(j.log, "staging query %s: %swrote %d partition(s) of %s\n", j.name(), where, len(tx.Partitions()), j.out)
	return nil
}

type copiedFile struct {
	vals []string
	path string
}

func nullPartitionError(col string) error {
	return fmt.Errorf("the query produced rows whose %s is NULL; every row needs a partition value", col)
}

// copiedFiles lists DuckDB's partitioned output and checks the partition values.
func copiedFiles(root string, cols []string) ([]copiedFile, error) {
	var out []copiedFile
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if errors.Is(err, os.ErrNotExist) && p == root {
			return filepath.SkipAll
		}
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".parquet") {
			return err
		}
		rel, _ := filepath.Rel(root, filepath.Dir(p))
		segs := strings.Split(rel, string(filepath.Separator))
		if len(segs) != len(cols) {
			return fmt.Errorf("unexpected output layout %s", rel)
		}
		vals := make([]string, len(cols))
		for i, s := range segs {
			k, v, _ := strings.Cut(s, "=")
			if k != cols[i] {
				return fmt.Errorf("unexpected output directory %s", rel)
			}
			if v == "NULL" {
				return nullPartitionError(k)
			}
			if k == warehouse.PartitionColumn {
				if _, err := time.Parse(warehouse.DateFormat, v); err != nil {
					return fmt.Errorf("the query produced ds = %q, which is not a yyyy-MM-dd date", v)
				}
			}
			vals[i] = v
		}
		out = append(out, copiedFile{vals, p})
		return nil
	})
	return out, err
}

// createView makes the output a view (spec §9): CREATE OR REPLACE VIEW, stored so every later
// `chronon sql` session has it, and one row in <ns>.chronon_signal_partitions.
func (j *stagingJob) createView(ctx context.Context) error {
	for _, m := range []string{"start_date", "end_date"} {
		if macroPattern(m).MatchString(j.sq.GetQuery()) {
			return fmt.Errorf("staging query %s: createView cannot be used with a query containing {{ %s }}; remove createView to backfill partitions instead", j.name(), m)
		}
	}
	q, err := render(j.sq.GetQuery(), j.macros("null", "null"))
	if err != nil {
		return fmt.Errorf("staging query %s: %w", j.name(), err)
	}
	ns, table, _ := strings.Cut(j.out, ".")
	if j.w.Exists(j.out) {
		return fmt.Errorf("staging query %s: %s is a table in the warehouse; drop it before turning it into a view (rm -r %s)", j.name(), j.out, filepath.Join(j.w.Root, ns, table))
	}
	stmts := sqlshell.SplitStatements(q)
	if len(stmts) != 1 {
		return fmt.Errorf("staging query %s: the view query must be exactly one SELECT statement, found %d\nrendered SQL:\n%s", j.name(), len(stmts), strings.TrimSpace(q))
	}
	if err := j.shell.SaveView(ctx, ns, table, stmts[0]+"\n"); err != nil {
		return fmt.Errorf("staging query %s: creating view %s failed in DuckDB: %v\nrendered SQL:\n%s", j.name(), j.out, err, strings.TrimSpace(q))
	}
	s := types.Schema{{Name: "created_at", Type: types.StringType}}
	b := types.NewBatch(s, 1)
	b.Cols[0].Append(time.Now().UTC().Format("2006-01-02T15:04:05.000000Z"))
	tx, err := j.w.Begin(ns+"."+SignalPartitionsTable, warehouse.TableSpec{
		Schema: s, PartitionColumns: []string{warehouse.PartitionColumn, "table_name"}, Properties: j.props,
	})
	if err != nil {
		return err
	}
	if err := tx.Write([]string{j.opts.EndDate, j.out}, b); err != nil {
		tx.Abort()
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	fmt.Fprintf(j.log, "staging query %s: created view %s and signalled ds=%s in %s.%s\n", j.name(), j.out, j.opts.EndDate, ns, SignalPartitionsTable)
	return nil
}

// dateRange lists the days from start to end inclusive.
func dateRange(start, end string) ([]string, error) {
	s, err := time.Parse(warehouse.DateFormat, start)
	if err != nil {
		return nil, fmt.Errorf("start date %q is not yyyy-MM-dd", start)
	}
	e, err := time.Parse(warehouse.DateFormat, end)
	if err != nil {
		return nil, fmt.Errorf("end date %q is not yyyy-MM-dd", end)
	}
	if s.After(e) {
		return nil, fmt.Errorf("start date %s is after end date %s", start, end)
	}
	var out []string
	for d := s; !d.After(e); d = d.AddDate(0, 0, 1) {
		out = append(out, d.Format(warehouse.DateFormat))
	}
	return out, nil
}

// chunk groups sorted days into consecutive runs, then cuts each run into pieces of at most step
// days; each piece is [first, last].
func chunk(days []string, step int) [][2]string {
	var out [][2]string
	i := 0
	for i < len(days) {
		j := i
		for j+1 < len(days) && j+1-i < step && nextDay(days[j]) == days[j+1] {
			j++
		}
		out = append(out, [2]string{days[i], days[j]})
		i = j + 1
	}
	return out
}

func nextDay(d string) string {
	t, _ := time.Parse(warehouse.DateFormat, d)
	return t.AddDate(0, 0, 1).Format(warehouse.DateFormat)
}
