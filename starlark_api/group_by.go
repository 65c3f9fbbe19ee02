package starlark_api

import (
	"encoding/json"
	"fmt"
	"path"
	"reflect"
	"strings"

	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"

	"github.com/chronon-go/chronon/thrift/api"
	"github.com/chronon-go/chronon/thrift/conf"
)

// The ai.chronon.group_by module (spec §1.4).

func enumModule(name string, members map[string]int64) *starlarkstruct.Module {
	d := starlark.StringDict{}
	for k, v := range members {
		d[k] = starlark.MakeInt64(v)
	}
	return &starlarkstruct.Module{Name: name, Members: d}
}

var timeUnitModule = enumModule("TimeUnit", map[string]int64{"HOURS": int64(api.TimeUnit_HOURS), "DAYS": int64(api.TimeUnit_DAYS)})
var accuracyModule = enumModule("Accuracy", map[string]int64{"TEMPORAL": int64(api.Accuracy_TEMPORAL), "SNAPSHOT": int64(api.Accuracy_SNAPSHOT)})

// operationModule holds every Operation as its thrift int, plus the parametrized forms that return
// (operation, argMap) tuples as Chronon's Python does: LAST_K(10) → (13, {"k": "10"}).
var operationModule = func() *starlarkstruct.Module {
	d := starlark.StringDict{}
	for op := api.Operation_MIN; op <= api.Operation_BOUNDED_UNIQUE_COUNT; op++ {
		d[op.String()] = starlark.MakeInt64(int64(op))
	}
	kParam := map[string]api.Operation{
		"APPROX_UNIQUE_COUNT_LGK": api.Operation_APPROX_UNIQUE_COUNT,
		"BOUNDED_UNIQUE_COUNT_K":  api.Operation_BOUNDED_UNIQUE_COUNT,
		"HISTOGRAM_K":             api.Operation_HISTOGRAM,
		"APPROX_HISTOGRAM_K":      api.Operation_APPROX_HISTOGRAM_K,
		"FIRST_K":                 api.Operation_FIRST_K,
		"LAST_K":                  api.Operation_LAST_K,
		"TOP_K":                   api.Operation_TOP_K,
		"BOTTOM_K":                api.Operation_BOTTOM_K,
	}
	for name, op := range kParam {
		d[name] = opWithK("Operation."+name, op)
	}
	d["APPROX_PERCENTILE"] = starlark.NewBuiltin("Operation.APPROX_PERCENTILE", approxPercentile)
	return &starlarkstruct.Module{Name: "Operation", Members: d}
}()

func opWithK(name string, op api.Operation) *starlark.Builtin {
	return starlark.NewBuiltin(name, func(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		var k starlark.Value
		if err := starlark.UnpackArgs(name, args, kwargs, "k", &k); err != nil {
			return nil, err
		}
		s, err := pyStr(k)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", name, err)
		}
		m := starlark.NewDict(1)
		_ = m.SetKey(starlark.String("k"), starlark.String(s))
		return starlark.Tuple{starlark.MakeInt64(int64(op)), m}, nil
	})
}

// approxPercentile(percentiles, k=128, **other): argMap keeps Python's order, k first.
func approxPercentile(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	const fn = "Operation.APPROX_PERCENTILE"
	m := starlark.NewDict(2)
	_ = m.SetKey(starlark.String("k"), starlark.String("128"))
	if len(args) > 1 {
		return nil, fmt.Errorf("%s: got %d positional arguments, want 1 (percentiles); pass k=...", fn, len(args))
	}
	if len(args) == 1 {
		s, err := pyStr(args[0])
		if err != nil {
			return nil, fmt.Errorf("%s: %v", fn, err)
		}
		_ = m.SetKey(starlark.String("percentiles"), starlark.String(s))
	}
	for _, kv := range kwargs {
		s, err := pyStr(kv[1])
		if err != nil {
			return nil, fmt.Errorf("%s: %v", fn, err)
		}
		_ = m.SetKey(kv[0], starlark.String(s))
	}
	if _, ok, _ := m.Get(starlark.String("percentiles")); !ok {
		return nil, fmt.Errorf("%s: missing argument for percentiles, e.g. Operation.APPROX_PERCENTILE([0.5, 0.99])", fn)
	}
	return starlark.Tuple{starlark.MakeInt64(int64(api.Operation_APPROX_PERCENTILE)), m}, nil
}

var aggregationParams = []param{
	{"input_column", true}, {"operation", true}, {"windows", true}, {"buckets", true}, {"tags", true}, {"element_wise", true},
}

func aggregationFn(thread *starlark.Thread, b *starlark.Builtin, a starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	args, err := bind("Aggregation", aggregationParams, a, kwargs, false)
	if err != nil {
		return nil, err
	}
	agg := &api.Aggregation{}
	o := newObject(thread, agg)
	if agg.InputColumn, err = args.str("input_column"); err != nil {
		return nil, err
	}
	op := api.Operation_LAST
	argMap := map[string]string{}
	var argKeys []string
	switch v := args.get("operation").(type) {
	case starlark.NoneType:
	case starlark.Int:
		n, _ := v.Int64()
		op = api.Operation(n)
		if op.String() == "<UNSET>" {
			return nil, fmt.Errorf("Aggregation: operation %d is not an Operation", n)
		}
	case starlark.Tuple:
		if len(v) != 2 {
			return nil, args.wrong("operation", v, "an Operation such as Operation.SUM or Operation.LAST_K(10)")
		}
		n, ok := v[0].(starlark.Int)
		d, ok2 := v[1].(*starlark.Dict)
		if !ok || !ok2 {
			return nil, args.wrong("operation", v, "an Operation such as Operation.SUM or Operation.LAST_K(10)")
		}
		i, _ := n.Int64()
		op = api.Operation(i)
		for _, item := range d.Items() {
			k, _ := starlark.AsString(item[0])
			val, err := pyStr(item[1])
			if err != nil {
				return nil, err
			}
			argMap[k] = val
			argKeys = append(argKeys, k)
		}
	case *starlark.Builtin:
		return nil, fmt.Errorf("Aggregation: operation %s needs its arguments, e.g. %s(10)", v.Name(), v.Name())
	default:
		return nil, args.wrong("operation", v, "an Operation such as Operation.SUM or Operation.LAST_K(10)")
	}
	agg.Operation = &op
	agg.ArgMap = argMap
	o.order.Set(argMap, argKeys)
	if w := args.get("windows"); w != starlark.None {
		if err := fromStarlark(w, reflect.ValueOf(&agg.Windows).Elem(), o.order, "Aggregation: windows"); err != nil {
			return nil, err
		}
	}
	if agg.Buckets, err = args.strings("buckets"); err != nil {
		return nil, err
	}
	if agg.ElementWise, err = args.boolean("element_wise"); err != nil {
		return nil, err
	}
	if t := args.get("tags"); t != starlark.None {
		if _, ok := t.(*starlark.Dict); !ok {
			return nil, args.wrong("tags", t, "dict")
		}
		o.setExtra("tags", t)
	}
	return o, nil
}

func windowFn(thread *starlark.Thread, b *starlark.Builtin, a starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	args, err := bind("Window", []param{{"length", false}, {"timeUnit", false}}, a, kwargs, false)
	if err != nil {
		return nil, err
	}
	w := &api.Window{}
	o := newObject(thread, w)
	n, err := args.integer("length", 0)
	if err != nil {
		return nil, err
	}
	if n <= 0 || n > 1<<31-1 {
		return nil, fmt.Errorf("Window: length must be a positive int, got %d", n)
	}
	w.Length = int32(n)
	u, err := args.integer("timeUnit", -1)
	if err != nil {
		return nil, err
	}
	if u != int64(api.TimeUnit_HOURS) && u != int64(api.TimeUnit_DAYS) {
		return nil, fmt.Errorf("Window: timeUnit must be TimeUnit.HOURS or TimeUnit.DAYS, got %v", args.get("timeUnit"))
	}
	w.TimeUnit = api.TimeUnit(u)
	return o, nil
}

func derivationFn(thread *starlark.Thread, b *starlark.Builtin, a starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	args, err := bind("Derivation", []param{{"name", false}, {"expression", false}, {"description", true}}, a, kwargs, false)
	if err != nil {
		return nil, err
	}
	d := &api.Derivation{}
	o := newObject(thread, d)
	if d.Name, err = args.str("name"); err != nil {
		return nil, err
	}
	if d.Expression, err = args.str("expression"); err != nil {
		return nil, err
	}
	desc, err := args.str("description")
	if err != nil {
		return nil, err
	}
	if desc != nil && *desc != "" {
		d.MetaData = &api.MetaData{Description: desc}
	}
	return o, nil
}

var groupByParams = []param{
	{"sources", false}, {"keys", false}, {"aggregations", false}, {"online", true}, {"production", true},
	{"backfill_start_date", true}, {"dependencies", true}, {"env", true}, {"table_properties", true},
	{"output_namespace", true}, {"accuracy", true}, {"lag", true}, {"offline_schedule", true}, {"name", true},
	{"tags", true}, {"derivations", true}, {"historical_backfill", true}, {"deprecation_date", true},
	{"description", true}, {"is_incremental", true},
}

func groupByFn(thread *starlark.Thread, b *starlark.Builtin, a starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	args, err := bind("GroupBy", groupByParams, a, kwargs, true)
	if err != nil {
		return nil, err
	}
	gb := &api.GroupBy{}
	o := newObject(thread, gb)
	order := o.order

	srcVals, err := args.list("sources", true)
	if err != nil {
		return nil, err
	}
	if len(srcVals) == 0 {
		return nil, fmt.Errorf("GroupBy: sources are not specified")
	}
	keys, err := args.strings("keys")
	if err != nil {
		return nil, err
	}
	if keys == nil {
		return nil, fmt.Errorf("GroupBy: keys must be a list of column names, got None")
	}
	gb.KeyColumns = keys

	var aggObjs []*Object
	if !args.isNone("aggregations") {
		vals, err := args.list("aggregations", false)
		if err != nil {
			return nil, err
		}
		gb.Aggregations = make([]*api.Aggregation, 0, len(vals))
		for i, v := range vals {
			agg, ao, err := asObject[api.Aggregation](v, "GroupBy", fmt.Sprintf("aggregations[%d]", i), false)
			if err != nil {
				return nil, err
			}
			gb.Aggregations = append(gb.Aggregations, agg)
			aggObjs = append(aggObjs, ao)
		}
	}
	backfillStart, err := args.str("backfill_start_date")
	if err != nil {
		return nil, err
	}
	historical, err := args.boolean("historical_backfill")
	if err != nil {
		return nil, err
	}
	if historical != nil && backfillStart == nil {
		return nil, fmt.Errorf("GroupBy: historical_backfill can only be set together with backfill_start_date")
	}

	// Every key and aggregation input must be selected; ts in selects becomes the time column.
	required := append([]string(nil), keys...)
	for _, agg := range gb.Aggregations {
		if agg.InputColumn != nil {
			required = append(required, *agg.InputColumn)
		}
	}
	for i, v := range srcVals {
		src, err := normalizeSource(v, fmt.Sprintf("sources[%d]", i))
		if err != nil {
			return nil, err
		}
		q := sourceQuery(src)
		if q == nil {
			return nil, fmt.Errorf("GroupBy: sources[%d] has no query: give it query=Query(selects=...)", i)
		}
		if q.Selects == nil {
			q.Selects = map[string]string{}
			order.Set(q.Selects, nil)
		}
		for _, c := range required {
			if _, ok := q.Selects[c]; !ok {
				q.Selects[c] = c
				order.Append(q.Selects, c)
			}
		}
		if ts, ok := q.Selects["ts"]; ok {
			delete(q.Selects, "ts")
			if q.TimeColumn == nil {
				q.TimeColumn = &ts
			}
			if *q.TimeColumn != ts {
				return nil, fmt.Errorf("GroupBy: sources[%d] selects ts = %q but its time_column is %q: give only time_column", i, ts, *q.TimeColumn)
			}
		}
		gb.Sources = append(gb.Sources, src)
	}

	deps, err := args.strings("dependencies")
	if err != nil {
		return nil, err
	}
	lag, err := args.integer("lag", 0)
	if err != nil {
		return nil, err
	}
	md := &api.MetaData{}
	gb.MetaData = md
	for _, src := range gb.Sources {
		ds, err := sourceDependencies(thread, src, deps, nil, lag)
		if err != nil {
			return nil, fmt.Errorf("GroupBy: %v", err)
		}
		md.Dependencies = append(md.Dependencies, ds...)
	}
	if md.Dependencies == nil {
		md.Dependencies = []string{}
	}

	// customJson = json.dumps({**extra kwargs, "lag", "groupby_tags", "column_tags"}).
	cj := newJSONObject()
	for _, kv := range args.extra {
		v, err := starlarkToJSON(kv[1])
		if err != nil {
			return nil, fmt.Errorf("GroupBy: argument %s: %v", kv[0], err)
		}
		cj.set(string(kv[0].(starlark.String)), v)
	}
	cj.set("lag", lag)
	tags, err := starlarkToJSON(args.get("tags"))
	if err != nil {
		return nil, fmt.Errorf("GroupBy: tags: %v", err)
	}
	cj.set("groupby_tags", tags)
	columnTags := newJSONObject()
	for i, ao := range aggObjs {
		if t := ao.Extra("tags"); t != nil {
			if d, ok := t.(*starlark.Dict); ok && d.Len() > 0 {
				tv, err := starlarkToJSON(t)
				if err != nil {
					return nil, fmt.Errorf("GroupBy: aggregations[%d].tags: %v", i, err)
				}
				for _, col := range AggregationOutputColumns(gb.Aggregations[i]) {
					columnTags.set(col, tv)
				}
			}
		}
	}
	cj.set("column_tags", columnTags)
	if md.CustomJson, err = pyJSONPtr(cj); err != nil {
		return nil, fmt.Errorf("GroupBy: %v", err)
	}

	if md.Name, err = args.str("name"); err != nil {
		return nil, err
	}
	if md.Online, err = args.boolean("online"); err != nil {
		return nil, err
	}
	if md.Production, err = args.boolean("production"); err != nil {
		return nil, err
	}
	if md.OutputNamespace, err = args.str("output_namespace"); err != nil {
		return nil, err
	}
	if err := setMap(args, "env", &md.ModeToEnvMap, order); err != nil {
		return nil, err
	}
	if err := setMap(args, "table_properties", &md.TableProperties, order); err != nil {
		return nil, err
	}
	team := path.Base(path.Dir(o.pos.Filename()))
	md.Team = &team
	sched := "@daily"
	if s, err := args.str("offline_schedule"); err != nil {
		return nil, err
	} else if s != nil {
		sched = *s
	}
	md.OfflineSchedule = &sched
	md.HistoricalBackfill = historical
	if md.DeprecationDate, err = args.str("deprecation_date"); err != nil {
		return nil, err
	}
	if md.Description, err = args.str("description"); err != nil {
		return nil, err
	}

	gb.BackfillStartDate = backfillStart
	if !args.isNone("accuracy") {
		n, err := args.integer("accuracy", 0)
		if err != nil {
			return nil, err
		}
		if n != int64(api.Accuracy_TEMPORAL) && n != int64(api.Accuracy_SNAPSHOT) {
			return nil, fmt.Errorf("GroupBy: accuracy must be Accuracy.TEMPORAL or Accuracy.SNAPSHOT, got %d", n)
		}
		acc := api.Accuracy(n)
		gb.Accuracy = &acc
	}
	if err := setObjects(args, "derivations", &gb.Derivations); err != nil {
		return nil, err
	}
	if gb.IsIncremental, err = args.boolean("is_incremental"); err != nil {
		return nil, err
	}
	if err := ValidateGroupBy(gb); err != nil {
		return nil, fmt.Errorf("GroupBy: %v", err)
	}
	return o, nil
}

func pyJSONPtr(v any) (*string, error) {
	s, err := pyJSON(v)
	if err != nil {
		return nil, err
	}
	return &s, nil
}

// setMap converts a dict argument into a string-keyed Go map field, keeping its order.
func setMap(a *args, name string, dst any, order *conf.Order) error {
	v := a.get(name)
	if v == starlark.None {
		return nil
	}
	return fromStarlark(v, reflect.ValueOf(dst).Elem(), order, a.fn+": "+name)
}

// setObjects converts a list-of-objects argument into a slice field of api struct pointers.
func setObjects(a *args, name string, dst any) error {
	v := a.get(name)
	if v == starlark.None {
		return nil
	}
	return fromStarlark(v, reflect.ValueOf(dst).Elem(), nil, a.fn+": "+name)
}

// normalizeSource accepts a Source or a bare EventSource/EntitySource/JoinSource and returns a Source.
func normalizeSource(v starlark.Value, what string) (*api.Source, error) {
	o, ok := v.(*Object)
	if ok {
		switch s := o.Go().(type) {
		case *api.Source:
			if s.Events == nil && s.Entities == nil && s.JoinSource == nil {
				return nil, fmt.Errorf("%s: the Source sets none of events, entities, joinSource", what)
			}
			return s, nil
		case *api.EventSource:
			return &api.Source{Events: s}, nil
		case *api.EntitySource:
			return &api.Source{Entities: s}, nil
		case *api.JoinSource:
			return &api.Source{JoinSource: s}, nil
		}
	}
	return nil, fmt.Errorf("%s: got %s, want Source, EventSource, EntitySource or JoinSource", what, describe(v))
}

func sourceQuery(s *api.Source) *api.Query {
	switch {
	case s.Events != nil:
		return s.Events.Query
	case s.Entities != nil:
		return s.Entities.Query
	case s.JoinSource != nil:
		return s.JoinSource.Query
	}
	return nil
}

func isStreaming(s *api.Source) bool {
	return (s.Entities != nil && s.Entities.MutationTopic != nil) || (s.Events != nil && s.Events.Topic != nil)
}

// ValidateGroupBy applies the definition-time checks of Chronon's validate_group_by (spec §1.4).
func ValidateGroupBy(gb *api.GroupBy) error {
	if len(gb.Sources) == 0 {
		return fmt.Errorf("sources are not specified")
	}
	first := map[string]bool{}
	var firstCols []string
	if q := sourceQuery(gb.Sources[0]); q != nil {
		for k := range q.Selects {
			first[k] = true
			firstCols = append(firstCols, k)
		}
	}
	if first["ts"] {
		return fmt.Errorf("'ts' is reserved: give the time expression as time_column instead of selecting ts")
	}
	windowed := false
	for _, agg := range gb.Aggregations {
		if len(agg.Windows) > 0 {
			windowed = true
		}
	}
	snapshot := gb.Accuracy != nil && *gb.Accuracy == api.Accuracy_SNAPSHOT
	for i, src := range gb.Sources {
		q := sourceQuery(src)
		switch {
		case src.Events != nil:
			if q.MutationTimeColumn != nil {
				return fmt.Errorf("sources[%d]: mutation_time_column is for entity sources; an event source's time is its time_column", i)
			}
			if q.ReversalColumn != nil {
				return fmt.Errorf("sources[%d]: reversal_column is for entity sources with mutations; event sources have none", i)
			}
			if !snapshot {
				if q.TimeColumn == nil {
					return fmt.Errorf("sources[%d]: an event source needs query time_column unless the GroupBy has accuracy=Accuracy.SNAPSHOT", i)
				}
			} else if isStreaming(src) {
				return fmt.Errorf("sources[%d]: accuracy=Accuracy.SNAPSHOT cannot be used with a streaming source (it has a topic)", i)
			}
		case src.JoinSource != nil:
			j := src.JoinSource.Join
			if j == nil || j.Left == nil || !isStreaming(j.Left) {
				return fmt.Errorf("sources[%d]: a JoinSource's parent join must have a streaming left source (events.topic or entities.mutationTopic); for batch-only chaining read the join's output table with an EventSource or EntitySource", i)
			}
		default:
			if windowed && (q.TimeColumn == nil || *q.TimeColumn == "") {
				return fmt.Errorf("sources[%d]: an entity source with windowed aggregations needs query time_column", i)
			}
		}
	}
	if gb.IsIncremental != nil && *gb.IsIncremental {
		anyStreaming := false
		for _, s := range gb.Sources {
			if s.Events == nil {
				return fmt.Errorf("is_incremental is only supported for event sources")
			}
			anyStreaming = anyStreaming || isStreaming(s)
		}
		if !(snapshot || (gb.Accuracy == nil && !anyStreaming)) {
			return fmt.Errorf("is_incremental is only supported for SNAPSHOT accuracy group bys")
		}
	}
	for i, src := range gb.Sources[1:] {
		q := sourceQuery(src)
		var diff []string
		for k := range q.Selects {
			if !first[k] {
				diff = append(diff, k)
			}
		}
		for _, k := range firstCols {
			if _, ok := q.Selects[k]; !ok {
				diff = append(diff, k)
			}
		}
		if len(diff) > 0 {
			return fmt.Errorf("sources[0] and sources[%d] select different columns %v: all sources must select the same columns", i+1, sortedCopy(diff))
		}
	}
	var unselected []string
	for _, k := range gb.KeyColumns {
		if !first[k] {
			unselected = append(unselected, k)
		}
	}
	if len(unselected) > 0 {
		return fmt.Errorf("keys %v are not selected by the source", unselected)
	}
	if gb.Aggregations == nil {
		for i, s := range gb.Sources {
			if s.Events != nil || s.JoinSource != nil || (s.Entities != nil && (s.Entities.MutationTable != nil || s.Entities.MutationTopic != nil)) {
				return fmt.Errorf("aggregations=None is only allowed for entity sources without mutations (sources[%d] is not one)", i)
			}
		}
		return nil
	}
	all := map[string]bool{}
	for _, s := range gb.Sources {
		for k := range sourceQuery(s).Selects {
			all[k] = true
		}
	}
	for i, agg := range gb.Aggregations {
		op := api.Operation_LAST
		if agg.Operation != nil {
			op = *agg.Operation
		}
		if agg.InputColumn == nil || *agg.InputColumn == "" {
			return fmt.Errorf("aggregations[%d] (%s): input_column is required", i, strings.ToLower(op.String()))
		}
		if !all[*agg.InputColumn] && *agg.InputColumn != "ts" {
			return fmt.Errorf("aggregations[%d]: input_column %q is not selected by the sources%s", i, *agg.InputColumn, didYouMean(*agg.InputColumn, keysOf(all)))
		}
		if op == api.Operation_APPROX_PERCENTILE {
			p, ok := agg.ArgMap["percentiles"]
			if !ok {
				return fmt.Errorf("aggregations[%d]: APPROX_PERCENTILE needs percentiles, e.g. Operation.APPROX_PERCENTILE([0.5, 0.99])", i)
			}
			var ps []any
			if err := json.Unmarshal([]byte(p), &ps); err != nil {
				return fmt.Errorf("aggregations[%d]: percentiles %s is not a JSON list of numbers between 0 and 1 (e.g. [0.6, 0.1])", i, p)
			}
			for _, x := range ps {
				f, ok := x.(float64)
				if !ok || f < 0 || f > 1 {
					return fmt.Errorf("aggregations[%d]: percentiles %s must all be numbers between 0 and 1 inclusive", i, p)
				}
			}
		}
		if len(agg.Windows) > 0 && (snapshot || gb.BackfillStartDate != nil) {
			for _, w := range agg.Windows {
				if w.TimeUnit == api.TimeUnit_HOURS {
					return fmt.Errorf("aggregations[%d] (input_column %s): hourly windows need TEMPORAL accuracy; SNAPSHOT accuracy and backfill_start_date work in whole days", i, *agg.InputColumn)
				}
			}
		}
	}
	return nil
}

func keysOf(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return sortedCopy(out)
}

// AggregationOutputColumns names an aggregation's output columns (spec §2.1): for each bucket, for
// each window: <input>_<op>[_<window>][_by_<bucket>].
func AggregationOutputColumns(agg *api.Aggregation) []string {
	op := api.Operation_LAST
	if agg.Operation != nil {
		op = *agg.Operation
	}
	opStr := strings.ToLower(op.String())
	switch op {
	case api.Operation_LAST_K, api.Operation_FIRST_K, api.Operation_TOP_K, api.Operation_BOTTOM_K:
		opStr = opStr[:len(opStr)-2] + agg.ArgMap["k"]
	}
	input := ""
	if agg.InputColumn != nil {
		input = *agg.InputColumn
	}
	base := input + "_" + opStr
	windowed := []string{base}
	if len(agg.Windows) > 0 {
		windowed = windowed[:0]
		for _, w := range agg.Windows {
			unit := "d"
			if w.TimeUnit == api.TimeUnit_HOURS {
				unit = "h"
			}
			windowed = append(windowed, fmt.Sprintf("%s_%d%s", base, w.Length, unit))
		}
	}
	if len(agg.Buckets) == 0 {
		return windowed
	}
	var out []string
	for _, b := range agg.Buckets {
		for _, n := range windowed {
			out = append(out, n+"_by_"+b)
		}
	}
	return out
}

func defaultAggregationFn(thread *starlark.Thread, b *starlark.Builtin, a starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	args, err := bind("DefaultAggregation", []param{{"keys", false}, {"sources", false}, {"operation", true}, {"tags", true}}, a, kwargs, false)
	if err != nil {
		return nil, err
	}
	keys, err := args.strings("keys")
	if err != nil {
		return nil, err
	}
	srcs, err := args.list("sources", true)
	if err != nil {
		return nil, err
	}
	order := state(thread).order
	var out []starlark.Value
	for i, v := range srcs {
		src, err := normalizeSource(v, fmt.Sprintf("DefaultAggregation: sources[%d]", i))
		if err != nil {
			return nil, err
		}
		q := sourceQuery(src)
		if q == nil || q.Selects == nil {
			return nil, fmt.Errorf("DefaultAggregation: sources[%d] needs a query with selects", i)
		}
		skip := map[string]bool{"ts": true, "is_before": true, "mutation_ts": true, "ds": true}
		for _, k := range keys {
			skip[k] = true
		}
		if q.TimeColumn != nil {
			skip[*q.TimeColumn] = true
		}
		for _, c := range order.Keys(q.Selects) {
			if skip[c] {
				continue
			}
			kw := []starlark.Tuple{{starlark.String("input_column"), starlark.String(c)}, {starlark.String("operation"), args.get("operation")}, {starlark.String("tags"), args.get("tags")}}
			agg, err := aggregationFn(thread, b, nil, kw)
			if err != nil {
				return nil, err
			}
			out = append(out, agg)
		}
	}
	return starlark.NewList(out), nil
}
