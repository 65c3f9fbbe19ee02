package backfill

import (
	"fmt"
	"io"
	"slices"
	"strconv"

	"github.com/chronon-go/chronon/runtime/expr"
	"github.com/chronon-go/chronon/runtime/types"
	"github.com/chronon-go/chronon/runtime/warehouse"
	"github.com/chronon-go/chronon/thrift/api"
	"github.com/chronon-go/chronon/thrift/conf"
)

// Reading a source (spec §3.3): SELECT <fillIfAbsent ++ selects> FROM table WHERE wheres AND ds in
// range, then drop rows whose keys are all null. The partition filter is independent of ts: the
// partitions scanned decide which events exist (spec §3.4, §13.3).

// snapshotTimeExpr is the event time of a SNAPSHOT event source without a time column: the last
// millisecond of its partition's day.
const snapshotTimeExpr = "((UNIX_TIMESTAMP(ds,'yyyy-MM-dd') + 86400) * 1000) - 1"

// sourceQuery describes one scan of a source.
type sourceQuery struct {
	src      *api.Source
	order    *conf.Order
	keys     []string // GroupBy key columns: always projected
	accuracy api.Accuracy
	start    string // partition range, inclusive; "" is open
	end      string
	// columns, when non-nil, restricts the output to keys, ts, these and ds.
	columns []string
	// noDs leaves out the ds column (event aggregations do not need it; it costs a string per row).
	noDs bool
	// hashKey lets a scan of a single string key return the key's hashes (scanned.keys) instead of
	// its column, when the query reads the key straight from a table column: for callers that only
	// group rows by key.
	hashKey bool
}

func sourceTable(src *api.Source) (string, *api.Query, error) {
	switch {
	case src.Events != nil:
		return src.Events.GetTable(), src.Events.Query, nil
	case src.Entities != nil:
		return src.Entities.GetSnapshotTable(), src.Entities.Query, nil
	case src.JoinSource != nil:
		// A chained join reads its parent join's output table (spec §3.2).
		if src.JoinSource.Join == nil {
			return "", nil, fmt.Errorf("the JoinSource has no join")
		}
		t, err := JoinOutputTable(src.JoinSource.Join.MetaData)
		if err != nil {
			return "", nil, fmt.Errorf("the JoinSource's join: %w", err)
		}
		return t, src.JoinSource.Query, nil
	}
	return "", nil, fmt.Errorf("the source sets none of events, entities, joinSource")
}

// tsExpression is the expression that becomes the ts column, or "" when the source has none.
func tsExpression(src *api.Source, q *api.Query, acc api.Accuracy) string {
	tc := ""
	if q != nil && q.TimeColumn != nil {
		tc = *q.TimeColumn
	}
	if src.Events != nil && tc == "" && acc == api.Accuracy_SNAPSHOT {
		return snapshotTimeExpr
	}
	if src.JoinSource != nil && tc == "" && joinSourceIsEvents(src.JoinSource) {
		return "ts" // the parent join's output keeps its left's time as ts
	}
	return tc
}

// joinSourceIsEvents reports whether a JoinSource has the events data model (its parent's left).
func joinSourceIsEvents(js *api.JoinSource) bool {
	return js.Join != nil && js.Join.Left != nil && js.Join.Left.Events != nil
}

// scanned is a source's rows: keys, ts (when the source has a time), the selected columns, ds.
type scanned struct {
	batch *types.Batch
	hasTs bool
	hist  *history // folded old events (nil: none)
	// keys, when set, are the hashes of the key, read in place of its column (which the batch
	// then lacks); rows with a null key are kept, in no group (see sourceQuery.hashKey).
	keys *keyHashes
}

// preparedScan is a source query compiled against its table's schema.
type preparedScan struct {
	tableName string
	table     *warehouse.Table
	names     []string
	exprs     []*expr.Expr
	wheres    []*expr.Expr
	read      []string // table columns to read
	schema    types.Schema
	hasTs     bool
}

// prepare compiles a source query against the table's schema without reading data.
func prepare(w *warehouse.Warehouse, sq sourceQuery) (*preparedScan, error) {
	tableName, q, err := sourceTable(sq.src)
	if err != nil {
		return nil, err
	}
	if q == nil {
		q = &api.Query{}
	}
	if pc := q.GetPartitionColumn(); pc != "" && pc != warehouse.PartitionColumn {
		return nil, fmt.Errorf("table %s: partition_column %q is not supported yet (tables are partitioned by %s)", tableName, pc, warehouse.PartitionColumn)
	}
	t, err := w.Table(tableName)
	if err != nil {
		return nil, err
	}
	schema, err := t.Schema()
	if err != nil {
		return nil, err
	}
	// Projections: ds, keys and ts unless the selects say otherwise, then the selects in order.
	var names, srcs []string
	add := func(name, e string) {
		for i, n := range names {
			if n == name {
				srcs[i] = e
				return
			}
		}
		names = append(names, name)
		srcs = append(srcs, e)
	}
	for _, k := range sq.keys {
		add(k, "`"+k+"`")
	}
	tsExpr := tsExpression(sq.src, q, sq.accuracy)
	if tsExpr != "" {
		add("ts", tsExpr)
	}
	if q.Selects == nil {
		for _, f := range schema {
			add(f.Name, "`"+f.Name+"`")
		}
	} else {
		for _, k := range sq.order.Keys(q.Selects) {
			add(k, q.Selects[k])
		}
	}
	if !sq.noDs {
		add(warehouse.PartitionColumn, warehouse.PartitionColumn)
	}
	if sq.columns != nil {
		keep := map[string]bool{"ts": true, warehouse.PartitionColumn: true}
		for _, k := range sq.keys {
			keep[k] = true
		}
		for _, c := range sq.columns {
			keep[c] = true
		}
		var n2, s2 []string
		for i, n := range names {
			if keep[n] {
				n2, s2 = append(n2, n), append(s2, srcs[i])
			}
		}
		names, srcs = n2, s2
	}
	p := &preparedScan{tableName: tableName, table: t, names: names, hasTs: tsExpr != ""}
	read := map[string]bool{}
	for i, s := range srcs {
		e, err := expr.Compile(s, schema)
		if err != nil {
			return nil, fmt.Errorf("table %s: select %s: %w", tableName, names[i], err)
		}
		if names[i] == "ts" && !e.Type().IsIntegral() {
			return nil, fmt.Errorf("table %s: the time column %q is %s; it must be epoch milliseconds (a long)", tableName, s, e.Type())
		}
		p.exprs = append(p.exprs, e)
		typ := e.Type()
		if names[i] == "ts" {
			typ = types.LongType
		}
		p.schema = append(p.schema, types.Field{Name: names[i], Type: typ})
		for _, c := range e.Columns() {
			read[c] = true
		}
	}
	for _, wsrc := range q.Wheres {
		e, err := expr.Compile(wsrc, schema)
		if err != nil {
			return nil, fmt.Errorf("table %s: where: %w", tableName, err)
		}
		p.wheres = append(p.wheres, e)
		for _, c := range e.Columns() {
			read[c] = true
		}
	}
	for _, f := range schema {
		if read[f.Name] {
			p.read = append(p.read, f.Name)
		}
	}
	return p, nil
}

// scan reads the rows of a source in partition order: partitions are read and evaluated in
// parallel, then joined in order, so scan order is unchanged.
func scan(w *warehouse.Warehouse, sq sourceQuery) (*scanned, error) {
	p, err := prepare(w, sq)
	if err != nil {
		return nil, err
	}
	// One range per partition, taken by whichever core is free: a partition that is slower to read
	// (not in the page cache, larger) does not leave the other cores idle.
	ranges := [][2]string{{sq.start, sq.end}}
	if days, err := p.table.PartitionDates(); err == nil {
		var in []string
		for _, d := range days {
			if (sq.start == "" || d >= sq.start) && (sq.end == "" || d <= sq.end) {
				in = append(in, d)
			}
		}
		if len(in) > 1 {
			ranges = ranges[:0]
			for _, d := range in {
				ranges = append(ranges, [2]string{d, d})
			}
		}
	}
	if cols, ok := p.plainColumns(); ok {
		hashed := -1
		if sq.hashKey && len(sq.keys) == 1 {
			if i := slices.Index(p.names, sq.keys[0]); i >= 0 && p.schema[i].Type.Kind == types.String {
				hashed = i
			}
		}
		b, kh, err := p.readPlain(ranges, cols, hashed)
		if err != nil {
			return nil, err
		}
		if kh != nil {
			return &scanned{batch: b, hasTs: p.hasTs, keys: kh}, nil // rows with a null key stay, in no group
		}
		return &scanned{batch: dropNullKeys(b, sq.keys), hasTs: p.hasTs}, nil
	}
	results := make([][]*types.Batch, len(ranges))
	if err := eachRange(len(ranges), func(i int) error {
		var err error
		results[i], err = p.readRange(ranges[i][0], ranges[i][1], sq.keys)
		return err
	}); err != nil {
		return nil, err
	}
	var parts []*types.Batch
	for _, r := range results {
		parts = append(parts, r...)
	}
	return &scanned{batch: types.Concat(p.schema, parts), hasTs: p.hasTs}, nil
}

// plainColumns reports whether the query only renames table columns (no where, no computed
// select, a ts that needs no cast), and which table column each output column is.
func (p *preparedScan) plainColumns() ([]string, bool) {
	if len(p.wheres) > 0 {
		return nil, false
	}
	cols := make([]string, len(p.exprs))
	for i, e := range p.exprs {
		c, ok := e.IsColumn()
		if !ok || !e.Type().Equal(p.schema[i].Type) || slices.Contains(cols[:i], c) {
			return nil, false
		}
		cols[i] = c
	}
	return cols, true
}

// readPlain reads a plain query's columns straight into one batch: every range's rows are counted
// from the file footers first, so parallel readers fill their part of each column in place, with no
// batch per row group and no concatenation. Output column hashed (-1: none) is read as key hashes,
// returned apart, and left out of the batch.
func (p *preparedScan) readPlain(ranges [][2]string, cols []string, hashed int) (*types.Batch, *keyHashes, error) {
	schema := p.schema
	var kh *keyHashes
	var reqs []*warehouse.HashRequest
	var hashCol string
	if hashed >= 0 {
		kh, hashCol = newKeyHashes(), cols[hashed]
		reqs = make([]*warehouse.HashRequest, len(ranges))
		schema = slices.Delete(slices.Clone(schema), hashed, hashed+1)
		cols = slices.Delete(slices.Clone(cols), hashed, hashed+1)
	}
	readers := make([]*warehouse.Reader, len(ranges))
	defer func() {
		for _, r := range readers {
			if r != nil {
				r.Close()
			}
		}
	}()
	sizes := make([]int, len(ranges))
	if err := eachRange(len(ranges), func(i int) error {
		opts := warehouse.ReadOptions{Columns: cols, Start: ranges[i][0], End: ranges[i][1]}
		if kh != nil {
			reqs[i] = &warehouse.HashRequest{Column: hashCol, Seed1: kh.seed1, Seed2: kh.seed2}
			opts.Hash = reqs[i]
		}
		r, err := p.table.Read(opts)
		if err != nil {
			return err
		}
		readers[i] = r
		n, err := r.NumRows()
		sizes[i] = int(n)
		return err
	}); err != nil {
		return nil, nil, err
	}
	parts := make([]*types.Batch, len(ranges))
	for i := range parts {
		parts[i] = &types.Batch{Schema: readers[i].Schema(), Cols: make([]*types.Column, len(cols))}
	}
	joins := make([]func() (*types.Column, error), len(cols))
	for c, f := range readers[0].Schema() {
		windows, join := types.Windows(f.Type, sizes)
		for i := range parts {
			parts[i].Cols[c] = windows[i]
		}
		joins[c] = join
	}
	if kh != nil {
		// Each range appends its hashes into its own window of the arrays.
		total := 0
		for _, n := range sizes {
			total += n
		}
		kh.h1, kh.h2 = make([]uint64, total), make([]uint32, total)
		off := 0
		for i, n := range sizes {
			reqs[i].H1, reqs[i].H2 = kh.h1[off:off:off+n], kh.h2[off:off:off+n]
			off += n
		}
	}
	if err := eachRange(len(ranges), func(i int) error {
		if err := readers[i].ReadInto(parts[i]); err != nil {
			return fmt.Errorf("table %s: %w", p.tableName, err)
		}
		return nil
	}); err != nil {
		return nil, nil, err
	}
	out := &types.Batch{Schema: schema, Cols: make([]*types.Column, len(cols))}
	for c, join := range joins {
		col, err := join()
		if err != nil {
			return nil, nil, fmt.Errorf("table %s: column %s: %w", p.tableName, cols[c], err)
		}
		col.Type = schema[c].Type
		out.Cols[c] = col
	}
	if kh != nil {
		off := 0
		for i, n := range sizes {
			if len(reqs[i].H1) != n {
				return nil, nil, fmt.Errorf("table %s: column %s: read %d key hashes for %d rows", p.tableName, reqs[i].Column, len(reqs[i].H1), n)
			}
			for _, r := range reqs[i].Nulls {
				kh.nulls = append(kh.nulls, int32(off)+r)
			}
			off += n
		}
	}
	return out, kh, nil
}

// readRange evaluates the prepared query over the partitions [start, end].
func (p *preparedScan) readRange(start, end string, keys []string) ([]*types.Batch, error) {
	r, err := p.table.Read(warehouse.ReadOptions{Columns: p.read, Start: start, End: end})
	if err != nil {
		return nil, err
	}
	defer r.Close()
	var parts []*types.Batch
	for {
		b, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("table %s: %w", p.tableName, err)
		}
		if b, err = expr.Where(b, p.wheres...); err != nil {
			return nil, fmt.Errorf("table %s: %w", p.tableName, err)
		}
		if b.Len() == 0 {
			continue
		}
		out, err := expr.Select(b, p.exprs, p.names)
		if err != nil {
			return nil, fmt.Errorf("table %s: %w", p.tableName, err)
		}
		out = castTs(out)
		out = dropNullKeys(out, keys)
		parts = append(parts, out)
	}
	return parts, nil
}

// castTs makes the ts column a long whatever integer type the time expression produced.
func castTs(b *types.Batch) *types.Batch {
	i := b.Schema.Index("ts")
	if i < 0 || b.Schema[i].Type.Kind == types.Long {
		return b
	}
	schema := append(types.Schema(nil), b.Schema...)
	schema[i] = types.Field{Name: "ts", Type: types.LongType}
	cols := append([]*types.Column(nil), b.Cols...)
	c := *cols[i]
	c.Type = types.LongType
	cols[i] = &c
	return &types.Batch{Schema: schema, Cols: cols}
}

// dropNullKeys removes rows whose key columns are all null.
func dropNullKeys(b *types.Batch, keys []string) *types.Batch {
	if len(keys) == 0 {
		return b
	}
	var kc []*types.Column
	nullable := false
	for _, k := range keys {
		kc = append(kc, b.Col(k))
		nullable = nullable || b.Col(k).Nulls != nil
	}
	if !nullable {
		return b
	}
	n := b.Len()
	var keep []bool
	for i := 0; i < n; i++ {
		allNull := true
		for _, c := range kc {
			if !c.IsNull(i) {
				allNull = false
				break
			}
		}
		if allNull {
			if keep == nil {
				keep = make([]bool, n)
				for j := range keep {
					keep[j] = true
				}
			}
			keep[i] = false
		}
	}
	if keep == nil {
		return b
	}
	return expr.Gather(b, keep)
}

// keyOf renders row i's key columns as one string for grouping and matching; ok is false when any
// key is null (such rows match nothing). Values render by value, not type, so a string "5" and a
// long 5 match, as Spark's implicit cast would make them.
func keyOf(cols []*types.Column, i int, buf *[]byte) (string, bool) {
	if len(cols) == 1 && cols[0].Type.Kind == types.String {
		if cols[0].IsNull(i) {
			return "", false
		}
		return cols[0].Strs[i], true
	}
	var b []byte
	if buf != nil {
		b = (*buf)[:0]
	}
	b, ok := appendKey(b, cols, i)
	if buf != nil {
		*buf = b
	}
	return string(b), ok
}

// appendKey appends the bytes of keyOf's rendering of row i to dst, without allocating a string
// per row (hashing keys needs only the bytes).
func appendKey(dst []byte, cols []*types.Column, i int) ([]byte, bool) {
	for j, c := range cols {
		if c.IsNull(i) {
			return dst, false
		}
		if j > 0 {
			dst = append(dst, 0)
		}
		switch c.Type.Kind {
		case types.String:
			dst = append(dst, c.Strs[i]...)
		case types.Int, types.Long, types.Short, types.Byte:
			dst = strconv.AppendInt(dst, c.Ints[i], 10)
		default:
			dst = fmt.Append(dst, c.Value(i))
		}
	}
	return dst, true
}
