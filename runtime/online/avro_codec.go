package online

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/hamba/avro/v2"

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
	wr := writerWithBuf(avro.NewWriter(nil, 64), dst)
	if err := encodeFields(wr, s.root, row, ""); err != nil {
		return dst, err
	}
	return wr.Buffer(), nil
}

// writerWithBuf makes w append to dst: hamba's Writer appends to its internal buffer, which starts
// as a copy of dst's contents.
func writerWithBuf(w *avro.Writer, dst []byte) *avro.Writer {
	if len(dst) > 0 {
		_, _ = w.Write(dst)
	}
	return w
}

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
// casting to the narrower kinds is our extension and yields the upload's bytes too.
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
	r := avro.NewReader(nil, 0).Reset(b)
	v, err := decodeRecord(r, s.root, "")
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

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

func encodeFields(w *avro.Writer, n *avroNode, row []any, path string) error {
	if len(row) != len(n.fields) {
		return fmt.Errorf("avro encode %s: %d values for %d fields", recordPath(path, n), len(row), len(n.fields))
	}
	for i, f := range n.fields {
		if err := encodeValue(w, f.node, row[i], join(path, f.name)); err != nil {
			return err
		}
	}
	return nil
}

func recordPath(path string, n *avroNode) string {
	if path == "" {
		return n.name
	}
	return path
}

func typeErr(path string, n *avroNode, v any) error {
	return fmt.Errorf("avro encode %s: value %v (%T) does not fit %s", path, v, v, kindName(n))
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

func encodeValue(w *avro.Writer, n *avroNode, v any, path string) error {
	if v == nil {
		if !n.nullable {
			return fmt.Errorf("avro encode %s: null in a non-nullable position (%s)", path, kindName(n))
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
			return typeErr(path, n, v)
		}
		w.WriteBool(b)
	case types.Byte, types.Short, types.Int:
		x, ok := v.(int64)
		if !ok {
			return typeErr(path, n, v)
		}
		lo, hi := int64(math.MinInt32), int64(math.MaxInt32)
		switch n.kind {
		case types.Byte:
			lo, hi = math.MinInt8, math.MaxInt8
		case types.Short:
			lo, hi = math.MinInt16, math.MaxInt16
		}
		if x < lo || x > hi {
			return fmt.Errorf("avro encode %s: %d out of range for %s", path, x, kindName(n))
		}
		w.WriteInt(int32(x))
	case types.Long:
		x, ok := v.(int64)
		if !ok {
			return typeErr(path, n, v)
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
			return typeErr(path, n, v)
		}
		if n.kind == types.Float {
			w.WriteFloat(float32(f))
		} else {
			w.WriteDouble(f)
		}
	case types.String:
		x, ok := v.(string)
		if !ok {
			return typeErr(path, n, v)
		}
		w.WriteString(x)
	case types.Binary:
		x, ok := v.([]byte)
		if !ok {
			return typeErr(path, n, v)
		}
		w.WriteBytes(x)
	case types.List:
		x, ok := v.([]any)
		if !ok {
			return typeErr(path, n, v)
		}
		if len(x) > 0 {
			w.WriteLong(int64(len(x)))
			for i, e := range x {
				if err := encodeValue(w, n.items, e, fmt.Sprintf("%s[%d]", path, i)); err != nil {
					return err
				}
			}
		}
		w.WriteLong(0)
	case types.Map:
		x, ok := v.(*types.MapValue)
		if !ok {
			return typeErr(path, n, v)
		}
		if len(x.Keys) != len(x.Values) {
			return fmt.Errorf("avro encode %s: map with %d keys and %d values", path, len(x.Keys), len(x.Values))
		}
		if len(x.Keys) > 0 {
			w.WriteLong(int64(len(x.Keys)))
			for i, k := range x.Keys {
				ks, ok := k.(string)
				if !ok {
					return fmt.Errorf("avro encode %s: map key %v (%T) is not a string", path, k, k)
				}
				w.WriteString(ks)
				if err := encodeValue(w, n.items, x.Values[i], fmt.Sprintf("%s[%q]", path, ks)); err != nil {
					return err
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
			return typeErr(path, n, v)
		}
		return encodeFields(w, n, row, path)
	default:
		return fmt.Errorf("avro encode %s: unsupported kind %d", path, n.kind)
	}
	return nil
}

func decodeRecord(r *avro.Reader, n *avroNode, path string) (types.StructValue, error) {
	out := make(types.StructValue, len(n.fields))
	for i, f := range n.fields {
		v, err := decodeValue(r, f.node, join(path, f.name))
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

func readErr(r *avro.Reader, path string) error {
	if r.Error == nil {
		return nil
	}
	if errors.Is(r.Error, io.EOF) || errors.Is(r.Error, io.ErrUnexpectedEOF) {
		return fmt.Errorf("avro decode %s: input truncated", path)
	}
	return fmt.Errorf("avro decode %s: %w", path, r.Error)
}

func decodeValue(r *avro.Reader, n *avroNode, path string) (any, error) {
	if n.nullable {
		idx := r.ReadLong()
		if err := readErr(r, path); err != nil {
			return nil, err
		}
		switch idx {
		case 0:
			return nil, nil
		case 1:
		default:
			return nil, fmt.Errorf("avro decode %s: union index %d (want 0 or 1)", path, idx)
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
			if err := readErr(r, path); err != nil {
				return nil, err
			}
			if count == 0 {
				break
			}
			for i := int64(0); i < count; i++ {
				e, err := decodeValue(r, n.items, fmt.Sprintf("%s[%d]", path, len(out)))
				if err != nil {
					return nil, err
				}
				out = append(out, e)
			}
		}
		return out, nil
	case types.Map:
		out := &types.MapValue{Keys: []any{}, Values: []any{}}
		for {
			count, _ := r.ReadBlockHeader()
			if err := readErr(r, path); err != nil {
				return nil, err
			}
			if count == 0 {
				break
			}
			for i := int64(0); i < count; i++ {
				k := strings.Clone(r.ReadString())
				if err := readErr(r, path); err != nil {
					return nil, err
				}
				e, err := decodeValue(r, n.items, fmt.Sprintf("%s[%q]", path, k))
				if err != nil {
					return nil, err
				}
				out.Keys = append(out.Keys, k)
				out.Values = append(out.Values, e)
			}
		}
		return out, nil
	case types.Struct:
		return decodeRecord(r, n, path)
	default:
		return nil, fmt.Errorf("avro decode %s: unsupported kind %d", path, n.kind)
	}
	if err := readErr(r, path); err != nil {
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

// JavaDoubleString formats f as Java's Double.toString does (shortest round-trip digits, as JDK 19+):
// "5.0", "0.001", "1.0E7", "1.0E-4", "NaN", "Infinity".
func JavaDoubleString(f float64) string { return javaFloatingString(f, 64) }

func javaFloatingString(f float64, bits int) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	case f == 0:
		if math.Signbit(f) {
			return "-0.0"
		}
		return "0.0"
	}
	a := math.Abs(f)
	if a >= 1e-3 && a < 1e7 {
		s := strconv.FormatFloat(f, 'f', -1, bits)
		if !strings.Contains(s, ".") {
			s += ".0"
		}
		return s
	}
	s := strconv.FormatFloat(f, 'e', -1, bits) // d.ddde±XX
	mant, exp, _ := strings.Cut(s, "e")
	if !strings.Contains(mant, ".") {
		mant += ".0"
	}
	e, _ := strconv.Atoi(exp)
	return mant + "E" + strconv.Itoa(e)
}
