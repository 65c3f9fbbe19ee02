package expr

import (
	"strings"
	"time"

	"github.com/chronon-go/chronon/runtime/types"
)

// Date and time functions. The session time zone is always UTC (Chronon forces it), so local time
// and UTC coincide. Dates are days since 1970-01-01, timestamps microseconds since the epoch.

const defaultTimeFormat = "yyyy-MM-dd HH:mm:ss"

func init() {
	def("from_unixtime", 1, 2, "from_unixtime(seconds[, fmt='yyyy-MM-dd HH:mm:ss']) -> string", func(c *checker, call *astCall, args []node) (node, error) {
		a, err := c.argsAs(call, args, types.LongType, types.StringType)
		if err != nil {
			return nil, err
		}
		if len(a) == 1 {
			a = append(a, &litNode{v: defaultTimeFormat, t: types.StringType})
		}
		f, err := c.formatArg(call, a, 1)
		if err != nil {
			return nil, err
		}
		return typed1(c, call, types.StringType, a, func(sec int64, rest []any) (string, bool) {
			df := rowFormat(f, rest[0])
			if df == nil {
				return "", false
			}
			return df.format(sec * 1_000_000), true
		}), nil
	})
	def("unix_timestamp,to_unix_timestamp", 0, 2, "unix_timestamp([x[, fmt='yyyy-MM-dd HH:mm:ss']]) -> bigint seconds; x is a string parsed with fmt, a date or a timestamp; no argument: now", buildUnixTimestamp)
	def("to_date", 1, 2, "to_date(x[, fmt]) -> date; NULL when x does not parse", func(c *checker, call *astCall, args []node) (node, error) {
		return c.parseTime(call, args, types.DateType)
	})
	def("to_timestamp", 1, 2, "to_timestamp(x[, fmt]) -> timestamp; NULL when x does not parse", func(c *checker, call *astCall, args []node) (node, error) {
		return c.parseTime(call, args, types.TimestampType)
	})
	def("date_format", 2, 2, "date_format(timestamp|date|string, fmt) -> string", func(c *checker, call *astCall, args []node) (node, error) {
		a, err := c.argsAs(call, args, types.TimestampType, types.StringType)
		if err != nil {
			return nil, err
		}
		f, err := c.formatArg(call, a, 1)
		if err != nil {
			return nil, err
		}
		return typed1(c, call, types.StringType, a, func(us int64, rest []any) (string, bool) {
			df := rowFormat(f, rest[0])
			if df == nil {
				return "", false
			}
			return df.format(us), true
		}), nil
	})
	def("date_add", 2, 2, "date_add(date, days) -> date", dateShift(1))
	def("date_sub", 2, 2, "date_sub(date, days) -> date", dateShift(-1))
	def("datediff", 2, 2, "datediff(end, start) -> int: days from start to end", func(c *checker, call *astCall, args []node) (node, error) {
		a, err := c.argsAs(call, args, types.DateType)
		if err != nil {
			return nil, err
		}
		return c.scalar(call, types.IntType, a, func(v []any) any { return wrapInt(v[0].(int64)-v[1].(int64), types.Int) }), nil
	})
	def("add_months", 2, 2, "add_months(date, n) -> date; the day is clamped to the month's last day", typed(types.DateType, func(v []any) any {
		t := time.Unix(v[0].(int64)*86400, 0).UTC()
		m := int64(t.Year())*12 + int64(t.Month()) - 1 + v[1].(int64)
		y, mo := int(floorDiv(m, 12)), int(floorMod(m, 12))+1
		d, _ := daysFromCivil(y, mo, min(t.Day(), daysIn(y, mo)))
		return d
	}, types.DateType, types.IntType))
	def("last_day", 1, 1, "last_day(date) -> date: the last day of the month", typed(types.DateType, func(v []any) any {
		t := time.Unix(v[0].(int64)*86400, 0).UTC()
		d, _ := daysFromCivil(t.Year(), int(t.Month()), daysIn(t.Year(), int(t.Month())))
		return d
	}, types.DateType))
	part := func(name, doc string, f func(t time.Time) int) {
		def(name, 1, 1, strings.Split(name, ",")[0]+"(date|timestamp) -> int: "+doc, func(c *checker, call *astCall, args []node) (node, error) {
			a, err := c.argsAs(call, args, types.TimestampType)
			if err != nil {
				return nil, err
			}
			return typed1(c, call, types.IntType, a, func(us int64, _ []any) (int64, bool) { return int64(f(time.UnixMicro(us).UTC())), true }), nil
		})
	}
	part("year", "the year", func(t time.Time) int { return t.Year() })
	part("quarter", "the quarter, 1 to 4", func(t time.Time) int { return (int(t.Month())-1)/3 + 1 })
	part("month", "the month, 1 to 12", func(t time.Time) int { return int(t.Month()) })
	part("day,dayofmonth", "the day of the month", func(t time.Time) int { return t.Day() })
	part("dayofweek", "1 = Sunday ... 7 = Saturday", func(t time.Time) int { return int(t.Weekday()) + 1 })
	part("dayofyear", "the day of the year, 1 to 366", func(t time.Time) int { return t.YearDay() })
	part("hour", "0 to 23", func(t time.Time) int { return t.Hour() })
	part("minute", "0 to 59", func(t time.Time) int { return t.Minute() })
	part("second", "0 to 59", func(t time.Time) int { return t.Second() })
	def("current_date", 0, 0, "current_date() -> date: today (UTC) when evaluated", func(c *checker, call *astCall, args []node) (node, error) {
		return &volatileNode{t: types.DateType, now: func() any { return floorDiv(time.Now().Unix(), 86400) }}, nil
	})
	def("current_timestamp,now", 0, 0, "current_timestamp() -> timestamp: now when evaluated", func(c *checker, call *astCall, args []node) (node, error) {
		return &volatileNode{t: types.TimestampType, now: func() any { return time.Now().UnixMicro() }}, nil
	})
}

// volatileNode is a value read at evaluation time (never folded).
type volatileNode struct {
	t   *types.Type
	now func() any
}

func (v *volatileNode) typ() *types.Type          { return v.t }
func (v *volatileNode) volatile() bool            { return true }
func (v *volatileNode) evalRow([]any) any         { return v.now() }
func (v *volatileNode) evalVec(ctx *batchCtx) vec { return constVec(v.now(), v.t) }

// formatArg precompiles a constant datetime pattern (errors at compile time).
func (c *checker) formatArg(call *astCall, a []node, i int) (*dateFormat, error) {
	v, ok := constArg(a, i)
	if !ok || v == nil {
		return nil, nil
	}
	f, err := compileDateFormat(v.(string))
	if err != nil {
		return nil, c.errAt(argPos(call, i), "%v", err)
	}
	return f, nil
}

func rowFormat(konst *dateFormat, p any) *dateFormat {
	if konst != nil {
		return konst
	}
	f, err := compileDateFormat(p.(string))
	if err != nil {
		return nil
	}
	return f
}

func buildUnixTimestamp(c *checker, call *astCall, args []node) (node, error) {
	if len(args) == 0 {
		if strings.EqualFold(call.name, "to_unix_timestamp") {
			return nil, c.errAt(call.p, "to_unix_timestamp takes 1 to 2 arguments, got 0")
		}
		return &volatileNode{t: types.LongType, now: func() any { return time.Now().Unix() }}, nil
	}
	k := args[0].typ().Kind
	if (k == types.Date || k == types.Timestamp) && len(args) == 1 {
		x := c.cast(args[0], types.TimestampType)
		return c.scalar(call, types.LongType, []node{x}, func(v []any) any { return floorDiv(v[0].(int64), 1_000_000) }), nil
	}
	if k == types.Date || k == types.Timestamp {
		x := c.cast(args[0], types.TimestampType)
		f, err := c.arg(call, args, 1, types.StringType)
		if err != nil {
			return nil, err
		}
		return c.scalar(call, types.LongType, []node{x, f}, func(v []any) any { return floorDiv(v[0].(int64), 1_000_000) }), nil
	}
	a, err := c.argsAs(call, args, types.StringType)
	if err != nil {
		return nil, err
	}
	if len(a) == 1 {
		a = append(a, &litNode{v: defaultTimeFormat, t: types.StringType})
	}
	f, err := c.formatArg(call, a, 1)
	if err != nil {
		return nil, err
	}
	return typed1(c, call, types.LongType, a, func(s string, rest []any) (int64, bool) {
		df := rowFormat(f, rest[0])
		if df == nil {
			return 0, false
		}
		us, ok := df.parse(s)
		return floorDiv(us, 1_000_000), ok
	}), nil
}

// parseTime implements to_date/to_timestamp: without a format a string is cast; with one it is
// parsed with the pattern.
func (c *checker) parseTime(call *astCall, args []node, to *types.Type) (node, error) {
	k := args[0].typ().Kind
	if len(args) == 1 || k == types.Date || k == types.Timestamp {
		x, err := c.arg(call, args, 0, to)
		if err != nil {
			return nil, err
		}
		if len(args) == 1 {
			return x, nil
		}
		f, err := c.arg(call, args, 1, types.StringType)
		if err != nil {
			return nil, err
		}
		return c.scalar(call, to, []node{x, f}, func(v []any) any { return v[0] }), nil
	}
	a, err := c.argsAs(call, args, types.StringType)
	if err != nil {
		return nil, err
	}
	f, err := c.formatArg(call, a, 1)
	if err != nil {
		return nil, err
	}
	return typed1(c, call, to, a, func(s string, rest []any) (int64, bool) {
		df := rowFormat(f, rest[0])
		if df == nil {
			return 0, false
		}
		us, ok := df.parse(s)
		if to.Kind == types.Date {
			return floorDiv(us, microsPerDay), ok
		}
		return us, ok
	}), nil
}

func dateShift(sign int64) func(c *checker, call *astCall, args []node) (node, error) {
	return func(c *checker, call *astCall, args []node) (node, error) {
		a, err := c.argsAs(call, args, types.DateType, types.IntType)
		if err != nil {
			return nil, err
		}
		return typed1(c, call, types.DateType, a, func(d int64, rest []any) (int64, bool) {
			return wrapInt(d+sign*rest[0].(int64), types.Int), true
		}), nil
	}
}

// Truncation, epoch conversions and constructors.
func init() {
	def("date_trunc", 2, 2, "date_trunc(unit, ts) -> timestamp: YEAR/YYYY/YY, QUARTER, MONTH/MM/MON, WEEK (Monday), DAY/DD, HOUR, MINUTE, SECOND, MILLISECOND, MICROSECOND; NULL for other units", func(c *checker, call *astCall, args []node) (node, error) {
		a, err := c.argsAs(call, args, types.StringType, types.TimestampType)
		if err != nil {
			return nil, err
		}
		return c.scalar(call, types.TimestampType, a, func(v []any) any { return truncTimestamp(v[1].(int64), v[0].(string)) }), nil
	})
	def("trunc", 2, 2, "trunc(date, unit) -> date: YEAR/YYYY/YY, QUARTER, MONTH/MM/MON, WEEK (Monday); NULL for other units", typed(types.DateType, func(v []any) any {
		switch strings.ToUpper(v[1].(string)) {
		case "YEAR", "YYYY", "YY", "QUARTER", "MONTH", "MM", "MON", "WEEK":
			return floorDiv(truncTimestamp(v[0].(int64)*microsPerDay, v[1].(string)).(int64), microsPerDay)
		}
		return nil
	}, types.DateType, types.StringType))
	def("weekofyear", 1, 1, "weekofyear(date) -> int: ISO-8601 week number", typed(types.IntType, func(v []any) any {
		_, w := time.Unix(v[0].(int64)*86400, 0).UTC().ISOWeek()
		return int64(w)
	}, types.DateType))
	epoch := func(name, doc string, in, out *types.Type, f func(int64) int64) {
		def(name, 1, 1, doc, func(c *checker, call *astCall, args []node) (node, error) {
			a, err := c.argsAs(call, args, in)
			if err != nil {
				return nil, err
			}
			return typed1(c, call, out, a, func(x int64, _ []any) (int64, bool) { return f(x), true }), nil
		})
	}
	epoch("timestamp_millis", "timestamp_millis(ms) -> timestamp", types.LongType, types.TimestampType, func(x int64) int64 { return x * 1000 })
	epoch("timestamp_seconds", "timestamp_seconds(s) -> timestamp (integral seconds)", types.LongType, types.TimestampType, func(x int64) int64 { return x * 1_000_000 })
	epoch("timestamp_micros", "timestamp_micros(us) -> timestamp", types.LongType, types.TimestampType, func(x int64) int64 { return x })
	epoch("unix_millis", "unix_millis(ts) -> bigint: milliseconds since the epoch (floored)", types.TimestampType, types.LongType, func(x int64) int64 { return floorDiv(x, 1000) })
	epoch("unix_seconds", "unix_seconds(ts) -> bigint: seconds since the epoch (floored)", types.TimestampType, types.LongType, func(x int64) int64 { return floorDiv(x, 1_000_000) })
	epoch("unix_micros", "unix_micros(ts) -> bigint", types.TimestampType, types.LongType, func(x int64) int64 { return x })
	epoch("unix_date", "unix_date(date) -> int: days since 1970-01-01", types.DateType, types.IntType, func(x int64) int64 { return x })
	epoch("date_from_unix_date", "date_from_unix_date(days) -> date", types.IntType, types.DateType, func(x int64) int64 { return x })
	def("make_date", 3, 3, "make_date(year, month, day) -> date; NULL for an invalid date", typed(types.DateType, func(v []any) any {
		d, ok := daysFromCivil(int(v[0].(int64)), int(v[1].(int64)), int(v[2].(int64)))
		if !ok {
			return nil
		}
		return d
	}, types.IntType))
	zone := func(name string, sign int64) {
		def(name, 2, 2, name+"(ts, zone) -> timestamp: shifts a UTC timestamp by the zone's offset at that instant", func(c *checker, call *astCall, args []node) (node, error) {
			a, err := c.argsAs(call, args, types.TimestampType, types.StringType)
			if err != nil {
				return nil, err
			}
			return c.scalar(call, types.TimestampType, a, func(v []any) any {
				loc, ok := loadZone(v[1].(string))
				if !ok {
					return nil
				}
				us := v[0].(int64)
				_, off := time.UnixMicro(us).In(loc).Zone()
				if sign < 0 { // to_utc: the offset at the local wall time
					_, off = time.UnixMicro(us - int64(off)*1_000_000).In(loc).Zone()
				}
				return us + sign*int64(off)*1_000_000
			}), nil
		})
	}
	zone("from_utc_timestamp", 1)
	zone("to_utc_timestamp", -1)
	def("months_between", 2, 3, "months_between(ts1, ts2[, roundOff=true]) -> double: whole months when the days match or both are month ends, else the fraction on a 31-day month, rounded to 8 digits", typed(types.DoubleType, func(v []any) any {
		round := len(v) < 3 || v[2].(bool)
		return monthsBetween(v[0].(int64), v[1].(int64), round)
	}, types.TimestampType, types.TimestampType, types.BooleanType))
}

func loadZone(z string) (*time.Location, bool) {
	switch strings.ToUpper(z) {
	case "UTC", "Z", "GMT":
		return time.UTC, true
	}
	if off, n, ok := parseZone(z); ok && n == len(z) {
		return time.FixedZone(z, off), true
	}
	loc, err := time.LoadLocation(z)
	return loc, err == nil
}

// truncTimestamp implements date_trunc's units on microseconds (UTC).
func truncTimestamp(us int64, unit string) any {
	days := floorDiv(us, microsPerDay)
	y, m, _ := civilFromDays(days)
	switch strings.ToUpper(unit) {
	case "YEAR", "YYYY", "YY":
		return daysFromCivilFast(y, 1, 1) * microsPerDay
	case "QUARTER":
		return daysFromCivilFast(y, (m-1)/3*3+1, 1) * microsPerDay
	case "MONTH", "MM", "MON":
		return daysFromCivilFast(y, m, 1) * microsPerDay
	case "WEEK": // weeks start on Monday; 1970-01-01 was a Thursday
		return (days - floorMod(days+3, 7)) * microsPerDay
	case "DAY", "DD":
		return days * microsPerDay
	case "HOUR":
		return us - floorMod(us, 3_600_000_000)
	case "MINUTE":
		return us - floorMod(us, 60_000_000)
	case "SECOND":
		return us - floorMod(us, 1_000_000)
	case "MILLISECOND":
		return us - floorMod(us, 1000)
	case "MICROSECOND":
		return us
	}
	return nil
}

func monthsBetween(t1, t2 int64, round bool) float64 {
	d1, d2 := floorDiv(t1, microsPerDay), floorDiv(t2, microsPerDay)
	y1, m1, day1 := civilFromDays(d1)
	y2, m2, day2 := civilFromDays(d2)
	months := float64((y1-y2)*12 + int64(m1-m2))
	last1 := day1 == monthDays(y1, m1)
	last2 := day2 == monthDays(y2, m2)
	if day1 == day2 || last1 && last2 {
		return months
	}
	sec1 := float64(day1)*86400 + float64(floorMod(t1, microsPerDay))/1e6
	sec2 := float64(day2)*86400 + float64(floorMod(t2, microsPerDay))/1e6
	r := months + (sec1-sec2)/(31*86400)
	if round {
		return roundDecimal(r, 8, 64, false)
	}
	return r
}
