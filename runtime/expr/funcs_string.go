package expr

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/chronon-go/chronon/runtime/types"
)

// String functions. Positions and lengths count characters (code points), as Spark's UTF8String.

func init() {
	def("concat", 0, -1, "concat(str, ...) -> string (binary if every argument is binary); NULL if any argument is NULL", buildConcat)
	def("concat_ws", 1, -1, "concat_ws(sep, str|array<string>, ...) -> string; skips NULLs", buildConcatWS)
	def("lower,lcase", 1, 1, "lower(str) -> string", unaryStr(javaLower))
	def("upper,ucase", 1, 1, "upper(str) -> string", unaryStr(javaUpper))
	def("trim", 1, 1, "trim(str) -> string: removes leading and trailing spaces", unaryStr(func(s string) string { return strings.Trim(s, " ") }))
	def("ltrim", 1, 1, "ltrim(str) -> string", unaryStr(func(s string) string { return strings.TrimLeft(s, " ") }))
	def("rtrim", 1, 1, "rtrim(str) -> string", unaryStr(func(s string) string { return strings.TrimRight(s, " ") }))
	def("reverse", 1, 1, "reverse(str) -> string", unaryStr(func(s string) string {
		r := []rune(s)
		for i, j := 0, len(r)-1; i < j; i, j = i+1, j-1 {
			r[i], r[j] = r[j], r[i]
		}
		return string(r)
	}))
	def("initcap", 1, 1, "initcap(str) -> string: first letter of each space-separated word upper, the rest lower", unaryStr(initcap))
	def("substring,substr", 2, 3, "substring(str, pos[, len]) -> string: 1-based, negative pos counts from the end", buildSubstring)
	def("left", 2, 2, "left(str, len) -> string", typed(types.StringType, func(v []any) any {
		n := v[1].(int64)
		if n <= 0 {
			return ""
		}
		return substringSQL(v[0].(string), 1, n)
	}, types.StringType, types.IntType))
	def("right", 2, 2, "right(str, len) -> string", typed(types.StringType, func(v []any) any {
		n := v[1].(int64)
		if n <= 0 {
			return ""
		}
		return substringSQL(v[0].(string), -n, 1<<31-1)
	}, types.StringType, types.IntType))
	def("length,char_length,character_length", 1, 1, "length(str|binary) -> int: characters (bytes for binary)", buildLength)
	def("instr", 2, 2, "instr(str, substr) -> int: 1-based position of the first occurrence, 0 if none", typed(types.IntType, func(v []any) any {
		s, sub := v[0].(string), v[1].(string)
		i := strings.Index(s, sub)
		if i < 0 {
			return int64(0)
		}
		return int64(runeLen(s[:i]) + 1)
	}, types.StringType))
	def("lpad,rpad", 2, 3, "lpad(str, len[, pad=' ']) -> string", buildPad)
	def("repeat", 2, 2, "repeat(str, n) -> string", typed(types.StringType, func(v []any) any {
		n := v[1].(int64)
		if n <= 0 {
			return ""
		}
		if int64(len(v[0].(string)))*n > maxResultBytes {
			return nil
		}
		return strings.Repeat(v[0].(string), int(n))
	}, types.StringType, types.IntType))
	def("replace", 2, 3, "replace(str, search[, replacement='']) -> string: replaces every occurrence", typed(types.StringType, func(v []any) any {
		rep := ""
		if len(v) > 2 {
			rep = v[2].(string)
		}
		if v[1].(string) == "" { // Spark leaves the string unchanged for an empty search
			return v[0].(string)
		}
		return strings.ReplaceAll(v[0].(string), v[1].(string), rep)
	}, types.StringType))
	def("split", 2, 3, "split(str, regex[, limit=-1]) -> array<string>", buildSplit)
	def("regexp_extract", 2, 3, "regexp_extract(str, regex[, group=1]) -> string; '' when nothing matches", buildRegexpExtract)
	def("regexp_replace", 3, 4, "regexp_replace(str, regex, replacement[, pos=1]) -> string; $n refers to groups", buildRegexpReplace)
	def("rlike,regexp,regexp_like", 2, 2, "rlike(str, regex) -> boolean: true if the regex matches a substring", func(c *checker, call *astCall, args []node) (node, error) {
		a, err := c.argsAs(call, args, types.StringType)
		if err != nil {
			return nil, err
		}
		return c.regexMatch(a[0], a[1], argPos(call, 1))
	})
	def("like", 2, 2, "like(str, pattern) -> boolean", func(c *checker, call *astCall, args []node) (node, error) {
		a, err := c.argsAs(call, args, types.StringType)
		if err != nil {
			return nil, err
		}
		return c.likeMatch(a[0], a[1], argPos(call, 1), '\\', false)
	})
}

// maxResultBytes bounds strings built from a count argument (repeat, lpad): Spark fails the query,
// we return NULL instead of exhausting memory.
const maxResultBytes = 1 << 28

func initcap(s string) string {
	r := []rune(javaLower(s))
	start := true
	for i, c := range r {
		if start {
			r[i] = unicode.ToTitle(c)
		}
		start = c == ' '
	}
	return string(r)
}

// unaryStr builds a string -> string function with a columnar loop over the string slice.
func unaryStr(f func(string) string) func(c *checker, call *astCall, args []node) (node, error) {
	return func(c *checker, call *astCall, args []node) (node, error) {
		a, err := c.arg(call, args, 0, types.StringType)
		if err != nil {
			return nil, err
		}
		n := &callNode{name: strings.ToLower(call.name), t: types.StringType, args: []node{a},
			fn: func(v []any) any { return f(v[0].(string)) },
			vecFn: func(ctx *batchCtx, v []vec) (vec, bool) {
				in := v[0].c
				out := &types.Column{Type: types.StringType, Nulls: in.Nulls, Strs: make([]string, len(in.Strs))}
				for i, s := range in.Strs {
					if in.Nulls == nil || !in.Nulls[i] {
						out.Strs[i] = f(s)
					}
				}
				return colVec(out), true
			}}
		return c.fold(n, a), nil
	}
}

func buildConcat(c *checker, call *astCall, args []node) (node, error) {
	allBinary := len(args) > 0
	for _, a := range args {
		allBinary = allBinary && a.typ().Kind == types.Binary
	}
	if allBinary {
		return c.scalar(call, types.BinaryType, args, func(v []any) any {
			var out []byte
			for _, x := range v {
				out = append(out, x.([]byte)...)
			}
			if out == nil {
				out = []byte{}
			}
			return out
		}), nil
	}
	a, err := c.argsAs(call, args, types.StringType)
	if err != nil {
		return nil, err
	}
	n := &callNode{name: "concat", t: types.StringType, args: a, fn: func(v []any) any {
		var sb strings.Builder
		for _, x := range v {
			sb.WriteString(x.(string))
		}
		return sb.String()
	}}
	n.vecFn = func(ctx *batchCtx, v []vec) (vec, bool) {
		// Concatenate straight from the string slices; a NULL part makes the row NULL.
		nulls, allNull := mergeNulls(ctx.n, v...)
		if allNull {
			return constVec(nil, types.StringType), true
		}
		out := &types.Column{Type: types.StringType, Nulls: nulls, Strs: make([]string, ctx.n)}
		buf := make([]byte, 0, 64)
		for i := range out.Strs {
			if nulls != nil && nulls[i] {
				continue
			}
			buf = buf[:0]
			for _, p := range v {
				if p.c == nil {
					buf = append(buf, p.k.(string)...)
				} else {
					buf = append(buf, p.c.Strs[i]...)
				}
			}
			out.Strs[i] = string(buf)
		}
		return colVec(out), true
	}
	return c.fold(n, a...), nil
}

func buildConcatWS(c *checker, call *astCall, args []node) (node, error) {
	out := make([]node, len(args))
	for i, a := range args {
		if i > 0 && a.typ().Kind == types.List {
			n, err := c.arg(call, args, i, types.ListOf(types.StringType))
			if err != nil {
				return nil, err
			}
			out[i] = n
			continue
		}
		n, err := c.arg(call, args, i, types.StringType)
		if err != nil {
			return nil, err
		}
		out[i] = n
	}
	return c.scalarNullSafe(call, types.StringType, out, func(v []any) any {
		if v[0] == nil {
			return nil
		}
		sep := v[0].(string)
		var parts []string
		for _, x := range v[1:] {
			switch x := x.(type) {
			case string:
				parts = append(parts, x)
			case []any:
				for _, e := range x {
					if e != nil {
						parts = append(parts, e.(string))
					}
				}
			}
		}
		return strings.Join(parts, sep)
	}), nil
}

// substringSQL is Spark's substring: pos > 0 is 1-based, pos < 0 counts from the end, pos 0 is 1.
func substringSQL(s string, pos, length int64) string {
	n := int64(runeLen(s))
	var start int64
	switch {
	case pos > 0:
		start = pos - 1
	case pos < 0:
		start = n + pos
	}
	end := start + length
	if length > 1<<31-1-start { // Spark clamps start+len to the int range
		end = 1<<31 - 1
	}
	start = max(start, 0)
	if start >= end || start >= n {
		return ""
	}
	end = min(end, n)
	if n == int64(len(s)) { // ASCII: byte offsets are character offsets
		return s[start:end]
	}
	r := []rune(s)
	return string(r[start:end])
}

func buildSubstring(c *checker, call *astCall, args []node) (node, error) {
	a, err := c.argsAs(call, args, types.StringType, types.IntType)
	if err != nil {
		return nil, err
	}
	return typed1(c, call, types.StringType, a, func(s string, rest []any) (string, bool) {
		length := int64(1<<31 - 1)
		if len(rest) > 1 {
			length = rest[1].(int64)
		}
		return substringSQL(s, rest[0].(int64), length), true
	}), nil
}

func buildLength(c *checker, call *astCall, args []node) (node, error) {
	if args[0].typ().Kind == types.Binary {
		return c.scalar(call, types.IntType, args, func(v []any) any { return int64(len(v[0].([]byte))) }), nil
	}
	a, err := c.arg(call, args, 0, types.StringType)
	if err != nil {
		return nil, err
	}
	return typed1(c, call, types.IntType, []node{a}, func(s string, _ []any) (int64, bool) { return int64(runeLen(s)), true }), nil
}

func buildPad(c *checker, call *astCall, args []node) (node, error) {
	a, err := c.argsAs(call, args, types.StringType, types.IntType, types.StringType)
	if err != nil {
		return nil, err
	}
	left := strings.EqualFold(call.name, "lpad")
	return c.scalar(call, types.StringType, a, func(v []any) any {
		if v[1].(int64) > maxResultBytes/4 {
			return nil
		}
		s, n := []rune(v[0].(string)), int(max(v[1].(int64), 0))
		pad := []rune(" ")
		if len(v) > 2 {
			pad = []rune(v[2].(string))
		}
		if len(s) >= n {
			return string(s[:n])
		}
		if len(pad) == 0 {
			return string(s)
		}
		fill := make([]rune, 0, n-len(s))
		for len(fill) < n-len(s) {
			fill = append(fill, pad[len(fill)%len(pad)])
		}
		if left {
			return string(fill) + string(s)
		}
		return string(s) + string(fill)
	}), nil
}

// ---- regular expressions ----

// Patterns are Java regexes in Spark; we compile them with Go's RE2, which agrees on the common
// syntax but has no backreferences or lookaround (such patterns are compile errors when constant).
var regexCache = newBoundedCache[*regexp.Regexp](10000)

// compileRegex compiles a pattern computed per row, memoized; nil means invalid (a NULL result).
func compileRegex(p string) *regexp.Regexp {
	if re, ok := regexCache.get(p); ok {
		return re
	}
	re, err := compileJavaRegex(p)
	if err != nil {
		re = nil
	}
	regexCache.put(p, re)
	return re
}

// regexArg precompiles a constant pattern (reporting errors at compile time) or returns nil for a
// pattern computed per row.
func (c *checker) regexArg(n node, pos int) (*regexp.Regexp, bool, error) {
	l, ok := n.(*litNode)
	if !ok || l.v == nil {
		return nil, false, nil
	}
	re, err := compileJavaRegex(l.v.(string))
	if err != nil {
		return nil, false, c.errAt(pos, "invalid regular expression %q: %v (patterns use Go's RE2 syntax: no lookaround or backreferences)", l.v, err)
	}
	return re, true, nil
}

// rowRegex returns the compiled constant or compiles the row's pattern (nil if invalid: NULL result).
func rowRegex(konst *regexp.Regexp, p any) *regexp.Regexp {
	if konst != nil {
		return konst
	}
	return compileRegex(p.(string))
}

func (c *checker) regexMatch(x, pat node, pos int) (node, error) {
	re, _, err := c.regexArg(pat, pos)
	if err != nil {
		return nil, err
	}
	n := &callNode{name: "rlike", t: types.BooleanType, args: []node{x, pat}, fn: func(v []any) any {
		r := rowRegex(re, v[1])
		if r == nil {
			return nil
		}
		return r.MatchString(v[0].(string))
	}}
	if re != nil {
		n.vecFn = func(ctx *batchCtx, v []vec) (vec, bool) {
			return boolOverStrings(v[0], re.MatchString), true
		}
	}
	return c.fold(n, x, pat), nil
}

// boolOverStrings applies a string predicate to a string column (NULL stays NULL).
func boolOverStrings(v vec, f func(string) bool) vec {
	in := v.c
	out := &types.Column{Type: types.BooleanType, Nulls: in.Nulls, Bools: make([]bool, len(in.Strs))}
	for i, s := range in.Strs {
		if in.Nulls == nil || !in.Nulls[i] {
			out.Bools[i] = f(s)
		}
	}
	return colVec(out)
}

// likeMatch compiles a LIKE pattern: '_' one character, '%' any run, escape char quotes the next.
// Pure prefix/suffix/contains/equality patterns skip the regex engine.
func (c *checker) likeMatch(x, pat node, pos int, escape rune, fold bool) (node, error) {
	var konst func(string) bool
	if l, ok := pat.(*litNode); ok && l.v != nil {
		m, err := likeMatcher(l.v.(string), escape, fold)
		if err != nil {
			return nil, c.errAt(pos, "%v", err)
		}
		konst = m
	}
	n := &callNode{name: "like", t: types.BooleanType, args: []node{x, pat}, fn: func(v []any) any {
		m := konst
		if m == nil {
			var err error
			if m, err = likeMatcher(v[1].(string), escape, fold); err != nil {
				return nil
			}
		}
		return m(v[0].(string))
	}}
	if konst != nil {
		n.vecFn = func(ctx *batchCtx, v []vec) (vec, bool) { return boolOverStrings(v[0], konst), true }
	}
	return c.fold(n, x, pat), nil
}

func likeMatcher(p string, escape rune, fold bool) (func(string) bool, error) {
	var re strings.Builder
	var lit strings.Builder // literal text when the pattern has no wildcards in the middle
	re.WriteString("(?s)^")
	if fold {
		re.WriteString("(?i)")
	}
	rs := []rune(p)
	type part struct {
		wild bool
		text string
	}
	var parts []part
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		switch {
		case r == escape:
			if i+1 >= len(rs) {
				return nil, errorf("", 0, "LIKE pattern %q ends with the escape character", p)
			}
			i++
			if rs[i] != '_' && rs[i] != '%' && rs[i] != escape {
				return nil, errorf("", 0, "LIKE pattern %q: the escape character must be followed by _, %% or itself", p)
			}
			re.WriteString(regexp.QuoteMeta(string(rs[i])))
			lit.WriteRune(rs[i])
		case r == '%':
			re.WriteString(".*")
			if lit.Len() > 0 {
				parts = append(parts, part{text: lit.String()})
				lit.Reset()
			}
			parts = append(parts, part{wild: true})
		case r == '_':
			re.WriteString(".")
			parts = append(parts, part{text: "\x00_"}) // forces the regex path
		default:
			re.WriteString(regexp.QuoteMeta(string(r)))
			lit.WriteRune(r)
		}
	}
	if lit.Len() > 0 {
		parts = append(parts, part{text: lit.String()})
	}
	re.WriteString("$")
	simple := !fold
	for _, pt := range parts {
		if pt.text == "\x00_" {
			simple = false
		}
	}
	if simple {
		switch {
		case len(parts) == 0:
			return func(s string) bool { return s == "" }, nil
		case len(parts) == 1 && !parts[0].wild:
			t := parts[0].text
			return func(s string) bool { return s == t }, nil
		case len(parts) == 1:
			return func(string) bool { return true }, nil
		case len(parts) == 2 && parts[0].wild && !parts[1].wild:
			t := parts[1].text
			return func(s string) bool { return strings.HasSuffix(s, t) }, nil
		case len(parts) == 2 && !parts[0].wild && parts[1].wild:
			t := parts[0].text
			return func(s string) bool { return strings.HasPrefix(s, t) }, nil
		case len(parts) == 3 && parts[0].wild && !parts[1].wild && parts[2].wild:
			t := parts[1].text
			return func(s string) bool { return strings.Contains(s, t) }, nil
		}
	}
	compiled, err := regexp.Compile(re.String())
	if err != nil {
		return nil, err
	}
	return compiled.MatchString, nil
}

// javaSplit is java.lang.String.split(regex, limit): a zero-width match at the start yields no
// leading empty string; limit > 0 caps the parts; limit 0 drops trailing empty strings.
func javaSplit(s string, re *regexp.Regexp, limit int) []any {
	var out []any
	index := 0
	matched := false
	for _, m := range re.FindAllStringIndex(s, -1) {
		if limit > 0 && len(out) >= limit-1 {
			break
		}
		if m[1] == 0 { // zero-width match at the beginning
			continue
		}
		out = append(out, s[index:m[0]])
		index = m[1]
		matched = true
	}
	if !matched {
		return []any{s}
	}
	out = append(out, s[index:])
	if limit == 0 {
		for len(out) > 0 && out[len(out)-1] == "" {
			out = out[:len(out)-1]
		}
	}
	return out
}

func buildSplit(c *checker, call *astCall, args []node) (node, error) {
	a, err := c.argsAs(call, args, types.StringType, types.StringType, types.IntType)
	if err != nil {
		return nil, err
	}
	re, _, err := c.regexArg(a[1], argPos(call, 1))
	if err != nil {
		return nil, err
	}
	return c.scalar(call, types.ListOf(types.StringType), a, func(v []any) any {
		limit := -1
		if len(v) > 2 {
			limit = int(v[2].(int64))
		}
		s := v[0].(string)
		if v[1].(string) == "" && s != "" {
			// Spark splits into characters for an empty pattern, without a trailing empty string.
			rs := []rune(s)
			n := len(rs)
			if limit > 0 && limit < n {
				n = limit
			}
			out := make([]any, n)
			for i := 0; i < n-1; i++ {
				out[i] = string(rs[i])
			}
			out[n-1] = string(rs[n-1:])
			return out
		}
		r := rowRegex(re, v[1])
		if r == nil {
			return nil
		}
		return javaSplit(s, r, limit)
	}), nil
}

func buildRegexpExtract(c *checker, call *astCall, args []node) (node, error) {
	a, err := c.argsAs(call, args, types.StringType, types.StringType, types.IntType)
	if err != nil {
		return nil, err
	}
	re, _, err := c.regexArg(a[1], argPos(call, 1))
	if err != nil {
		return nil, err
	}
	if len(a) == 2 {
		a = append(a, &litNode{v: int64(1), t: types.IntType})
	}
	if g, ok := constArg(a, 2); ok && g != nil && re != nil {
		if g.(int64) < 0 || int(g.(int64)) > re.NumSubexp() {
			return nil, c.errAt(argPos(call, 2), "regexp_extract: group %d does not exist (the regex has %d)", g, re.NumSubexp())
		}
	}
	return c.scalar(call, types.StringType, a, func(v []any) any {
		r := rowRegex(re, v[1])
		g := int(v[2].(int64))
		if r == nil || g < 0 || g > r.NumSubexp() {
			return nil
		}
		m := r.FindStringSubmatchIndex(v[0].(string))
		if m == nil || m[2*g] < 0 {
			return ""
		}
		return v[0].(string)[m[2*g]:m[2*g+1]]
	}), nil
}

func buildRegexpReplace(c *checker, call *astCall, args []node) (node, error) {
	a, err := c.argsAs(call, args, types.StringType, types.StringType, types.StringType, types.IntType)
	if err != nil {
		return nil, err
	}
	re, _, err := c.regexArg(a[1], argPos(call, 1))
	if err != nil {
		return nil, err
	}
	return c.scalar(call, types.StringType, a, func(v []any) any {
		r := rowRegex(re, v[1])
		if r == nil {
			return nil
		}
		s, rep := v[0].(string), v[2].(string)
		pos := int64(1)
		if len(v) > 3 {
			pos = v[3].(int64)
		}
		if pos < 1 {
			return nil
		}
		// pos is 1-based in characters; the prefix before it is kept verbatim.
		prefix := substringSQL(s, 1, pos-1)
		rest := s[len(prefix):]
		var sb strings.Builder
		sb.WriteString(prefix)
		last := 0
		for _, m := range r.FindAllStringSubmatchIndex(rest, -1) {
			sb.WriteString(rest[last:m[0]])
			expandJava(&sb, rep, rest, m)
			last = m[1]
		}
		sb.WriteString(rest[last:])
		return sb.String()
	}), nil
}

// expandJava writes a Java Matcher replacement: $n / ${name} insert groups, backslash quotes the next
// character. Unknown groups insert nothing (Java would throw).
func expandJava(sb *strings.Builder, rep, s string, m []int) {
	groups := len(m)/2 - 1
	for i := 0; i < len(rep); i++ {
		ch := rep[i]
		switch {
		case ch == '\\' && i+1 < len(rep):
			i++
			sb.WriteByte(rep[i])
		case ch == '$' && i+1 < len(rep) && rep[i+1] >= '0' && rep[i+1] <= '9':
			// Java takes the longest digit run that still names an existing group.
			g := int(rep[i+1] - '0')
			j := i + 2
			for j < len(rep) && rep[j] >= '0' && rep[j] <= '9' {
				ng := g*10 + int(rep[j]-'0')
				if ng > groups {
					break
				}
				g = ng
				j++
			}
			if g <= groups && m[2*g] >= 0 {
				sb.WriteString(s[m[2*g]:m[2*g+1]])
			}
			i = j - 1
		default:
			sb.WriteByte(ch)
		}
	}
}

// utf8Valid replaces invalid UTF-8 like Java's decoder (U+FFFD).
func utf8Valid(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	return strings.ToValidUTF8(string(b), "\uFFFD")
}

// More string functions: search, translate, code points, predicates.
func init() {
	def("locate", 2, 3, "locate(substr, str[, pos=1]) -> int: 1-based position of substr in str at or after pos, 0 if none", buildLocate)
	def("position", 2, 3, "position(substr, str[, pos=1]) -> int: same as locate", buildLocate)
	def("translate", 3, 3, "translate(str, from, to) -> string: replaces each character of from by the one at the same place in to, deleting those without one", typed(types.StringType, func(v []any) any {
		from, to := []rune(v[1].(string)), []rune(v[2].(string))
		m := map[rune]rune{}
		for i, r := range from {
			if _, seen := m[r]; seen {
				continue // the first occurrence wins
			}
			if i < len(to) {
				m[r] = to[i]
			} else {
				m[r] = -1
			}
		}
		var sb strings.Builder
		for _, r := range v[0].(string) {
			if t, ok := m[r]; ok {
				if t >= 0 {
					sb.WriteRune(t)
				}
				continue
			}
			sb.WriteRune(r)
		}
		return sb.String()
	}, types.StringType))
	def("ascii", 1, 1, "ascii(str) -> int: code point of the first character, 0 for ''", typed(types.IntType, func(v []any) any {
		r, n := utf8.DecodeRuneInString(v[0].(string))
		if n == 0 {
			return int64(0)
		}
		return int64(r)
	}, types.StringType))
	def("chr,char", 1, 1, "chr(n) -> string: the character n mod 256 (Latin-1); '' for negative n", typed(types.StringType, func(v []any) any {
		n := v[0].(int64)
		if n < 0 {
			return ""
		}
		return string(rune(n % 256))
	}, types.LongType))
	strPred := func(name, doc string, f func(s, x string) bool) {
		def(name, 2, 2, name+"(str, x) -> boolean: "+doc, func(c *checker, call *astCall, args []node) (node, error) {
			a, err := c.argsAs(call, args, types.StringType)
			if err != nil {
				return nil, err
			}
			return c.scalar(call, types.BooleanType, a, func(v []any) any { return f(v[0].(string), v[1].(string)) }), nil
		})
	}
	strPred("startswith", "str begins with x", strings.HasPrefix)
	strPred("endswith", "str ends with x", strings.HasSuffix)
	strPred("contains", "x occurs in str", strings.Contains)
	def("split_part", 3, 3, "split_part(str, delim, n) -> string: the n-th part (1-based, negative from the end) split on the literal delim; '' when out of range", typed(types.StringType, func(v []any) any {
		s, d, n := v[0].(string), v[1].(string), v[2].(int64)
		if n == 0 {
			return nil // Spark raises an error for index 0
		}
		parts := []string{s}
		if d != "" {
			parts = strings.Split(s, d)
		}
		if n < 0 {
			n += int64(len(parts)) + 1
		}
		if n < 1 || n > int64(len(parts)) {
			return ""
		}
		return parts[n-1]
	}, types.StringType, types.StringType, types.IntType))
	def("octet_length", 1, 1, "octet_length(str|binary) -> int: bytes", func(c *checker, call *astCall, args []node) (node, error) {
		a, err := c.arg(call, args, 0, types.BinaryType)
		if err != nil {
			return nil, err
		}
		return c.scalar(call, types.IntType, []node{a}, func(v []any) any { return int64(len(v[0].([]byte))) }), nil
	})
}

func buildLocate(c *checker, call *astCall, args []node) (node, error) {
	a, err := c.argsAs(call, args, types.StringType, types.StringType, types.IntType)
	if err != nil {
		return nil, err
	}
	return c.scalar(call, types.IntType, a, func(v []any) any {
		sub, s := v[0].(string), v[1].(string)
		pos := int64(1)
		if len(v) > 2 {
			pos = v[2].(int64)
		}
		if pos < 1 {
			return int64(0)
		}
		rs := []rune(s)
		if pos-1 > int64(len(rs)) {
			return int64(0)
		}
		i := strings.Index(string(rs[pos-1:]), sub)
		if i < 0 {
			return int64(0)
		}
		return pos + int64(runeLen(string(rs[pos-1:])[:i]))
	}), nil
}
