package backfill

import "time"

// Partition dates are yyyy-MM-dd in UTC (spec §3.1).

const dayMillis = int64(24 * 3600 * 1000)

// midMillis is the epoch millis of ds at 00:00:00.000 UTC; ds must be a valid date.
func midMillis(ds string) int64 {
	t, err := time.Parse(time.DateOnly, ds)
	if err != nil {
		panic("backfill: invalid partition date " + ds)
	}
	return t.UnixMilli()
}

// dayOf is the UTC date of epoch millis ts.
func dayOf(ts int64) string {
	return time.UnixMilli(ts).UTC().Format(time.DateOnly)
}

// addDays shifts a date by n days.
func addDays(ds string, n int) string {
	return dayOf(midMillis(ds) + int64(n)*dayMillis)
}

// validDate reports whether s is a yyyy-MM-dd date.
func validDate(s string) bool {
	_, err := time.Parse(time.DateOnly, s)
	return err == nil && len(s) == 10
}
