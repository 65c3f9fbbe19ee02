package sqlshell

import "strings"

// Rewrite adapts Spark SQL text to DuckDB: Java date patterns in date functions are translated
// (javaCalls), and namespace names that are DuckDB reserved words are quoted where they prefix a table
// (`default.t` → `"default".t`), so Chronon's default namespace works unquoted as in Spark. Strings,
// quoted identifiers and comments are left alone.
func (s *Shell) Rewrite(q string) string { return s.quoteNamespaces(rewriteJavaCalls(q)) }

func (s *Shell) quoteNamespaces(q string) string {
	return rewriteWords(q, func(q string, i, j int) (string, int) {
		word := q[i:j]
		prevDot := i > 0 && q[i-1] == '.'
		if !prevDot && j < len(q) && q[j] == '.' && s.reserved[strings.ToLower(word)] {
			return Ident(word), j
		}
		return word, j
	})
}

// rewriteWords copies q, passing every identifier-like word outside string literals and comments to
// word(q, start, end), which returns the text to write and where to continue (at least end).
func rewriteWords(q string, word func(q string, i, j int) (string, int)) string {
	var b strings.Builder
	for i := 0; i < len(q); {
		c := q[i]
		switch {
		case c == '\'' || c == '"':
			j := skipQuoted(q, i)
			b.WriteString(q[i:j])
			i = j
		case c == '-' && strings.HasPrefix(q[i:], "--"), c == '/' && strings.HasPrefix(q[i:], "/*"):
			j := skipComment(q, i)
			b.WriteString(q[i:j])
			i = j
		case isIdentStart(c):
			j := i
			for j < len(q) && isIdentPart(q[j]) {
				j++
			}
			out, next := word(q, i, j)
			b.WriteString(out)
			i = next
		default:
			b.WriteByte(c)
			i++
		}
	}
	return b.String()
}

func isIdentStart(c byte) bool { return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isIdentPart(c byte) bool  { return isIdentStart(c) || c >= '0' && c <= '9' || c == '$' }
