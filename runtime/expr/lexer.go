package expr

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

type tokKind int

const (
	tEOF    tokKind = iota
	tIdent          // bare identifier or keyword; text is as written
	tQuoted         // `backticked` identifier; text is unescaped
	tNumber         // numeric literal; text is as written (suffix included)
	tString         // string literal; text is unescaped
	tBinary         // X'..' literal; text is the decoded bytes
	tOp             // operator or punctuation
)

type token struct {
	kind tokKind
	text string
	pos  int
}

// lex splits src into tokens. Errors carry the position of the offending character.
func lex(src string) ([]token, error) {
	var toks []token
	i := 0
	for i < len(src) {
		c := src[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '-' && i+1 < len(src) && src[i+1] == '-': // SQL line comment
			for i < len(src) && src[i] != '\n' {
				i++
			}
		case c == '/' && i+1 < len(src) && src[i+1] == '*':
			end := strings.Index(src[i+2:], "*/")
			if end < 0 {
				return nil, errorf(src, i, "unterminated comment")
			}
			i += end + 4
		case (c == 'x' || c == 'X') && i+1 < len(src) && src[i+1] == '\'':
			j := strings.IndexByte(src[i+2:], '\'')
			if j < 0 {
				return nil, errorf(src, i, "unterminated binary literal")
			}
			hex := src[i+2 : i+2+j]
			if len(hex)%2 == 1 {
				hex = "0" + hex // Spark pads an odd number of digits on the left
			}
			b := make([]byte, len(hex)/2)
			for k := range b {
				v, err := strconv.ParseUint(hex[2*k:2*k+2], 16, 8)
				if err != nil {
					return nil, errorf(src, i, "invalid binary literal X'%s'", src[i+2:i+2+j])
				}
				b[k] = byte(v)
			}
			toks = append(toks, token{tBinary, string(b), i})
			i += j + 3
		case isIdentStart(c):
			j := i
			for j < len(src) && isIdentPart(src[j]) {
				j++
			}
			toks = append(toks, token{tIdent, src[i:j], i})
			i = j
		case c >= '0' && c <= '9' || c == '.' && i+1 < len(src) && src[i+1] >= '0' && src[i+1] <= '9':
			j := i
			for j < len(src) && src[j] >= '0' && src[j] <= '9' {
				j++
			}
			if j < len(src) && src[j] == '.' {
				j++
				for j < len(src) && src[j] >= '0' && src[j] <= '9' {
					j++
				}
			}
			if j < len(src) && (src[j] == 'e' || src[j] == 'E') {
				k := j + 1
				if k < len(src) && (src[k] == '+' || src[k] == '-') {
					k++
				}
				if k < len(src) && src[k] >= '0' && src[k] <= '9' {
					for k < len(src) && src[k] >= '0' && src[k] <= '9' {
						k++
					}
					j = k
				}
			}
			// Type suffixes (10L, 1.5D, 2BD, ...) are part of the literal.
			for j < len(src) && isIdentPart(src[j]) {
				j++
			}
			toks = append(toks, token{tNumber, src[i:j], i})
			i = j
		case c == '\'' || c == '"':
			s, n, err := unquote(src, i)
			if err != nil {
				return nil, err
			}
			toks = append(toks, token{tString, s, i})
			i += n
		case c == '`':
			var sb strings.Builder
			j := i + 1
			for {
				if j >= len(src) {
					return nil, errorf(src, i, "unterminated quoted identifier")
				}
				if src[j] == '`' {
					if j+1 < len(src) && src[j+1] == '`' { // `` is an escaped backtick
						sb.WriteByte('`')
						j += 2
						continue
					}
					break
				}
				sb.WriteByte(src[j])
				j++
			}
			toks = append(toks, token{tQuoted, sb.String(), i})
			i = j + 1
		default:
			op := ""
			for _, cand := range []string{"<=>", "==", "!=", "<>", "<=", ">=", "||", "&&", "=", "<", ">", "+", "-", "*", "/", "%", "(", ")", ",", ".", "[", "]", "!", "~", "&", "|", "^"} {
				if strings.HasPrefix(src[i:], cand) {
					op = cand
					break
				}
			}
			if op == "" {
				r, _ := utf8.DecodeRuneInString(src[i:])
				return nil, errorf(src, i, "unexpected character %q", r)
			}
			toks = append(toks, token{tOp, op, i})
			i += len(op)
		}
	}
	toks = append(toks, token{tEOF, "", len(src)})
	return toks, nil
}

func isIdentStart(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}

func isIdentPart(c byte) bool { return isIdentStart(c) || c >= '0' && c <= '9' }

// unquote reads the string literal starting at src[start] with Spark's escapes (backslash escapes,
// \uXXXX, octal \ooo; \% and \_ keep their backslash so LIKE patterns still see them). It returns
// the value and the number of bytes consumed.
func unquote(src string, start int) (string, int, error) {
	q := src[start]
	var sb strings.Builder
	i := start + 1
	for {
		if i >= len(src) {
			return "", 0, errorf(src, start, "unterminated string literal")
		}
		c := src[i]
		if c == q {
			return sb.String(), i + 1 - start, nil
		}
		if c != '\\' {
			sb.WriteByte(c)
			i++
			continue
		}
		if i+1 >= len(src) {
			return "", 0, errorf(src, start, "unterminated string literal")
		}
		e := src[i+1]
		switch e {
		case 'b':
			sb.WriteByte('\b')
		case 'n':
			sb.WriteByte('\n')
		case 'r':
			sb.WriteByte('\r')
		case 't':
			sb.WriteByte('\t')
		case 'Z':
			sb.WriteByte(26)
		case '%', '_':
			sb.WriteByte('\\')
			sb.WriteByte(e)
		case 'u':
			if i+6 <= len(src) {
				if v, err := strconv.ParseUint(src[i+2:i+6], 16, 16); err == nil {
					sb.WriteRune(rune(v))
					i += 6
					continue
				}
			}
			sb.WriteByte('u')
		case '0', '1', '2', '3':
			if i+4 <= len(src) {
				if v, err := strconv.ParseUint(src[i+1:i+4], 8, 8); err == nil {
					sb.WriteByte(byte(v))
					i += 4
					continue
				}
			}
			if e == '0' {
				sb.WriteByte(0)
			} else {
				sb.WriteByte(e)
			}
		default:
			sb.WriteByte(e)
		}
		i += 2
	}
}
