package aggregate

import (
	"cmp"
	"math"
	"unicode/utf8"
)

// orderOf returns Chronon's (JVM) natural order for T: strings by UTF-16 code units (Java
// String.compareTo), doubles with NaN largest and -0.0 < 0.0 (Java Double.compare), ints as usual.
func orderOf[T cmp.Ordered]() func(a, b T) int {
	var zero T
	switch any(zero).(type) {
	case string:
		return any(func(a, b string) int { return compareUTF16(a, b) }).(func(a, b T) int)
	case float64:
		return any(func(a, b float64) int { return compareJavaDouble(a, b) }).(func(a, b T) int)
	}
	return cmp.Compare[T]
}

// compareUTF16 orders UTF-8 strings like Java orders their UTF-16 forms. Byte order equals code point
// order, which differs from UTF-16 order only between supplementary characters (surrogate pairs,
// 0xD800..) and BMP characters above 0xE000, so only the first differing rune needs care.
func compareUTF16(a, b string) int {
	n := min(len(a), len(b))
	i := 0
	for i < n && a[i] == b[i] {
		i++
	}
	if i == n {
		return cmp.Compare(len(a), len(b))
	}
	// back up to the start of the rune containing the first differing byte
	for i > 0 && !utf8.RuneStart(a[i]) {
		i--
	}
	ra, _ := utf8.DecodeRuneInString(a[i:])
	rb, _ := utf8.DecodeRuneInString(b[i:])
	if c := cmp.Compare(utf16Key(ra), utf16Key(rb)); c != 0 {
		return c
	}
	return cmp.Compare(ra, rb)
}

func utf16Key(r rune) rune {
	if r >= 0x10000 {
		return 0xD800 + (r-0x10000)>>10
	}
	return r
}

func compareJavaDouble(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	an, bn := math.IsNaN(a), math.IsNaN(b)
	switch {
	case an && bn:
		return 0
	case an:
		return 1
	case bn:
		return -1
	}
	// equal or ±0: order by sign bit so -0.0 < 0.0
	sa, sb := math.Signbit(a), math.Signbit(b)
	switch {
	case sa == sb:
		return 0
	case sa:
		return -1
	}
	return 1
}
