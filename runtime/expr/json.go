package expr

import (
	"errors"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// A small JSON reader for get_json_object. Objects keep their key order and numbers keep their
// source text, so extracted sub-documents print as they were written (compactly).

type jsonKind int

const (
	jNull jsonKind = iota
	jBool
	jNumber
	jString
	jArray
	jObject
)

type jsonVal struct {
	kind jsonKind
	raw  string // number/bool text, or the unescaped string
	keys []string
	vals []*jsonVal
}

type jsonReader struct {
	s string
	i int
}

func (r *jsonReader) ws() {
	for r.i < len(r.s) && (r.s[r.i] == ' ' || r.s[r.i] == '\t' || r.s[r.i] == '\n' || r.s[r.i] == '\r') {
		r.i++
	}
}

func (r *jsonReader) value(depth int) (*jsonVal, bool) {
	if depth > 1000 {
		return nil, false
	}
	r.ws()
	if r.i >= len(r.s) {
		return nil, false
	}
	switch c := r.s[r.i]; {
	case c == '{':
		r.i++
		v := &jsonVal{kind: jObject}
		r.ws()
		if r.i < len(r.s) && r.s[r.i] == '}' {
			r.i++
			return v, true
		}
		for {
			r.ws()
			if r.i >= len(r.s) || r.s[r.i] != '"' {
				return nil, false
			}
			k, ok := r.str()
			if !ok {
				return nil, false
			}
			r.ws()
			if r.i >= len(r.s) || r.s[r.i] != ':' {
				return nil, false
			}
			r.i++
			x, ok := r.value(depth + 1)
			if !ok {
				return nil, false
			}
			v.keys = append(v.keys, k)
			v.vals = append(v.vals, x)
			r.ws()
			if r.i < len(r.s) && r.s[r.i] == ',' {
				r.i++
				continue
			}
			if r.i < len(r.s) && r.s[r.i] == '}' {
				r.i++
				return v, true
			}
			return nil, false
		}
	case c == '[':
		r.i++
		v := &jsonVal{kind: jArray}
		r.ws()
		if r.i < len(r.s) && r.s[r.i] == ']' {
			r.i++
			return v, true
		}
		for {
			x, ok := r.value(depth + 1)
			if !ok {
				return nil, false
			}
			v.vals = append(v.vals, x)
			r.ws()
			if r.i < len(r.s) && r.s[r.i] == ',' {
				r.i++
				continue
			}
			if r.i < len(r.s) && r.s[r.i] == ']' {
				r.i++
				return v, true
			}
			return nil, false
		}
	case c == '"':
		s, ok := r.str()
		return &jsonVal{kind: jString, raw: s}, ok
	case c == 't' || c == 'f' || c == 'n':
		for _, w := range []string{"true", "false", "null"} {
			if strings.HasPrefix(r.s[r.i:], w) {
				r.i += len(w)
				if w == "null" {
					return &jsonVal{kind: jNull}, true
				}
				return &jsonVal{kind: jBool, raw: w}, true
			}
		}
		return nil, false
	case c == '-' || c >= '0' && c <= '9':
		j := r.i + 1
		for j < len(r.s) && strings.IndexByte("0123456789.eE+-", r.s[j]) >= 0 {
			j++
		}
		raw := r.s[r.i:j]
		if _, err := strconv.ParseFloat(raw, 64); err != nil {
			return nil, false
		}
		r.i = j
		return &jsonVal{kind: jNumber, raw: raw}, true
	}
	return nil, false
}

func (r *jsonReader) str() (string, bool) {
	r.i++ // opening quote
	var sb strings.Builder
	for r.i < len(r.s) {
		c := r.s[r.i]
		switch {
		case c == '"':
			r.i++
			return sb.String(), true
		case c == '\\':
			if r.i+1 >= len(r.s) {
				return "", false
			}
			e := r.s[r.i+1]
			r.i += 2
			switch e {
			case '"', '\\', '/':
				sb.WriteByte(e)
			case 'b':
				sb.WriteByte('\b')
			case 'f':
				sb.WriteByte('\f')
			case 'n':
				sb.WriteByte('\n')
			case 'r':
				sb.WriteByte('\r')
			case 't':
				sb.WriteByte('\t')
			case 'u':
				if r.i+4 > len(r.s) {
					return "", false
				}
				u, err := strconv.ParseUint(r.s[r.i:r.i+4], 16, 16)
				if err != nil {
					return "", false
				}
				r.i += 4
				ru := rune(u)
				if utf16.IsSurrogate(ru) && r.i+6 <= len(r.s) && r.s[r.i] == '\\' && r.s[r.i+1] == 'u' {
					if u2, err := strconv.ParseUint(r.s[r.i+2:r.i+6], 16, 16); err == nil {
						ru = utf16.DecodeRune(ru, rune(u2))
						r.i += 6
					}
				}
				sb.WriteRune(ru)
			default:
				return "", false
			}
		default:
			sb.WriteByte(c)
			r.i++
		}
	}
	return "", false
}

func (v *jsonVal) write(sb *strings.Builder) {
	switch v.kind {
	case jNull:
		sb.WriteString("null")
	case jBool:
		sb.WriteString(v.raw)
	case jNumber:
		sb.WriteString(jacksonNumber(v.raw))
	case jString:
		writeJSONString(sb, v.raw)
	case jArray:
		sb.WriteByte('[')
		for i, x := range v.vals {
			if i > 0 {
				sb.WriteByte(',')
			}
			x.write(sb)
		}
		sb.WriteByte(']')
	case jObject:
		sb.WriteByte('{')
		for i, x := range v.vals {
			if i > 0 {
				sb.WriteByte(',')
			}
			writeJSONString(sb, v.keys[i])
			sb.WriteByte(':')
			x.write(sb)
		}
		sb.WriteByte('}')
	}
}

func writeJSONString(sb *strings.Builder, s string) {
	sb.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			sb.WriteByte('\\')
			sb.WriteRune(r)
		case r == '\n':
			sb.WriteString(`\n`)
		case r == '\r':
			sb.WriteString(`\r`)
		case r == '\t':
			sb.WriteString(`\t`)
		case r < 0x20:
			sb.WriteString(`\u00`)
			sb.WriteString(leftPad(strconv.FormatInt(int64(r), 16), 2))
		case r == utf8.RuneError:
			sb.WriteRune(r)
		default:
			sb.WriteRune(r)
		}
	}
	sb.WriteByte('"')
}

type jsonStep struct {
	key      string
	index    int  // for array steps
	isIndex  bool // [n]
	wildcard bool // [*]
}

// parseJSONPath reads Spark's path subset: $ followed by .name, ['name'], [n] and [*].
func parseJSONPath(p string) ([]jsonStep, bool) {
	if !strings.HasPrefix(p, "$") {
		return nil, false
	}
	steps := []jsonStep{}
	i := 1
	for i < len(p) {
		switch p[i] {
		case '.':
			j := i + 1
			for j < len(p) && p[j] != '.' && p[j] != '[' {
				j++
			}
			if j == i+1 {
				return nil, false
			}
			if p[i+1:j] == "*" {
				steps = append(steps, jsonStep{wildcard: true})
			} else {
				steps = append(steps, jsonStep{key: p[i+1 : j]})
			}
			i = j
		case '[':
			end := strings.IndexByte(p[i:], ']')
			if end < 0 {
				return nil, false
			}
			inner := p[i+1 : i+end]
			switch {
			case inner == "*":
				steps = append(steps, jsonStep{wildcard: true})
			case len(inner) >= 2 && inner[0] == '\'' && inner[len(inner)-1] == '\'':
				steps = append(steps, jsonStep{key: inner[1 : len(inner)-1]})
			default:
				n, err := strconv.Atoi(inner)
				if err != nil || n < 0 {
					return nil, false
				}
				steps = append(steps, jsonStep{index: n, isIndex: true})
			}
			i += end + 1
		default:
			return nil, false
		}
	}
	return steps, true
}

func getJSONObject(doc string, steps []jsonStep) any {
	r := &jsonReader{s: doc}
	root, ok := r.value(0)
	if !ok {
		return nil
	}
	cur := []*jsonVal{root}
	wild := false
	for _, st := range steps {
		var next []*jsonVal
		for _, v := range cur {
			switch {
			case st.wildcard:
				wild = true
				if v.kind == jArray || v.kind == jObject {
					next = append(next, v.vals...)
				}
			case st.isIndex:
				if v.kind == jArray && st.index < len(v.vals) {
					next = append(next, v.vals[st.index])
				}
			default:
				if v.kind == jObject {
					for i, k := range v.keys {
						if k == st.key {
							next = append(next, v.vals[i])
							break
						}
					}
				}
			}
		}
		cur = next
	}
	if len(cur) == 0 {
		return nil
	}
	var out *jsonVal
	if wild && len(cur) > 1 {
		out = &jsonVal{kind: jArray, vals: cur}
	} else {
		out = cur[0]
	}
	switch out.kind {
	case jNull:
		return nil
	case jString:
		return out.raw
	}
	var sb strings.Builder
	out.write(&sb)
	return sb.String()
}

// jacksonNumber re-prints a JSON number the way Spark's Jackson generator copies it: fractional and
// exponent forms become a double printed by Java's Double.toString ("1.50" -> "1.5", "1e3" ->
// "1000.0"); integers print canonically ("-0" -> "0"), big ones as written.
func jacksonNumber(raw string) string {
	if strings.ContainsAny(raw, ".eE") {
		f, err := strconv.ParseFloat(raw, 64)
		if err != nil && !errors.Is(err, strconv.ErrRange) {
			return raw
		}
		return formatDouble(f, 64)
	}
	if n, err := strconv.ParseInt(raw, 10, 64); err == nil {
		return strconv.FormatInt(n, 10)
	}
	return raw
}
