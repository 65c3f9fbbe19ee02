package conf

import (
	"bytes"
	"fmt"
	"math"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"
	"unicode/utf16"
	"unicode/utf8"
)

// Marshal writes v (a pointer to a generated struct) as compile.py does: fields in field-id order,
// unset fields omitted, bools as 1/0, enums as integers, two-space indentation, json.dumps' separators
// and ASCII escaping, and no trailing newline (spec §1.5).
func Marshal(v any, o *Order) ([]byte, error) {
	e := encoder{order: o, indent: "  "}
	if err := e.value(reflect.ValueOf(v), 0); err != nil {
		return nil, err
	}
	return e.buf.Bytes(), nil
}

// MarshalCompact writes v on one line with no spaces, as Chronon's runtime does for metadata upload
// and GroupByServingInfo (same field order, bools as 1/0).
func MarshalCompact(v any, o *Order) ([]byte, error) {
	e := encoder{order: o}
	if err := e.value(reflect.ValueOf(v), 0); err != nil {
		return nil, err
	}
	return e.buf.Bytes(), nil
}

type encoder struct {
	buf    bytes.Buffer
	order  *Order
	indent string // "" means compact
}

func (e *encoder) newline(depth int) {
	if e.indent == "" {
		return
	}
	e.buf.WriteByte('\n')
	for i := 0; i < depth; i++ {
		e.buf.WriteString(e.indent)
	}
}

func (e *encoder) sep() {
	if e.indent == "" {
		e.buf.WriteByte(',')
	} else {
		e.buf.WriteString(",")
	}
}

func (e *encoder) colon() {
	if e.indent == "" {
		e.buf.WriteByte(':')
	} else {
		e.buf.WriteString(": ")
	}
}

// field describes one Thrift field of a generated struct.
type field struct {
	index int
	name  string
	id    int
}

var fieldCache sync.Map // reflect.Type → []field

// thriftFields lists t's Thrift fields in field-id order, read from the generated `thrift:"name,id"` tags.
func thriftFields(t reflect.Type) []field {
	if fs, ok := fieldCache.Load(t); ok {
		return fs.([]field)
	}
	var fs []field
	for i := 0; i < t.NumField(); i++ {
		tag := t.Field(i).Tag.Get("thrift")
		if tag == "" {
			continue
		}
		parts := strings.Split(tag, ",")
		id, err := strconv.Atoi(parts[1])
		if err != nil {
			panic(fmt.Sprintf("conf: bad thrift tag %q on %s", tag, t))
		}
		fs = append(fs, field{index: i, name: parts[0], id: id})
	}
	sort.Slice(fs, func(a, b int) bool { return fs[a].id < fs[b].id })
	fieldCache.Store(t, fs)
	return fs
}

func isUnset(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Ptr, reflect.Map, reflect.Slice, reflect.Interface:
		return v.IsNil()
	}
	return false
}

func (e *encoder) value(v reflect.Value, depth int) error {
	switch v.Kind() {
	case reflect.Ptr:
		if v.IsNil() {
			e.buf.WriteString("null")
			return nil
		}
		return e.value(v.Elem(), depth)
	case reflect.Struct:
		return e.object(v, depth)
	case reflect.Map:
		return e.mapValue(v, depth)
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return fmt.Errorf("conf: binary fields are not supported in JSON confs")
		}
		if v.Len() == 0 {
			e.buf.WriteString("[]")
			return nil
		}
		e.buf.WriteByte('[')
		for i := 0; i < v.Len(); i++ {
			if i > 0 {
				e.sep()
			}
			e.newline(depth + 1)
			if err := e.value(v.Index(i), depth+1); err != nil {
				return err
			}
		}
		e.newline(depth)
		e.buf.WriteByte(']')
	case reflect.String:
		writeString(&e.buf, v.String())
	case reflect.Bool:
		if v.Bool() {
			e.buf.WriteByte('1')
		} else {
			e.buf.WriteByte('0')
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		e.buf.WriteString(strconv.FormatInt(v.Int(), 10))
	case reflect.Float32, reflect.Float64:
		s, err := PyFloat(v.Float())
		if err != nil {
			return err
		}
		e.buf.WriteString(s)
	default:
		return fmt.Errorf("conf: cannot encode %s", v.Type())
	}
	return nil
}

func (e *encoder) object(v reflect.Value, depth int) error {
	fs := thriftFields(v.Type())
	n := 0
	for _, f := range fs {
		fv := v.Field(f.index)
		if isUnset(fv) {
			continue
		}
		if n == 0 {
			e.buf.WriteByte('{')
		} else {
			e.sep()
		}
		n++
		e.newline(depth + 1)
		writeString(&e.buf, f.name)
		e.colon()
		if err := e.value(fv, depth+1); err != nil {
			return fmt.Errorf("%s: %w", f.name, err)
		}
	}
	if n == 0 {
		e.buf.WriteString("{}")
		return nil
	}
	e.newline(depth)
	e.buf.WriteByte('}')
	return nil
}

func (e *encoder) mapValue(v reflect.Value, depth int) error {
	if v.Type().Key().Kind() != reflect.String {
		return fmt.Errorf("conf: map keys must be strings, got %s", v.Type().Key())
	}
	keys := e.order.keysOf(v)
	if len(keys) == 0 {
		e.buf.WriteString("{}")
		return nil
	}
	e.buf.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			e.sep()
		}
		e.newline(depth + 1)
		writeString(&e.buf, k)
		e.colon()
		if err := e.value(v.MapIndex(reflect.ValueOf(k).Convert(v.Type().Key())), depth+1); err != nil {
			return err
		}
	}
	e.newline(depth)
	e.buf.WriteByte('}')
	return nil
}

// WriteJSONString writes s as a JSON string exactly as Python's json.dumps does (see writeString).
func WriteJSONString(b *bytes.Buffer, s string) { writeString(b, s) }

// writeString writes s as Python's json.dumps does with ensure_ascii=True: every non-ASCII character
// as \uXXXX (UTF-16 surrogate pairs above the BMP), control characters escaped, '/' left alone.
func writeString(b *bytes.Buffer, s string) {
	const hex = "0123456789abcdef"
	b.WriteByte('"')
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\b':
			b.WriteString(`\b`)
		case r == '\f':
			b.WriteString(`\f`)
		case r < 0x20 || r == 0x7f:
			b.WriteString(`\u00`)
			b.WriteByte(hex[r>>4])
			b.WriteByte(hex[r&0xf])
		case r < 0x80:
			b.WriteByte(byte(r))
		default:
			if r == utf8.RuneError && size == 1 {
				r = 0xfffd
			}
			units := []uint16{uint16(r)}
			if r > 0xffff {
				a, c := utf16.EncodeRune(r)
				units = []uint16{uint16(a), uint16(c)}
			}
			for _, u := range units {
				b.WriteString(`\u`)
				b.WriteByte(hex[u>>12&0xf])
				b.WriteByte(hex[u>>8&0xf])
				b.WriteByte(hex[u>>4&0xf])
				b.WriteByte(hex[u&0xf])
			}
		}
	}
	b.WriteByte('"')
}

// PyFloat formats f like Python's repr(float): the shortest digits that round-trip, fixed notation
// with a trailing ".0" for exponents in [-4, 16), otherwise scientific with a signed two-digit exponent.
func PyFloat(f float64) (string, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return "", fmt.Errorf("conf: %v cannot be written to a conf", f)
	}
	if f == 0 {
		if math.Signbit(f) {
			return "-0.0", nil
		}
		return "0.0", nil
	}
	sci := strconv.FormatFloat(f, 'e', -1, 64) // e.g. -1.2345e+06
	mant, expPart, _ := strings.Cut(sci, "e")
	exp, _ := strconv.Atoi(expPart)
	neg := strings.HasPrefix(mant, "-")
	mant = strings.TrimPrefix(mant, "-")
	digits := strings.Replace(mant, ".", "", 1)
	sign := ""
	if neg {
		sign = "-"
	}
	if exp < -4 || exp >= 16 {
		m := digits[:1]
		if len(digits) > 1 {
			m += "." + digits[1:]
		}
		es := "+"
		if exp < 0 {
			es = "-"
			exp = -exp
		}
		return fmt.Sprintf("%s%se%s%02d", sign, m, es, exp), nil
	}
	var s string
	switch {
	case exp < 0:
		s = "0." + strings.Repeat("0", -exp-1) + digits
	case exp+1 >= len(digits):
		s = digits + strings.Repeat("0", exp+1-len(digits)) + ".0"
	default:
		s = digits[:exp+1] + "." + digits[exp+1:]
	}
	return sign + s, nil
}
