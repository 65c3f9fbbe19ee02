package online

import (
	"testing"

	"github.com/chronon-go/chronon/runtime/types"
)

func benchSchema(b *testing.B) (*AvroSchema, []any) {
	s, err := NewAvroSchema("Value", types.Schema{{Name: "user_id", Type: types.StringType},
		{Name: "sum_1d", Type: types.LongType}, {Name: "avg", Type: types.StructOf("", types.Field{Name: "sum", Type: types.DoubleType},
			types.Field{Name: "count", Type: types.IntType})}, {Name: "last5", Type: types.ListOf(types.LongType)}})
	if err != nil {
		b.Fatal(err)
	}
	return s, []any{"user_12345", int64(42), types.StructValue{12.5, int64(3)}, []any{int64(1), int64(2), int64(3), int64(4), int64(5)}}
}

func BenchmarkAvroEncode(b *testing.B) {
	s, row := benchSchema(b)
	b.ReportAllocs()
	var buf []byte
	for b.Loop() {
		var err error
		if buf, err = s.AppendEncode(buf[:0], row); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAvroDecode(b *testing.B) {
	s, row := benchSchema(b)
	enc, err := s.Encode(row)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Decode(enc); err != nil {
			b.Fatal(err)
		}
	}
}
