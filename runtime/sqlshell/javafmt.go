package sqlshell

import (
	"fmt"
	"strings"
)

// javaCalls are Spark functions whose second argument is a Java date pattern; when it is a string
// literal the call is replaced by DuckDB's equivalent with the pattern translated (%a = first
// argument, %f = translated pattern literal).
// (Formatting, from_unixtime and date_format, is a macro instead: see javaFormatMacro.)
var javaCalls = map[string]string{
	"unix_timestamp":    "CAST(epoch(try_strptime(CAST((%a) AS VARCHAR), %f)) AS BIGINT)",
	"to_unix_timestamp": "CAST(epoch(try_strptime(CAST((%a) AS VARCHAR), %f)) AS BIGINT)",
	"to_date":           "CAST(try_strptime(CAST((%a) AS VARCHAR), %f) AS DATE)",
}

// javaTokens are the Java pattern letters formatting understands, longest first per letter, with
// the strftime code of each.
var javaTokens = [][2]string{
	{"yyyy", "%Y"}, {"yy", "%y"}, {"MMMM", "%B"}, {"MMM", "%b"}, {"MM", "%m"}, {"dd", "%d"},
	{"HH", "%H"}, {"hh", "%I"}, {"mm", "%M"}, {"ss", "%S"}, {"SSS", "%g"}, {"EEEE", "%A"}, {"EEE", "%a"},
	{"a", "%p"}, {"M", "%-m"}, {"d", "%-d"}, {"H", "%-H"}, {"m", "%-M"}, {"s", "%-S"},
}

// javaFormatMacro formats a timestamp with a Java pattern that need not be constant (DuckDB's
// strftime wants a constant format): each pattern token becomes a placeholder character first, so
// replacing one token cannot touch another or its text (e.g. the M of "Mar"), then each placeholder
// becomes the formatted field.
func javaFormatMacro() string {
	expr := "f"
	for i, t := range javaTokens {
		expr = fmt.Sprintf("replace(%s, '%s', chr(%d))", expr, t[0], i+1)
	}
	for i, t := range javaTokens {
		expr = fmt.Sprintf("replace(%s, chr(%d), strftime(t, '%s'))", expr, i+1, t[1])
	}
	return "CREATE OR REPLACE MACRO chronon_java_format(t, f) AS " + expr
}

// JavaToStrftime translates a Java DateTimeFormatter/SimpleDateFormat pattern to strftime codes.
// Quoted text ('T') is copied; unknown letters are kept as literal text.
func JavaToStrftime(p string) string {
	var b strings.Builder
	for i := 0; i < len(p); {
		c := p[i]
		if c == '\'' {
			j := strings.IndexByte(p[i+1:], '\'')
			if j < 0 {
				b.WriteString(strings.ReplaceAll(p[i+1:], "%", "%%"))
				break
			}
			if j == 0 {
				b.WriteByte('\'')
			} else {
				b.WriteString(strings.ReplaceAll(p[i+1:i+1+j], "%", "%%"))
			}
			i += j + 2
			continue
		}
		j := i
		for j < len(p) && p[j] == c {
			j++
		}
		n := j - i
		code := ""
		switch c {
		case 'y', 'u':
			code = map[bool]string{true: "%y", false: "%Y"}[n == 2]
		case 'M', 'L':
			switch {
			case n >= 4:
				code = "%B"
			case n == 3:
				code = "%b"
			case n == 2:
				code = "%m"
			default:
				code = "%-m"
			}
		case 'd':
			code = map[bool]string{true: "%d", false: "%-d"}[n >= 2]
		case 'D':
			code = "%j"
		case 'H':
			code = map[bool]string{true: "%H", false: "%-H"}[n >= 2]
		case 'h':
			code = map[bool]string{true: "%I", false: "%-I"}[n >= 2]
		case 'm':
			code = map[bool]string{true: "%M", false: "%-M"}[n >= 2]
		case 's':
			code = map[bool]string{true: "%S", false: "%-S"}[n >= 2]
		case 'S':
			switch {
			case n <= 3:
				code = "%g"
			case n <= 6:
				code = "%f"
			default:
				code = "%n"
			}
		case 'E':
			code = map[bool]string{true: "%A", false: "%a"}[n >= 4]
		case 'a':
			code = "%p"
		case 'Z', 'X', 'x':
			code = "%z"
		case 'z':
			code = "%Z"
		case '%':
			code = strings.Repeat("%%", n)
		default:
			code = p[i:j]
		}
		b.WriteString(code)
		i = j
	}
	return b.String()
}

// rewriteJavaCalls replaces javaCalls whose pattern is a literal; nested calls are handled too.
func rewriteJavaCalls(q string) string {
	return rewriteWords(q, func(q string, i, j int) (string, int) {
		word := q[i:j]
		tmpl, ok := javaCalls[strings.ToLower(word)]
		if !ok || (i > 0 && q[i-1] == '.') {
			return word, j
		}
		k := j
		for k < len(q) && (q[k] == ' ' || q[k] == '\t' || q[k] == '\n') {
			k++
		}
		if k < len(q) && q[k] == '(' {
			if args, end, ok := splitArgs(q, k); ok && len(args) == 2 {
				if lit, ok := stringLiteral(args[1]); ok {
					out := strings.Replace(tmpl, "%f", Literal(JavaToStrftime(lit)), 1)
					return strings.Replace(out, "%a", rewriteJavaCalls(args[0]), 1), end
				}
			}
		}
		return word, j
	})
}

// splitArgs reads the parenthesised argument list starting at q[open] == '(' and returns the
// top-level arguments and the index after the closing parenthesis.
func splitArgs(q string, open int) ([]string, int, bool) {
	depth := 0
	start := open + 1
	var args []string
	for i := open; i < len(q); {
		c := q[i]
		switch {
		case c == '\'' || c == '"':
			i = skipQuoted(q, i)
			continue
		case c == '-' && strings.HasPrefix(q[i:], "--"), c == '/' && strings.HasPrefix(q[i:], "/*"):
			i = skipComment(q, i)
			continue
		case c == '(' || c == '[':
			depth++
		case c == ')' || c == ']':
			depth--
			if depth == 0 {
				args = append(args, strings.TrimSpace(q[start:i]))
				return args, i + 1, true
			}
		case c == ',' && depth == 1:
			args = append(args, strings.TrimSpace(q[start:i]))
			start = i + 1
		}
		i++
	}
	return nil, 0, false
}

// stringLiteral returns the value of a single-quoted SQL literal.
func stringLiteral(s string) (string, bool) {
	if len(s) < 2 || s[0] != '\'' || s[len(s)-1] != '\'' || skipQuoted(s, 0) != len(s) {
		return "", false
	}
	return strings.ReplaceAll(s[1:len(s)-1], "''", "'"), true
}

// skipQuoted returns the index after the quoted token starting at q[i].
func skipQuoted(q string, i int) int {
	c := q[i]
	j := i + 1
	for j < len(q) {
		if q[j] == c {
			if j+1 < len(q) && q[j+1] == c {
				j += 2
				continue
			}
			return j + 1
		}
		j++
	}
	return len(q)
}

// skipComment returns the index after the comment starting at q[i].
func skipComment(q string, i int) int {
	if strings.HasPrefix(q[i:], "--") {
		if j := strings.IndexByte(q[i:], '\n'); j >= 0 {
			return i + j
		}
		return len(q)
	}
	if j := strings.Index(q[i+2:], "*/"); j >= 0 {
		return i + 2 + j + 2
	}
	return len(q)
}
