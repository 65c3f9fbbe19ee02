package expr

import (
	"fmt"
	"strconv"
	"strings"
)

// Java DateTimeFormatter patterns as Spark 3 uses them (from_unixtime, date_format, unix_timestamp,
// to_date, to_timestamp). Everything is UTC.

type dfTok struct {
	letter  byte   // 0 for literal text
	n       int    // repeat count
	lit     string // literal text
	lower   string // lower-cased literal, for case-insensitive parsing
	reserve int    // digits to leave for directly following fixed-width numeric fields (yyyyMMdd)
}

type dateFormat struct {
	pattern string
	toks    []dfTok
}

var dateFormatCache = newBoundedCache[*dateFormat](1000)

// compileDateFormat parses a pattern; unknown letters are an error, as in Spark.
func compileDateFormat(p string) (*dateFormat, error) {
	if f, ok := dateFormatCache.get(p); ok {
		if f == nil {
			return nil, fmt.Errorf("invalid datetime pattern %q", p)
		}
		return f, nil
	}
	f, err := compileDateFormatUncached(p)
	dateFormatCache.put(p, f)
	return f, err
}

func compileDateFormatUncached(p string) (*dateFormat, error) {
	f := &dateFormat{pattern: p}
	for i := 0; i < len(p); {
		c := p[i]
		switch {
		case c == '\'':
			j := i + 1
			var sb strings.Builder
			for {
				if j >= len(p) {
					return nil, fmt.Errorf("datetime pattern %q: unterminated quote", p)
				}
				if p[j] == '\'' {
					if j+1 < len(p) && p[j+1] == '\'' {
						sb.WriteByte('\'')
						j += 2
						continue
					}
					break
				}
				sb.WriteByte(p[j])
				j++
			}
			lit := sb.String()
			if j == i+1 {
				lit = "'" // '' is a single quote
			}
			f.toks = append(f.toks, dfTok{lit: lit})
			i = j + 1
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			j := i
			for j < len(p) && p[j] == c {
				j++
			}
			n := j - i
			if !strings.ContainsRune("GyuMLdDHhKkmsSaEQqzZXxVO", rune(c)) {
				return nil, fmt.Errorf("datetime pattern %q: unsupported pattern letter %q", p, c)
			}
			f.toks = append(f.toks, dfTok{letter: c, n: n})
			i = j
		default:
			f.toks = append(f.toks, dfTok{lit: string(c)})
			i++
		}
	}
	for i := range f.toks {
		f.toks[i].lower = strings.ToLower(f.toks[i].lit)
		if !isNumTok(f.toks[i]) {
			continue
		}
		for _, nt := range f.toks[i+1:] {
			if !isNumTok(nt) || nt.n < 2 && nt.letter != 'S' {
				break
			}
			f.toks[i].reserve += nt.n
		}
	}
	return f, nil
}

func isNumTok(tk dfTok) bool {
	switch tk.letter {
	case 'y', 'u', 'd', 'D', 'H', 'h', 'k', 'K', 'm', 's', 'S':
		return true
	case 'M', 'L', 'Q', 'q':
		return tk.n <= 2
	}
	return false
}

var monthNames = []string{"January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"}
var dayNames = []string{"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"}

// format renders micros since epoch (UTC).
func (f *dateFormat) format(micros int64) string {
	days := floorDiv(micros, microsPerDay)
	rem := micros - days*microsPerDay
	year, month, day := civilFromDays(days)
	secOfDay := rem / 1_000_000
	hour, minute, sec := int(secOfDay/3600), int(secOfDay/60%60), int(secOfDay%60)
	nanos := (rem % 1_000_000) * 1000
	buf := make([]byte, 0, 32)
	for _, tk := range f.toks {
		if tk.letter == 0 {
			buf = append(buf, tk.lit...)
			continue
		}
		n := tk.n
		switch tk.letter {
		case 'G':
			if year <= 0 {
				buf = append(buf, "BC"...)
			} else {
				buf = append(buf, "AD"...)
			}
		case 'y', 'u':
			y := year
			if tk.letter == 'y' && y <= 0 {
				y = 1 - y // year of era
			}
			if n == 2 {
				buf = appendPadded(buf, floorMod(y, 100), 2)
			} else if y < 0 {
				buf = appendPadded(append(buf, '-'), -y, n)
			} else {
				buf = appendPadded(buf, y, n)
			}
		case 'M', 'L':
			switch {
			case n >= 4:
				buf = append(buf, monthNames[month-1]...)
			case n == 3:
				buf = append(buf, monthNames[month-1][:3]...)
			default:
				buf = appendPadded(buf, int64(month), n)
			}
		case 'd':
			buf = appendPadded(buf, int64(day), n)
		case 'D':
			buf = appendPadded(buf, days-daysFromCivilFast(year, 1, 1)+1, n)
		case 'H':
			buf = appendPadded(buf, int64(hour), n)
		case 'k':
			h := hour
			if h == 0 {
				h = 24
			}
			buf = appendPadded(buf, int64(h), n)
		case 'h':
			h := hour % 12
			if h == 0 {
				h = 12
			}
			buf = appendPadded(buf, int64(h), n)
		case 'K':
			buf = appendPadded(buf, int64(hour%12), n)
		case 'm':
			buf = appendPadded(buf, int64(minute), n)
		case 's':
			buf = appendPadded(buf, int64(sec), n)
		case 'S':
			frac := appendPadded(nil, nanos, 9)
			for len(frac) < n {
				frac = append(frac, '0')
			}
			buf = append(buf, frac[:n]...)
		case 'a':
			if hour < 12 {
				buf = append(buf, "AM"...)
			} else {
				buf = append(buf, "PM"...)
			}
		case 'E':
			d := dayNames[floorMod(days+4, 7)] // 1970-01-01 was a Thursday
			if n >= 4 {
				buf = append(buf, d...)
			} else {
				buf = append(buf, d[:3]...)
			}
		case 'Q', 'q':
			q := (month-1)/3 + 1
			switch {
			case n >= 4:
				buf = append(buf, []string{"1st", "2nd", "3rd", "4th"}[q-1]+" quarter"...)
			case n == 3:
				buf = append(buf, 'Q', byte('0'+q))
			default:
				buf = appendPadded(buf, int64(q), n)
			}
		case 'z':
			if n >= 4 {
				buf = append(buf, "Coordinated Universal Time"...)
			} else {
				buf = append(buf, "UTC"...)
			}
		case 'V':
			buf = append(buf, "UTC"...)
		case 'O':
			buf = append(buf, "GMT"...)
		case 'X':
			buf = append(buf, 'Z')
		case 'Z':
			switch n {
			case 4:
				buf = append(buf, "GMT"...)
			case 5:
				buf = append(buf, 'Z')
			default:
				buf = append(buf, "+0000"...)
			}
		case 'x':
			switch n {
			case 1:
				buf = append(buf, "+00"...)
			case 2, 4:
				buf = append(buf, "+0000"...)
			default:
				buf = append(buf, "+00:00"...)
			}
		}
	}
	return string(buf)
}

// parse reads s completely; missing fields default to 1970-01-01 00:00:00. It returns micros since
// epoch and false when s does not match (Spark then gives NULL).
func (f *dateFormat) parse(s string) (int64, bool) {
	year, month, day, doy := int64(1970), 1, 1, 0
	hour, minute, sec, nanos := 0, 0, 0, 0
	pm, hasAmPm, hour12 := false, false, false
	offset := 0
	i := 0
	for _, tk := range f.toks {
		if tk.letter == 0 {
			if len(s)-i < len(tk.lit) || !strings.EqualFold(s[i:i+len(tk.lit)], tk.lit) {
				return 0, false
			}
			i += len(tk.lit)
			continue
		}
		// Numeric fields: width n when n >= 2 (year: at least n), 1..max when n == 1. A variable-width
		// field leaves room for the fixed-width numeric fields that follow it directly (yyyyMMdd).
		readNum := func(minW, maxW int) (int64, bool) {
			j := i
			for j < len(s) && s[j] >= '0' && s[j] <= '9' && j-i < maxW {
				j++
			}
			if tk.reserve > 0 && minW != maxW {
				k := j
				for k < len(s) && s[k] >= '0' && s[k] <= '9' {
					k++
				}
				if k-i-tk.reserve >= minW {
					j = min(j, k-tk.reserve)
				}
			}
			if j-i < minW {
				return 0, false
			}
			var v int64
			for _, c := range []byte(s[i:j]) {
				v = v*10 + int64(c-'0')
			}
			i = j
			return v, true
		}
		var v int64
		var ok bool
		width := func(max int) (int, int) {
			if tk.n == 1 {
				return 1, max
			}
			return tk.n, tk.n
		}
		switch tk.letter {
		case 'y', 'u':
			switch {
			case tk.n == 2:
				if v, ok = readNum(2, 2); !ok {
					return 0, false
				}
				year = 2000 + v
			default:
				neg := false
				if i < len(s) && (s[i] == '-' || s[i] == '+') && tk.n > 4 {
					neg = s[i] == '-'
					i++
				}
				if v, ok = readNum(tk.n, 10); !ok {
					return 0, false
				}
				if neg {
					v = -v
				}
				year = v
			}
		case 'M', 'L':
			if tk.n >= 3 {
				m := matchName(s[i:], monthNames, tk.n == 3)
				if m < 0 {
					return 0, false
				}
				if tk.n == 3 {
					i += 3
				} else {
					i += len(monthNames[m])
				}
				month = m + 1
				continue
			}
			lo, hi := width(2)
			if v, ok = readNum(lo, hi); !ok {
				return 0, false
			}
			month = int(v)
		case 'd':
			lo, hi := width(2)
			if v, ok = readNum(lo, hi); !ok {
				return 0, false
			}
			day = int(v)
		case 'D':
			lo, hi := width(3)
			if v, ok = readNum(lo, hi); !ok {
				return 0, false
			}
			doy = int(v)
		case 'H', 'k', 'h', 'K':
			lo, hi := width(2)
			if v, ok = readNum(lo, hi); !ok {
				return 0, false
			}
			hour = int(v)
			if tk.letter == 'k' && hour == 24 {
				hour = 0
			}
			if tk.letter == 'h' || tk.letter == 'K' {
				hour12 = true
				if tk.letter == 'h' && (hour < 1 || hour > 12) || tk.letter == 'K' && hour > 11 {
					return 0, false
				}
			}
		case 'm':
			lo, hi := width(2)
			if v, ok = readNum(lo, hi); !ok {
				return 0, false
			}
			minute = int(v)
		case 's':
			lo, hi := width(2)
			if v, ok = readNum(lo, hi); !ok {
				return 0, false
			}
			sec = int(v)
		case 'S':
			j := i
			for j < len(s) && s[j] >= '0' && s[j] <= '9' && j-i < tk.n {
				j++
			}
			if j == i {
				return 0, false
			}
			frac := s[i:j]
			if len(frac) > 9 {
				frac = frac[:9] // beyond nanoseconds
			}
			n, _ := strconv.Atoi(frac + strings.Repeat("0", 9-len(frac)))
			nanos = n
			i = j
		case 'a':
			switch {
			case strings.HasPrefix(strings.ToUpper(s[i:]), "AM"):
			case strings.HasPrefix(strings.ToUpper(s[i:]), "PM"):
				pm = true
			default:
				return 0, false
			}
			hasAmPm = true
			i += 2
		case 'E':
			d := matchName(s[i:], dayNames, tk.n < 4)
			if d < 0 {
				return 0, false
			}
			if tk.n < 4 {
				i += 3
			} else {
				i += len(dayNames[d])
			}
		case 'G':
			if !strings.HasPrefix(strings.ToUpper(s[i:]), "AD") && !strings.HasPrefix(strings.ToUpper(s[i:]), "BC") {
				return 0, false
			}
			i += 2
		case 'Q', 'q':
			lo, hi := width(1)
			if _, ok = readNum(lo, hi); !ok {
				return 0, false
			}
		case 'z', 'V', 'O', 'X', 'Z', 'x':
			off, n, ok := parseZone(s[i:])
			if !ok {
				return 0, false
			}
			offset = off
			i += n
		}
	}
	if i != len(s) {
		return 0, false
	}
	if hasAmPm || hour12 {
		if hour12 && hour == 12 {
			hour = 0
		}
		if pm {
			hour += 12
		}
	}
	if month < 1 || month > 12 || hour > 23 || minute > 59 || sec > 59 {
		return 0, false
	}
	var days int64
	if doy > 0 {
		d0, _ := daysFromCivil(int(year), 1, 1)
		if doy > 365 && daysIn(int(year), 2) == 28 || doy > 366 {
			return 0, false
		}
		days = d0 + int64(doy-1)
	} else {
		d, ok := daysFromCivil(int(year), month, day)
		if !ok {
			return 0, false
		}
		days = d
	}
	secs := days*86400 + int64(hour*3600+minute*60+sec) - int64(offset)
	return secs*1_000_000 + int64(nanos/1000), true
}

func matchName(s string, names []string, short bool) int {
	for i, n := range names {
		if short {
			n = n[:3]
		}
		if len(s) >= len(n) && strings.EqualFold(s[:len(n)], n) {
			return i
		}
	}
	return -1
}

// parseZone reads Z, UTC, GMT or ±hh[[:]mm]; it returns the offset in seconds and bytes consumed.
func parseZone(s string) (int, int, bool) {
	switch {
	case strings.HasPrefix(s, "Z"):
		return 0, 1, true
	case strings.HasPrefix(strings.ToUpper(s), "UTC"), strings.HasPrefix(strings.ToUpper(s), "GMT"):
		n := 3
		if len(s) > 3 && (s[3] == '+' || s[3] == '-') {
			off, m, ok := parseZone(s[3:])
			return off, n + m, ok
		}
		return 0, n, true
	case len(s) > 0 && (s[0] == '+' || s[0] == '-'):
		sign := 1
		if s[0] == '-' {
			sign = -1
		}
		h, j, ok := readDigits(s, 1, 2, 2)
		if !ok {
			return 0, 0, false
		}
		m := 0
		if j < len(s) && s[j] == ':' {
			if m, j, ok = readDigits(s, j+1, 2, 2); !ok {
				return 0, 0, false
			}
		} else if j+1 < len(s) && s[j] >= '0' && s[j] <= '9' {
			if m, j, ok = readDigits(s, j, 2, 2); !ok {
				return 0, 0, false
			}
		}
		return sign * (h*3600 + m*60), j, true
	}
	return 0, 0, false
}
