package expr

import (
	"math"
	"testing"
	"time"
)

func TestCivilMatchesTimePackage(t *testing.T) {
	for d := int64(-800000); d < 800000; d += 37 {
		tm := time.Unix(d*86400, 0).UTC()
		y, m, day := civilFromDays(d)
		if y != int64(tm.Year()) || m != int(tm.Month()) || day != tm.Day() {
			t.Fatalf("day %d: civilFromDays = %d-%d-%d, time says %s", d, y, m, day, tm.Format("2006-01-02"))
		}
		if back := daysFromCivilFast(y, m, day); back != d {
			t.Fatalf("day %d: round trip gave %d", d, back)
		}
		if got, want := formatDate(d), tm.Format("2006-01-02"); tm.Year() >= 0 && got != want {
			t.Fatalf("formatDate(%d) = %s, want %s", d, got, want)
		}
	}
}

func TestFormatDoubleLikeJava(t *testing.T) {
	cases := map[float64]string{
		1: "1.0", 0.1: "0.1", 100: "100.0", 1e7: "1.0E7", 9999999: "9999999.0", 0.001: "0.001",
		0.0001: "1.0E-4", 123456789012: "1.23456789012E11", -1.5e-10: "-1.5E-10", math.MaxFloat64: "1.7976931348623157E308",
		4.9e-324: "4.9E-324", 1.0 / 3: "0.3333333333333333",
	}
	for f, want := range cases {
		if got := formatDouble(f, 64); got != want {
			t.Errorf("formatDouble(%v) = %s, want %s", f, got, want)
		}
	}
	if got := formatDouble(float64(float32(0.1)), 32); got != "0.1" {
		t.Errorf("float 0.1 = %s", got)
	}
}

func TestCompareStringsUTF16(t *testing.T) {
	cases := []struct {
		a, b string
		want int
	}{
		{"a", "b", -1}, {"b", "a", 1}, {"a", "a", 0}, {"a", "ab", -1}, {"", "a", -1},
		{"\uFF5E", "😀", 1}, // U+FF5E is above the surrogates U+D83D used by the emoji
		{"\u00e9", "z", 1}, {"😀", "😁", -1}, {"x😀", "x\uE000", -1},
	}
	for _, c := range cases {
		if got := compareStrings(c.a, c.b); got != c.want {
			t.Errorf("compareStrings(%q, %q) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
}
