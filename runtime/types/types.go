// Package types is the runtime's data model: Chronon's data kinds (spec §1.1 DataKind), schemas, and
// columnar batches. The warehouse produces batches, runtime/expr evaluates over them and
// runtime/aggregate consumes them, so every path agrees on how a value is represented.
package types

import (
	"fmt"
	"strings"

	"github.com/chronon-go/chronon/thrift/api"
)

// Kind is a data kind; the values equal Chronon's thrift DataKind.
type Kind int

const (
	Boolean   Kind = Kind(api.DataKind_BOOLEAN)
	Byte      Kind = Kind(api.DataKind_BYTE)
	Short     Kind = Kind(api.DataKind_SHORT)
	Int       Kind = Kind(api.DataKind_INT)
	Long      Kind = Kind(api.DataKind_LONG)
	Float     Kind = Kind(api.DataKind_FLOAT)
	Double    Kind = Kind(api.DataKind_DOUBLE)
	String    Kind = Kind(api.DataKind_STRING)
	Binary    Kind = Kind(api.DataKind_BINARY)
	Date      Kind = Kind(api.DataKind_DATE)
	Timestamp Kind = Kind(api.DataKind_TIMESTAMP)
	Map       Kind = Kind(api.DataKind_MAP)
	List      Kind = Kind(api.DataKind_LIST)
	Struct    Kind = Kind(api.DataKind_STRUCT)
	// Null is the type of an untyped NULL literal; it never appears in a stored schema.
	Null Kind = 100
)

// Type is a data type. Elem is set for List, Key/Value for Map, Fields (and Name) for Struct.
type Type struct {
	Kind   Kind
	Elem   *Type
	Key    *Type
	Value  *Type
	Fields []Field
	Name   string
}

// Field is a named type: a struct member or a table column.
type Field struct {
	Name string
	Type *Type
}

// Shared instances of the primitive types; treat every *Type as immutable.
var (
	BooleanType   = &Type{Kind: Boolean}
	ByteType      = &Type{Kind: Byte}
	ShortType     = &Type{Kind: Short}
	IntType       = &Type{Kind: Int}
	LongType      = &Type{Kind: Long}
	FloatType     = &Type{Kind: Float}
	DoubleType    = &Type{Kind: Double}
	StringType    = &Type{Kind: String}
	BinaryType    = &Type{Kind: Binary}
	DateType      = &Type{Kind: Date}
	TimestampType = &Type{Kind: Timestamp}
	NullType      = &Type{Kind: Null}
)

// ListOf returns list<elem>.
func ListOf(elem *Type) *Type { return &Type{Kind: List, Elem: elem} }

// MapOf returns map<key, value>.
func MapOf(key, value *Type) *Type { return &Type{Kind: Map, Key: key, Value: value} }

// StructOf returns a struct type with the given fields.
func StructOf(name string, fields ...Field) *Type {
	return &Type{Kind: Struct, Name: name, Fields: fields}
}

// IsIntegral reports byte, short, int and long.
func (t *Type) IsIntegral() bool {
	switch t.Kind {
	case Byte, Short, Int, Long:
		return true
	}
	return false
}

// IsNumeric reports integral and floating kinds.
func (t *Type) IsNumeric() bool { return t.IsIntegral() || t.Kind == Float || t.Kind == Double }

// Equal reports structural equality (struct names are ignored).
func (t *Type) Equal(o *Type) bool {
	if t == o {
		return true
	}
	if t == nil || o == nil || t.Kind != o.Kind {
		return false
	}
	switch t.Kind {
	case List:
		return t.Elem.Equal(o.Elem)
	case Map:
		return t.Key.Equal(o.Key) && t.Value.Equal(o.Value)
	case Struct:
		if len(t.Fields) != len(o.Fields) {
			return false
		}
		for i := range t.Fields {
			if t.Fields[i].Name != o.Fields[i].Name || !t.Fields[i].Type.Equal(o.Fields[i].Type) {
				return false
			}
		}
	}
	return true
}

// String renders the type in Spark SQL's spelling (bigint, array<bigint>, map<string,int>, struct<a:int>).
func (t *Type) String() string {
	switch t.Kind {
	case Boolean:
		return "boolean"
	case Byte:
		return "tinyint"
	case Short:
		return "smallint"
	case Int:
		return "int"
	case Long:
		return "bigint"
	case Float:
		return "float"
	case Double:
		return "double"
	case String:
		return "string"
	case Binary:
		return "binary"
	case Date:
		return "date"
	case Timestamp:
		return "timestamp"
	case Null:
		return "void"
	case List:
		return "array<" + t.Elem.String() + ">"
	case Map:
		return "map<" + t.Key.String() + "," + t.Value.String() + ">"
	case Struct:
		parts := make([]string, len(t.Fields))
		for i, f := range t.Fields {
			parts[i] = f.Name + ":" + f.Type.String()
		}
		return "struct<" + strings.Join(parts, ",") + ">"
	}
	return fmt.Sprintf("kind(%d)", t.Kind)
}

// ParseType reads a type name as users write it (Chronon/Spark spelling): boolean, int, long/bigint,
// double, string, binary, list<T>/array<T>, map<K,V>, struct<a:T,...>.
func ParseType(s string) (*Type, error) {
	p := typeParser{s: strings.TrimSpace(s)}
	t, err := p.parse()
	if err != nil {
		return nil, err
	}
	if p.pos != len(p.s) {
		return nil, fmt.Errorf("type %q: unexpected %q at position %d", s, p.s[p.pos:], p.pos)
	}
	return t, nil
}

type typeParser struct {
	s   string
	pos int
}

func (p *typeParser) skip() {
	for p.pos < len(p.s) && p.s[p.pos] == ' ' {
		p.pos++
	}
}

func (p *typeParser) ident() string {
	p.skip()
	start := p.pos
	for p.pos < len(p.s) {
		c := p.s[p.pos]
		if c == '<' || c == '>' || c == ',' || c == ':' || c == ' ' {
			break
		}
		p.pos++
	}
	return p.s[start:p.pos]
}

func (p *typeParser) expect(c byte) error {
	p.skip()
	if p.pos >= len(p.s) || p.s[p.pos] != c {
		return fmt.Errorf("type %q: expected %q at position %d", p.s, c, p.pos)
	}
	p.pos++
	return nil
}

func (p *typeParser) parse() (*Type, error) {
	name := strings.ToLower(p.ident())
	switch name {
	case "boolean", "bool":
		return BooleanType, nil
	case "byte", "tinyint":
		return ByteType, nil
	case "short", "smallint":
		return ShortType, nil
	case "int", "integer":
		return IntType, nil
	case "long", "bigint":
		return LongType, nil
	case "float", "real":
		return FloatType, nil
	case "double":
		return DoubleType, nil
	case "string", "varchar":
		return StringType, nil
	case "binary", "bytes":
		return BinaryType, nil
	case "date":
		return DateType, nil
	case "timestamp":
		return TimestampType, nil
	case "list", "array":
		if err := p.expect('<'); err != nil {
			return nil, err
		}
		e, err := p.parse()
		if err != nil {
			return nil, err
		}
		return ListOf(e), p.expect('>')
	case "map":
		if err := p.expect('<'); err != nil {
			return nil, err
		}
		k, err := p.parse()
		if err != nil {
			return nil, err
		}
		if err := p.expect(','); err != nil {
			return nil, err
		}
		v, err := p.parse()
		if err != nil {
			return nil, err
		}
		return MapOf(k, v), p.expect('>')
	case "struct":
		if err := p.expect('<'); err != nil {
			return nil, err
		}
		var fs []Field
		for {
			n := p.ident()
			if err := p.expect(':'); err != nil {
				return nil, err
			}
			ft, err := p.parse()
			if err != nil {
				return nil, err
			}
			fs = append(fs, Field{Name: n, Type: ft})
			p.skip()
			if p.pos < len(p.s) && p.s[p.pos] == ',' {
				p.pos++
				continue
			}
			break
		}
		return StructOf("", fs...), p.expect('>')
	case "":
		return nil, fmt.Errorf("type %q: missing type name at position %d", p.s, p.pos)
	}
	return nil, fmt.Errorf("unknown type %q (known: boolean, int, long, float, double, string, binary, list<T>, map<K,V>, struct<...>)", name)
}

// Schema is an ordered list of columns.
type Schema []Field

// Index returns the position of the column named name, or -1.
func (s Schema) Index(name string) int {
	for i, f := range s {
		if f.Name == name {
			return i
		}
	}
	return -1
}

// Names lists the column names in order.
func (s Schema) Names() []string {
	out := make([]string, len(s))
	for i, f := range s {
		out[i] = f.Name
	}
	return out
}
