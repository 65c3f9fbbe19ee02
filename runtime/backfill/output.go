package backfill

import (
	"context"
	"fmt"
	"time"

	"github.com/chronon-go/chronon/runtime/types"
	"github.com/chronon-go/chronon/runtime/warehouse"
)

// output is a ds-partitioned table that a backfill fills chunk by chunk. Every chunk is staged in
// one transaction and committed together, each partition replacing the old one atomically.
type output struct {
	what    string // "join <name>" or "group_by <name>", for messages
	table   string
	props   map[string]string
	replace bool // replace the whole table (its conf changed or --force)
}

// write computes each chunk of todo (consecutive runs of at most step days) and commits the rows.
func (o output) write(ctx context.Context, w *warehouse.Warehouse, todo []string, step int, prog *progress, compute func(start, end string) (*types.Batch, error)) error {
	var tx *warehouse.Txn
	defer func() {
		if tx != nil {
			tx.Abort()
		}
	}()
	began := time.Now()
	rows := 0
	chunks := chunk(todo, step)
	for ci, c := range chunks {
		if err := ctx.Err(); err != nil {
			return err
		}
		prog.step("[%s, %s]", c[0], c[1])
		b, err := compute(c[0], c[1])
		if err != nil {
			return err
		}
		if tx == nil {
			spec := warehouse.TableSpec{Schema: dataColumns(b.Schema), PartitionColumns: []string{warehouse.PartitionColumn}, Properties: o.props, ReplaceTable: o.replace}
			if tx, err = w.Begin(o.table, spec); err != nil {
				return err
			}
		}
		if err := writeByDs(tx, b); err != nil {
			return err
		}
		phase("written")
		rows += b.Len()
		prog.chunkDone(daysIn(todo, c[0], c[1]), b.Len(), "%s: chunk %d/%d [%s, %s]: %d rows", o.what, ci+1, len(chunks), c[0], c[1], b.Len())
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	tx = nil
	phase("committed")
	fmt.Fprintf(prog.w, "%s: wrote %d rows in %d partition(s) of %s in %s\n", o.what, rows, len(todo), o.table, time.Since(began).Round(time.Millisecond))
	return nil
}
