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
	def("add_months", 2, 2, "add_months(date, n) -> date; the day is clamped to the month's last day", func(c *checker, call *astCall, args []node) (node, error) {
		a, err := c.argsAs(call, args, types.DateType, types.IntType)
		if err != nil {
			return nil, err
		}
		return c.scalar(call, types.DateType, a, func(v []any) any {
			t := time.Unix(v[0].(int64)*86400, 0).UTC()
			m := int64(t.Year())*12 + int64(t.Month()) - 1 + v[1].(int64)
			y, mo := int(floorDiv(m, 12)), int(floorMod(m, 12))+1
			d, _ := daysFromCivil(y, mo, min(t.Day(), daysIn(y, mo)))
			return d
		}), nil
	})
	def("last_day", 1, 1, "last_day(date) -> date: the last day of the month", func(c *checker, call *astCall, args []node) (node, error) {
		a, err := c.argsAs(call, args, types.DateType)
		if err != nil {
			return nil, err
		}
		return c.scalar(call, types.DateType, a, func(v []any) any {
			t := time.Unix(v[0].(int64)*86400, 0).UTC()
			d, _ := daysFromCivil(t.Year(), int(t.Month()), daysIn(t.Year(), int(t.Month())))
			return d
		}), nil
	})
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
