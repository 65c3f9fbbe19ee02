package online

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/chronon-go/chronon/runtime/expr"
	"github.com/chronon-go/chronon/runtime/types"
)

// EncodeJSON renders row in Avro's JSON encoding as Chronon's AvroCodec.encodeJson writes it for the
// upload table's key_json/value_json columns (Avro Java's JsonEncoder over Jackson, no whitespace):
// records as objects in field order; a non-null value in a ["null", T] union wrapped as {"<branch>": v}
// where the branch is the type name ("string", "long", "int" also for short/byte, "array", "map") or
// a record's full name ("ai.chronon.data.XStruct"); null as null; float and double as Java's
// Float/Double.toString (NaN and infinities quoted, Jackson's default); bytes as a string of the
// ISO-8859-1 characters of the bytes. It accepts exactly what Encode accepts.
func (s *AvroSchema) EncodeJSON(row []any) (string, error) {
	if _, err := s.Encode(row); err != nil { // same validation and error messages as the binary form
		return "", err
	}
	var sb strings.Builder
	jsonRecord(&sb, s.root, row)
	return sb.String(), nil
}

func jsonRecord(sb *strings.Builder, n *avroNode, row []any) {
	sb.WriteByte('{')
	for i, f := range n.fields {
		if i > 0 {
			sb.WriteByte(',')
		}
		writeJSONString(sb, f.name)
		sb.WriteByte(':')
		jsonValue(sb, f.node, row[i])
	}
	sb.WriteByte('}')
}

func branchName(n *avroNode) string {
	switch n.kind {
	case types.Boolean:
		return "boolean"
	case types.Byte, types.Short, types.Int:
		return "int"
	case types.Long:
		return "long"
	case types.Float:
		return "float"
	case types.Double:
		return "double"
	case types.String:
		return "string"
	case types.Binary:
		return "bytes"
	case types.List:
		return "array"
	case types.Map:
		return "map"
	}
	return AvroNamespace + "." + n.name
}

func jsonValue(sb *strings.Builder, n *avroNode, v any) {
	if v == nil {
		sb.WriteString("null")
		return
	}
	if n.nullable {
		sb.WriteByte('{')
		writeJSONString(sb, branchName(n))
		sb.WriteByte(':')
		defer sb.WriteByte('}')
	}
	switch n.kind {
	case types.Boolean:
		sb.WriteString(strconv.FormatBool(v.(bool)))
	case types.Byte, types.Short, types.Int, types.Long:
		sb.WriteString(strconv.FormatInt(v.(int64), 10))
	case types.Float, types.Double:
		var f float64
		switch x := v.(type) {
		case float64:
			f = x
		case int64:
			f = float64(x)
		}
		var s string
		if n.kind == types.Float {
			s = JavaFloatString(float32(f))
		} else {
			s = JavaDoubleString(f)
		}
		if math.IsNaN(f) || math.IsInf(f, 0) {
			writeJSONString(sb, s)
		} else {
			sb.WriteString(s)
		}
	case types.String:
		writeJSONString(sb, v.(string))
	case types.Binary:
		b := v.([]byte)
		rs := make([]rune, len(b))
		for i, c := range b {
			rs[i] = rune(c)
		}
		writeJSONString(sb, string(rs))
	case types.List:
		sb.WriteByte('[')
		for i, e := range v.([]any) {
			if i > 0 {
				sb.WriteByte(',')
			}
			jsonValue(sb, n.items, e)
		}
		sb.WriteByte(']')
	case types.Map:
		m := v.(*types.MapValue)
		sb.WriteByte('{')
		for i, k := range m.Keys {
			if i > 0 {
				sb.WriteByte(',')
			}
			writeJSONString(sb, k.(string))
			sb.WriteByte(':')
			jsonValue(sb, n.items, m.Values[i])
		}
		sb.WriteByte('}')
	case types.Struct:
		switch x := v.(type) {
		case types.StructValue:
			jsonRecord(sb, n, x)
		case []any:
			jsonRecord(sb, n, x)
		}
	default:
		panic(fmt.Sprintf("online: unexpected kind %d", n.kind))
	}
}

// JavaFloatString formats f as Java's Float.toString does (shortest digits that round-trip as a
// float32): "1.5", "1.0E10".
func JavaFloatString(f float32) string {
	return expr.FormatJavaDouble(float64(f), 32)
}
