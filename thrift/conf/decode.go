package conf

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/chronon-go/chronon/internal/suggest"
	"io"
	"os"
	"reflect"
	"strconv"
	"strings"
)

// Error is a malformed conf: which file, which field (a path such as joinParts[0].groupBy.keyColumns)
// and what is wrong with it.
type Error struct {
	File  string
	Field string
	Msg   string
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		b.WriteString(": ")
	}
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Unmarshal reads a Chronon JSON conf into v (a pointer to a generated struct) and returns the key
// order of every map it read. It accepts what compile.py and Chronon's runtime write (bools as 1/0 or
// true/false, enums as integers or names) and rejects unknown fields and wrong types with the field path.
func Unmarshal(data []byte, v any) (*Order, error) {
	d := decoder{dec: json.NewDecoder(bytes.NewReader(data)), order: NewOrder()}
	d.dec.UseNumber()
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Ptr || rv.IsNil() {
		return nil, fmt.Errorf("conf: Unmarshal needs a non-nil pointer, got %T", v)
	}
	if err := d.value(rv.Elem(), ""); err != nil {
		return nil, err
	}
	if _, err := d.dec.Token(); err != io.EOF {
		return nil, &Error{Msg: "unexpected data after the end of the conf"}
	}
	return d.order, nil
}

// ReadFile reads the conf at path into v; errors name the file.
func ReadFile(path string, v any) (*Order, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	o, err := Unmarshal(data, v)
	if err != nil {
		var ce *Error
		if errors.As(err, &ce) {
			ce.File = path
			return nil, ce
		}
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return o, nil
}

type decoder struct {
	dec   *json.Decoder
	order *Order
}

func (d *decoder) token(path string) (json.Token, error) {
	t, err := d.dec.Token()
	if err != nil {
		if err == io.EOF {
			return nil, &Error{Field: path, Msg: "unexpected end of the conf"}
		}
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return nil, &Error{Field: path, Msg: fmt.Sprintf("invalid JSON at byte %d: %v", se.Offset, err)}
		}
		return nil, &Error{Field: path, Msg: err.Error()}
	}
	return t, nil
}

func describe(t json.Token) string {
	switch x := t.(type) {
	case json.Delim:
		if x == '{' {
			return "an object"
		}
		if x == '[' {
			return "a list"
		}
		return string(x)
	case string:
		return fmt.Sprintf("string %q", x)
	case json.Number:
		return "number " + x.String()
	case bool:
		return strconv.FormatBool(x)
	case nil:
		return "null"
	}
	return fmt.Sprint(t)
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

func (d *decoder) value(v reflect.Value, path string) error {
	t, err := d.token(path)
	if err != nil {
		return err
	}
	if t == nil { // JSON null: leave the field unset
		v.Set(reflect.Zero(v.Type()))
		return nil
	}
	return d.valueFrom(t, v, path)
}

func (d *decoder) valueFrom(t json.Token, v reflect.Value, path string) error {
	wrong := func(want string) error {
		return &Error{Field: path, Msg: fmt.Sprintf("expected %s, got %s", want, describe(t))}
	}
	switch v.Kind() {
	case reflect.Ptr:
		nv := reflect.New(v.Type().Elem())
		if err := d.valueFrom(t, nv.Elem(), path); err != nil {
			return err
		}
		v.Set(nv)
		return nil
	case reflect.Struct:
		if t != json.Delim('{') {
			return wrong("an object")
		}
		return d.object(v, path)
	case reflect.Map:
		if t != json.Delim('{') {
			return wrong("an object")
		}
		m := reflect.MakeMap(v.Type())
		var keys []string
		for d.dec.More() {
			kt, err := d.token(path)
			if err != nil {
				return err
			}
			k := kt.(string)
			ev := reflect.New(v.Type().Elem()).Elem()
			if err := d.value(ev, path+"["+strconv.Quote(k)+"]"); err != nil {
				return err
			}
			m.SetMapIndex(reflect.ValueOf(k).Convert(v.Type().Key()), ev)
			keys = append(keys, k)
		}
		if _, err := d.token(path); err != nil {
			return err
		}
		v.Set(m)
		d.order.Set(m.Interface(), keys)
		return nil
	case reflect.Slice:
		if t != json.Delim('[') {
			return wrong("a list")
		}
		s := reflect.MakeSlice(v.Type(), 0, 4)
		for i := 0; d.dec.More(); i++ {
			ev := reflect.New(v.Type().Elem()).Elem()
			if err := d.value(ev, fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
			s = reflect.Append(s, ev)
		}
		if _, err := d.token(path); err != nil {
			return err
		}
		v.Set(s)
		return nil
	case reflect.String:
		s, ok := t.(string)
		if !ok {
			return wrong("a string")
		}
		v.SetString(s)
		return nil
	case reflect.Bool:
		switch x := t.(type) {
		case bool:
			v.SetBool(x)
			return nil
		case json.Number:
			if x == "0" || x == "1" {
				v.SetBool(x == "1")
				return nil
			}
		}
		return wrong("a boolean (1 or 0)")
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if n, ok := t.(json.Number); ok {
			i, err := strconv.ParseInt(n.String(), 10, v.Type().Bits())
			if err != nil {
				return wrong("an integer of " + strconv.Itoa(v.Type().Bits()) + " bits")
			}
			if err := checkEnum(v, i); err != nil {
				return &Error{Field: path, Msg: err.Error()}
			}
			v.SetInt(i)
			return nil
		}
		if s, ok := t.(string); ok { // an enum written by name
			if i, ok := enumByName(v.Type(), s); ok {
				v.SetInt(i)
				return nil
			}
		}
		return wrong("an integer")
	case reflect.Float32, reflect.Float64:
		n, ok := t.(json.Number)
		if !ok {
			return wrong("a number")
		}
		f, err := strconv.ParseFloat(n.String(), 64)
		if err != nil {
			return wrong("a number")
		}
		v.SetFloat(f)
		return nil
	}
	return &Error{Field: path, Msg: fmt.Sprintf("unsupported field type %s", v.Type())}
}

func (d *decoder) object(v reflect.Value, path string) error {
	fs := thriftFields(v.Type())
	for d.dec.More() {
		kt, err := d.token(path)
		if err != nil {
			return err
		}
		name := kt.(string)
		var f *field
		for i := range fs {
			if fs[i].name == name {
				f = &fs[i]
				break
			}
		}
		if f == nil {
			msg := fmt.Sprintf("unknown field %q in %s", name, v.Type().Name())
			if s := closest(name, fs); s != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", s)
			}
			return &Error{Field: path, Msg: msg}
		}
		if err := d.value(v.Field(f.index), join(path, name)); err != nil {
			return err
		}
	}
	_, err := d.token(path)
	return err
}

// enumType is implemented by generated enums (String returns "<UNSET>" for unknown values).
type enumType interface{ String() string }

func checkEnum(v reflect.Value, i int64) error {
	if _, ok := v.Interface().(enumType); !ok {
		return nil
	}
	probe := reflect.New(v.Type()).Elem()
	probe.SetInt(i)
	if probe.Interface().(enumType).String() == "<UNSET>" {
		return fmt.Errorf("%d is not a valid %s", i, v.Type().Name())
	}
	return nil
}

func enumByName(t reflect.Type, name string) (int64, bool) {
	if _, ok := reflect.Zero(t).Interface().(enumType); !ok {
		return 0, false
	}
	probe := reflect.New(t).Elem()
	for i := int64(0); i < 64; i++ {
		probe.SetInt(i)
		if probe.Interface().(enumType).String() == name {
			return i, true
		}
	}
	return 0, false
}

func closest(name string, fs []field) string {
	best, bestD := "", 3
	for _, f := range fs {
		if d := suggest.Distance(strings.ToLower(name), strings.ToLower(f.name)); d < bestD {
			best, bestD = f.name, d
		}
	}
	return best
}
