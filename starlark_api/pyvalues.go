package starlark_api

import (
	"bytes"
	"fmt"
	"math/big"
	"strings"

	"go.starlark.net/starlark"

	"github.com/chronon-go/chronon/thrift/conf"
)

// Chronon's Python writes some values as Python text: customJson and dependency strings through
// json.dumps (default separators, ASCII escaping) and argMap values through str(). Reproducing those
// renderings exactly is what makes our confs byte-identical.

// jsonValue is a value that pyJSON can render: nil, bool, int64, *big.Int, float64, string, []any, *jsonObject.
type jsonObject struct {
	keys []string
	vals map[string]any
}

func newJSONObject() *jsonObject { return &jsonObject{vals: map[string]any{}} }

func (o *jsonObject) set(k string, v any) {
	if _, ok := o.vals[k]; !ok {
		o.keys = append(o.keys, k)
	}
	o.vals[k] = v
}

// pyJSON renders v like Python's json.dumps(v).
func pyJSON(v any) (string, error) {
	var b bytes.Buffer
	if err := writePyJSON(&b, v); err != nil {
		return "", err
	}
	return b.String(), nil
}

func writePyJSON(b *bytes.Buffer, v any) error {
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		if x {
			b.WriteString("true")
		} else {
			b.WriteString("false")
		}
	case int64:
		fmt.Fprintf(b, "%d", x)
	case *big.Int:
		b.WriteString(x.String())
	case float64:
		s, err := conf.PyFloat(x)
		if err != nil {
			return err
		}
		b.WriteString(s)
	case string:
		b.WriteString(jsonString(x))
	case []any:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteString(", ")
			}
			if err := writePyJSON(b, e); err != nil {
				return err
			}
		}
		b.WriteByte(']')
	case *jsonObject:
		b.WriteByte('{')
		for i, k := range x.keys {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(jsonString(k))
			b.WriteString(": ")
			if err := writePyJSON(b, x.vals[k]); err != nil {
				return err
			}
		}
		b.WriteByte('}')
	default:
		return fmt.Errorf("cannot render %T as JSON", v)
	}
	return nil
}

// jsonString quotes s as json.dumps does (ensure_ascii).
func jsonString(s string) string {
	var b bytes.Buffer
	conf.WriteJSONString(&b, s)
	return b.String()
}

// starlarkToJSON converts a Starlark value into a jsonValue (dicts keep insertion order).
func starlarkToJSON(v starlark.Value) (any, error) {
	switch x := v.(type) {
	case starlark.NoneType:
		return nil, nil
	case starlark.Bool:
		return bool(x), nil
	case starlark.Int:
		if i, ok := x.Int64(); ok {
			return i, nil
		}
		return x.BigInt(), nil
	case starlark.Float:
		return float64(x), nil
	case starlark.String:
		return string(x), nil
	case *starlark.List:
		out := make([]any, x.Len())
		for i := range out {
			e, err := starlarkToJSON(x.Index(i))
			if err != nil {
				return nil, err
			}
			out[i] = e
		}
		return out, nil
	case starlark.Tuple:
		out := make([]any, len(x))
		for i := range out {
			e, err := starlarkToJSON(x[i])
			if err != nil {
				return nil, err
			}
			out[i] = e
		}
		return out, nil
	case *starlark.Dict:
		o := newJSONObject()
		for _, item := range x.Items() {
			k, ok := item[0].(starlark.String)
			if !ok {
				return nil, fmt.Errorf("dict keys must be strings to be stored in customJson, got %s", item[0].Type())
			}
			e, err := starlarkToJSON(item[1])
			if err != nil {
				return nil, err
			}
			o.set(string(k), e)
		}
		return o, nil
	}
	return nil, fmt.Errorf("a %s cannot be stored in customJson (use strings, numbers, bools, lists and dicts)", v.Type())
}

// pyStr renders v like Python's str(v) (used for argMap values such as k and percentiles).
func pyStr(v starlark.Value) (string, error) {
	if s, ok := v.(starlark.String); ok {
		return string(s), nil
	}
	return pyRepr(v)
}

// pyRepr renders v like Python's repr(v).
func pyRepr(v starlark.Value) (string, error) {
	switch x := v.(type) {
	case starlark.NoneType:
		return "None", nil
	case starlark.Bool:
		if x {
			return "True", nil
		}
		return "False", nil
	case starlark.Int:
		return x.String(), nil
	case starlark.Float:
		return conf.PyFloat(float64(x))
	case starlark.String:
		return pyStringRepr(string(x)), nil
	case *starlark.List, starlark.Tuple:
		it := x.(starlark.Indexable)
		parts := make([]string, it.Len())
		for i := range parts {
			s, err := pyRepr(it.Index(i))
			if err != nil {
				return "", err
			}
			parts[i] = s
		}
		if _, ok := x.(starlark.Tuple); ok {
			if len(parts) == 1 {
				return "(" + parts[0] + ",)", nil
			}
			return "(" + strings.Join(parts, ", ") + ")", nil
		}
		return "[" + strings.Join(parts, ", ") + "]", nil
	case *starlark.Dict:
		var parts []string
		for _, item := range x.Items() {
			k, err := pyRepr(item[0])
			if err != nil {
				return "", err
			}
			val, err := pyRepr(item[1])
			if err != nil {
				return "", err
			}
			parts = append(parts, k+": "+val)
		}
		return "{" + strings.Join(parts, ", ") + "}", nil
	}
	return "", fmt.Errorf("cannot render a %s as a Python value", v.Type())
}

// pyStringRepr quotes s as Python's repr does: single quotes unless s contains ' and no ".
func pyStringRepr(s string) string {
	q := byte('\'')
	if strings.Contains(s, "'") && !strings.Contains(s, "\"") {
		q = '"'
	}
	var b strings.Builder
	b.WriteByte(q)
	for _, r := range s {
		switch {
		case r == rune(q) || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte(q)
	return b.String()
}
