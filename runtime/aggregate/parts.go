package aggregate

import (
	"math"
	"strconv"
	"strings"

	"github.com/chronon-go/chronon/thrift/api"
)

// Part is one output column of a GroupBy: an aggregation for one bucket column and one window
// (Chronon's AggregationPart).
type Part struct {
	AggIndex    int // position of the source api.Aggregation
	InputColumn string
	Operation   api.Operation
	Args        map[string]string
	Window      *api.Window // nil: unwindowed
	Bucket      string      // "": not bucketed
	ElementWise bool
}

// Millis is the window length in milliseconds, 0 for unwindowed.
func (p Part) Millis() int64 { return WindowMillis(p.Window) }

// Unbounded reports a window that means "all history": none, length ≤ 0 or Int.MaxValue (spec §2.1).
func Unbounded(w *api.Window) bool {
	return w == nil || w.Length <= 0 || w.Length == math.MaxInt32
}

// WindowMillis converts a window to milliseconds; unbounded windows are 0.
func WindowMillis(w *api.Window) int64 {
	if Unbounded(w) {
		return 0
	}
	if w.TimeUnit == api.TimeUnit_HOURS {
		return int64(w.Length) * HourMillis
	}
	return int64(w.Length) * DayMillis
}

// ExpandParts lists the output columns of aggs in Chronon's order: for each aggregation (declaration
// order), for each bucket, for each window (spec §2.1).
func ExpandParts(aggs []*api.Aggregation) []Part {
	var out []Part
	for i, a := range aggs {
		// As Chronon's AggregationOps.unpack: absent (nil) windows or buckets mean one unbounded
		// window / no bucket; an explicitly empty list yields no parts at all.
		buckets := a.Buckets
		if buckets == nil {
			buckets = []string{""}
		}
		windows := a.Windows
		if windows == nil {
			windows = []*api.Window{nil}
		}
		for _, b := range buckets {
			for _, w := range windows {
				if Unbounded(w) {
					w = nil
				}
				out = append(out, Part{
					AggIndex:    i,
					InputColumn: a.GetInputColumn(),
					Operation:   a.GetOperation(),
					Args:        a.GetArgMap(),
					Window:      w,
					Bucket:      b,
					ElementWise: a.GetElementWise(),
				})
			}
		}
	}
	return out
}

// OpSuffix is the operation's part of a column name: the lowercase enum name, with k appended for
// LAST_K, FIRST_K, TOP_K and BOTTOM_K (last10) but not for HISTOGRAM's k (spec §2.1).
func OpSuffix(op api.Operation, args map[string]string) string {
	k := args["k"]
	if n, err := strconv.Atoi(strings.TrimSpace(k)); err == nil {
		k = strconv.Itoa(n) // Chronon prints the parsed int
	}
	switch op {
	case api.Operation_LAST_K:
		return "last" + k
	case api.Operation_FIRST_K:
		return "first" + k
	case api.Operation_TOP_K:
		return "top" + k
	case api.Operation_BOTTOM_K:
		return "bottom" + k
	}
	return strings.ToLower(op.String())
}

// WindowSuffix is "_<n>d" / "_<n>h", or "" for an unbounded window.
func WindowSuffix(w *api.Window) string {
	if Unbounded(w) {
		return ""
	}
	unit := "d"
	if w.TimeUnit == api.TimeUnit_HOURS {
		unit = "h"
	}
	return "_" + strconv.Itoa(int(w.Length)) + unit
}

// OutputColumnName is `<inputColumn>_<opSuffix><windowSuffix><bucketSuffix>` (spec §2.1).
func OutputColumnName(p Part) string {
	name := p.InputColumn + "_" + OpSuffix(p.Operation, p.Args) + WindowSuffix(p.Window)
	if p.Bucket != "" {
		name += "_by_" + p.Bucket
	}
	return name
}
