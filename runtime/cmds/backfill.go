package cmds

import (
	"context"

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

func runJoinBackfill(ctx context.Context, r *RunContext) error {
	var j api.Join
	order, err := conf.ReadFile(r.ConfPath, &j)
	if err != nil {
		return err
	}
	w, err := r.Warehouse()
	if err != nil {
		return err
	}
	return backfill.RunJoin(ctx, w, &j, order, r.joinOptions())
}

func runGroupByBackfill(ctx context.Context, r *RunContext) error {
	var gb api.GroupBy
	order, err := conf.ReadFile(r.ConfPath, &gb)
	if err != nil {
		return err
	}
	w, err := r.Warehouse()
	if err != nil {
		return err
	}
	return backfill.RunGroupBy(ctx, w, &gb, order, r.joinOptions())
}
