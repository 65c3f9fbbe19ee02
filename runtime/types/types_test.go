package types

import (
	"fmt"
	"reflect"
	"testing"
)

func TestParseTypeRoundTrip(t *testing.T) {
	for _, s := range []string{"bigint", "array<bigint>", "map<string,double>", "struct<a:int,b:array<string>>", "boolean", "binary"} {
		typ, err := ParseType(s)
		if err != nil {
			t.Fatalf("%s: %v", s, err)
		}
		if typ.String() != s {
			t.Errorf("ParseType(%q).String() = %q", s, typ.String())
		}
	}
	for _, s := range []string{"", "list<", "map<string>", "decimal", "struct<a>"} {
		if _, err := ParseType(s); err == nil {
			t.Errorf("ParseType(%q) accepted", s)
		}
	}
}

func TestTakeAndConcat(t *testing.T) {
	c := NewColumn(LongType, 3)
	c.Append(int64(1))
	c.AppendNull()
	c.Append(int64(3))
	got := c.Take([]int32{2, -1, 0, 1})
	var vals []any
	for i := 0; i < got.Len(); i++ {
		vals = append(vals, got.Value(i))
	}
	if want := []any{int64(3), nil, int64(1), nil}; !reflect.DeepEqual(vals, want) {
		t.Errorf("Take = %v, want %v", vals, want)
	}
	s := Schema{{Name: "x", Type: LongType}}
	a := &Batch{Schema: s, Cols: []*Column{c}}
	b := &Batch{Schema: s, Cols: []*Column{got}}
	all := Concat(s, []*Batch{a, b})
	if err := all.Validate(); err != nil || all.Len() != 7 || !all.Cols[0].IsNull(1) || all.Cols[0].IsNull(2) || !all.Cols[0].IsNull(6) {
		t.Errorf("Concat: len %d, err %v", all.Len(), err)
	}
}

func TestSlice(t *testing.T) {
	c := NewColumn(StringType, 4)
	for _, v := range []any{"a", nil, "c", "d"} {
		c.Append(v)
	}
	s := c.Slice(1, 3)
	if s.Len() != 2 || !s.IsNull(0) || s.Value(1) != "c" {
		t.Errorf("Slice(1, 3) = %d rows, null %v, %v", s.Len(), s.IsNull(0), s.Value(1))
	}
	// appending to the slice must not overwrite the parent's next row
	s.Append("x")
	if c.Value(3) != "d" {
		t.Errorf("appending to a slice changed the parent: %v", c.Value(3))
	}
}

// TestTakeFrom checks the gather over several sources against Take on their concatenation.
func TestTakeFrom(t *testing.T) {
	a := NewColumn(LongType, 2)
	a.Append(int64(1))
	a.Append(int64(2)) // no nulls: a.Nulls stays nil
	b := NewColumn(LongType, 3)
	b.Append(int64(3))
	b.AppendNull()
	b.Append(int64(5))
	idx := []int32{4, -1, 0, 3, 1, 2}
	got := TakeFrom([]*Column{a, b}, idx)
	want := Concat(Schema{{Name: "x", Type: LongType}}, []*Batch{
		{Schema: Schema{{Name: "x", Type: LongType}}, Cols: []*Column{a}},
		{Schema: Schema{{Name: "x", Type: LongType}}, Cols: []*Column{b}},
	}).Cols[0].Take(idx)
	for i := range idx {
		if got.Value(i) != want.Value(i) {
			t.Errorf("row %d: got %v, want %v", i, got.Value(i), want.Value(i))
		}
	}
	if fmt.Sprint(got.Value(0), got.Value(1), got.Value(3)) != "5 <nil> <nil>" {
		t.Errorf("got %v %v %v, want 5 <nil> <nil>", got.Value(0), got.Value(1), got.Value(3))
	}
}

// TestWindows fills three windows of one column, one of them with a null, and checks the joined
// column; a window short of its rows is an error.
func TestWindows(t *testing.T) {
	parts, join := Windows(LongType, []int{2, 1, 2})
	parts[0].Append(int64(1))
	parts[0].Append(int64(2))
	parts[1].AppendNull()
	parts[2].Append(int64(4))
	parts[2].Append(int64(5))
	whole, err := join()
	if err != nil {
		t.Fatal(err)
	}
	var got []any
	for i := 0; i < whole.Len(); i++ {
		got = append(got, whole.Value(i))
	}
	if want := []any{int64(1), int64(2), nil, int64(4), int64(5)}; !reflect.DeepEqual(got, want) {
		t.Errorf("joined %v, want %v", got, want)
	}
	parts, join = Windows(StringType, []int{1, 1})
	parts[0].Append("a")
	if _, err := join(); err == nil {
		t.Error("join accepted a window short of its rows")
	}
}
