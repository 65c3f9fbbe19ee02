// Package starlark_api is the definition language: Chronon's Python API (ai.chronon.group_by,
// ai.chronon.join, ai.chronon.query, ai.chronon.api.ttypes, ...) as Starlark builtins that build the
// Thrift structs of package api, with Chronon's defaults and definition-time validations (spec §1.4).
// Definition files load these modules by their Python names, so migrating a Python definition is a
// rewrite of its imports into load() statements.
package starlark_api

import (
	"fmt"
	"reflect"

	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"

	"github.com/chronon-go/chronon/thrift/api"
)

// predeclared names are available in every file without load (Starlark's universe is always there).
var predeclared = starlark.StringDict{}

func reflectPtr(p any) reflect.Value { return reflect.ValueOf(p) }

// ttypes lists the generic constructors of ai.chronon.api.ttypes: positional arguments in field-id
// order, keyword arguments by field name, as Python's generated classes.
var ttypes = map[string]func() any{
	"Query":                       func() any { return &api.Query{} },
	"StagingQuery":                func() any { return &api.StagingQuery{} },
	"EventSource":                 func() any { return &api.EventSource{} },
	"EntitySource":                func() any { return &api.EntitySource{} },
	"ExternalSourceFactoryConfig": func() any { return &api.ExternalSourceFactoryConfig{} },
	"ExternalSource":              func() any { return &api.ExternalSource{} },
	"JoinSource":                  func() any { return &api.JoinSource{} },
	"Source":                      func() any { return &api.Source{} },
	"Window":                      func() any { return &api.Window{} },
	"Aggregation":                 func() any { return &api.Aggregation{} },
	"AggregationPart":             func() any { return &api.AggregationPart{} },
	"MetaData":                    func() any { return &api.MetaData{} },
	"GroupBy":                     func() any { return &api.GroupBy{} },
	"JoinPart":                    func() any { return &api.JoinPart{} },
	"ExternalPart":                func() any { return &api.ExternalPart{} },
	"Derivation":                  func() any { return &api.Derivation{} },
	"Join":                        func() any { return &api.Join{} },
	"BootstrapPart":               func() any { return &api.BootstrapPart{} },
	"LabelPart":                   func() any { return &api.LabelPart{} },
	"GroupByServingInfo":          func() any { return &api.GroupByServingInfo{} },
	"DataField":                   func() any { return &api.DataField{} },
	"TDataType":                   func() any { return &api.TDataType{} },
	"InferenceSpec":               func() any { return &api.InferenceSpec{} },
	"Model":                       func() any { return &api.Model{} },
	"ModelTransform":              func() any { return &api.ModelTransform{} },
	"ModelTransforms":             func() any { return &api.ModelTransforms{} },
}

func ttypesModule() starlark.StringDict {
	d := starlark.StringDict{
		"Operation": operationModule,
		"TimeUnit":  timeUnitModule,
		"Accuracy":  accuracyModule,
		"DataKind":  dataKindModule,
	}
	for name, fn := range ttypes {
		d[name] = thriftConstructor(name, fn)
	}
	// Chronon's Query constructor always sets setups=[]; so does ours when built through ttypes.
	d["Query"] = starlark.NewBuiltin("Query", queryFn)
	return d
}

var dataKindModule = func() *starlarkstruct.Module {
	m := map[string]int64{}
	for k := api.DataKind_BOOLEAN; k <= api.DataKind_STRUCT; k++ {
		m[k.String()] = int64(k)
	}
	return enumModule("DataKind", m)
}()

var apiModules = func() map[string]starlark.StringDict {
	tt := ttypesModule()
	groupBy := starlark.StringDict{
		"GroupBy":            starlark.NewBuiltin("GroupBy", groupByFn),
		"Aggregation":        starlark.NewBuiltin("Aggregation", aggregationFn),
		"Operation":          operationModule,
		"Window":             starlark.NewBuiltin("Window", windowFn),
		"TimeUnit":           timeUnitModule,
		"Accuracy":           accuracyModule,
		"Derivation":         starlark.NewBuiltin("Derivation", derivationFn),
		"DefaultAggregation": starlark.NewBuiltin("DefaultAggregation", defaultAggregationFn),
	}
	join := starlark.StringDict{
		"Join":             starlark.NewBuiltin("Join", joinFn),
		"JoinPart":         starlark.NewBuiltin("JoinPart", joinPartFn),
		"BootstrapPart":    starlark.NewBuiltin("BootstrapPart", bootstrapPartFn),
		"LabelPart":        starlark.NewBuiltin("LabelPart", labelPartFn),
		"ExternalSource":   starlark.NewBuiltin("ExternalSource", externalSourceFn),
		"ExternalPart":     starlark.NewBuiltin("ExternalPart", externalPartFn),
		"ContextualSource": starlark.NewBuiltin("ContextualSource", contextualSourceFn),
		"DataType":         dataTypeModule,
		"Derivation":       starlark.NewBuiltin("Derivation", derivationFn),
	}
	query := starlark.StringDict{
		"Query":  starlark.NewBuiltin("Query", queryFn),
		"select": starlark.NewBuiltin("select", selectFn),
	}
	return map[string]starlark.StringDict{
		"ai.chronon.api.ttypes": tt,
		"ai.chronon.api":        {"ttypes": moduleValue("ttypes", tt)},
		"ai.chronon.group_by":   groupBy,
		"ai.chronon.join":       join,
		"ai.chronon.query":      query,
		"ai.chronon.utils":      utilsModule(),
	}
}()

// APIModules lists the loadable Chronon modules and their members (for docs and tests).
func APIModules() map[string][]string {
	out := map[string][]string{}
	for name, d := range apiModules {
		out[name] = sortedNames(d)
	}
	return out
}

func utilsModule() starlark.StringDict {
	tableName := func(fnName string, pick func(v any) *api.MetaData) *starlark.Builtin {
		return starlark.NewBuiltin(fnName, func(thread *starlark.Thread, b *starlark.Builtin, a starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			args, err := bind(fnName, []param{{"obj", false}, {"full_name", true}}, a, kwargs, false)
			if err != nil {
				return nil, err
			}
			o, ok := args.get("obj").(*Object)
			var md *api.MetaData
			if ok {
				md = pick(o.Go())
			}
			if md == nil {
				return nil, fmt.Errorf("%s: got %s, want a named conf object", fnName, describe(args.get("obj")))
			}
			if md.Name == nil {
				return nil, fmt.Errorf("%s: the object defined at %s has no name yet: it must be defined in its own repository file and loaded", fnName, o.Pos())
			}
			full, err := args.boolean("full_name")
			if err != nil {
				return nil, err
			}
			if j, isJoin := o.Go().(*api.Join); isJoin {
				t, err := joinOutputTable(thread, j)
				if err != nil {
					return nil, err
				}
				if full != nil && *full {
					return starlark.String(t), nil
				}
				return starlark.String(Sanitize(*md.Name)), nil
			}
			name := Sanitize(*md.Name)
			if full != nil && *full {
				ns := "{{ db }}"
				if md.OutputNamespace != nil && *md.OutputNamespace != "" {
					ns = *md.OutputNamespace
				}
				name = ns + "." + name
			}
			return starlark.String(name), nil
		})
	}
	return starlark.StringDict{
		"sanitize": starlark.NewBuiltin("sanitize", func(thread *starlark.Thread, b *starlark.Builtin, a starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			var s string
			if err := starlark.UnpackPositionalArgs("sanitize", a, kwargs, 1, &s); err != nil {
				return nil, err
			}
			return starlark.String(Sanitize(s)), nil
		}),
		"get_join_output_table_name": tableName("get_join_output_table_name", func(v any) *api.MetaData {
			if j, ok := v.(*api.Join); ok {
				return j.MetaData
			}
			return nil
		}),
		"get_staging_query_output_table_name": tableName("get_staging_query_output_table_name", func(v any) *api.MetaData {
			if s, ok := v.(*api.StagingQuery); ok {
				return s.MetaData
			}
			return nil
		}),
		"group_by_output_table_name": tableName("group_by_output_table_name", func(v any) *api.MetaData {
			if g, ok := v.(*api.GroupBy); ok {
				return g.MetaData
			}
			return nil
		}),
	}
}

func moduleValue(name string, members starlark.StringDict) *starlarkstruct.Module {
	return &starlarkstruct.Module{Name: name, Members: members}
}
