package expr

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Java's String.toUpperCase/toLowerCase (root locale) apply Unicode's unconditional full case
// mappings, which Go's simple per-rune mapping lacks: ß → SS, ligatures → letters, İ → i̇, and a
// final capital sigma lowers to ς.

var upperFull = strings.NewReplacer("ß", "SS", "ﬀ", "FF", "ﬁ", "FI", "ﬂ", "FL", "ﬃ", "FFI", "ﬄ", "FFL", "ﬅ", "ST", "ﬆ", "ST", "ŉ", "ʼN", "և", "ԵՒ")

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func javaUpper(s string) string {
	if isASCII(s) {
		return strings.ToUpper(s)
	}
	return strings.ToUpper(upperFull.Replace(s))
}

func javaLower(s string) string {
	if isASCII(s) {
		return strings.ToLower(s)
	}
	rs := []rune(s)
	var sb strings.Builder
	for i, r := range rs {
		switch {
		case r == 'İ':
			sb.WriteString("i\u0307")
		case r == 'Σ' && i > 0 && unicode.IsLetter(rs[i-1]) && (i+1 == len(rs) || !unicode.IsLetter(rs[i+1])):
			sb.WriteRune('ς') // final sigma
		default:
			sb.WriteRune(unicode.ToLower(r))
		}
	}
	return sb.String()
}
