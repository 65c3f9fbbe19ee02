package types

import "fmt"

// Column is one column of a Batch. Exactly one data slice is used, chosen by Type.Kind:
//
//	Boolean                                   Bools
//	Byte, Short, Int, Long, Date, Timestamp   Ints   (Date = days since epoch, Timestamp = micros since epoch)
//	Float, Double                             Floats
//	String                                    Strs
//	Binary                                    Bytes
//	List, Map, Struct, Null                   Values (boxed, see Value)
//
// Nulls[i] marks row i null (its data slot holds the zero value); a nil Nulls means no row is null.
type Column struct {
	Type   *Type
	Nulls  []bool
	Bools  []bool
	Ints   []int64
	Floats []float64
	Strs   []string
	Bytes  [][]byte
	Values []any
	// List, when set, holds a list column compactly instead of Values (see NumList).
	List *NumList
}

// Boxed values, as Value returns them and Append accepts them: nil, bool, int64, float64, string,
// []byte, []any (a list), *MapValue, StructValue.

// MapValue is a map in entry order (Spark maps keep insertion order and allow any key type).
type MapValue struct {
	Keys   []any
	Values []any
}

// Get returns the value for key k and whether it exists.
func (m *MapValue) Get(k any) (any, bool) {
	for i, x := range m.Keys {
		if x == k {
			return m.Values[i], true
		}
	}
	return nil, false
}

// StructValue holds a struct's field values in the order of its type's Fields.
type StructValue []any

// NewColumn returns an empty column of type t with room for n rows.
func NewColumn(t *Type, n int) *Column {
	c := &Column{Type: t}
	switch storage(t.Kind) {
	case storeBool:
		c.Bools = make([]bool, 0, n)
	case storeInt:
		c.Ints = make([]int64, 0, n)
	case storeFloat:
		c.Floats = make([]float64, 0, n)
	case storeString:
		c.Strs = make([]string, 0, n)
	case storeBytes:
		c.Bytes = make([][]byte, 0, n)
	default:
		c.Values = make([]any, 0, n)
	}
	return c
}

type store int

const (
	storeBool store = iota
	storeInt
	storeFloat
	storeString
	storeBytes
	storeBoxed
)

func storage(k Kind) store {
	switch k {
	case Boolean:
		return storeBool
	case Byte, Short, Int, Long, Date, Timestamp:
		return storeInt
	case Float, Double:
		return storeFloat
	case String:
		return storeString
	case Binary:
		return storeBytes
	}
	return storeBoxed
}

// Len is the number of rows.
func (c *Column) Len() int {
	if c.List != nil {
		return len(c.List.Off) - 1
	}
	switch storage(c.Type.Kind) {
	case storeBool:
		return len(c.Bools)
	case storeInt:
		return len(c.Ints)
	case storeFloat:
		return len(c.Floats)
	case storeString:
		return len(c.Strs)
	case storeBytes:
		return len(c.Bytes)
	}
	return len(c.Values)
}

// IsNull reports whether row i is null.
func (c *Column) IsNull(i int) bool { return c.Nulls != nil && c.Nulls[i] }

// Value returns row i boxed (nil for null).
func (c *Column) Value(i int) any {
	if c.IsNull(i) {
		return nil
	}
	switch storage(c.Type.Kind) {
	case storeBool:
		return c.Bools[i]
	case storeInt:
		return c.Ints[i]
	case storeFloat:
		return c.Floats[i]
	case storeString:
		return c.Strs[i]
	case storeBytes:
		return c.Bytes[i]
	}
	if c.List != nil {
		return c.listValue(i)
	}
	return c.Values[i]
}

// AppendNull appends a null row.
func (c *Column) AppendNull() {
	n := c.Len()
	if c.Nulls == nil {
		room := cap(c.Ints) + cap(c.Floats) + cap(c.Strs) + cap(c.Bools) + cap(c.Bytes) + cap(c.Values) + 1
		if c.List != nil {
			room = cap(c.List.Off)
		}
		c.Nulls = make([]bool, n, max(room, n+1))
	}
	c.Nulls = append(c.Nulls, true)
	if l := c.List; l != nil {
		l.Off = append(l.Off, l.Off[len(l.Off)-1])
		return
	}
	switch storage(c.Type.Kind) {
	case storeBool:
		c.Bools = append(c.Bools, false)
	case storeInt:
		c.Ints = append(c.Ints, 0)
	case storeFloat:
		c.Floats = append(c.Floats, 0)
	case storeString:
		c.Strs = append(c.Strs, "")
	case storeBytes:
		c.Bytes = append(c.Bytes, nil)
	default:
		c.Values = append(c.Values, nil)
	}
}

// Append appends a boxed value (nil appends a null). It panics on a value of the wrong Go type, which
// is a programming error: producers convert values to the column's type first.
func (c *Column) Append(v any) {
	if v == nil {
		c.AppendNull()
		return
	}
	if c.List != nil {
		if c.appendList(v) {
			return
		}
		c.expand() // a list the compact form cannot hold: box the column
	}
	if c.Nulls != nil {
		c.Nulls = append(c.Nulls, false)
	}
	switch storage(c.Type.Kind) {
	case storeBool:
		c.Bools = append(c.Bools, v.(bool))
	case storeInt:
		c.Ints = append(c.Ints, v.(int64))
	case storeFloat:
		c.Floats = append(c.Floats, v.(float64))
	case storeString:
		c.Strs = append(c.Strs, v.(string))
	case storeBytes:
		c.Bytes = append(c.Bytes, v.([]byte))
	default:
		c.Values = append(c.Values, v)
	}
}

// Batch is a set of equally long columns with a schema.
type Batch struct {
	Schema Schema
	Cols   []*Column
}

// NewBatch returns an empty batch for schema s with room for n rows.
func NewBatch(s Schema, n int) *Batch {
	b := &Batch{Schema: s, Cols: make([]*Column, len(s))}
	for i, f := range s {
		b.Cols[i] = NewColumn(f.Type, n)
	}
	return b
}

// Len is the number of rows.
func (b *Batch) Len() int {
	if len(b.Cols) == 0 {
		return 0
	}
	return b.Cols[0].Len()
}

// Col returns the column named name, or nil.
func (b *Batch) Col(name string) *Column {
	if i := b.Schema.Index(name); i >= 0 {
		return b.Cols[i]
	}
	return nil
}

// Validate checks that every column has the schema's type and the same length.
func (b *Batch) Validate() error {
	if len(b.Cols) != len(b.Schema) {
		return fmt.Errorf("batch has %d columns but its schema %d", len(b.Cols), len(b.Schema))
	}
	n := b.Len()
	for i, c := range b.Cols {
		if c.Len() != n {
			return fmt.Errorf("column %s has %d rows, expected %d", b.Schema[i].Name, c.Len(), n)
		}
		if c.Nulls != nil && len(c.Nulls) != n {
			return fmt.Errorf("column %s has %d null flags, expected %d", b.Schema[i].Name, len(c.Nulls), n)
		}
	}
	return nil
}
