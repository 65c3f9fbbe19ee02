package warehouse

import (
	"fmt"
	"reflect"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/deprecated"
	"github.com/parquet-go/parquet-go/format"

	"github.com/chronon-go/chronon/runtime/types"
)

// orderedGroup is a parquet group that keeps its fields in the given order. parquet.Group sorts fields
// by name, which would reorder table columns; Chronon tables keep the order their writer chose.
type orderedGroup struct {
	parquet.Group
	fields []parquet.Field
}

func (g *orderedGroup) Fields() []parquet.Field { return g.fields }

type namedField struct {
	parquet.Node
	name string
}

func (f *namedField) Name() string { return f.name }

// Value is only used by parquet-go's reflection paths, which this package never takes.
func (f *namedField) Value(reflect.Value) reflect.Value { return reflect.Value{} }

func newOrderedGroup(names []string, nodes []parquet.Node) *orderedGroup {
	g := &orderedGroup{Group: parquet.Group{}}
	for i, n := range names {
		g.Group[n] = nodes[i]
		g.fields = append(g.fields, &namedField{Node: nodes[i], name: n})
	}
	return g
}

// parquetSchema maps a table's data columns to a Parquet schema; every column and element is optional
// (Spark writes nullable columns the same way).
func parquetSchema(s types.Schema) (*parquet.Schema, error) {
	names := make([]string, len(s))
	nodes := make([]parquet.Node, len(s))
	for i, f := range s {
		n, err := parquetNode(f.Type)
		if err != nil {
			return nil, fmt.Errorf("column %s: %w", f.Name, err)
		}
		names[i], nodes[i] = f.Name, parquet.Optional(n)
	}
	return parquet.NewSchema("spark_schema", newOrderedGroup(names, nodes)), nil
}

func parquetNode(t *types.Type) (parquet.Node, error) {
	switch t.Kind {
	case types.Boolean:
		return parquet.Leaf(parquet.BooleanType), nil
	case types.Byte:
		return parquet.Int(8), nil
	case types.Short:
		return parquet.Int(16), nil
	case types.Int:
		return parquet.Leaf(parquet.Int32Type), nil
	case types.Long:
		return parquet.Leaf(parquet.Int64Type), nil
	case types.Float:
		return parquet.Leaf(parquet.FloatType), nil
	case types.Double:
		return parquet.Leaf(parquet.DoubleType), nil
	case types.String:
		return parquet.String(), nil
	case types.Binary:
		return parquet.Leaf(parquet.ByteArrayType), nil
	case types.Date:
		return parquet.Date(), nil
	case types.Timestamp:
		return parquet.TimestampAdjusted(parquet.Microsecond, true), nil
	case types.List:
		e, err := parquetNode(t.Elem)
		if err != nil {
			return nil, err
		}
		return parquet.List(parquet.Optional(e)), nil
	case types.Map:
		k, err := parquetNode(t.Key)
		if err != nil {
			return nil, err
		}
		v, err := parquetNode(t.Value)
		if err != nil {
			return nil, err
		}
		return parquet.Map(k, parquet.Optional(v)), nil
	case types.Struct:
		names := make([]string, len(t.Fields))
		nodes := make([]parquet.Node, len(t.Fields))
		for i, f := range t.Fields {
			n, err := parquetNode(f.Type)
			if err != nil {
				return nil, fmt.Errorf("field %s: %w", f.Name, err)
			}
			names[i], nodes[i] = f.Name, parquet.Optional(n)
		}
		return newOrderedGroup(names, nodes), nil
	}
	return nil, fmt.Errorf("type %s cannot be stored in Parquet", t)
}

// chrononType maps a Parquet node (from any writer: ours, Spark, DuckDB, pandas) to a data type.
func chrononType(n parquet.Node) (*types.Type, error) {
	if n.Leaf() {
		return leafType(n.Type())
	}
	if lt := n.Type().LogicalType(); lt != nil {
		switch lt.Value.(type) {
		case *format.ListType:
			elem, err := listElement(n)
			if err != nil {
				return nil, err
			}
			et, err := chrononType(elem)
			if err != nil {
				return nil, err
			}
			return types.ListOf(et), nil
		case *format.MapType:
			kv := n.Fields()
			if len(kv) != 1 || len(kv[0].Fields()) != 2 {
				return nil, fmt.Errorf("malformed MAP group")
			}
			kt, err := chrononType(kv[0].Fields()[0])
			if err != nil {
				return nil, err
			}
			vt, err := chrononType(kv[0].Fields()[1])
			if err != nil {
				return nil, err
			}
			return types.MapOf(kt, vt), nil
		}
	}
	var fs []types.Field
	for _, f := range n.Fields() {
		ft, err := chrononType(f)
		if err != nil {
			return nil, fmt.Errorf("field %s: %w", f.Name(), err)
		}
		if f.Repeated() { // a bare repeated field is a list (legacy two-level encoding)
			ft = types.ListOf(ft)
		}
		fs = append(fs, types.Field{Name: f.Name(), Type: ft})
	}
	return types.StructOf("", fs...), nil
}

// listElement returns the element node of a LIST group: the three-level form's inner field, or the
// repeated node itself in the legacy two-level forms.
func listElement(n parquet.Node) (parquet.Node, error) {
	fs := n.Fields()
	if len(fs) != 1 || !fs[0].Repeated() {
		return nil, fmt.Errorf("malformed LIST group")
	}
	rep := fs[0]
	if rep.Leaf() || len(rep.Fields()) != 1 || rep.Name() == "array" {
		return required(rep), nil
	}
	return rep.Fields()[0], nil
}

// required strips the repetition of a node whose repetition belongs to its parent list.
func required(n parquet.Node) parquet.Node { return parquet.Required(n) }

func leafType(t parquet.Type) (*types.Type, error) {
	if lt := t.LogicalType(); lt != nil {
		switch v := lt.Value.(type) {
		case *format.StringType, *format.EnumType, *format.JsonType:
			return types.StringType, nil
		case *format.DateType:
			return types.DateType, nil
		case *format.TimestampType:
			return types.TimestampType, nil
		case *format.IntType:
			switch {
			case v.BitWidth <= 8:
				return types.ByteType, nil
			case v.BitWidth <= 16:
				return types.ShortType, nil
			case v.BitWidth <= 32 && v.IsSigned:
				return types.IntType, nil
			}
			return types.LongType, nil
		case *format.DecimalType:
			return types.DoubleType, nil
		}
	}
	if ct := t.ConvertedType(); ct != nil && *ct == deprecated.UTF8 {
		return types.StringType, nil
	}
	switch t.Kind() {
	case parquet.Boolean:
		return types.BooleanType, nil
	case parquet.Int32:
		return types.IntType, nil
	case parquet.Int64:
		return types.LongType, nil
	case parquet.Int96:
		return types.TimestampType, nil
	case parquet.Float:
		return types.FloatType, nil
	case parquet.Double:
		return types.DoubleType, nil
	case parquet.ByteArray, parquet.FixedLenByteArray:
		return types.BinaryType, nil
	}
	return nil, fmt.Errorf("unsupported Parquet type %s", t)
}
