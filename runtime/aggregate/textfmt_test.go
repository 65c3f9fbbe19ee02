package aggregate

import (
	"encoding/hex"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/chronon-go/chronon/runtime/types"
	"github.com/chronon-go/chronon/thrift/api"
)

// Text formats of the datadriven files in testdata/ (see testdata/README.md).

// splitTop splits s on sep outside brackets and quotes.
func splitTop(s string, sep func(rune) bool) []string {
	var out []string
	depth := 0
	quote := false
	start := 0
	flush := func(i int) {
		if part := strings.TrimSpace(s[start:i]); part != "" {
			out = append(out, part)
		}
	}
	for i, r := range s {
		switch {
		case r == '"':
			quote = !quote
		case quote:
		case r == '[' || r == '{' || r == '(' || r == '<':
			depth++
		case r == ']' || r == '}' || r == ')' || r == '>':
			depth--
		case depth == 0 && sep(r):
			flush(i)
			start = i + 1
		}
	}
	flush(len(s))
	return out
}

func isSpace(r rune) bool { return r == ' ' || r == '\t' }
func isComma(r rune) bool { return r == ',' }

var tsLayouts = []string{"2006-01-02T15:04:05.000", "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02"}

// parseTs reads epoch millis or a UTC time like 2023-11-01T05:00.
func parseTs(s string) (int64, error) {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n, nil
	}
	for _, l := range tsLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UnixMilli(), nil
		}
	}
	return 0, fmt.Errorf("bad time %q", s)
}

func fmtTs(ms int64) string {
	t := time.UnixMilli(ms).UTC()
	if ms%1000 != 0 {
		return t.Format("2006-01-02T15:04:05.000")
	}
	return t.Format("2006-01-02T15:04:05")
}

// parseValue reads a value of type t: null, numbers, "quoted" or bare strings, true/false,
// [a, b] lists, {k: v} maps, 0xhex binary.
func parseValue(s string, t *types.Type) (any, error) {
	s = strings.TrimSpace(s)
	if s == "null" {
		return nil, nil
	}
	switch t.Kind {
	case types.Byte, types.Short, types.Int, types.Long:
		return strconv.ParseInt(s, 10, 64)
	case types.Float:
		f, err := strconv.ParseFloat(s, 32)
		return float64(float32(f)), err
	case types.Double:
		return strconv.ParseFloat(s, 64)
	case types.Boolean:
		return strconv.ParseBool(s)
	case types.String:
		if strings.HasPrefix(s, `"`) {
			return strconv.Unquote(s)
		}
		return s, nil
	case types.Binary:
		return hex.DecodeString(strings.TrimPrefix(s, "0x"))
	case types.List:
		if !strings.HasPrefix(s, "[") || !strings.HasSuffix(s, "]") {
			return nil, fmt.Errorf("bad list %q", s)
		}
		out := []any{}
		for _, e := range splitTop(s[1:len(s)-1], isComma) {
			v, err := parseValue(e, t.Elem)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	case types.Map:
		if !strings.HasPrefix(s, "{") || !strings.HasSuffix(s, "}") {
			return nil, fmt.Errorf("bad map %q", s)
		}
		mv := &types.MapValue{}
		for _, e := range splitTop(s[1:len(s)-1], isComma) {
			k, v, ok := strings.Cut(e, ":")
			if !ok {
				return nil, fmt.Errorf("bad map entry %q", e)
			}
			kv, err := parseValue(k, t.Key)
			if err != nil {
				return nil, err
			}
			vv, err := parseValue(v, t.Value)
			if err != nil {
				return nil, err
			}
			mv.Keys = append(mv.Keys, kv)
			mv.Values = append(mv.Values, vv)
		}
		return mv, nil
	}
	return nil, fmt.Errorf("cannot parse values of type %s", t)
}

// fmtValue renders a boxed value compactly and deterministically.
func fmtValue(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1e15 {
			return strconv.FormatFloat(x, 'f', 1, 64)
		}
		return strconv.FormatFloat(x, 'g', 10, 64)
	case string:
		return strconv.Quote(x)
	case bool:
		return strconv.FormatBool(x)
	case []byte:
		if len(x) > 16 {
			return fmt.Sprintf("<%d bytes>", len(x))
		}
		return "0x" + hex.EncodeToString(x)
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = fmtValue(e)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case *types.MapValue:
		parts := make([]string, len(x.Keys))
		for i := range x.Keys {
			parts[i] = fmtValue(x.Keys[i]) + ": " + fmtValue(x.Values[i])
		}
		return "{" + strings.Join(parts, ", ") + "}"
	case types.StructValue:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = fmtValue(e)
		}
		return "(" + strings.Join(parts, ", ") + ")"
	}
	return fmt.Sprintf("%v", v)
}

var opNames = func() map[string]api.Operation {
	m := map[string]api.Operation{}
	for op := api.Operation_MIN; op <= api.Operation_BOUNDED_UNIQUE_COUNT; op++ {
		m[op.String()] = op
	}
	return m
}()

// parseWindow reads 3d / 12h.
func parseWindow(s string) (*api.Window, error) {
	if len(s) < 2 {
		return nil, fmt.Errorf("bad window %q", s)
	}
	n, err := strconv.Atoi(s[:len(s)-1])
	if err != nil {
		return nil, fmt.Errorf("bad window %q", s)
	}
	w := &api.Window{Length: int32(n), TimeUnit: api.TimeUnit_DAYS}
	switch s[len(s)-1] {
	case 'd':
	case 'h':
		w.TimeUnit = api.TimeUnit_HOURS
	default:
		return nil, fmt.Errorf("bad window unit in %q", s)
	}
	return w, nil
}

// parseAgg reads `OP(column) [windows=3d,12h] [buckets=b] [element_wise] [arg=value ...]`.
func parseAgg(line string) (*api.Aggregation, error) {
	toks := splitTop(line, isSpace)
	head := toks[0]
	open := strings.Index(head, "(")
	if open < 0 || !strings.HasSuffix(head, ")") {
		return nil, fmt.Errorf("want OP(column), got %q", head)
	}
	op, ok := opNames[head[:open]]
	if !ok {
		return nil, fmt.Errorf("unknown operation %q", head[:open])
	}
	col := head[open+1 : len(head)-1]
	a := &api.Aggregation{InputColumn: &col, Operation: &op, ArgMap: map[string]string{}}
	for _, t := range toks[1:] {
		k, v, _ := strings.Cut(t, "=")
		switch k {
		case "windows":
			for _, ws := range strings.Split(v, ",") {
				w, err := parseWindow(ws)
				if err != nil {
					return nil, err
				}
				a.Windows = append(a.Windows, w)
			}
		case "buckets":
			a.Buckets = strings.Split(v, ",")
		case "element_wise":
			ew := true
			a.ElementWise = &ew
		default:
			a.ArgMap[k] = v
		}
	}
	return a, nil
}

// parseSchema reads `name:type name:type ...`.
func parseSchema(line string) (types.Schema, error) {
	var s types.Schema
	for _, f := range splitTop(line, isSpace) {
		name, ts, ok := strings.Cut(f, ":")
		if !ok {
			return nil, fmt.Errorf("want name:type, got %q", f)
		}
		t, err := types.ParseType(ts)
		if err != nil {
			return nil, err
		}
		s = append(s, types.Field{Name: name, Type: t})
	}
	return s, nil
}

// parseEvents reads `<time> col=value ...` lines (columns not given are null) into a batch in line
// order (= scan order) with their times.
func parseEvents(schema types.Schema, lines []string) (*types.Batch, []int64, error) {
	b := types.NewBatch(schema, len(lines))
	var ts []int64
	for _, line := range lines {
		toks := splitTop(line, isSpace)
		t, err := parseTs(toks[0])
		if err != nil {
			return nil, nil, err
		}
		ts = append(ts, t)
		vals := make([]any, len(schema))
		for _, tok := range toks[1:] {
			k, v, ok := strings.Cut(tok, "=")
			i := schema.Index(k)
			if !ok || i < 0 {
				return nil, nil, fmt.Errorf("bad field %q in %q", tok, line)
			}
			if vals[i], err = parseValue(v, schema[i].Type); err != nil {
				return nil, nil, fmt.Errorf("%q: %v", line, err)
			}
		}
		for i, v := range vals {
			b.Cols[i].Append(v)
		}
	}
	return b, ts, nil
}

func nonEmptyLines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return out
}

// fmtRows renders one block per query: the time, then `column = value` lines.
func fmtRows(names []string, qs []int64, out *types.Batch) string {
	var sb strings.Builder
	for r, q := range qs {
		fmt.Fprintf(&sb, "at %s\n", fmtTs(q))
		for c, n := range names {
			fmt.Fprintf(&sb, "  %s = %s\n", n, fmtValue(out.Cols[c].Value(r)))
		}
	}
	return sb.String()
}

func sortedCopy(xs []int64) []int64 {
	c := slices.Clone(xs)
	slices.Sort(c)
	return c
}
