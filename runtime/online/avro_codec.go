package online

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"sync"

	"github.com/hamba/avro/v2"

	"github.com/chronon-go/chronon/runtime/expr"
	"github.com/chronon-go/chronon/runtime/types"
)

// The codec walks an AvroSchema together with a boxed row (types: nil, bool, int64, float64, string,
// []byte, []any, *types.MapValue, types.StructValue) and writes Avro binary with hamba/avro's
// Writer/Reader primitives (zig-zag varints, IEEE floats, length-prefixed strings and bytes, block
// headers). hamba's reflective Marshal/Unmarshal wants Go structs or map[string]any records and
// resolves union branches from Go type names, which fits positional StructValues and MapValues
// badly; the walk here is a few dozen lines and allocates nothing per field beyond the output.
// Tests check its bytes against hamba's own Marshal.

// Encode writes row (one value per top-level field, in field order) as Avro binary, the way
// Chronon's AvroCodec does: for a nullable position the union index (0 = null, 1 = value) and then
// the value; arrays and maps as one block (count, items, 0) or a single 0 when empty. Integral
// fields need int64 (range-checked for int/short/byte), float/double need float64 or int64,
// string needs string, bytes []byte, lists []any, maps *types.MapValue with string keys, structs
// types.StructValue or []any.
func (s *AvroSchema) Encode(row []any) ([]byte, error) {
	return s.AppendEncode(nil, row)
}

// AppendEncode is Encode appending to dst.
func (s *AvroSchema) AppendEncode(dst []byte, row []any) ([]byte, error) {
	w := writerPool.Get().(*avro.Writer)
	w.Reset(nil)
	err := encodeFields(w, s.root, row)
	if err == nil {
		dst = append(dst, w.Buffer()...)
	}
	if cap(w.Buffer()) <= maxPooledBuffer {
		writerPool.Put(w)
	}
	return dst, err
}

// Writers and readers are pooled: an encode or decode then allocates only its result.
var (
	writerPool = sync.Pool{New: func() any { return avro.NewWriter(nil, 256) }}
	readerPool = sync.Pool{New: func() any { return avro.NewReader(nil, 0) }}
)

const maxPooledBuffer = 64 << 10

// EncodeMap encodes a row given by field name (Chronon's AvroCodec.encode(valueMap)); missing names
// are null. Names are the schema's (sanitized) field names.
func (s *AvroSchema) EncodeMap(values map[string]any) ([]byte, error) {
	return s.Encode(s.rowFromMap(values))
}

func (s *AvroSchema) rowFromMap(values map[string]any) []any {
	row := make([]any, len(s.root.fields))
	for i, f := range s.root.fields {
		row[i] = values[f.name]
	}
	return row
}

// EncodeKey encodes fetch-time keys so that the bytes equal the upload's: it tries Encode, and when
// that fails it casts each top-level value to its field's type and tries again (Chronon's
// FetcherBase: ColumnAggregator.castTo, spec §7.2). Casts: to long/int/short/byte from a string
// (parsed as a decimal integer), a float64 (truncated toward zero, Java's longValue) or
// json.Number; to double/float from a string, int64 or json.Number; to string from anything
// (numbers as Java prints them: 5, 5.0, 1.0E10). Chronon casts only to long, double and string;
// casting to the narrower kinds is our extension and yields the upload's bytes too. Decode request
// JSON with json.Decoder.UseNumber: Chronon's Jackson keeps {"user_id": 5} an integer (→ "5" for a
// string key), while encoding/json's float64 would cast to "5.0".
func (s *AvroSchema) EncodeKey(row []any) ([]byte, error) {
	b, err := s.Encode(row)
	if err == nil {
		return b, nil
	}
	if len(row) != len(s.root.fields) {
		return nil, err
	}
	cast := make([]any, len(row))
	for i, f := range s.root.fields {
		v, cerr := castTo(row[i], f.node.kind)
		if cerr != nil {
			return nil, fmt.Errorf("couldn't encode keys (%v) or cast keys: field %s: %w", err, f.name, cerr)
		}
		cast[i] = v
	}
	b, err2 := s.Encode(cast)
	if err2 != nil {
		return nil, fmt.Errorf("couldn't encode keys (%v) or cast keys (%w)", err, err2)
	}
	return b, nil
}

// EncodeKeyMap is EncodeKey for keys given by name (a fetch request's key map).
func (s *AvroSchema) EncodeKeyMap(keys map[string]any) ([]byte, error) {
	return s.EncodeKey(s.rowFromMap(keys))
}

// Decode reads one record written by Encode (or by Chronon) and returns its field values in field
// order, boxed as Encode accepts them (integral kinds as int64, float as float64, maps as
// *types.MapValue with string keys, records as types.StructValue, lists as non-nil []any).
// Truncated input and trailing bytes are errors.
func (s *AvroSchema) Decode(b []byte) ([]any, error) {
	r := readerPool.Get().(*avro.Reader)
	r.Reset(b)
	r.Error = nil
	defer func() {
		r.Reset(nil)
		readerPool.Put(r)
	}()
	v, err := decodeRecord(r, s.root)
	if err != nil {
		return nil, err
	}
	if r.Error != nil {
		return nil, fmt.Errorf("avro decode %s: %w", s.root.name, r.Error)
	}
	r.Peek()
	if r.Error == nil {
		return nil, fmt.Errorf("avro decode %s: trailing bytes after the record", s.root.name)
	}
	return v, nil
}

// DecodeMap is Decode returning values by field name.
func (s *AvroSchema) DecodeMap(b []byte) (map[string]any, error) {
	row, err := s.Decode(b)
	if err != nil {
		return nil, err
	}
	m := make(map[string]any, len(row))
	for i, f := range s.root.fields {
		m[f.name] = row[i]
	}
	return m, nil
}

// codecError is an encode/decode failure; the path to the failing value (field names, [index],
// ["key"]) is collected while unwinding, so the success path builds no strings.
type codecError struct {
	op   string
	segs []string // innermost first
	msg  string
	err  error
}

func codecErrf(op, format string, args ...any) error {
	return &codecError{op: op, msg: fmt.Sprintf(format, args...)}
}

func (e *codecError) Error() string {
	var sb strings.Builder
	sb.WriteString("avro " + e.op)
	if len(e.segs) > 0 {
		sb.WriteByte(' ')
		for i := len(e.segs) - 1; i >= 0; i-- {
			s := e.segs[i]
			if i < len(e.segs)-1 && s[0] != '[' {
				sb.WriteByte('.')
			}
			sb.WriteString(s)
		}
	}
	sb.WriteString(": ")
	if e.err != nil {
		sb.WriteString(e.err.Error())
	} else {
		sb.WriteString(e.msg)
	}
	return sb.String()
}

func (e *codecError) Unwrap() error { return e.err }

func at(err error, seg string) error {
	if ce, ok := err.(*codecError); ok {
		ce.segs = append(ce.segs, seg)
	}
	return err
}

func atField(err error, name string) error { return at(err, name) }
func atIndex(err error, i int) error       { return at(err, "["+strconv.Itoa(i)+"]") }
func atKey(err error, k string) error      { return at(err, "["+strconv.Quote(k)+"]") }

func encodeFields(w *avro.Writer, n *avroNode, row []any) error {
	if len(row) != len(n.fields) {
		return codecErrf("encode", "%d values for %d fields of record %s", len(row), len(n.fields), n.name)
	}
	for i, f := range n.fields {
		if err := encodeValue(w, f.node, row[i]); err != nil {
			return atField(err, f.name)
		}
	}
	return nil
}

func typeErr(n *avroNode, v any) error {
	return codecErrf("encode", "value %v (%T) does not fit %s", v, v, kindName(n))
}

func kindName(n *avroNode) string {
	switch n.kind {
	case types.List:
		return "array"
	case types.Map:
		return "map"
	case types.Struct:
		return "record " + n.name
	case types.Binary:
		return "bytes"
	case types.Byte, types.Short:
		return "int(" + (&types.Type{Kind: n.kind}).String() + ")"
	}
	return (&types.Type{Kind: n.kind}).String()
}

func encodeValue(w *avro.Writer, n *avroNode, v any) error {
	if v == nil {
		if !n.nullable {
			return codecErrf("encode", "null in a non-nullable position (%s)", kindName(n))
		}
		w.WriteLong(0)
		return nil
	}
	if n.nullable {
		w.WriteLong(1)
	}
	switch n.kind {
	case types.Boolean:
		b, ok := v.(bool)
		if !ok {
			return typeErr(n, v)
		}
		w.WriteBool(b)
	case types.Byte, types.Short, types.Int:
		x, ok := v.(int64)
		if !ok {
			return typeErr(n, v)
		}
		lo, hi := int64(math.MinInt32), int64(math.MaxInt32)
		switch n.kind {
		case types.Byte:
			lo, hi = math.MinInt8, math.MaxInt8
		case types.Short:
			lo, hi = math.MinInt16, math.MaxInt16
		}
		if x < lo || x > hi {
			return codecErrf("encode", "%d out of range for %s", x, kindName(n))
		}
		w.WriteInt(int32(x))
	case types.Long:
		x, ok := v.(int64)
		if !ok {
			return typeErr(n, v)
		}
		w.WriteLong(x)
	case types.Float, types.Double:
		var f float64
		switch x := v.(type) {
		case float64:
			f = x
		case int64:
			f = float64(x)
		default:
			return typeErr(n, v)
		}
		if n.kind == types.Float {
			w.WriteFloat(float32(f))
		} else {
			w.WriteDouble(f)
		}
	case types.String:
		x, ok := v.(string)
		if !ok {
			return typeErr(n, v)
		}
		w.WriteString(x)
	case types.Binary:
		x, ok := v.([]byte)
		if !ok {
			return typeErr(n, v)
		}
		w.WriteBytes(x)
	case types.List:
		x, ok := v.([]any)
		if !ok {
			return typeErr(n, v)
		}
		if len(x) > 0 {
			w.WriteLong(int64(len(x)))
			for i, e := range x {
				if err := encodeValue(w, n.items, e); err != nil {
					return atIndex(err, i)
				}
			}
		}
		w.WriteLong(0)
	case types.Map:
		x, ok := v.(*types.MapValue)
		if !ok {
			return typeErr(n, v)
		}
		if len(x.Keys) != len(x.Values) {
			return codecErrf("encode", "map with %d keys and %d values", len(x.Keys), len(x.Values))
		}
		if len(x.Keys) > 0 {
			w.WriteLong(int64(len(x.Keys)))
			for i, k := range x.Keys {
				ks, ok := k.(string)
				if !ok {
					return codecErrf("encode", "map key %v (%T) is not a string", k, k)
				}
				w.WriteString(ks)
				if err := encodeValue(w, n.items, x.Values[i]); err != nil {
					return atKey(err, ks)
				}
			}
		}
		w.WriteLong(0)
	case types.Struct:
		var row []any
		switch x := v.(type) {
		case types.StructValue:
			row = x
		case []any:
			row = x
		default:
			return typeErr(n, v)
		}
		return encodeFields(w, n, row)
	default:
		return codecErrf("encode", "unsupported kind %d", n.kind)
	}
	return nil
}

func decodeRecord(r *avro.Reader, n *avroNode) (types.StructValue, error) {
	out := make(types.StructValue, len(n.fields))
	for i, f := range n.fields {
		v, err := decodeValue(r, f.node)
		if err != nil {
			return nil, atField(err, f.name)
		}
		out[i] = v
	}
	return out, nil
}

func readErr(r *avro.Reader) error {
	if r.Error == nil {
		return nil
	}
	if errors.Is(r.Error, io.EOF) || errors.Is(r.Error, io.ErrUnexpectedEOF) {
		return codecErrf("decode", "input truncated")
	}
	return &codecError{op: "decode", err: r.Error}
}

func decodeValue(r *avro.Reader, n *avroNode) (any, error) {
	if n.nullable {
		idx := r.ReadLong()
		if err := readErr(r); err != nil {
			return nil, err
		}
		switch idx {
		case 0:
			return nil, nil
		case 1:
		default:
			return nil, codecErrf("decode", "union index %d (want 0 or 1)", idx)
		}
	}
	var v any
	switch n.kind {
	case types.Boolean:
		v = r.ReadBool()
	case types.Byte, types.Short, types.Int:
		v = int64(r.ReadInt())
	case types.Long:
		v = r.ReadLong()
	case types.Float:
		v = float64(r.ReadFloat())
	case types.Double:
		v = r.ReadDouble()
	case types.String:
		v = strings.Clone(r.ReadString())
	case types.Binary:
		b := r.ReadBytes()
		v = append([]byte{}, b...)
	case types.List:
		out := []any{}
		for {
			count, _ := r.ReadBlockHeader()
			if err := readErr(r); err != nil {
				return nil, err
			}
			if count == 0 {
				break
			}
			for i := int64(0); i < count; i++ {
				e, err := decodeValue(r, n.items)
				if err != nil {
					return nil, atIndex(err, len(out))
				}
				out = append(out, e)
			}
		}
		return out, nil
	case types.Map:
		out := &types.MapValue{Keys: []any{}, Values: []any{}}
		for {
			count, _ := r.ReadBlockHeader()
			if err := readErr(r); err != nil {
				return nil, err
			}
			if count == 0 {
				break
			}
			for i := int64(0); i < count; i++ {
				k := strings.Clone(r.ReadString())
				if err := readErr(r); err != nil {
					return nil, err
				}
				e, err := decodeValue(r, n.items)
				if err != nil {
					return nil, atKey(err, k)
				}
				out.Keys = append(out.Keys, k)
				out.Values = append(out.Values, e)
			}
		}
		return out, nil
	case types.Struct:
		return decodeRecord(r, n)
	default:
		return nil, codecErrf("decode", "unsupported kind %d", n.kind)
	}
	if err := readErr(r); err != nil {
		return nil, err
	}
	return v, nil
}

// castTo converts a fetch-time key to the Go type of kind (ColumnAggregator.castTo, extended to
// every integral and floating kind).
func castTo(v any, kind types.Kind) (any, error) {
	if v == nil {
		return nil, nil
	}
	if n, ok := v.(json.Number); ok {
		v = string(n)
	}
	switch x := v.(type) {
	case int:
		v = int64(x)
	case int32:
		v = int64(x)
	case float32:
		v = float64(x)
	}
	switch kind {
	case types.Byte, types.Short, types.Int, types.Long:
		switch x := v.(type) {
		case int64:
			return x, nil
		case float64:
			return javaLong(x), nil
		case string:
			i, err := strconv.ParseInt(x, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("cannot cast %q to %s", x, (&types.Type{Kind: kind}).String())
			}
			return i, nil
		}
	case types.Float, types.Double:
		switch x := v.(type) {
		case int64:
			return float64(x), nil
		case float64:
			return x, nil
		case string:
			f, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
			if err != nil {
				return nil, fmt.Errorf("cannot cast %q to %s", x, (&types.Type{Kind: kind}).String())
			}
			return f, nil
		}
	case types.String:
		switch x := v.(type) {
		case string:
			return x, nil
		case int64:
			return strconv.FormatInt(x, 10), nil
		case float64:
			return JavaDoubleString(x), nil
		case bool:
			return strconv.FormatBool(x), nil
		}
	}
	return v, nil
}

// javaLong is Java's (long) conversion of a double: truncation, NaN → 0, saturation.
func javaLong(f float64) int64 {
	switch {
	case math.IsNaN(f):
		return 0
	case f >= math.MaxInt64:
		return math.MaxInt64
	case f <= math.MinInt64:
		return math.MinInt64
	}
	return int64(f)
}

// JavaDoubleString formats f as Java's Double.toString does: "5.0", "0.001", "1.0E7", "1.0E-4",
// "NaN", "Infinity" (the expression evaluator's implementation, so both render doubles alike).
func JavaDoubleString(f float64) string { return expr.FormatJavaDouble(f, 64) }
