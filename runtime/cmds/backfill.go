package cmds

import (
	"context"
	"fmt"
	"os"
	"runtime/debug"
	"time"

	"github.com/chronon-go/chronon/runtime/backfill"
	"github.com/chronon-go/chronon/thrift/api"
	"github.com/chronon-go/chronon/thrift/conf"
)

func init() {
	RegisterRunMode("joins", "backfill", runJoinBackfill)
	RegisterRunMode("group_bys", "backfill", runGroupByBackfill)
}

func (r *RunContext) joinOptions() backfill.JoinOptions {
	return backfill.JoinOptions{EndDate: r.EndDate, StartDate: r.StartDate, StepDays: r.StepDays, Force: r.Force, Log: r.Log}
}

// defaultMemoryLimit is the soft heap limit of backfills when GOMEMLIMIT is not set. Backfills
// allocate a lot of short-lived values, so instead of collecting every time the heap doubles, the
// collector runs when the heap nears this limit (unless GOGC is set): a 20M-event join stays under
// 2 GiB of resident memory and spends less time collecting (docs/bench.md).
const defaultMemoryLimit = 1700 << 20

func applyMemoryLimit() {
	if os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	debug.SetMemoryLimit(defaultMemoryLimit)
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(-1)
	}
}

func runJoinBackfill(ctx context.Context, r *RunContext) error {
	applyMemoryLimit()
	var j api.Join
	order, w, err := r.Load(&j)
	if err != nil {
		return err
	}
	return backfill.RunJoin(ctx, w, &j, order, r.joinOptions())
}

func runGroupByBackfill(ctx context.Context, r *RunContext) error {
	applyMemoryLimit()
	var gb api.GroupBy
	order, w, err := r.Load(&gb)
	if err != nil {
		return err
	}
	return backfill.RunGroupBy(ctx, w, &gb, order, r.joinOptions())
}

func init() {
	RegisterRunMode("joins", "analyze", runAnalyze)
	RegisterRunMode("group_bys", "analyze", runAnalyze)
}

// runAnalyze prints schemas, row counts, heavy hitters and the pre-backfill checks for
// [--start-ds (default --ds minus 3 days), --ds].
func runAnalyze(ctx context.Context, r *RunContext) error {
	w, err := r.Warehouse()
	if err != nil {
		return err
	}
	opts := backfill.AnalyzeOptions{Start: r.StartDate, End: r.EndDate, Hitters: 10}
	if opts.Start == "" {
		opts.Start = shiftDays(r.EndDate, -3)
	}
	var a *backfill.Analysis
	if r.Kind == "joins" {
		var j api.Join
		order, err := conf.ReadFile(r.ConfPath, &j)
		if err != nil {
			return err
		}
		a, err = backfill.AnalyzeJoin(w, &j, order, opts)
		if err != nil {
			return err
		}
	} else {
		var gb api.GroupBy
		order, err := conf.ReadFile(r.ConfPath, &gb)
		if err != nil {
			return err
		}
		a, err = backfill.AnalyzeGroupBy(w, &gb, order, opts)
		if err != nil {
			return err
		}
	}
	a.Print(os.Stdout)
	for _, f := range a.Findings {
		if f.Error {
			return fmt.Errorf("analyze found errors")
		}
	}
	return nil
}

func shiftDays(ds string, n int) string {
	t, err := time.Parse(time.DateOnly, ds)
	if err != nil {
		return ds
	}
	return t.AddDate(0, 0, n).Format(time.DateOnly)
}
