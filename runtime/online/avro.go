// Package online holds the online side of Chronon: the Avro encoding of upload and fetch rows, the
// GroupByServingInfo, and (elsewhere in this package) upload, metadata upload, fetch and logging.
package online

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/hamba/avro/v2"

	"github.com/chronon-go/chronon/runtime/types"
)

// AvroNamespace is the namespace of every record Chronon writes (AvroConversions.fromChrononSchema).
const AvroNamespace = "ai.chronon.data"

// RepetitionSuffix marks a record or field name that was renamed because the name was already used
// elsewhere in the same schema (Chronon's AvroConversions.RepetitionSuffix).
const RepetitionSuffix = "_REPEATED_NAME_"

// AvroSchema is an Avro record schema built the way Chronon builds it (spec §7.2): every field is a
// nullable union ["null", T]; list items and map values are not nullable; record and field names are
// sanitized and unique across the whole schema. It renders its JSON as Avro Java does and encodes
// and decodes boxed runtime values (see avro_codec.go). An AvroSchema is immutable and safe for
// concurrent use.
type AvroSchema struct {
	root    *avroNode
	pretty  string
	compact string
}

// avroNode is one schema position. Built schemas have nullable record fields and non-nullable
// items/values; parsed schemas may differ (any position may be a ["null", T] union).
type avroNode struct {
	kind     types.Kind // Boolean, Byte, Short, Int, Long, Float, Double, String, Binary, List, Map, Struct
	nullable bool       // ["null", T]
	items    *avroNode  // List items, Map values
	name     string     // Struct: record name
	fields   []avroField
}

type avroField struct {
	name string
	node *avroNode
}

// NewAvroSchema returns the record schema named name with the given fields, as Chronon's
// AvroConversions.fromChrononSchema builds it from a StructType that came from a Spark schema
// (SparkConversions.toChrononSchema). That is the path of every schema Chronon stores (upload
// key/value, GroupByServingInfo key/selected/input), so nested struct types are named the Spark
// way from the field that holds them, whatever types.Type.Name says: field "x" of type struct →
// record "XStruct", list<struct> → "XElementStruct", map<string,struct> → "XValueStruct".
// Names are then sanitized ([^0-9a-zA-Z_] → _) and made unique across the schema, in Chronon's
// order (record name, then each field name followed by its type): a repeat gets
// "_REPEATED_NAME_<i>" with the smallest unused i.
//
// Errors: DATE and TIMESTAMP (Chronon: "Cast it to string please"), NULL, maps with non-string
// keys, and names Avro rejects after sanitizing (empty or starting with a digit).
func NewAvroSchema(name string, fields types.Schema) (*AvroSchema, error) {
	b := &schemaBuilder{names: map[string]bool{}}
	root, err := b.record(name, fields)
	if err != nil {
		return nil, err
	}
	return newAvroSchema(root)
}

func newAvroSchema(root *avroNode) (*AvroSchema, error) {
	tree := root.json(true)
	s := &AvroSchema{root: root, pretty: renderJSON(tree, true), compact: renderJSON(tree, false)}
	// Validate with a real Avro implementation: names, duplicates, structure.
	if _, err := avro.ParseWithCache(s.compact, "", &avro.SchemaCache{}); err != nil {
		return nil, fmt.Errorf("avro schema %s: %w", root.name, err)
	}
	return s, nil
}

type schemaBuilder struct {
	names map[string]bool
}

// SanitizeName replaces every character outside [0-9a-zA-Z_] by '_' (Chronon's sanitize).
func SanitizeName(name string) string {
	var sb strings.Builder
	sb.Grow(len(name))
	for _, r := range name {
		if r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' {
			sb.WriteRune(r)
		} else {
			sb.WriteByte('_')
		}
	}
	return sb.String()
}

func (b *schemaBuilder) addName(name string) string {
	clean := SanitizeName(name)
	eligible := clean
	if b.names[clean] {
		for i := 0; ; i++ {
			eligible = fmt.Sprintf("%s%s%d", clean, RepetitionSuffix, i)
			if !b.names[eligible] {
				break
			}
		}
	}
	b.names[eligible] = true
	return eligible
}

func (b *schemaBuilder) record(name string, fields types.Schema) (*avroNode, error) {
	n := &avroNode{kind: types.Struct, name: b.addName(name)}
	if err := checkAvroName(n.name, "record", name); err != nil {
		return nil, err
	}
	for _, f := range fields {
		fn := b.addName(f.Name)
		if err := checkAvroName(fn, "field", f.Name); err != nil {
			return nil, err
		}
		child, err := b.node(f.Type, f.Name)
		if err != nil {
			return nil, fmt.Errorf("field %s: %w", f.Name, err)
		}
		child.nullable = true
		n.fields = append(n.fields, avroField{name: fn, node: child})
	}
	return n, nil
}

// capitalize is Scala's StringOps.capitalize.
func capitalize(s string) string {
	r, size := utf8.DecodeRuneInString(s)
	if size == 0 {
		return s
	}
	return string(unicode.ToUpper(r)) + s[size:]
}

// node converts t held by a field (or element) called name (the Spark naming context).
func (b *schemaBuilder) node(t *types.Type, name string) (*avroNode, error) {
	if t == nil {
		return nil, fmt.Errorf("missing type")
	}
	typeName := capitalize(name)
	switch t.Kind {
	case types.Boolean, types.Byte, types.Short, types.Int, types.Long, types.Float, types.Double,
		types.String, types.Binary:
		return &avroNode{kind: t.Kind}, nil
	case types.List:
		items, err := b.node(t.Elem, typeName+"Element")
		if err != nil {
			return nil, err
		}
		return &avroNode{kind: types.List, items: items}, nil
	case types.Map:
		if t.Key == nil || t.Key.Kind != types.String {
			return nil, fmt.Errorf("cannot convert %s to avro: Avro only supports string keys for a map", t)
		}
		values, err := b.node(t.Value, typeName+"Value")
		if err != nil {
			return nil, err
		}
		return &avroNode{kind: types.Map, items: values}, nil
	case types.Struct:
		return b.record(typeName+"Struct", t.Fields)
	}
	return nil, fmt.Errorf("cannot convert chronon type %s to avro type. Cast it to string please", t)
}

func checkAvroName(clean, what, orig string) error {
	if clean == "" || clean[0] >= '0' && clean[0] <= '9' {
		return fmt.Errorf("%s name %q: Avro names must start with a letter or underscore (sanitized: %q)", what, orig, clean)
	}
	return nil
}

// Name is the record name.
func (s *AvroSchema) Name() string { return s.root.name }

// String is the schema JSON as Chronon stores it in GroupByServingInfo and the upload table: Avro
// Java's Schema.toString(true) (Jackson's default pretty printer).
func (s *AvroSchema) String() string { return s.pretty }

// Compact is the schema JSON as Avro Java's Schema.toString() writes it (the logging schemas, §8.1).
func (s *AvroSchema) Compact() string { return s.compact }

// Type is the record as a runtime struct type: record and field names as in the schema, short/byte
// from the logicalType prop, nullability dropped (Chronon's toChrononSchema).
func (s *AvroSchema) Type() *types.Type { return s.root.runtimeType(false) }

// Fields are the top-level fields as a runtime schema (names as in the schema).
func (s *AvroSchema) Fields() types.Schema { return types.Schema(s.root.runtimeType(false).Fields) }

// CleanFields are Fields with the "_REPEATED_NAME_<i>" suffixes removed from record and field names
// (toChrononSchema(cleanName = true), used for the selected schema).
func (s *AvroSchema) CleanFields() types.Schema {
	return types.Schema(s.root.runtimeType(true).Fields)
}

// CleanSuffix removes a "_REPEATED_NAME_<i>" suffix.
func CleanSuffix(name string) string {
	if i := strings.Index(name, RepetitionSuffix); i >= 0 {
		return name[:i]
	}
	return name
}

func (n *avroNode) runtimeType(clean bool) *types.Type {
	nm := func(s string) string {
		if clean {
			return CleanSuffix(s)
		}
		return s
	}
	switch n.kind {
	case types.List:
		return types.ListOf(n.items.runtimeType(clean))
	case types.Map:
		return types.MapOf(types.StringType, n.items.runtimeType(clean))
	case types.Struct:
		fs := make([]types.Field, len(n.fields))
		for i, f := range n.fields {
			fs[i] = types.Field{Name: nm(f.name), Type: f.node.runtimeType(clean)}
		}
		return types.StructOf(nm(n.name), fs...)
	}
	return &types.Type{Kind: n.kind}
}

// ---- JSON rendering (Avro Java + Jackson) ----

type jsonKV struct {
	key string
	val any // string, jsonObj, jsonArr
}
type (
	jsonObj []jsonKV
	jsonArr []any
)

// json is the Avro JSON of n; top says whether n is the outermost record (the only one that writes
// "namespace": nested records share it, and Avro Java omits an inherited namespace).
func (n *avroNode) json(top bool) any {
	var t any
	switch n.kind {
	case types.Boolean:
		t = "boolean"
	case types.Int:
		t = "int"
	case types.Byte:
		t = jsonObj{{"type", "int"}, {"logicalType", "byte"}}
	case types.Short:
		t = jsonObj{{"type", "int"}, {"logicalType", "short"}}
	case types.Long:
		t = "long"
	case types.Float:
		t = "float"
	case types.Double:
		t = "double"
	case types.String:
		t = "string"
	case types.Binary:
		t = "bytes"
	case types.List:
		t = jsonObj{{"type", "array"}, {"items", n.items.json(false)}}
	case types.Map:
		t = jsonObj{{"type", "map"}, {"values", n.items.json(false)}}
	case types.Struct:
		o := jsonObj{{"type", "record"}, {"name", n.name}}
		if top {
			o = append(o, jsonKV{"namespace", AvroNamespace})
		}
		o = append(o, jsonKV{"doc", ""})
		fs := jsonArr{}
		for _, f := range n.fields {
			fs = append(fs, jsonObj{{"name", f.name}, {"type", f.node.json(false)}, {"doc", ""}})
		}
		t = append(o, jsonKV{"fields", fs})
	}
	if n.nullable {
		return jsonArr{"null", t}
	}
	return t
}

// renderJSON writes v as Jackson does: compact, or with DefaultPrettyPrinter (objects one entry per
// line indented by two spaces per object level, " : " separators, arrays inline as "[ a, b ]",
// empty containers "{ }" / "[ ]", no trailing newline).
func renderJSON(v any, pretty bool) string {
	var sb strings.Builder
	writeJSON(&sb, v, pretty, 0)
	return sb.String()
}

func writeJSON(sb *strings.Builder, v any, pretty bool, nesting int) {
	switch x := v.(type) {
	case string:
		writeJSONString(sb, x)
	case jsonArr:
		if len(x) == 0 {
			if pretty {
				sb.WriteString("[ ]")
			} else {
				sb.WriteString("[]")
			}
			return
		}
		sb.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				sb.WriteByte(',')
			}
			if pretty {
				sb.WriteByte(' ')
			}
			writeJSON(sb, e, pretty, nesting)
		}
		if pretty {
			sb.WriteByte(' ')
		}
		sb.WriteByte(']')
	case jsonObj:
		if len(x) == 0 {
			if pretty {
				sb.WriteString("{ }")
			} else {
				sb.WriteString("{}")
			}
			return
		}
		sb.WriteByte('{')
		for i, kv := range x {
			if i > 0 {
				sb.WriteByte(',')
			}
			if pretty {
				sb.WriteByte('\n')
				sb.WriteString(strings.Repeat("  ", nesting+1))
			}
			writeJSONString(sb, kv.key)
			if pretty {
				sb.WriteString(" : ")
			} else {
				sb.WriteByte(':')
			}
			writeJSON(sb, kv.val, pretty, nesting+1)
		}
		if pretty {
			sb.WriteByte('\n')
			sb.WriteString(strings.Repeat("  ", nesting))
		}
		sb.WriteByte('}')
	default:
		panic(fmt.Sprintf("online: unexpected JSON value %T", v))
	}
}

// writeJSONString quotes s as Jackson does (short escapes for \b \t \n \f \r, \u00XX with upper-case
// hex for other control characters, non-ASCII unescaped). Schema strings are sanitized names, so in
// practice nothing needs escaping.
func writeJSONString(sb *strings.Builder, s string) {
	const hex = "0123456789ABCDEF"
	sb.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			sb.WriteByte('\\')
			sb.WriteByte(c)
		case c == '\b':
			sb.WriteString(`\b`)
		case c == '\t':
			sb.WriteString(`\t`)
		case c == '\n':
			sb.WriteString(`\n`)
		case c == '\f':
			sb.WriteString(`\f`)
		case c == '\r':
			sb.WriteString(`\r`)
		case c < 0x20:
			sb.WriteString(`\u00`)
			sb.WriteByte(hex[c>>4])
			sb.WriteByte(hex[c&0xF])
		default:
			sb.WriteByte(c)
		}
	}
	sb.WriteByte('"')
}

// ---- parsing ----

// ParseAvroSchema reads a record schema JSON (e.g. GroupByServingInfo.keyAvroSchema) with
// github.com/hamba/avro/v2 and converts it the way Chronon's toChrononSchema does: ["null", T]
// unions are nullable T, int with logicalType "byte"/"short" is byte/short. Other unions, enums,
// fixed and unknown int logical types are errors. String renders the schema in Chronon's form
// again, which equals the input when the input was written by Chronon or by NewAvroSchema.
func ParseAvroSchema(schemaJSON string) (*AvroSchema, error) {
	sch, err := avro.ParseWithCache(schemaJSON, "", &avro.SchemaCache{})
	if err != nil {
		return nil, fmt.Errorf("parse avro schema: %w", err)
	}
	root, err := fromHamba(sch, map[string]*avroNode{})
	if err != nil {
		return nil, fmt.Errorf("parse avro schema: %w", err)
	}
	if root.kind != types.Struct || root.nullable {
		return nil, fmt.Errorf("parse avro schema: top level is not a record")
	}
	tree := root.json(true)
	return &AvroSchema{root: root, pretty: renderJSON(tree, true), compact: renderJSON(tree, false)}, nil
}

func fromHamba(s avro.Schema, seen map[string]*avroNode) (*avroNode, error) {
	switch x := s.(type) {
	case *avro.RefSchema:
		return fromHamba(x.Schema(), seen)
	case *avro.UnionSchema:
		ts := x.Types()
		if len(ts) != 2 || ts[0].Type() != avro.Null || ts[1].Type() == avro.Null {
			return nil, fmt.Errorf("unsupported union %s (only [\"null\", T])", x.String())
		}
		n, err := fromHamba(ts[1], seen)
		if err != nil {
			return nil, err
		}
		c := *n
		c.nullable = true
		return &c, nil
	case *avro.RecordSchema:
		if n, ok := seen[x.FullName()]; ok {
			return n, nil
		}
		n := &avroNode{kind: types.Struct, name: x.Name()}
		seen[x.FullName()] = n
		for _, f := range x.Fields() {
			c, err := fromHamba(f.Type(), seen)
			if err != nil {
				return nil, fmt.Errorf("field %s: %w", f.Name(), err)
			}
			n.fields = append(n.fields, avroField{name: f.Name(), node: c})
		}
		return n, nil
	case *avro.ArraySchema:
		items, err := fromHamba(x.Items(), seen)
		if err != nil {
			return nil, err
		}
		return &avroNode{kind: types.List, items: items}, nil
	case *avro.MapSchema:
		values, err := fromHamba(x.Values(), seen)
		if err != nil {
			return nil, err
		}
		return &avroNode{kind: types.Map, items: values}, nil
	case *avro.PrimitiveSchema:
		switch x.Type() {
		case avro.Boolean:
			return &avroNode{kind: types.Boolean}, nil
		case avro.Int:
			lt := x.Prop("logicalType")
			if x.Logical() != nil {
				lt = string(x.Logical().Type())
			}
			switch lt {
			case nil:
				return &avroNode{kind: types.Int}, nil
			case "byte":
				return &avroNode{kind: types.Byte}, nil
			case "short":
				return &avroNode{kind: types.Short}, nil
			}
			return nil, fmt.Errorf("unknown logicalType annotation %v on INT type", lt)
		case avro.Long:
			return &avroNode{kind: types.Long}, nil
		case avro.Float:
			return &avroNode{kind: types.Float}, nil
		case avro.Double:
			return &avroNode{kind: types.Double}, nil
		case avro.String:
			return &avroNode{kind: types.String}, nil
		case avro.Bytes:
			return &avroNode{kind: types.Binary}, nil
		}
	}
	return nil, fmt.Errorf("cannot convert avro type %s", s.Type())
}
