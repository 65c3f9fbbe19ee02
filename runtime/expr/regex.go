package expr

import (
	"regexp"
	"strings"
)

// javaPosix maps Java's POSIX character classes (\p{Alpha}, ...) to RE2's [:alpha:] names, the one
// common Java-only spelling in Spark patterns that RE2 has an exact equivalent for.
var javaPosix = map[string]string{
	"Lower": "lower", "Upper": "upper", "ASCII": "ascii", "Alpha": "alpha", "Digit": "digit", "Alnum": "alnum",
	"Punct": "punct", "Graph": "graph", "Print": "print", "Blank": "blank", "Cntrl": "cntrl", "XDigit": "xdigit",
	"Space": "space",
}

// compileJavaRegex compiles a Java regex with RE2 after rewriting \p{Alpha}-style classes.
func compileJavaRegex(p string) (*regexp.Regexp, error) {
	if strings.Contains(p, `\p{`) || strings.Contains(p, `\P{`) {
		p = rewritePosix(p)
	}
	return regexp.Compile(p)
}

func rewritePosix(p string) string {
	var sb strings.Builder
	inClass := false
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c == '\\' && i+1 < len(p):
			if (p[i+1] == 'p' || p[i+1] == 'P') && i+2 < len(p) && p[i+2] == '{' {
				end := strings.IndexByte(p[i:], '}')
				if end > 0 {
					if name, ok := javaPosix[p[i+3:i+end]]; ok {
						neg := ""
						if p[i+1] == 'P' {
							neg = "^"
						}
						if inClass && neg == "" {
							sb.WriteString("[:" + name + ":]")
						} else if inClass {
							sb.WriteString("[:^" + name + ":]")
						} else {
							sb.WriteString("[[:" + neg + name + ":]]")
						}
						i += end
						continue
					}
				}
			}
			sb.WriteByte(c)
			sb.WriteByte(p[i+1])
			i++
		case c == '[' && !inClass:
			inClass = true
			sb.WriteByte(c)
			if i+1 < len(p) && p[i+1] == '^' {
				sb.WriteByte('^')
				i++
			}
			if i+1 < len(p) && p[i+1] == ']' { // a leading ] is literal
				sb.WriteByte(']')
				i++
			}
		case c == ']' && inClass:
			inClass = false
			sb.WriteByte(c)
		default:
			sb.WriteByte(c)
		}
	}
	return sb.String()
}
