package starlark_api

import (
	"fmt"
	"sort"
	"strings"

	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"

	"github.com/chronon-go/chronon/thrift/api"
	"github.com/chronon-go/chronon/thrift/conf"
)

// The ai.chronon.join module (spec §1.4).

func joinPartFn(thread *starlark.Thread, b *starlark.Builtin, a starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	args, err := bind("JoinPart", []param{{"group_by", false}, {"key_mapping", true}, {"prefix", true}, {"tags", true}}, a, kwargs, false)
	if err != nil {
		return nil, err
	}
	gb, gbo, err := asObject[api.GroupBy](args.get("group_by"), "JoinPart", "group_by", false)
	if err != nil {
		return nil, err
	}
	if gb.MetaData == nil || gb.MetaData.Name == nil || *gb.MetaData.Name == "" {
		if strings.HasPrefix(gbo.Module(), "group_bys.") && gbo.Module() == state(thread).currentModule() {
			return nil, fmt.Errorf("JoinPart: the GroupBy defined at %s has no name yet: load it from its group_bys file in a joins file instead", gbo.Pos())
		}
		return nil, fmt.Errorf("JoinPart: the GroupBy defined at %s has no name: define it in a group_bys/ file and load it, or pass GroupBy(name=\"team.name\")", gbo.Pos())
	}
	jp := &api.JoinPart{GroupBy: gb}
	o := newObject(thread, jp)
	if err := setMap(args, "key_mapping", &jp.KeyMapping, o.order); err != nil {
		return nil, err
	}
	for _, left := range o.order.Keys(jp.KeyMapping) {
		right := jp.KeyMapping[left]
		if !contains(gb.KeyColumns, right) {
			return nil, fmt.Errorf("JoinPart: key_mapping maps %s to %q, which is not a key of GroupBy %s%s; its keys are %v (key_mapping goes left column → GroupBy key)",
				left, right, *gb.MetaData.Name, didYouMean(right, gb.KeyColumns), gb.KeyColumns)
		}
	}
	if jp.Prefix, err = args.str("prefix"); err != nil {
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

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

var joinParams = []param{
	{"left", false}, {"right_parts", false}, {"check_consistency", true}, {"additional_args", true},
	{"additional_env", true}, {"dependencies", true}, {"online", true}, {"production", true},
	{"output_namespace", true}, {"table_properties", true}, {"env", true}, {"lag", true}, {"skew_keys", true},
	{"sample_percent", true}, {"consistency_sample_percent", true}, {"online_external_parts", true},
	{"offline_schedule", true}, {"historical_backfill", true}, {"row_ids", true}, {"bootstrap_parts", true},
	{"bootstrap_from_log", true}, {"label_part", true}, {"derivations", true}, {"deprecation_date", true},
	{"tags", true}, {"description", true}, {"model_transforms", true},
}

func joinFn(thread *starlark.Thread, b *starlark.Builtin, a starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	args, err := bind("Join", joinParams, a, kwargs, true)
	if err != nil {
		return nil, err
	}
	j := &api.Join{}
	o := newObject(thread, j)
	order := o.order

	left, err := normalizeSource(args.get("left"), "Join: left")
	if err != nil {
		return nil, err
	}
	if left.Events != nil && left.Events.IsCumulative != nil && *left.Events.IsCumulative {
		return nil, fmt.Errorf("Join: a cumulative EventSource (isCumulative=True) cannot be the left side; use an EntitySource or a plain EventSource")
	}
	if left.JoinSource != nil {
		return nil, fmt.Errorf("Join: a JoinSource cannot be the left side; read the parent join's output table with an EventSource or EntitySource")
	}
	updated := conf.Clone(left, order)
	if q := sourceQuery(updated); updated.Events != nil && q != nil && len(q.Selects) > 0 {
		if _, ok := q.Selects["ts"]; ok {
			return nil, fmt.Errorf("Join: 'ts' is reserved in the left selects: give the time expression as time_column")
		}
		if q.TimeColumn == nil {
			return nil, fmt.Errorf("Join: the left EventSource needs query time_column (the time each training row is computed as of)")
		}
		q.Selects["ts"] = *q.TimeColumn
		order.Append(q.Selects, "ts")
	}
	j.Left = updated

	partVals, err := args.list("right_parts", false)
	if err != nil {
		return nil, err
	}
	var partObjs []*Object
	j.JoinParts = []*api.JoinPart{}
	for i, v := range partVals {
		jp, po, err := asObject[api.JoinPart](v, "Join", fmt.Sprintf("right_parts[%d]", i), false)
		if err != nil {
			return nil, err
		}
		j.JoinParts = append(j.JoinParts, jp)
		partObjs = append(partObjs, po)
	}
	if err := checkLeftProvidesKeys(j, order); err != nil {
		return nil, fmt.Errorf("Join: %v", err)
	}

	deps, err := args.strings("dependencies")
	if err != nil {
		return nil, err
	}
	lag, err := args.integer("lag", 0)
	if err != nil {
		return nil, err
	}
	leftDeps, err := sourceDependencies(thread, left, deps, nil, lag)
	if err != nil {
		return nil, fmt.Errorf("Join: %v", err)
	}
	var rightDeps []string
	for _, jp := range j.JoinParts {
		for _, src := range jp.GroupBy.Sources {
			ds, err := sourceDependencies(thread, src, deps, jp.GroupBy.MetaData, lag)
			if err != nil {
				return nil, fmt.Errorf("Join: %v", err)
			}
			rightDeps = append(rightDeps, ds...)
		}
	}

	if lpv := args.get("label_part"); lpv != starlark.None {
		lp, _, err := asObject[api.LabelPart](lpv, "Join", "label_part", false)
		if err != nil {
			return nil, err
		}
		labelDeps, err := labelDependencies(thread, lp)
		if err != nil {
			return nil, fmt.Errorf("Join: %v", err)
		}
		var sched *string
		if lp.MetaData != nil {
			sched = lp.MetaData.OfflineSchedule
		}
		j.LabelPart = &api.LabelPart{Labels: lp.Labels, LeftStartOffset: lp.LeftStartOffset, LeftEndOffset: lp.LeftEndOffset,
			MetaData: &api.MetaData{Dependencies: dedupe(append(append([]string{}, leftDeps...), labelDeps...)), OfflineSchedule: sched}}
	}

	checkConsistency, err := args.boolean("check_consistency")
	if err != nil {
		return nil, err
	}
	cj := newJSONObject()
	cj.set("check_consistency", checkConsistency != nil && *checkConsistency)
	if checkConsistency == nil {
		cj.set("check_consistency", false)
	}
	cj.set("lag", lag)
	for _, name := range []string{"additional_args", "additional_env"} {
		v := args.get(name)
		if v != starlark.None && bool(v.Truth()) {
			jv, err := starlarkToJSON(v)
			if err != nil {
				return nil, fmt.Errorf("Join: %s: %v", name, err)
			}
			cj.set(name, jv)
		}
	}
	for _, kv := range args.extra {
		v, err := starlarkToJSON(kv[1])
		if err != nil {
			return nil, fmt.Errorf("Join: argument %s: %v", kv[0], err)
		}
		cj.set(string(kv[0].(starlark.String)), v)
	}
	tags, err := starlarkToJSON(args.get("tags"))
	if err != nil {
		return nil, fmt.Errorf("Join: tags: %v", err)
	}
	cj.set("join_tags", tags)
	partTags := newJSONObject()
	for i, po := range partObjs {
		jp := j.JoinParts[i]
		if t, ok := po.Extra("tags").(*starlark.Dict); ok && t.Len() > 0 {
			tv, err := starlarkToJSON(t)
			if err != nil {
				return nil, fmt.Errorf("Join: right_parts[%d].tags: %v", i, err)
			}
			name := *jp.GroupBy.MetaData.Name
			if jp.Prefix != nil && *jp.Prefix != "" {
				name = *jp.Prefix + "_" + name
			}
			partTags.set(name, tv)
		}
		if err := ValidateGroupBy(jp.GroupBy); err != nil {
			return nil, fmt.Errorf("Join: right_parts[%d] (GroupBy %s): %v", i, *jp.GroupBy.MetaData.Name, err)
		}
	}
	cj.set("join_part_tags", partTags)

	md := &api.MetaData{}
	j.MetaData = md
	if md.CustomJson, err = pyJSONPtr(cj); err != nil {
		return nil, fmt.Errorf("Join: %v", err)
	}
	online, err := args.boolean("online")
	if err != nil {
		return nil, err
	}
	if _, given := args.values["online"]; !given {
		f := false
		online = &f
	}
	md.Online = online
	production, err := args.boolean("production")
	if err != nil {
		return nil, err
	}
	if _, given := args.values["production"]; !given {
		f := false
		production = &f
	}
	md.Production = production

	if err := setObjects(args, "online_external_parts", &j.OnlineExternalParts); err != nil {
		return nil, err
	}
	seen := map[string]int{}
	var dups []string
	for _, p := range j.OnlineExternalParts {
		key := fmt.Sprintf("(%s, %s)", strOr(p.Prefix, "None"), p.Source.Metadata.GetName())
		seen[key]++
		if seen[key] == 2 {
			dups = append(dups, key)
		}
	}
	if len(dups) > 0 {
		return nil, fmt.Errorf("Join: online_external_parts has duplicate (prefix, source name) pairs %v: give each a distinct prefix", dups)
	}

	samplePercent, err := args.number("sample_percent")
	if err != nil {
		return nil, err
	}
	if err := setObjects(args, "bootstrap_parts", &j.BootstrapParts); err != nil {
		return nil, err
	}
	fromLog, err := args.boolean("bootstrap_from_log")
	if err != nil {
		return nil, err
	}
	if fromLog != nil && *fromLog {
		if samplePercent == nil || *samplePercent <= 0 || !*online {
			return nil, fmt.Errorf("Join: bootstrap_from_log=True needs online=True and sample_percent > 0 (the log is only written for sampled online fetches)")
		}
		tbl := "{{ logged_table }}"
		j.BootstrapParts = append(j.BootstrapParts, &api.BootstrapPart{Table: &tbl})
	}
	var bootDeps []string
	if deps == nil {
		for _, bp := range j.BootstrapParts {
			var start, end *string
			if bp.Query != nil {
				start, end = bp.Query.StartPartition, bp.Query.EndPartition
			}
			if w := waitForSimpleSchema(deref(bp.Table), 0, start, end, bp.Query); w != nil {
				s, err := pyJSON(w)
				if err != nil {
					return nil, err
				}
				bootDeps = append(bootDeps, s)
			}
		}
	}
	md.Dependencies = dedupe(append(append(append([]string{}, leftDeps...), rightDeps...), bootDeps...))
	if md.OutputNamespace, err = args.str("output_namespace"); err != nil {
		return nil, err
	}
	if err := setMap(args, "table_properties", &md.TableProperties, order); err != nil {
		return nil, err
	}
	if err := setMap(args, "env", &md.ModeToEnvMap, order); err != nil {
		return nil, err
	}
	md.SamplePercent = samplePercent
	sched := "@daily"
	if s, err := args.str("offline_schedule"); err != nil {
		return nil, err
	} else if s != nil {
		sched = *s
	}
	md.OfflineSchedule = &sched
	if checkConsistency != nil && *checkConsistency {
		csp := 5.0
		if p, err := args.number("consistency_sample_percent"); err != nil {
			return nil, err
		} else if p != nil {
			csp = *p
		}
		md.ConsistencySamplePercent = &csp
	}
	if md.HistoricalBackfill, err = args.boolean("historical_backfill"); err != nil {
		return nil, err
	}
	if md.DeprecationDate, err = args.str("deprecation_date"); err != nil {
		return nil, err
	}
	if md.Description, err = args.str("description"); err != nil {
		return nil, err
	}
	if err := setMap(args, "skew_keys", &j.SkewKeys, order); err != nil {
		return nil, err
	}
	if j.RowIds, err = args.strings("row_ids"); err != nil {
		return nil, err
	}
	if err := setObjects(args, "derivations", &j.Derivations); err != nil {
		return nil, err
	}
	if mt := args.get("model_transforms"); mt != starlark.None {
		p, _, err := asObject[api.ModelTransforms](mt, "Join", "model_transforms", false)
		if err != nil {
			return nil, err
		}
		j.ModelTransforms = p
	}
	return o, nil
}

func strOr(s *string, def string) string {
	if s == nil {
		return def
	}
	return *s
}

// checkLeftProvidesKeys: every GroupBy key, mapped to its left name, must be a left column. compile.py
// accepts such a join and the backfill fails much later; we stop at the definition (spec §14.6).
func checkLeftProvidesKeys(j *api.Join, order *conf.Order) error {
	q := sourceQuery(j.Left)
	if q == nil || q.Selects == nil {
		return nil // selects=None reads every column; the backfill checks against the table schema
	}
	for i, jp := range j.JoinParts {
		rightToLeft := map[string]string{}
		for l, r := range jp.KeyMapping {
			rightToLeft[r] = l
		}
		for _, k := range jp.GroupBy.KeyColumns {
			leftName := k
			if l, ok := rightToLeft[k]; ok {
				leftName = l
			}
			if _, ok := q.Selects[leftName]; !ok {
				return fmt.Errorf("right_parts[%d]: GroupBy %s is keyed by %s but the left side does not select %s%s; select it on the left or map it with JoinPart(key_mapping={\"<left column>\": %q})",
					i, *jp.GroupBy.MetaData.Name, k, leftName, didYouMean(leftName, order.Keys(q.Selects)), k)
			}
		}
	}
	return nil
}

func labelDependencies(thread *starlark.Thread, lp *api.LabelPart) ([]string, error) {
	var out []string
	for _, l := range lp.Labels {
		for _, src := range l.GroupBy.Sources {
			ds, err := sourceDependencies(thread, src, nil, l.GroupBy.MetaData, 0)
			if err != nil {
				return nil, err
			}
			out = append(out, ds...)
		}
	}
	o := newJSONObject()
	o.set("name", "wait_for_{{ join_backfill_table }}")
	o.set("spec", "{{ join_backfill_table }}/ds={{ ds }}")
	s, err := pyJSON(o)
	if err != nil {
		return nil, err
	}
	return append(out, s), nil
}

func bootstrapPartFn(thread *starlark.Thread, b *starlark.Builtin, a starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	args, err := bind("BootstrapPart", []param{{"table", false}, {"key_columns", true}, {"query", true}}, a, kwargs, false)
	if err != nil {
		return nil, err
	}
	bp := &api.BootstrapPart{}
	o := newObject(thread, bp)
	if bp.Table, err = args.str("table"); err != nil {
		return nil, err
	}
	if bp.KeyColumns, err = args.strings("key_columns"); err != nil {
		return nil, err
	}
	if bp.Query, _, err = asObject[api.Query](args.get("query"), "BootstrapPart", "query", true); err != nil {
		return nil, err
	}
	return o, nil
}

func labelPartFn(thread *starlark.Thread, b *starlark.Builtin, a starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	args, err := bind("LabelPart", []param{{"labels", false}, {"left_start_offset", false}, {"left_end_offset", false}, {"label_offline_schedule", true}}, a, kwargs, false)
	if err != nil {
		return nil, err
	}
	lp := &api.LabelPart{}
	o := newObject(thread, lp)
	if err := setObjects(args, "labels", &lp.Labels); err != nil {
		return nil, err
	}
	start, err := args.integer("left_start_offset", 0)
	if err != nil {
		return nil, err
	}
	end, err := args.integer("left_end_offset", 0)
	if err != nil {
		return nil, err
	}
	for _, l := range lp.Labels {
		if l.GroupBy == nil || l.GroupBy.Aggregations == nil {
			continue
		}
		if len(lp.Labels) != 1 {
			return nil, fmt.Errorf("LabelPart: only one label JoinPart is supported when labels aggregate")
		}
		aggs := l.GroupBy.Aggregations
		if len(aggs) != 1 || len(aggs[0].Windows) != 1 {
			return nil, fmt.Errorf("LabelPart: a label GroupBy may have a single aggregation with exactly one window")
		}
		w := aggs[0].Windows[0]
		if w.TimeUnit != api.TimeUnit_DAYS {
			return nil, fmt.Errorf("LabelPart: the label aggregation window must be in TimeUnit.DAYS")
		}
		if start != int64(w.Length) || end != int64(w.Length) {
			return nil, fmt.Errorf("LabelPart: left_start_offset and left_end_offset must both equal the label window length %d", w.Length)
		}
	}
	s32, e32 := int32(start), int32(end)
	lp.LeftStartOffset, lp.LeftEndOffset = &s32, &e32
	sched := "@daily"
	if s, err := args.str("label_offline_schedule"); err != nil {
		return nil, err
	} else if s != nil {
		sched = *s
	}
	lp.MetaData = &api.MetaData{OfflineSchedule: &sched}
	return o, nil
}

// dataTypeModule mirrors join.DataType: primitive TDataTypes and MAP/LIST/STRUCT builders.
var dataTypeModule = func() *starlarkstruct.Module {
	d := starlark.StringDict{}
	for _, k := range []api.DataKind{api.DataKind_BOOLEAN, api.DataKind_SHORT, api.DataKind_INT, api.DataKind_LONG,
		api.DataKind_FLOAT, api.DataKind_DOUBLE, api.DataKind_STRING, api.DataKind_BINARY} {
		k := k
		d[k.String()] = &Object{ptr: reflectPtr(&api.TDataType{Kind: k}), frozen: true}
	}
	d["MAP"] = starlark.NewBuiltin("DataType.MAP", func(thread *starlark.Thread, b *starlark.Builtin, a starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		args, err := bind("DataType.MAP", []param{{"key_type", false}, {"value_type", false}}, a, kwargs, false)
		if err != nil {
			return nil, err
		}
		kt, _, err := asObject[api.TDataType](args.get("key_type"), "DataType.MAP", "key_type", false)
		if err != nil {
			return nil, err
		}
		if kt.Kind != api.DataKind_STRING || kt.Params != nil {
			return nil, fmt.Errorf("DataType.MAP: key_type must be DataType.STRING")
		}
		vt, _, err := asObject[api.TDataType](args.get("value_type"), "DataType.MAP", "value_type", false)
		if err != nil {
			return nil, err
		}
		kn, vn := "key", "value"
		return newObject(thread, &api.TDataType{Kind: api.DataKind_MAP, Params: []*api.DataField{{Name: &kn, DataType: kt}, {Name: &vn, DataType: vt}}}), nil
	})
	d["LIST"] = starlark.NewBuiltin("DataType.LIST", func(thread *starlark.Thread, b *starlark.Builtin, a starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		args, err := bind("DataType.LIST", []param{{"elem_type", false}}, a, kwargs, false)
		if err != nil {
			return nil, err
		}
		et, _, err := asObject[api.TDataType](args.get("elem_type"), "DataType.LIST", "elem_type", false)
		if err != nil {
			return nil, err
		}
		en := "elem"
		return newObject(thread, &api.TDataType{Kind: api.DataKind_LIST, Params: []*api.DataField{{Name: &en, DataType: et}}}), nil
	})
	d["STRUCT"] = starlark.NewBuiltin("DataType.STRUCT", func(thread *starlark.Thread, b *starlark.Builtin, a starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		if len(a) < 1 || len(kwargs) > 0 {
			return nil, fmt.Errorf("DataType.STRUCT: want STRUCT(name, (field_name, DataType), ...)")
		}
		name, ok := a[0].(starlark.String)
		if !ok {
			return nil, fmt.Errorf("DataType.STRUCT: name: got %s, want string", describe(a[0]))
		}
		t, err := structType(string(name), a[1:], "DataType.STRUCT")
		if err != nil {
			return nil, err
		}
		return newObject(thread, t), nil
	})
	return &starlarkstruct.Module{Name: "DataType", Members: d}
}()

// structType builds a STRUCT TDataType from (name, TDataType) pairs.
func structType(name string, fields []starlark.Value, fn string) (*api.TDataType, error) {
	t := &api.TDataType{Kind: api.DataKind_STRUCT, Name: &name, Params: []*api.DataField{}}
	for i, f := range fields {
		pair, ok := f.(starlark.Indexable)
		if !ok || pair.Len() != 2 || isString(f) {
			return nil, fmt.Errorf("%s: field %d: got %s, want a (name, DataType) pair", fn, i, describe(f))
		}
		fname, ok := pair.Index(0).(starlark.String)
		if !ok {
			return nil, fmt.Errorf("%s: field %d: the name must be a string", fn, i)
		}
		ft, _, err := asObject[api.TDataType](pair.Index(1), fn, fmt.Sprintf("field %s", fname), false)
		if err != nil {
			return nil, err
		}
		n := string(fname)
		t.Params = append(t.Params, &api.DataField{Name: &n, DataType: ft})
	}
	return t, nil
}

func fieldsArg(args *args, name string) ([]starlark.Value, error) {
	return args.list(name, false)
}

func externalSourceFn(thread *starlark.Thread, b *starlark.Builtin, a starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	args, err := bind("ExternalSource", []param{{"name", false}, {"team", false}, {"key_fields", false}, {"value_fields", false},
		{"custom_json", true}, {"factory_name", true}, {"factory_params", true}, {"offline_group_by", true}}, a, kwargs, false)
	if err != nil {
		return nil, err
	}
	es := &api.ExternalSource{}
	o := newObject(thread, es)
	name, err := args.str("name")
	if err != nil || name == nil {
		return nil, fmt.Errorf("ExternalSource: name must be a string")
	}
	if *name == "contextual" {
		return nil, fmt.Errorf("ExternalSource: the name \"contextual\" is reserved: use ContextualSource(fields)")
	}
	team, err := args.str("team")
	if err != nil {
		return nil, err
	}
	cj, err := args.str("custom_json")
	if err != nil {
		return nil, err
	}
	es.Metadata = &api.MetaData{Name: name, Team: team, CustomJson: cj}
	kf, err := fieldsArg(args, "key_fields")
	if err != nil {
		return nil, err
	}
	if es.KeySchema, err = structType("ext_"+*name+"_keys", kf, "ExternalSource: key_fields"); err != nil {
		return nil, err
	}
	vf, err := fieldsArg(args, "value_fields")
	if err != nil {
		return nil, err
	}
	if es.ValueSchema, err = structType("ext_"+*name+"_values", vf, "ExternalSource: value_fields"); err != nil {
		return nil, err
	}
	factoryName, err := args.str("factory_name")
	if err != nil {
		return nil, err
	}
	if factoryName != nil || !args.isNone("factory_params") {
		es.FactoryConfig = &api.ExternalSourceFactoryConfig{FactoryName: factoryName}
		if err := setMap(args, "factory_params", &es.FactoryConfig.FactoryParams, o.order); err != nil {
			return nil, err
		}
	}
	if es.OfflineGroupBy, _, err = asObject[api.GroupBy](args.get("offline_group_by"), "ExternalSource", "offline_group_by", true); err != nil {
		return nil, err
	}
	return o, nil
}

func contextualSourceFn(thread *starlark.Thread, b *starlark.Builtin, a starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	args, err := bind("ContextualSource", []param{{"fields", false}, {"team", true}}, a, kwargs, false)
	if err != nil {
		return nil, err
	}
	team := "default"
	if t, err := args.str("team"); err != nil {
		return nil, err
	} else if t != nil {
		team = *t
	}
	fs, err := fieldsArg(args, "fields")
	if err != nil {
		return nil, err
	}
	name := "contextual"
	es := &api.ExternalSource{Metadata: &api.MetaData{Name: &name, Team: &team}}
	if es.KeySchema, err = structType("contextual_keys", fs, "ContextualSource: fields"); err != nil {
		return nil, err
	}
	if es.ValueSchema, err = structType("contextual_values", fs, "ContextualSource: fields"); err != nil {
		return nil, err
	}
	return newObject(thread, es), nil
}

func externalPartFn(thread *starlark.Thread, b *starlark.Builtin, a starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	args, err := bind("ExternalPart", []param{{"source", false}, {"key_mapping", true}, {"prefix", true}}, a, kwargs, false)
	if err != nil {
		return nil, err
	}
	ep := &api.ExternalPart{}
	o := newObject(thread, ep)
	if ep.Source, _, err = asObject[api.ExternalSource](args.get("source"), "ExternalPart", "source", false); err != nil {
		return nil, err
	}
	if err := setMap(args, "key_mapping", &ep.KeyMapping, o.order); err != nil {
		return nil, err
	}
	if ep.Prefix, err = args.str("prefix"); err != nil {
		return nil, err
	}
	return o, nil
}

func sortedNames(d starlark.StringDict) []string {
	out := make([]string, 0, len(d))
	for k := range d {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
