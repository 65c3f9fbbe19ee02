package online

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"

	"github.com/chronon-go/chronon/runtime/types"
	"github.com/chronon-go/chronon/thrift/api"
	"github.com/chronon-go/chronon/thrift/conf"
)

// TestAvroDataDriven runs testdata/avro/*.txt. Commands:
//
//	schema name=<record> [compact]   input: "field: type" lines → schema JSON (pretty unless compact)
//	encode name=<record> [key]       input: fields, "--", one JSON row per line → hex bytes, the
//	                                 decoded row and its Avro JSON ("key": fetch-time casts)
//	decode name=<record>             input: fields, "--", one hex string per line → row
//	parse                            input: schema JSON → fields and the re-rendered JSON
//	logging join=<name>              input: "key:" fields, "value:" fields → logging schema, hash
//	serving-info conf=<path> end=<ds> input: selected fields [, "--", streaming input fields]
//
// Rows are JSON: strings, integers (int64), other numbers (float64), booleans, null, arrays
// (lists and structs), objects (maps, entry order kept); a string in a bytes position is hex.
// Printed values: ints plain, floats always with '.', 'e' or a name, bytes x'..', structs (..).
// Rewrite expectations with `go test ./runtime/online -run TestAvroDataDriven -rewrite`.
func TestAvroDataDriven(t *testing.T) {
	files, err := filepath.Glob("testdata/avro/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			datadriven.RunTest(t, f, func(t *testing.T, d *datadriven.TestData) string {
				out, err := avroDispatch(t, d)
				if err != nil {
					return out + "error: " + err.Error() + "\n"
				}
				return out
			})
		})
	}
}

func avroDispatch(t *testing.T, d *datadriven.TestData) (string, error) {
	arg := func(k string) string {
		for _, a := range d.CmdArgs {
			if a.Key == k && len(a.Vals) > 0 {
				return a.Vals[0]
			}
		}
		return ""
	}
	head, tail, _ := strings.Cut(d.Input, "\n--\n")
	if strings.HasSuffix(d.Input, "\n--") {
		head, tail = strings.TrimSuffix(d.Input, "\n--"), ""
	}
	switch d.Cmd {
	case "schema":
		fields, err := parseFields(head)
		if err != nil {
			return "", err
		}
		s, err := NewAvroSchema(arg("name"), fields)
		if err != nil {
			return "", err
		}
		p, err := ParseAvroSchema(s.String())
		if err != nil {
			return "", fmt.Errorf("re-parse: %w", err)
		}
		if p.String() != s.String() || p.Compact() != s.Compact() {
			return "", fmt.Errorf("re-parsed schema renders differently:\n%s", p.String())
		}
		if d.HasArg("compact") {
			return s.Compact() + "\n", nil
		}
		return s.String() + "\n", nil
	case "encode", "decode":
		fields, err := parseFields(head)
		if err != nil {
			return "", err
		}
		s, err := NewAvroSchema(arg("name"), fields)
		if err != nil {
			return "", err
		}
		var sb strings.Builder
		for _, line := range nonEmpty(tail) {
			if d.Cmd == "decode" {
				b, err := hex.DecodeString(strings.ReplaceAll(line, " ", ""))
				if err != nil {
					return sb.String(), err
				}
				row, err := s.Decode(b)
				if err != nil {
					fmt.Fprintf(&sb, "%s → error: %v\n", line, err)
					continue
				}
				fmt.Fprintf(&sb, "%s → %s\n", line, fmtValue(types.StructValue(row)))
				continue
			}
			v, err := parseValue(line)
			if err != nil {
				return sb.String(), fmt.Errorf("row %s: %w", line, err)
			}
			row, ok := v.([]any)
			if !ok {
				return sb.String(), fmt.Errorf("row %s: not an array", line)
			}
			row = coerceRow(s.root, row)
			var b []byte
			if d.HasArg("key") {
				b, err = s.EncodeKey(row)
			} else {
				b, err = s.Encode(row)
			}
			if err != nil {
				fmt.Fprintf(&sb, "%s\n  error: %v\n", line, err)
				continue
			}
			fmt.Fprintf(&sb, "%s\n  hex: %s\n", line, spacedHex(b))
			back, err := s.Decode(b)
			if err != nil {
				fmt.Fprintf(&sb, "  decode error: %v\n", err)
				continue
			}
			fmt.Fprintf(&sb, "  decoded: %s\n", fmtValue(types.StructValue(back)))
			js, err := s.EncodeJSON(back)
			if err != nil {
				return sb.String(), err
			}
			fmt.Fprintf(&sb, "  json: %s\n", js)
		}
		return sb.String(), nil
	case "parse":
		s, err := ParseAvroSchema(d.Input)
		if err != nil {
			return "", err
		}
		var sb strings.Builder
		fmt.Fprintf(&sb, "record %s\n", s.Name())
		for _, f := range s.Fields() {
			fmt.Fprintf(&sb, "%s: %s\n", f.Name, f.Type)
		}
		for _, f := range s.CleanFields() {
			fmt.Fprintf(&sb, "clean %s: %s\n", f.Name, f.Type)
		}
		sb.WriteString(s.String() + "\n")
		return sb.String(), nil
	case "logging":
		_, k, _ := strings.Cut(d.Input, "key:\n")
		k, v, _ := strings.Cut(k+"\n", "value:\n")
		kf, err := parseFields(k)
		if err != nil {
			return "", err
		}
		vf, err := parseFields(v)
		if err != nil {
			return "", err
		}
		ls, err := NewLoggingSchemas(arg("join"), kf, vf)
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("hash: %s\nschema: %s\n", ls.Hash, ls.LoggingSchema), nil
	case "serving-info":
		return servingInfoCmd(arg("conf"), arg("end"), head, tail)
	}
	return "", fmt.Errorf("unknown command %q", d.Cmd)
}

func servingInfoCmd(path, end, selected, stream string) (string, error) {
	gb := api.NewGroupBy()
	o, err := conf.ReadFile(filepath.Join("..", "..", path), gb)
	if err != nil {
		return "", err
	}
	sel, err := parseFields(selected)
	if err != nil {
		return "", err
	}
	var in types.Schema
	if strings.TrimSpace(stream) != "" {
		if in, err = parseFields(stream); err != nil {
			return "", err
		}
	}
	si, err := BuildServingInfo(gb, sel, end, in)
	if err != nil {
		return "", err
	}
	js, err := si.MarshalCompact(o)
	if err != nil {
		return "", err
	}
	back, o2, err := UnmarshalServingInfo(js)
	if err != nil {
		return "", fmt.Errorf("re-read: %w", err)
	}
	js2, err := back.MarshalCompact(o2)
	if err != nil || !bytes.Equal(js, js2) {
		return "", fmt.Errorf("serving info does not round-trip (%v):\n%s\n%s", err, js, js2)
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "batchEndDate: %s\nbatchEndTsMillis: %d\n", back.Info.GetBatchEndDate(), back.BatchEndTsMillis)
	fmt.Fprintf(&sb, "key: %s\n", fmtSchema(back.KeySchema()))
	fmt.Fprintf(&sb, "selected: %s\n", fmtSchema(back.SelectedSchema()))
	if back.Input != nil {
		fmt.Fprintf(&sb, "input: %s\n", fmtSchema(back.Input.Fields()))
	}
	if len(back.Info.GetGroupBy().Aggregations) > 0 {
		sv, err := back.StreamValueSchema()
		if err != nil {
			return sb.String(), err
		}
		mv, err := back.MutationValueSchema()
		if err != nil {
			return sb.String(), err
		}
		fmt.Fprintf(&sb, "stream value: %s\nmutation value: %s\n", sv.Compact(), mv.Compact())
	}
	fmt.Fprintf(&sb, "json: %s\n", js)
	return sb.String(), nil
}

func fmtSchema(s types.Schema) string {
	parts := make([]string, len(s))
	for i, f := range s {
		parts[i] = f.Name + ":" + f.Type.String()
	}
	return strings.Join(parts, ", ")
}

func nonEmpty(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return out
}

// parseFields reads "name: type" lines (the type in ParseType's spelling).
func parseFields(s string) (types.Schema, error) {
	var out types.Schema
	for _, l := range nonEmpty(s) {
		name, typ, ok := strings.Cut(l, ": ")
		if !ok {
			return nil, fmt.Errorf("field line %q: want \"name: type\"", l)
		}
		t, err := types.ParseType(typ)
		if err != nil {
			return nil, err
		}
		out = append(out, types.Field{Name: name, Type: t})
	}
	return out, nil
}

// parseValue reads one JSON value keeping object entry order.
func parseValue(s string) (any, error) {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	v, err := readJSON(dec)
	if err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, fmt.Errorf("trailing data")
	}
	return v, nil
}

func readJSON(dec *json.Decoder) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch x := tok.(type) {
	case json.Delim:
		switch x {
		case '[':
			out := []any{}
			for dec.More() {
				v, err := readJSON(dec)
				if err != nil {
					return nil, err
				}
				out = append(out, v)
			}
			_, err := dec.Token()
			return out, err
		case '{':
			m := &types.MapValue{Keys: []any{}, Values: []any{}}
			for dec.More() {
				k, err := dec.Token()
				if err != nil {
					return nil, err
				}
				v, err := readJSON(dec)
				if err != nil {
					return nil, err
				}
				m.Keys = append(m.Keys, k)
				m.Values = append(m.Values, v)
			}
			_, err := dec.Token()
			return m, err
		}
	case json.Number:
		if i, err := strconv.ParseInt(string(x), 10, 64); err == nil {
			return i, nil
		}
		return strconv.ParseFloat(string(x), 64)
	}
	return tok, nil
}

// coerceRow turns hex strings in bytes positions into []byte (JSON has no bytes).
func coerceRow(n *avroNode, row []any) []any {
	out := make([]any, len(row))
	for i, v := range row {
		if i < len(n.fields) {
			out[i] = coerce(n.fields[i].node, v)
		} else {
			out[i] = v
		}
	}
	return out
}

func coerce(n *avroNode, v any) any {
	switch x := v.(type) {
	case string:
		if n.kind == types.Binary {
			if b, err := hex.DecodeString(x); err == nil {
				return b
			}
		}
	case []any:
		if n.kind == types.List {
			out := make([]any, len(x))
			for i, e := range x {
				out[i] = coerce(n.items, e)
			}
			return out
		}
		if n.kind == types.Struct {
			return types.StructValue(coerceRow(n, x))
		}
	case *types.MapValue:
		if n.kind == types.Map {
			out := &types.MapValue{Keys: x.Keys, Values: make([]any, len(x.Values))}
			for i, e := range x.Values {
				out.Values[i] = coerce(n.items, e)
			}
			return out
		}
	}
	return v
}

func spacedHex(b []byte) string {
	parts := make([]string, len(b))
	for i, c := range b {
		parts[i] = fmt.Sprintf("%02x", c)
	}
	return strings.Join(parts, " ")
}

func fmtValue(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		return strconv.Quote(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		s := strconv.FormatFloat(x, 'g', -1, 64)
		if !strings.ContainsAny(s, ".eIN") {
			s += ".0"
		}
		return s
	case bool:
		return strconv.FormatBool(x)
	case []byte:
		return "x'" + hex.EncodeToString(x) + "'"
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = fmtValue(e)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case types.StructValue:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = fmtValue(e)
		}
		return "(" + strings.Join(parts, ", ") + ")"
	case *types.MapValue:
		parts := make([]string, len(x.Keys))
		for i := range x.Keys {
			parts[i] = fmtValue(x.Keys[i]) + ": " + fmtValue(x.Values[i])
		}
		return "{" + strings.Join(parts, ", ") + "}"
	}
	return fmt.Sprintf("%T(%v)", v, v)
}

var _ = math.Inf
var _ = sort.Strings
var _ = os.Getenv
