package expr

import (
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/chronon-go/chronon/runtime/types"
)

// canCast reports whether CAST(from AS to) is allowed (Spark's Cast.canCast, non-ANSI).
func canCast(from, to *types.Type) bool {
	if from.Kind == types.Null || from.Equal(to) {
		return true
	}
	fk, tk := from.Kind, to.Kind
	switch tk {
	case types.String:
		return true // every type renders as a string
	case types.Boolean:
		return from.IsNumeric() || fk == types.String || fk == types.Date || fk == types.Timestamp
	case types.Byte, types.Short, types.Int, types.Long, types.Float, types.Double:
		return from.IsNumeric() || fk == types.String || fk == types.Boolean || fk == types.Date || fk == types.Timestamp
	case types.Binary:
		return fk == types.String || from.IsIntegral()
	case types.Date:
		return fk == types.String || fk == types.Timestamp
	case types.Timestamp:
		return fk == types.String || fk == types.Date || from.IsNumeric() || fk == types.Boolean
	case types.List:
		return fk == types.List && canCast(from.Elem, to.Elem)
	case types.Map:
		return fk == types.Map && canCast(from.Key, to.Key) && canCast(from.Value, to.Value)
	case types.Struct:
		if fk != types.Struct || len(from.Fields) != len(to.Fields) {
			return false
		}
		for i := range from.Fields {
			if !canCast(from.Fields[i].Type, to.Fields[i].Type) {
				return false
			}
		}
		return true
	}
	return false
}

// castValue converts a non-boxed-null value; it returns nil where Spark's non-ANSI cast yields NULL.
func castValue(v any, from, to *types.Type) any {
	if v == nil {
		return nil
	}
	if from.Kind == to.Kind && from.Kind != types.List && from.Kind != types.Map && from.Kind != types.Struct {
		return v
	}
	switch to.Kind {
	case types.String:
		return toStringValue(v, from)
	case types.Boolean:
		switch from.Kind {
		case types.Byte, types.Short, types.Int, types.Long:
			return v.(int64) != 0
		case types.Float, types.Double:
			return v.(float64) != 0
		case types.String:
			return parseBool(v.(string))
		case types.Timestamp:
			return v.(int64) != 0
		case types.Date:
			return nil // Spark: date to boolean is always null
		}
	case types.Byte, types.Short, types.Int, types.Long:
		var n int64
		switch from.Kind {
		case types.Boolean:
			if v.(bool) {
				n = 1
			}
		case types.Byte, types.Short, types.Int, types.Long:
			n = v.(int64)
		case types.Float, types.Double:
			f := v.(float64)
			// Java's narrowing: truncate, saturate at the int/long range, NaN becomes 0; narrower
			// types go through int and then wrap.
			if to.Kind == types.Long {
				n = f2l(f)
			} else {
				n = f2i(f)
			}
		case types.String:
			x, ok := parseIntegral(v.(string), to.Kind)
			if !ok {
				return nil
			}
			return x
		case types.Timestamp:
			n = floorDiv(v.(int64), 1_000_000)
			if to.Kind != types.Long {
				n = int64(int32(n))
			}
		case types.Date:
			return nil // Spark: date to number is always null
		default:
			return nil
		}
		return wrapInt(n, to.Kind)
	case types.Float, types.Double:
		var f float64
		switch from.Kind {
		case types.Boolean:
			if v.(bool) {
				f = 1
			}
		case types.Byte, types.Short, types.Int, types.Long:
			if to.Kind == types.Float {
				return float64(float32(v.(int64))) // one rounding, like Java's (float) long
			}
			f = float64(v.(int64))
		case types.Float, types.Double:
			f = v.(float64)
		case types.String:
			bits := 64
			if to.Kind == types.Float {
				bits = 32 // Float.parseFloat rounds once, straight from the decimal
			}
			x, ok := parseFloatBits(v.(string), bits)
			if !ok {
				return nil
			}
			f = x
		case types.Timestamp:
			f = float64(v.(int64)) / 1e6
		case types.Date:
			return nil
		default:
			return nil
		}
		if to.Kind == types.Float {
			f = float64(float32(f))
		}
		return f
	case types.Binary:
		switch from.Kind {
		case types.String:
			return []byte(v.(string))
		case types.Byte:
			return []byte{byte(v.(int64))}
		case types.Short:
			x := v.(int64)
			return []byte{byte(x >> 8), byte(x)}
		case types.Int:
			x := v.(int64)
			return []byte{byte(x >> 24), byte(x >> 16), byte(x >> 8), byte(x)}
		case types.Long:
			x := uint64(v.(int64))
			b := make([]byte, 8)
			for i := range b {
				b[i] = byte(x >> (56 - 8*i))
			}
			return b
		}
	case types.Date:
		switch from.Kind {
		case types.String:
			d, ok := parseDate(v.(string))
			if !ok {
				return nil
			}
			return d
		case types.Timestamp:
			return floorDiv(v.(int64), 86_400_000_000)
		}
	case types.Timestamp:
		switch from.Kind {
		case types.String:
			ts, ok := parseTimestamp(v.(string))
			if !ok {
				return nil
			}
			return ts
		case types.Date:
			return v.(int64) * 86_400_000_000
		case types.Boolean:
			if v.(bool) {
				return int64(1)
			}
			return int64(0)
		case types.Byte, types.Short, types.Int, types.Long:
			return v.(int64) * 1_000_000 // seconds; wraps like Java on overflow
		case types.Float, types.Double:
			f := v.(float64)
			if math.IsNaN(f) || math.IsInf(f, 0) {
				return nil
			}
			return f2l(f * 1e6)
		}
	case types.List:
		xs := v.([]any)
		out := make([]any, len(xs))
		for i, x := range xs {
			out[i] = castValue(x, from.Elem, to.Elem)
		}
		return out
	case types.Map:
		m := v.(*types.MapValue)
		out := &types.MapValue{Keys: make([]any, len(m.Keys)), Values: make([]any, len(m.Values))}
		for i := range m.Keys {
			out.Keys[i] = castValue(m.Keys[i], from.Key, to.Key)
			out.Values[i] = castValue(m.Values[i], from.Value, to.Value)
		}
		return out
	case types.Struct:
		s := v.(types.StructValue)
		out := make(types.StructValue, len(s))
		for i := range s {
			out[i] = castValue(s[i], from.Fields[i].Type, to.Fields[i].Type)
		}
		return out
	}
	return nil
}

// f2l and f2i are Java's (long)/(int) conversions of a double.
func f2l(f float64) int64 {
	switch {
	case math.IsNaN(f):
		return 0
	case f >= 9.223372036854775807e18:
		return math.MaxInt64
	case f <= -9.223372036854775808e18:
		return math.MinInt64
	}
	return int64(f)
}

func f2i(f float64) int64 {
	switch {
	case math.IsNaN(f):
		return 0
	case f >= math.MaxInt32:
		return math.MaxInt32
	case f <= math.MinInt32:
		return math.MinInt32
	}
	return int64(f)
}

// wrapInt truncates n to the width of kind k, like Java's narrowing conversions.
func wrapInt(n int64, k types.Kind) int64 {
	switch k {
	case types.Byte:
		return int64(int8(n))
	case types.Short:
		return int64(int16(n))
	case types.Int:
		return int64(int32(n))
	}
	return n
}

// parseIntegral reads an integer as Spark's UTF8String.toLong/toInt does: surrounding whitespace is
// ignored, an optional sign, digits, and an optional fraction of digits that is truncated ("1.9" is 1).
// Out-of-range values are NULL.
func parseIntegral(s string, k types.Kind) (int64, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, false
	}
	intPart, frac, hasDot := strings.Cut(s, ".")
	for _, c := range frac {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	if intPart == "" || intPart == "+" || intPart == "-" {
		if !hasDot || frac == "" {
			return 0, false
		}
		return 0, true // ".5" and "-.5" truncate to 0 in Spark
	}
	for i, c := range intPart {
		if (c < '0' || c > '9') && !(i == 0 && (c == '+' || c == '-')) {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(intPart, 10, 64)
	if err != nil {
		return 0, false
	}
	if wrapInt(n, k) != n {
		return 0, false
	}
	return n, true
}

// parseFloatBits reads a floating-point number like Java's Double.parseDouble (or Float.parseFloat
// for bits=32) after trimming, plus Spark's case-insensitive inf/infinity/nan spellings.
func parseFloatBits(s string, bits int) (float64, bool) {
	s = strings.TrimSpace(s)
	switch strings.ToLower(s) {
	case "inf", "+inf", "infinity", "+infinity":
		return math.Inf(1), true
	case "-inf", "-infinity":
		return math.Inf(-1), true
	case "nan", "+nan", "-nan":
		return math.NaN(), true
	}
	if n := len(s); n > 1 && strings.ContainsRune("dDfF", rune(s[n-1])) {
		s = s[:n-1] // Java accepts a type suffix
	}
	if s == "" || strings.ContainsAny(s, "_xXpPiInN") {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, bits)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			return f, true // Java overflows to ±Infinity / underflows to 0
		}
		return 0, false
	}
	return f, true
}

func parseBool(s string) any {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "t", "true", "y", "yes", "1":
		return true
	case "f", "false", "n", "no", "0":
		return false
	}
	return nil
}

// toStringValue renders a value as CAST(v AS STRING) does.
func toStringValue(v any, t *types.Type) string {
	switch t.Kind {
	case types.Boolean:
		if v.(bool) {
			return "true"
		}
		return "false"
	case types.Byte, types.Short, types.Int, types.Long:
		return strconv.FormatInt(v.(int64), 10)
	case types.Float:
		return formatDouble(v.(float64), 32)
	case types.Double:
		return formatDouble(v.(float64), 64)
	case types.String:
		return v.(string)
	case types.Binary:
		return string(v.([]byte))
	case types.Date:
		return formatDate(v.(int64))
	case types.Timestamp:
		return formatTimestamp(v.(int64))
	case types.List:
		var sb strings.Builder
		sb.WriteByte('[')
		for i, x := range v.([]any) {
			if i > 0 {
				sb.WriteString(", ")
			}
			sb.WriteString(nestedString(x, t.Elem))
		}
		sb.WriteByte(']')
		return sb.String()
	case types.Map:
		m := v.(*types.MapValue)
		var sb strings.Builder
		sb.WriteByte('{')
		for i := range m.Keys {
			if i > 0 {
				sb.WriteString(", ")
			}
			sb.WriteString(nestedString(m.Keys[i], t.Key))
			sb.WriteString(" -> ")
			sb.WriteString(nestedString(m.Values[i], t.Value))
		}
		sb.WriteByte('}')
		return sb.String()
	case types.Struct:
		var sb strings.Builder
		sb.WriteByte('{')
		for i, x := range v.(types.StructValue) {
			if i > 0 {
				sb.WriteString(", ")
			}
			sb.WriteString(nestedString(x, t.Fields[i].Type))
		}
		sb.WriteByte('}')
		return sb.String()
	}
	return ""
}

func nestedString(v any, t *types.Type) string {
	if v == nil {
		return "null"
	}
	return toStringValue(v, t)
}

const microsPerDay = 86_400_000_000

func formatDate(days int64) string {
	var buf [16]byte
	return string(appendDate(buf[:0], days))
}

// appendDate writes yyyy-MM-dd (years beyond 9999 get more digits, negative years a sign).
func appendDate(b []byte, days int64) []byte {
	y, m, d := civilFromDays(days)
	if y < 0 {
		b = append(b, '-')
		y = -y
	}
	b = appendPadded(b, y, 4)
	b = append(b, '-')
	b = appendPadded(b, int64(m), 2)
	b = append(b, '-')
	return appendPadded(b, int64(d), 2)
}

func appendPadded(b []byte, v int64, width int) []byte {
	var tmp [20]byte
	i := len(tmp)
	for v >= 10 {
		i--
		tmp[i] = byte('0' + v%10)
		v /= 10
	}
	i--
	tmp[i] = byte('0' + v)
	for n := len(tmp) - i; n < width; n++ {
		b = append(b, '0')
	}
	return append(b, tmp[i:]...)
}

// formatTimestamp renders yyyy-MM-dd HH:mm:ss with the fraction trimmed of trailing zeros, as Spark.
func formatTimestamp(micros int64) string {
	days := floorDiv(micros, microsPerDay)
	rem := micros - days*microsPerDay
	var buf [32]byte
	b := appendDate(buf[:0], days)
	secs := rem / 1_000_000
	b = append(b, ' ')
	b = appendPadded(b, secs/3600, 2)
	b = append(b, ':')
	b = appendPadded(b, secs/60%60, 2)
	b = append(b, ':')
	b = appendPadded(b, secs%60, 2)
	s := string(b)
	if us := rem % 1_000_000; us != 0 {
		s += strings.TrimRight("."+leftPad(strconv.FormatInt(us, 10), 6), "0")
	}
	return s
}

func leftPad(s string, n int) string {
	if len(s) >= n {
		return s
	}
	return strings.Repeat("0", n-len(s)) + s
}

func daysFromCivil(y, m, d int) (int64, bool) {
	if m < 1 || m > 12 || d < 1 || d > monthDays(int64(y), m) {
		return 0, false
	}
	return daysFromCivilFast(int64(y), m, d), true
}

func daysIn(y, m int) int { return monthDays(int64(y), m) }

// readDigits reads between lo and hi ASCII digits at s[i:].
func readDigits(s string, i, lo, hi int) (int, int, bool) {
	j, n := i, 0
	for j < len(s) && j-i < hi && s[j] >= '0' && s[j] <= '9' {
		n = n*10 + int(s[j]-'0')
		j++
	}
	if j-i < lo {
		return 0, i, false
	}
	return n, j, true
}

// parseDate accepts Spark's date strings: yyyy, yyyy-[m]m, yyyy-[m]m-[d]d, optionally followed by a
// space or 'T' and anything.
func parseDate(s string) (int64, bool) {
	s = strings.TrimSpace(s)
	y, i, ok := readDigits(s, 0, 4, 7)
	if !ok {
		return 0, false
	}
	m, d := 1, 1
	if i < len(s) && s[i] == '-' {
		if m, i, ok = readDigits(s, i+1, 1, 2); !ok {
			return 0, false
		}
		if i < len(s) && s[i] == '-' {
			if d, i, ok = readDigits(s, i+1, 1, 2); !ok {
				return 0, false
			}
			if i < len(s) && s[i] != ' ' && s[i] != 'T' {
				return 0, false
			}
		} else if i != len(s) {
			return 0, false
		}
	} else if i != len(s) {
		return 0, false
	}
	return daysFromCivil(y, m, d)
}

// parseTimestamp accepts Spark's timestamp strings: a date as in parseDate, then optionally
// [T ]h:m[:s[.fraction]] and a zone (Z, UTC, ±hh[:mm]); times without a zone are UTC.
func parseTimestamp(s string) (int64, bool) {
	s = strings.TrimSpace(s)
	y, i, ok := readDigits(s, 0, 4, 7)
	if !ok {
		return 0, false
	}
	m, d := 1, 1
	if i < len(s) && s[i] == '-' {
		if m, i, ok = readDigits(s, i+1, 1, 2); !ok {
			return 0, false
		}
		if i < len(s) && s[i] == '-' {
			if d, i, ok = readDigits(s, i+1, 1, 2); !ok {
				return 0, false
			}
		}
	}
	days, ok := daysFromCivil(y, m, d)
	if !ok {
		return 0, false
	}
	var hh, mi, ss, us int
	if i < len(s) && (s[i] == ' ' || s[i] == 'T') {
		i++
		if i < len(s) {
			if hh, i, ok = readDigits(s, i, 1, 2); !ok || i >= len(s) || s[i] != ':' {
				return 0, false
			}
			if mi, i, ok = readDigits(s, i+1, 1, 2); !ok {
				return 0, false
			}
			if i < len(s) && s[i] == ':' {
				if ss, i, ok = readDigits(s, i+1, 1, 2); !ok {
					return 0, false
				}
				if i < len(s) && s[i] == '.' {
					j := i + 1
					for j < len(s) && s[j] >= '0' && s[j] <= '9' {
						j++
					}
					frac := s[i+1 : j]
					if len(frac) > 6 {
						frac = frac[:6] // Spark keeps microseconds and drops the rest
					}
					if frac != "" {
						us, _ = strconv.Atoi(frac + strings.Repeat("0", 6-len(frac)))
					}
					i = j
				}
			}
		}
	}
	if hh > 23 || mi > 59 || ss > 59 {
		return 0, false
	}
	offset := 0
	rest := strings.TrimSpace(s[i:])
	switch {
	case rest == "" || rest == "Z" || strings.EqualFold(rest, "UTC") || strings.EqualFold(rest, "GMT"):
	case rest[0] == '+' || rest[0] == '-':
		sign := 1
		if rest[0] == '-' {
			sign = -1
		}
		oh, j, ok := readDigits(rest, 1, 1, 2)
		if !ok {
			return 0, false
		}
		om := 0
		if j < len(rest) && rest[j] == ':' {
			j++
		}
		if j < len(rest) {
			if om, j, ok = readDigits(rest, j, 2, 2); !ok || j != len(rest) {
				return 0, false
			}
		}
		offset = sign * (oh*3600 + om*60)
	default:
		loc, err := time.LoadLocation(rest)
		if err != nil {
			return 0, false
		}
		t := time.Date(y, time.Month(m), d, hh, mi, ss, us*1000, loc)
		return t.UnixMicro(), true
	}
	secs := days*86400 + int64(hh*3600+mi*60+ss) - int64(offset)
	return secs*1_000_000 + int64(us), true
}

// runeLen counts characters as Spark does (code points).
func runeLen(s string) int { return utf8.RuneCountInString(s) }
