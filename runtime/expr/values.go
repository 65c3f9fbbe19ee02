package expr

import (
	"bytes"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/chronon-go/chronon/runtime/types"
)

// Boxed values inside this package follow types.Column.Value: nil (NULL), bool, int64 (every integral
// kind, Date = days since epoch, Timestamp = microseconds since epoch), float64 (float and double),
// string, []byte, []any, *types.MapValue, types.StructValue.

// normalize converts a value handed in by a caller (row path) to the boxed form of type t, accepting
// the Go types a JSON decoder or a hand-written map would use.
func normalize(v any, t *types.Type) (any, error) {
	if v == nil {
		return nil, nil
	}
	bad := func() (any, error) { return nil, fmt.Errorf("value %v (%T) does not fit type %s", v, v, t) }
	switch t.Kind {
	case types.Boolean:
		if b, ok := v.(bool); ok {
			return b, nil
		}
		return bad()
	case types.Byte, types.Short, types.Int, types.Long:
		switch x := v.(type) {
		case int64:
			return x, nil
		case int:
			return int64(x), nil
		case int32:
			return int64(x), nil
		case int16:
			return int64(x), nil
		case int8:
			return int64(x), nil
		case float64:
			if x == math.Trunc(x) {
				return int64(x), nil
			}
		}
		return bad()
	case types.Date:
		switch x := v.(type) {
		case int64:
			return x, nil
		case int:
			return int64(x), nil
		case int32:
			return int64(x), nil
		case time.Time:
			return floorDiv(x.Unix(), 86400), nil
		case string:
			if d := castValue(x, types.StringType, types.DateType); d != nil {
				return d, nil
			}
		}
		return bad()
	case types.Timestamp:
		switch x := v.(type) {
		case int64:
			return x, nil
		case time.Time:
			return x.UnixMicro(), nil
		case string:
			if ts, ok := parseTimestamp(x); ok {
				return ts, nil
			}
		}
		return bad()
	case types.Float, types.Double:
		switch x := v.(type) {
		case float64:
			if t.Kind == types.Float {
				return float64(float32(x)), nil
			}
			return x, nil
		case float32:
			return float64(x), nil
		case int64:
			return float64(x), nil
		case int:
			return float64(x), nil
		}
		return bad()
	case types.String:
		if s, ok := v.(string); ok {
			return s, nil
		}
		return bad()
	case types.Binary:
		switch x := v.(type) {
		case []byte:
			return x, nil
		case string:
			return []byte(x), nil
		}
		return bad()
	case types.List:
		xs, ok := v.([]any)
		if !ok {
			return bad()
		}
		out := make([]any, len(xs))
		for i, x := range xs {
			n, err := normalize(x, t.Elem)
			if err != nil {
				return nil, err
			}
			out[i] = n
		}
		return out, nil
	case types.Map:
		switch m := v.(type) {
		case *types.MapValue:
			out := &types.MapValue{Keys: make([]any, len(m.Keys)), Values: make([]any, len(m.Values))}
			for i := range m.Keys {
				k, err := normalize(m.Keys[i], t.Key)
				if err != nil {
					return nil, err
				}
				val, err := normalize(m.Values[i], t.Value)
				if err != nil {
					return nil, err
				}
				out.Keys[i], out.Values[i] = k, val
			}
			return out, nil
		case map[string]any:
			out := &types.MapValue{}
			for _, k := range sortedKeys(m) {
				val, err := normalize(m[k], t.Value)
				if err != nil {
					return nil, err
				}
				kk, err := normalize(k, t.Key)
				if err != nil {
					return nil, err
				}
				out.Keys = append(out.Keys, kk)
				out.Values = append(out.Values, val)
			}
			return out, nil
		}
		return bad()
	case types.Struct:
		var xs []any
		switch s := v.(type) {
		case types.StructValue:
			xs = s
		case []any:
			xs = s
		case map[string]any:
			xs = make([]any, len(t.Fields))
			for i, f := range t.Fields {
				xs[i] = s[f.Name]
			}
		default:
			return bad()
		}
		if len(xs) != len(t.Fields) {
			return bad()
		}
		out := make(types.StructValue, len(xs))
		for i, x := range xs {
			n, err := normalize(x, t.Fields[i].Type)
			if err != nil {
				return nil, err
			}
			out[i] = n
		}
		return out, nil
	case types.Null:
		return nil, nil
	}
	return bad()
}

func sortedKeys(m map[string]any) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sortStrings(ks)
	return ks
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// compareStrings orders like Java's String.compareTo, i.e. by UTF-16 code units. That equals byte
// order except between a supplementary character (surrogate pair, 0xD800..) and U+E000..U+FFFF.
func compareStrings(a, b string) int {
	n := min(len(a), len(b))
	i := 0
	for i < n && a[i] == b[i] {
		i++
	}
	if i == n {
		return cmpInt(len(a), len(b))
	}
	for i > 0 && !utf8.RuneStart(a[i]) { // back up to the start of the differing characters
		i--
	}
	ra, _ := utf8.DecodeRuneInString(a[i:])
	rb, _ := utf8.DecodeRuneInString(b[i:])
	return cmpInt(utf16Lead(ra), utf16Lead(rb))
}

// utf16Lead maps a rune to a key that orders like its UTF-16 encoding.
func utf16Lead(r rune) int {
	if r >= 0x10000 {
		return 0xD800*0x10000 + int(r-0x10000) // sorts between U+D7FF and U+E000
	}
	if r >= 0xD800 {
		return int(r) * 0x10000 * 2 // BMP chars above the surrogates sort after every pair
	}
	return int(r)
}

func cmpInt[T int | int64](a, b T) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// compareDoubles is Spark's total order: NaN equals NaN and is greater than everything, -0.0 == 0.0.
func compareDoubles(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	case a == b:
		return 0
	}
	an, bn := math.IsNaN(a), math.IsNaN(b)
	switch {
	case an && bn:
		return 0
	case an:
		return 1
	}
	return -1
}

// compareValues orders two non-null values of type t.
func compareValues(a, b any, t *types.Type) int {
	switch t.Kind {
	case types.Boolean:
		x, y := a.(bool), b.(bool)
		if x == y {
			return 0
		}
		if !x {
			return -1
		}
		return 1
	case types.Byte, types.Short, types.Int, types.Long, types.Date, types.Timestamp:
		return cmpInt(a.(int64), b.(int64))
	case types.Float, types.Double:
		return compareDoubles(a.(float64), b.(float64))
	case types.String:
		return compareStrings(a.(string), b.(string))
	case types.Binary:
		return bytes.Compare(a.([]byte), b.([]byte))
	case types.List:
		x, y := a.([]any), b.([]any)
		for i := 0; i < len(x) && i < len(y); i++ {
			if c := compareNullable(x[i], y[i], t.Elem); c != 0 {
				return c
			}
		}
		return cmpInt(len(x), len(y))
	case types.Struct:
		x, y := a.(types.StructValue), b.(types.StructValue)
		for i := range x {
			if c := compareNullable(x[i], y[i], t.Fields[i].Type); c != 0 {
				return c
			}
		}
		return 0
	case types.Map: // maps are not orderable in Spark; equality compares entries in order
		x, y := a.(*types.MapValue), b.(*types.MapValue)
		if len(x.Keys) != len(y.Keys) {
			return cmpInt(len(x.Keys), len(y.Keys))
		}
		for i := range x.Keys {
			if c := compareNullable(x.Keys[i], y.Keys[i], t.Key); c != 0 {
				return c
			}
			if c := compareNullable(x.Values[i], y.Values[i], t.Value); c != 0 {
				return c
			}
		}
		return 0
	}
	return 0
}

// compareNullable orders nulls first, as Spark does inside arrays and structs.
func compareNullable(a, b any, t *types.Type) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return -1
	case b == nil:
		return 1
	}
	return compareValues(a, b, t)
}

// formatDouble renders like Java's Double.toString (Float.toString for bits=32): plain notation for
// 1e-3 <= |x| < 1e7 with at least one fractional digit, otherwise d.dddE±n, shortest round-trip digits.
func formatDouble(f float64, bits int) string {
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
	sign := ""
	if f < 0 {
		sign, f = "-", -f
	}
	e := strconv.FormatFloat(f, 'e', -1, bits) // d.ddde±XX
	mant, expS, _ := strings.Cut(e, "e")
	digits := strings.Replace(mant, ".", "", 1)
	exp, _ := strconv.Atoi(expS)
	if len(digits) == 1 {
		// Java picks the closest decimal of length 2 when one digit would do (4.9E-324, not 5.0E-324).
		m2, e2, _ := strings.Cut(strconv.FormatFloat(f, 'e', 1, bits), "e")
		if d2 := strings.TrimRight(strings.Replace(m2, ".", "", 1), "0"); len(d2) == 2 {
			digits = d2
			exp, _ = strconv.Atoi(e2)
		}
	}
	if f >= 1e-3 && f < 1e7 {
		if exp >= 0 {
			if len(digits) <= exp+1 {
				return sign + digits + strings.Repeat("0", exp+1-len(digits)) + ".0"
			}
			return sign + digits[:exp+1] + "." + digits[exp+1:]
		}
		return sign + "0." + strings.Repeat("0", -exp-1) + digits
	}
	frac := digits[1:]
	if frac == "" {
		frac = "0"
	}
	return sign + digits[:1] + "." + frac + "E" + strconv.Itoa(exp)
}

// floorDiv divides rounding toward negative infinity (dates before 1970 must not round up).
func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

func floorMod(a, b int64) int64 { return a - floorDiv(a, b)*b }

// formatValue renders a value of type t for humans (tests, docs): SQL literal style.
func formatValue(v any, t *types.Type) string {
	if v == nil {
		return "NULL"
	}
	switch t.Kind {
	case types.String:
		return "'" + sqlEscaper.Replace(v.(string)) + "'"
	case types.Binary:
		return fmt.Sprintf("X'%X'", v.([]byte))
	case types.Date:
		return "DATE '" + formatDate(v.(int64)) + "'"
	case types.Timestamp:
		return "TIMESTAMP '" + formatTimestamp(v.(int64)) + "'"
	case types.List:
		parts := make([]string, len(v.([]any)))
		for i, x := range v.([]any) {
			parts[i] = formatValue(x, t.Elem)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case types.Map:
		m := v.(*types.MapValue)
		parts := make([]string, len(m.Keys))
		for i := range m.Keys {
			parts[i] = formatValue(m.Keys[i], t.Key) + ": " + formatValue(m.Values[i], t.Value)
		}
		return "{" + strings.Join(parts, ", ") + "}"
	case types.Struct:
		s := v.(types.StructValue)
		parts := make([]string, len(s))
		for i := range s {
			parts[i] = t.Fields[i].Name + ": " + formatValue(s[i], t.Fields[i].Type)
		}
		return "struct{" + strings.Join(parts, ", ") + "}"
	}
	return toStringValue(v, t)
}

var sqlEscaper = strings.NewReplacer(`\`, `\\`, "'", `\'`, "\n", `\n`, "\t", `\t`, "\r", `\r`)

// FormatJavaDouble renders f as Java's Double.toString (Float.toString for bits=32) does.
func FormatJavaDouble(f float64, bits int) string { return formatDouble(f, bits) }
