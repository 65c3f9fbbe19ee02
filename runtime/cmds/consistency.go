package cmds

import (
	"context"
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/chronon-go/chronon/runtime/consistency"
	"github.com/chronon-go/chronon/runtime/kv"
	"github.com/chronon-go/chronon/thrift/api"
)

func init() {
	RunFlags = append(RunFlags,
		&cli.StringFlag{Name: "log-table", Usage: "log-flattener: read a Chronon-format raw log table (key_base64, value_base64, ts_millis, schema_hash, name, ds) instead of the fetch log; needs --schema-table"},
		&cli.StringFlag{Name: "schema-table", Usage: "log-flattener: the schema table (schema_hash, schema_value_last, ds) that goes with --log-table"},
	)
	RegisterRunMode("joins", "log-flattener", runLogFlattener)
	RegisterRunMode("joins", "consistency-metrics-compute", runConsistencyMetrics)
}

// explicitEnd is --end-ds or --ds when given: these modes default to "everything logged", not today.
func (r *RunContext) explicitEnd() string {
	if r.Cli.IsSet("end-ds") || r.Cli.IsSet("ds") {
		return r.EndDate
	}
	return ""
}

// runLogFlattener is `run --mode log-flattener` (spec §8.4, docs/consistency.md): the fetch log (or
// --log-table/--schema-table) into the join's out_logged table.
func runLogFlattener(ctx context.Context, r *RunContext) error {
	var j api.Join
	if err := r.ReadConf(&j); err != nil {
		return err
	}
	w, err := r.Warehouse()
	if err != nil {
		return err
	}
	opts := consistency.FlattenOptions{
		EndDate: r.explicitEnd(), StepDays: r.StepDays, Force: r.Force,
		LogTable: r.Cli.String("log-table"), SchemaTable: r.Cli.String("schema-table"), Log: r.Log,
	}
	var log kv.Log
	if opts.LogTable == "" && opts.SchemaTable == "" {
		target := KVTarget(r.Cli)
		if log, err = kv.OpenLog(ctx, target, kv.Options{ReadOnly: true}); err != nil {
			return fmt.Errorf("log-flattener: the fetch log of online store %s cannot be opened: %w", kv.RedactURI(target), err)
		}
		defer log.Close()
	}
	res, err := consistency.FlattenLog(ctx, w, log, &j, opts)
	if err != nil {
		return err
	}
	if res.Skipped != "" {
		fmt.Fprintf(r.Log, "log-flattener %s: %s\n", j.GetMetaData().GetName(), res.Skipped)
		return nil
	}
	fmt.Fprintf(r.Cli.App.Writer, "%s: %d rows in %d partition(s) (%s..%s), %d undecodable record(s) dropped\n",
		res.Table, res.Rows, len(res.Days), res.Days[0], res.Days[len(res.Days)-1], res.Dropped)
	return nil
}

// runConsistencyMetrics is `run --mode consistency-metrics-compute` (spec §8.5, docs/consistency.md).
func runConsistencyMetrics(ctx context.Context, r *RunContext) error {
	applyMemoryLimit()
	var j api.Join
	order, w, err := r.Load(&j)
	if err != nil {
		return err
	}
	// Open the store first: a store that is down fails the job before anything is computed.
	store, err := OpenKV(ctx, r.Cli, kv.Options{})
	if err != nil {
		return err
	}
	defer store.Close()
	res, err := consistency.ComputeMetrics(ctx, w, store, &j, order, consistency.MetricsOptions{
		EndDate: r.explicitEnd(), StepDays: r.StepDays, Force: r.Force, Log: r.Log,
	})
	if err != nil {
		return err
	}
	if res.Skipped != "" {
		fmt.Fprintf(r.Log, "consistency-metrics-compute %s: %s\n", j.GetMetaData().GetName(), res.Skipped)
		return nil
	}
	res.Summary.Print(r.Cli.App.Writer)
	return nil
}
