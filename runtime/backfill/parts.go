package backfill

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/chronon-go/chronon/runtime/types"
	"github.com/chronon-go/chronon/runtime/warehouse"
	"github.com/chronon-go/chronon/thrift/api"
	"github.com/chronon-go/chronon/thrift/conf"
)

// Part tables (spec §6.4): each join part's features for the left rows are kept in
// `<output>_[<prefix>_]<group-by name>`, partitioned by ds, with the part's semantic hash (left side +
// GroupBy + key mapping + prefix). When a join is recomputed because something else changed (a part
// added, a derivation edited), unchanged parts are read back instead of computed again.
//
// When the join's output holds every part's features unchanged (no derivations, no bootstrap parts),
// the output table itself is that cache: its properties record each part's hash under
// "part_hash.<prefix>", and no separate part table is written (which would duplicate every feature
// column on disk and cost a quarter of the backfill's CPU). Otherwise the part tables are written as
// Chronon writes them.

const tableTypeJoinPart = "join_part"

func (p *joinPlan) partTable(pp *partPlan) string {
	return p.out + "_" + pp.prefix
}

// partHash identifies what a part table holds: the left source, the GroupBy (metadata aside but its
// name) and how it is joined.
func (p *joinPlan) partHash(pp *partPlan) (string, error) {
	var parts []string
	for _, v := range []any{p.j.Left, pp.jp} {
		c := conf.Clone(v, p.order)
		if jp, ok := c.(*api.JoinPart); ok && jp.GroupBy != nil {
			jp.GroupBy.MetaData = &api.MetaData{Name: jp.GroupBy.GetMetaData().Name}
		}
		data, err := conf.MarshalCompact(c, p.order)
		if err != nil {
			return "", err
		}
		parts = append(parts, string(data))
	}
	sum := sha256.Sum256([]byte(strings.Join(parts, "\n")))
	return hex.EncodeToString(sum[:8]), nil
}

// partKeyColumns are the left columns a part table row is matched on: the part's left keys and ts.
func (p *joinPlan) partKeyColumns(pp *partPlan, lb *types.Batch) []string {
	cols := append([]string(nil), pp.leftKeys...)
	if lb.Col("ts") != nil && p.j.Left.Events != nil {
		cols = append(cols, "ts")
	}
	return cols
}

// cachedPart returns the part's features for the rows of lb from its part table, or ok=false when the
// table is missing, has another hash, or lacks any of lb's rows.
func (p *joinPlan) cachedPart(w *warehouse.Warehouse, pp *partPlan, lb *types.Batch, days []string, table, hashProp string) (*types.Batch, bool, error) {
	if !w.Exists(table) || lb.Len() == 0 {
		return nil, false, nil
	}
	hash, err := p.partHash(pp)
	if err != nil {
		return nil, false, err
	}
	t, err := w.Table(table)
	if err != nil {
		return nil, false, err
	}
	props, err := t.Properties()
	if err != nil || props[hashProp] != hash {
		return nil, false, nil
	}
	have, err := t.PartitionDates()
	if err != nil {
		return nil, false, nil
	}
	present := map[string]bool{}
	for _, d := range have {
		present[d] = true
	}
	for _, d := range days {
		if !present[d] {
			return nil, false, nil
		}
	}
	keyCols := append(p.partKeyColumns(pp, lb), warehouse.PartitionColumn)
	cols := append([]string(nil), keyCols...)
	if table == p.out {
		// The output holds other columns too: read exactly the part's, as recorded.
		var names []string
		if json.Unmarshal([]byte(props[partColumnsProp(pp)]), &names) != nil || len(names) == 0 {
			return nil, false, nil
		}
		cols = append(cols, names...)
	} else {
		schema, err := t.Schema()
		if err != nil {
			return nil, false, err
		}
		for _, f := range schema {
			if strings.HasPrefix(f.Name, pp.prefix+"_") {
				cols = append(cols, f.Name)
			}
		}
	}
	r, err := t.Read(warehouse.ReadOptions{Columns: cols, Start: days[0], End: days[len(days)-1]})
	if err != nil {
		if table == p.out {
			return nil, false, nil // e.g. a column dropped by hand: compute instead
		}
		return nil, false, err
	}
	cached, err := r.ReadAll()
	r.Close()
	if err != nil {
		return nil, false, err
	}
	cachedKeys := make([]*types.Column, len(keyCols))
	leftKeys := make([]*types.Column, len(keyCols))
	for i, k := range keyCols {
		if cachedKeys[i] = cached.Col(k); cachedKeys[i] == nil {
			return nil, false, nil
		}
		leftKeys[i] = lb.Col(k)
	}
	var buf strings.Builder
	rowOf := make(map[string]int32, cached.Len())
	for i := 0; i < cached.Len(); i++ {
		k, _ := keyOfNullable(cachedKeys, i, &buf)
		rowOf[k] = int32(i)
	}
	idx := make([]int32, lb.Len())
	for i := range idx {
		k, _ := keyOfNullable(leftKeys, i, &buf)
		r, ok := rowOf[k]
		if !ok {
			return nil, false, nil // the left side has rows the table does not: compute
		}
		idx[i] = r
	}
	feats := &types.Batch{}
	for i, f := range cached.Schema {
		if strings.HasPrefix(f.Name, pp.prefix+"_") {
			feats.Schema = append(feats.Schema, types.Field{Name: strings.TrimPrefix(f.Name, pp.prefix+"_"), Type: f.Type})
			feats.Cols = append(feats.Cols, cached.Cols[i].Take(idx))
		}
	}
	return feats, true, nil
}

// savePart writes a part's features for the rows of lb, one row per left row. Rows with the same
// keys, ts and ds hold the same features, so duplicates are harmless for cachedPart and cheaper to
// write than to find.
func (p *joinPlan) savePart(w *warehouse.Warehouse, pp *partPlan, lb, feats *types.Batch) error {
	hash, err := p.partHash(pp)
	if err != nil {
		return err
	}
	b := &types.Batch{}
	for _, k := range p.partKeyColumns(pp, lb) {
		b.Schema = append(b.Schema, lb.Schema[lb.Schema.Index(k)])
		b.Cols = append(b.Cols, lb.Col(k))
	}
	for i, f := range feats.Schema {
		b.Schema = append(b.Schema, types.Field{Name: pp.prefix + "_" + f.Name, Type: f.Type})
		b.Cols = append(b.Cols, feats.Cols[i])
	}
	b.Schema = append(b.Schema, lb.Schema[lb.Schema.Index(warehouse.PartitionColumn)])
	b.Cols = append(b.Cols, lb.Col(warehouse.PartitionColumn))
	props := map[string]string{"chronon_generated": "true", "chronon_table_type": tableTypeJoinPart, propSemanticHash: hash}
	// A table computed for another hash is replaced whole, so no stale partition keeps the new hash.
	replace := false
	if w.Exists(p.partTable(pp)) {
		if t, err := w.Table(p.partTable(pp)); err == nil {
			old, _ := t.Properties()
			replace = old[propSemanticHash] != hash
		}
	}
	tx, err := w.Begin(p.partTable(pp), warehouse.TableSpec{Schema: dataColumns(b.Schema), PartitionColumns: []string{warehouse.PartitionColumn}, Properties: props, ReplaceTable: replace})
	if err != nil {
		return err
	}
	if err := writeByDs(tx, b); err != nil {
		tx.Abort()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("join %s: part table %s: %w", p.name, p.partTable(pp), err)
	}
	return nil
}

// keyOfNullable renders key columns including nulls (a null left key still identifies its row).
func keyOfNullable(cols []*types.Column, i int, buf *strings.Builder) (string, bool) {
	buf.Reset()
	for j, c := range cols {
		if j > 0 {
			buf.WriteByte(0)
		}
		if c.IsNull(i) {
			buf.WriteString("\x01null")
			continue
		}
		k, _ := keyOf(cols[j:j+1], i, nil)
		buf.WriteString(k)
	}
	return buf.String(), true
}

// partWithCache computes a part's features, reading them from its part table when it holds them.
// --force and bootstrapped joins always compute (which rows are skipped depends on the bootstrap
// tables).
func (p *joinPlan) partWithCache(w *warehouse.Warehouse, pp *partPlan, lb *types.Batch, leftEvents bool, skip []bool) (*types.Batch, error) {
	if skip != nil || len(p.j.BootstrapParts) > 0 {
		return p.partFeatures(w, pp, lb, leftEvents, skip)
	}
	var days []string
	seen := map[string]bool{}
	for i, d := range lb.Col(warehouse.PartitionColumn).Strs {
		if i > 0 && d == days[len(days)-1] {
			continue // rows come partition by partition
		}
		if !seen[d] {
			seen[d] = true
			days = append(days, d)
		}
	}
	sort.Strings(days)
	if len(days) > 0 && !p.force {
		for _, c := range [][2]string{{p.partTable(pp), propSemanticHash}, {p.out, partHashProp(pp)}} {
			feats, ok, err := p.cachedPart(w, pp, lb, days, c[0], c[1])
			if err != nil {
				return nil, err
			}
			if ok {
				if p.outputHoldsParts() {
					p.recordPartColumns(pp, feats.Schema) // the new output caches it in turn
				}
				return feats, nil
			}
		}
	}
	feats, err := p.partFeatures(w, pp, lb, leftEvents, nil)
	if err != nil {
		return nil, err
	}
	if p.outputHoldsParts() {
		p.recordPartColumns(pp, feats.Schema)
	} else if lb.Len() > 0 {
		// Saved in the background, overlapping the next part's scan; computeChunk waits for it.
		p.saves.Add(1)
		go func() {
			defer p.saves.Done()
			if err := p.savePart(w, pp, lb, feats); err != nil {
				p.saveErr.CompareAndSwap(nil, &err)
			}
		}()
	}
	return feats, nil
}

// waitSaves waits for the part tables being written and returns the first error.
func (p *joinPlan) waitSaves() error {
	p.saves.Wait()
	if e := p.saveErr.Swap(nil); e != nil {
		return *e
	}
	return nil
}

// outputHoldsParts tells whether the output rows carry every part's features as computed, so that
// the output table can serve as the part cache.
func (p *joinPlan) outputHoldsParts() bool {
	return len(p.j.Derivations) == 0 && len(p.j.BootstrapParts) == 0
}

// partColumnsProp is the output table property listing a part's feature columns (a JSON list), so
// that a cached read takes exactly them.
func partColumnsProp(pp *partPlan) string { return "part_columns." + pp.prefix }

// recordPartColumns notes a part's feature columns in the output table's properties (outProps is the
// map the output transaction is begun with, after the first chunk is computed).
func (p *joinPlan) recordPartColumns(pp *partPlan, feats types.Schema) {
	names := make([]string, len(feats))
	for i, f := range feats {
		names[i] = pp.prefix + "_" + f.Name
	}
	data, _ := json.Marshal(names)
	p.propsMu.Lock()
	p.outProps[partColumnsProp(pp)] = string(data)
	p.propsMu.Unlock()
}

// partHashProp is the output table property recording a part's hash when the output is its cache.
func partHashProp(pp *partPlan) string { return "part_hash." + pp.prefix }

// partHashProps are the output table properties that make it the cache of its parts.
func (p *joinPlan) partHashProps() (map[string]string, error) {
	out := map[string]string{}
	if !p.outputHoldsParts() {
		return out, nil
	}
	for _, pp := range p.parts {
		h, err := p.partHash(pp)
		if err != nil {
			return nil, err
		}
		out[partHashProp(pp)] = h
	}
	return out, nil
}
