package server

import (
	"encoding/base64"
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"unicode/utf8"
)

// Fast paths for the request and response JSON of the features routes. Both produce exactly what
// encoding/json does (json_test.go compares them on random input) and give up (ok = false) on
// anything outside the common shapes, which then goes through encoding/json as before.

// parseKeysFast decodes a body that is a list of flat key maps whose values are strings without
// escapes, numbers (as json.Number), true, false or null; ok is false for anything else.
func parseKeysFast(body []byte) (out []map[string]any, ok bool) {
	p := jsonScanner{b: body}
	p.ws()
	if !p.eat('[') {
		return nil, false
	}
	out = []map[string]any{}
	p.ws()
	if p.eat(']') {
		return out, p.end()
	}
	for {
		p.ws()
		if !p.eat('{') {
			return nil, false
		}
		m := map[string]any{}
		p.ws()
		if !p.eat('}') {
			for {
				p.ws()
				k, ok := p.str()
				if !ok {
					return nil, false
				}
				p.ws()
				if !p.eat(':') {
					return nil, false
				}
				p.ws()
				v, ok := p.scalar()
				if !ok {
					return nil, false
				}
				m[k] = v
				p.ws()
				if p.eat('}') {
					break
				}
				if !p.eat(',') {
					return nil, false
				}
			}
		}
		out = append(out, m)
		p.ws()
		if p.eat(']') {
			return out, p.end()
		}
		if !p.eat(',') {
			return nil, false
		}
	}
}

type jsonScanner struct {
	b []byte
	i int
}

func (p *jsonScanner) ws() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *jsonScanner) eat(c byte) bool {
	if p.i < len(p.b) && p.b[p.i] == c {
		p.i++
		return true
	}
	return false
}

func (p *jsonScanner) end() bool {
	p.ws()
	return p.i == len(p.b)
}

// str reads a string of printable ASCII without escapes.
func (p *jsonScanner) str() (string, bool) {
	if !p.eat('"') {
		return "", false
	}
	start := p.i
	for p.i < len(p.b) {
		c := p.b[p.i]
		switch {
		case c == '"':
			s := string(p.b[start:p.i])
			p.i++
			return s, true
		case c < 0x20 || c == '\\' || c >= utf8.RuneSelf:
			return "", false
		}
		p.i++
	}
	return "", false
}

func (p *jsonScanner) scalar() (any, bool) {
	if p.i >= len(p.b) {
		return nil, false
	}
	switch c := p.b[p.i]; {
	case c == '"':
		return p.str()
	case c == '-' || (c >= '0' && c <= '9'):
		start := p.i
		for p.i < len(p.b) {
			c := p.b[p.i]
			if !(c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E' || (c >= '0' && c <= '9')) {
				break
			}
			p.i++
		}
		n := string(p.b[start:p.i])
		if !validNumber(n) {
			return nil, false
		}
		return json.Number(n), true
	}
	for _, lit := range [...]struct {
		s string
		v any
	}{{"true", true}, {"false", false}, {"null", nil}} {
		if len(p.b)-p.i >= len(lit.s) && string(p.b[p.i:p.i+len(lit.s)]) == lit.s {
			p.i += len(lit.s)
			return lit.v, true
		}
	}
	return nil, false
}

// validNumber reports whether s is a JSON number literal.
func validNumber(s string) bool {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	digits := func() int {
		j := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		return i - j
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case digits() == 0:
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		if digits() == 0 {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	return i == len(s)
}

// appendResponse appends FeaturesResponse{results} as json.Encoder.Encode writes it (HTML
// escaping, sorted map keys, trailing newline); ok is false if a value needs encoding/json.
func appendResponse(dst []byte, results []Result) ([]byte, bool) {
	dst = append(dst, `{"results":`...)
	if results == nil {
		dst = append(dst, "null"...)
	} else {
		dst = append(dst, '[')
		for i := range results {
			r := &results[i]
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, `{"status":`...)
			dst = appendJSONString(dst, r.Status)
			dst = append(dst, `,"entityKeys":`...)
			var ok bool
			if dst, ok = appendJSONValue(dst, r.EntityKeys); !ok {
				return nil, false
			}
			if r.Features != nil {
				dst = append(dst, `,"features":`...)
				if dst, ok = appendJSONValue(dst, r.Features); !ok {
					return nil, false
				}
			}
			if r.Error != "" {
				dst = append(dst, `,"error":`...)
				dst = appendJSONString(dst, r.Error)
			}
			dst = append(dst, '}')
		}
		dst = append(dst, ']')
	}
	return append(dst, "}\n"...), true
}

func appendJSONValue(dst []byte, v any) ([]byte, bool) {
	switch x := v.(type) {
	case nil:
		return append(dst, "null"...), true
	case string:
		return appendJSONString(dst, x), true
	case bool:
		return strconv.AppendBool(dst, x), true
	case int64:
		return strconv.AppendInt(dst, x, 10), true
	case int:
		return strconv.AppendInt(dst, int64(x), 10), true
	case int32:
		return strconv.AppendInt(dst, int64(x), 10), true
	case float64:
		return appendJSONFloat(dst, x)
	case json.Number:
		if x == "" {
			return append(dst, '0'), true
		}
		if !validNumber(string(x)) {
			return nil, false
		}
		return append(dst, x...), true
	case []byte:
		if x == nil {
			return append(dst, "null"...), true
		}
		dst = append(dst, '"')
		dst = base64.StdEncoding.AppendEncode(dst, x)
		return append(dst, '"'), true
	case []any:
		if x == nil {
			return append(dst, "null"...), true
		}
		dst = append(dst, '[')
		for i, e := range x {
			if i > 0 {
				dst = append(dst, ',')
			}
			var ok bool
			if dst, ok = appendJSONValue(dst, e); !ok {
				return nil, false
			}
		}
		return append(dst, ']'), true
	case map[string]any:
		if x == nil {
			return append(dst, "null"...), true
		}
		var arr [32]string
		keys := arr[:0]
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		dst = append(dst, '{')
		for i, k := range keys {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendJSONString(dst, k)
			dst = append(dst, ':')
			var ok bool
			if dst, ok = appendJSONValue(dst, x[k]); !ok {
				return nil, false
			}
		}
		return append(dst, '}'), true
	}
	return nil, false
}

// appendJSONFloat is encoding/json's float64 encoding; NaN and infinities are not JSON (!ok).
func appendJSONFloat(dst []byte, f float64) ([]byte, bool) {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return nil, false
	}
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	start := len(dst)
	dst = strconv.AppendFloat(dst, f, format, -1, 64)
	if format == 'e' {
		// clean up e-09 to e-9
		b := dst[start:]
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			dst = dst[:len(dst)-1]
		}
	}
	return dst, true
}

const hexDigits = "0123456789abcdef"

// appendJSONString is encoding/json's string encoding with HTML escaping (json.Encoder's default).
func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		if b := s[i]; b < utf8.RuneSelf {
			if b >= 0x20 && b != '"' && b != '\\' && b != '<' && b != '>' && b != '&' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '\\', '"':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xF])
			}
			i++
			start = i
			continue
		}
		c, size := utf8.DecodeRuneInString(s[i:])
		if c == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if c == '\u2028' || c == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[c&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
