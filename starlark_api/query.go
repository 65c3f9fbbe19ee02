package starlark_api

import (
	"fmt"

	"go.starlark.net/starlark"

	"github.com/chronon-go/chronon/thrift/api"
)

// The ai.chronon.query module: Query and select (spec §1.4).

var queryParams = []param{
	{"selects", true}, {"wheres", true}, {"start_partition", true}, {"end_partition", true}, {"time_column", true},
	{"setups", true}, {"mutation_time_column", true}, {"reversal_column", true}, {"partition_column", true},
}

func queryFn(thread *starlark.Thread, b *starlark.Builtin, a starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	args, err := bind("Query", queryParams, a, kwargs, false)
	if err != nil {
		return nil, err
	}
	q := &api.Query{}
	o := newObject(thread, q)
	if err := setMap(args, "selects", &q.Selects, o.order); err != nil {
		return nil, err
	}
	if q.Wheres, err = args.strings("wheres"); err != nil {
		return nil, err
	}
	for _, f := range []struct {
		name string
		dst  **string
	}{
		{"start_partition", &q.StartPartition}, {"end_partition", &q.EndPartition}, {"time_column", &q.TimeColumn},
		{"mutation_time_column", &q.MutationTimeColumn}, {"reversal_column", &q.ReversalColumn}, {"partition_column", &q.PartitionColumn},
	} {
		if *f.dst, err = args.str(f.name); err != nil {
			return nil, err
		}
	}
	setups, err := args.strings("setups")
	if err != nil {
		return nil, err
	}
	if setups == nil {
		setups = []string{} // Chronon always serializes "setups": []
	}
	q.Setups = &setups
	return o, nil
}

// selectFn: select("a", "b", c="expr") → {"a": "a", "b": "b", "c": "expr"}, positional names first.
func selectFn(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	d := starlark.NewDict(len(args) + len(kwargs))
	for i, a := range args {
		s, ok := a.(starlark.String)
		if !ok {
			return nil, fmt.Errorf("select: argument %d: got %s, want a column name string", i+1, describe(a))
		}
		_ = d.SetKey(s, s)
	}
	for _, kv := range kwargs {
		s, ok := kv[1].(starlark.String)
		if !ok {
			return nil, fmt.Errorf("select: %s: got %s, want a Spark SQL expression string", kv[0], describe(kv[1]))
		}
		_ = d.SetKey(kv[0], s)
	}
	return d, nil
}
