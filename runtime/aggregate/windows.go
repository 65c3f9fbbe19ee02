package aggregate

import (
	"fmt"
	"time"

	"github.com/chronon-go/chronon/thrift/api"
)

// Time constants in epoch milliseconds.
const (
	MinuteMillis     int64 = 60_000
	FiveMinuteMillis int64 = 5 * MinuteMillis
	HourMillis       int64 = 60 * MinuteMillis
	DayMillis        int64 = 24 * HourMillis
	// TailBufferMillis is the online batch IR's tail buffer: 2 days (spec §4.5).
	TailBufferMillis int64 = 2 * DayMillis
)

// Resolution is a hop scheme (spec §4.1, Resolution.scala).
type Resolution int

const (
	// FiveMinute is used by TEMPORAL backfills, upload and serving: hops of 1d, 1h and 5min.
	FiveMinute Resolution = iota
	// Daily is used by SNAPSHOT: 1d hops only, DAYS windows only.
	Daily
)

// HopSizes lists the resolution's hop sizes, largest first.
func (r Resolution) HopSizes() []int64 {
	if r == Daily {
		return []int64{DayMillis}
	}
	return []int64{DayMillis, HourMillis, FiveMinuteMillis}
}

// TailHop is the hop size that aligns the start of a window of w millis: 1d if w >= 12d, 1h if
// w >= 12h, else 5min (inclusive thresholds, as the code does; spec §4.1 and §12). Daily: always 1d.
func (r Resolution) TailHop(w int64) int64 {
	if r == Daily {
		return DayMillis
	}
	switch {
	case w >= 12*DayMillis:
		return DayMillis
	case w >= 12*HourMillis:
		return HourMillis
	}
	return FiveMinuteMillis
}

// ResolutionFor is the resolution of an accuracy: SNAPSHOT → Daily, TEMPORAL → FiveMinute.
func ResolutionFor(acc api.Accuracy) Resolution {
	if acc == api.Accuracy_SNAPSHOT {
		return Daily
	}
	return FiveMinute
}

// Floor rounds x down to a multiple of h (also for negative x, unlike Go's integer division).
func Floor(x, h int64) int64 {
	r := x % h
	if r < 0 {
		r += h
	}
	return x - r
}

// WindowStart is the inclusive start of the window of w millis for a query at q: floor(q-w, tailHop)
// (spec §4.2). The window is [WindowStart, q).
func (r Resolution) WindowStart(q, w int64) int64 { return Floor(q-w, r.TailHop(w)) }

// MidnightMillis is mid(D): epoch millis of D 00:00 UTC for a yyyy-MM-dd partition.
func MidnightMillis(ds string) (int64, error) {
	t, err := time.Parse("2006-01-02", ds)
	if err != nil {
		return 0, fmt.Errorf("partition %q: %w", ds, err)
	}
	return t.UnixMilli(), nil
}

// SnapshotEnd is the end (exclusive) of SNAPSHOT windows for partition ds: mid(ds + 1 day) (spec §4.3).
// Computing a Daily-resolution Sawtooth at this query time yields [mid(D+1)-W, mid(D+1)).
func SnapshotEnd(ds string) (int64, error) {
	m, err := MidnightMillis(ds)
	return m + DayMillis, err
}

// BatchEnd is the online batch end for an upload of partition ds: mid(ds + 1 day) (spec §4.5).
func BatchEnd(ds string) (int64, error) { return SnapshotEnd(ds) }

// checkWindows rejects HOURS windows for Daily resolution (DailyResolution in Chronon throws).
func checkWindows(parts []Part, r Resolution) error {
	if r != Daily {
		return nil
	}
	for _, p := range parts {
		if p.Window != nil && p.Window.TimeUnit == api.TimeUnit_HOURS {
			return fmt.Errorf("column %s: HOURS windows are not supported with SNAPSHOT accuracy (daily resolution)", OutputColumnName(p))
		}
	}
	return nil
}
