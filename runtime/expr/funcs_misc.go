package expr

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"hash/crc32"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/chronon-go/chronon/runtime/types"
)

// Conditional, null-handling, encoding and hashing functions.

func init() {
	def("if", 3, 3, "if(cond, then, else) -> common type of then/else", func(c *checker, call *astCall, args []node) (node, error) {
		cond, err := c.arg(call, args, 0, types.BooleanType)
		if err != nil {
			return nil, err
		}
		return c.caseNode(call.p, []node{cond}, []node{args[1], args[2]}, []int{argPos(call, 1), argPos(call, 2)})
	})
	def("coalesce", 1, -1, "coalesce(x, ...) -> common type: the first non-NULL argument", buildCoalesce)
	def("nvl,ifnull", 2, 2, "nvl(x, y) -> common type: x unless NULL, else y", buildCoalesce)
	def("nvl2", 3, 3, "nvl2(x, a, b) -> common type of a/b: a if x is not NULL, else b", func(c *checker, call *astCall, args []node) (node, error) {
		cond := c.fold(&isNullNode{x: args[0], not: true}, args[0])
		return c.caseNode(call.p, []node{cond}, []node{args[1], args[2]}, []int{argPos(call, 1), argPos(call, 2)})
	})
	def("nullif", 2, 2, "nullif(x, y) -> type of x: NULL if x = y, else x", func(c *checker, call *astCall, args []node) (node, error) {
		eq, err := c.comparison(&astBinary{p: call.p, op: "=", l: call.args[0], r: call.args[1]}, args[0], args[1])
		if err != nil {
			return nil, err
		}
		return c.caseNode(call.p, []node{eq}, []node{&litNode{t: types.NullType}, args[0]}, []int{call.p, argPos(call, 0)})
	})
	def("isnull", 1, 1, "isnull(x) -> boolean", func(c *checker, call *astCall, args []node) (node, error) {
		return c.fold(&isNullNode{x: args[0]}, args[0]), nil
	})
	def("isnotnull", 1, 1, "isnotnull(x) -> boolean", func(c *checker, call *astCall, args []node) (node, error) {
		return c.fold(&isNullNode{x: args[0], not: true}, args[0]), nil
	})
	// Spark's cast functions: int(x) is CAST(x AS INT).
	for name, t := range map[string]*types.Type{
		"boolean": types.BooleanType, "tinyint": types.ByteType, "smallint": types.ShortType, "int": types.IntType,
		"bigint": types.LongType, "float": types.FloatType, "double": types.DoubleType, "string": types.StringType,
		"binary": types.BinaryType, "date": types.DateType, "timestamp": types.TimestampType,
	} {
		t := t
		def(name, 1, 1, name+"(x) -> "+t.String()+": CAST(x AS "+strings.ToUpper(name)+")", func(c *checker, call *astCall, args []node) (node, error) {
			if !canCast(args[0].typ(), t) {
				return nil, c.errAt(call.p, "cannot cast %s to %s", args[0].typ(), t)
			}
			return c.cast(args[0], t), nil
		})
	}

	def("base64", 1, 1, "base64(binary) -> string (standard alphabet, padded, no line breaks)", func(c *checker, call *astCall, args []node) (node, error) {
		a, err := c.arg(call, args, 0, types.BinaryType)
		if err != nil {
			return nil, err
		}
		return c.scalar(call, types.StringType, []node{a}, func(v []any) any {
			return base64.StdEncoding.EncodeToString(v[0].([]byte))
		}), nil
	})
	def("unbase64", 1, 1, "unbase64(str) -> binary; characters outside the alphabet are skipped, padding optional", func(c *checker, call *astCall, args []node) (node, error) {
		a, err := c.arg(call, args, 0, types.StringType)
		if err != nil {
			return nil, err
		}
		return c.scalar(call, types.BinaryType, []node{a}, func(v []any) any { return lenientBase64(v[0].(string)) }), nil
	})
	def("hex", 1, 1, "hex(x) -> string: upper-case hex of a binary/string's bytes or of an integer", func(c *checker, call *astCall, args []node) (node, error) {
		if args[0].typ().IsIntegral() {
			x := c.cast(args[0], types.LongType)
			return c.scalar(call, types.StringType, []node{x}, func(v []any) any {
				return strings.ToUpper(strconv.FormatUint(uint64(v[0].(int64)), 16))
			}), nil
		}
		a, err := c.arg(call, args, 0, types.BinaryType)
		if err != nil {
			return nil, err
		}
		return c.scalar(call, types.StringType, []node{a}, func(v []any) any { return strings.ToUpper(hex.EncodeToString(v[0].([]byte))) }), nil
	})
	def("unhex", 1, 1, "unhex(str) -> binary; NULL for invalid hex", func(c *checker, call *astCall, args []node) (node, error) {
		a, err := c.arg(call, args, 0, types.StringType)
		if err != nil {
			return nil, err
		}
		return c.scalar(call, types.BinaryType, []node{a}, func(v []any) any {
			s := v[0].(string)
			if len(s)%2 == 1 {
				s = "0" + s
			}
			b, err := hex.DecodeString(s)
			if err != nil {
				return nil
			}
			return b
		}), nil
	})
	def("encode", 2, 2, "encode(str, charset) -> binary; charsets US-ASCII, ISO-8859-1, UTF-8, UTF-16BE, UTF-16LE, UTF-16", func(c *checker, call *astCall, args []node) (node, error) {
		a, err := c.argsAs(call, args, types.StringType)
		if err != nil {
			return nil, err
		}
		if err := c.checkCharset(call, a); err != nil {
			return nil, err
		}
		return c.scalar(call, types.BinaryType, a, func(v []any) any { return encodeCharset(v[0].(string), v[1].(string)) }), nil
	})
	def("decode", 2, -1, "decode(binary, charset) -> string; decode(x, search1, result1, ..., [default]) -> result type", func(c *checker, call *astCall, args []node) (node, error) {
		if len(args) > 2 {
			return c.decodeCase(call, args)
		}
		a, err := c.argsAs(call, args, types.BinaryType, types.StringType)
		if err != nil {
			return nil, err
		}
		if err := c.checkCharset(call, a); err != nil {
			return nil, err
		}
		return c.scalar(call, types.StringType, a, func(v []any) any { return decodeCharset(v[0].([]byte), v[1].(string)) }), nil
	})
	def("md5", 1, 1, "md5(binary) -> string: 32 lower-case hex digits", hashFn(func(b []byte) any { h := md5.Sum(b); return hex.EncodeToString(h[:]) }))
	def("sha1,sha", 1, 1, "sha1(binary) -> string: 40 hex digits", hashFn(func(b []byte) any { h := sha1.Sum(b); return hex.EncodeToString(h[:]) }))
	def("sha2", 2, 2, "sha2(binary, bits) -> string; bits 224, 256 (or 0), 384, 512; NULL for other bit lengths", typed(types.StringType, func(v []any) any {
		b := v[0].([]byte)
		switch v[1].(int64) {
		case 224:
			h := sha256.Sum224(b)
			return hex.EncodeToString(h[:])
		case 0, 256:
			h := sha256.Sum256(b)
			return hex.EncodeToString(h[:])
		case 384:
			h := sha512.Sum384(b)
			return hex.EncodeToString(h[:])
		case 512:
			h := sha512.Sum512(b)
			return hex.EncodeToString(h[:])
		}
		return nil
	}, types.BinaryType, types.IntType))
	def("crc32", 1, 1, "crc32(binary) -> bigint", func(c *checker, call *astCall, args []node) (node, error) {
		a, err := c.arg(call, args, 0, types.BinaryType)
		if err != nil {
			return nil, err
		}
		return c.scalar(call, types.LongType, []node{a}, func(v []any) any { return int64(crc32.ChecksumIEEE(v[0].([]byte))) }), nil
	})
}

func hashFn(f func([]byte) any) func(c *checker, call *astCall, args []node) (node, error) {
	return func(c *checker, call *astCall, args []node) (node, error) {
		a, err := c.arg(call, args, 0, types.BinaryType)
		if err != nil {
			return nil, err
		}
		return c.scalar(call, types.StringType, []node{a}, func(v []any) any { return f(v[0].([]byte)) }), nil
	}
}

func buildCoalesce(c *checker, call *astCall, args []node) (node, error) {
	ts := make([]*types.Type, len(args))
	for i, a := range args {
		ts[i] = a.typ()
	}
	t, ok := commonType(ts, true)
	if !ok {
		return nil, c.errAt(call.p, "%s needs arguments of compatible types, got %s", strings.ToLower(call.name), typeList(ts))
	}
	a := make([]node, len(args))
	for i := range args {
		a[i] = c.cast(args[i], t)
	}
	return c.fold(&coalesceNode{args: a, t: t}, a...), nil
}

// decodeCase is Spark's decode(x, s1, r1, s2, r2, ..., default): a CASE where NULL matches NULL.
func (c *checker) decodeCase(call *astCall, args []node) (node, error) {
	var whens, branches []node
	var positions []int
	for i := 1; i+1 < len(args); i += 2 {
		eq, err := c.comparison(&astBinary{p: argPos(call, i), op: "<=>", l: call.args[0], r: call.args[i]}, args[0], args[i])
		if err != nil {
			return nil, err
		}
		whens = append(whens, eq)
		branches = append(branches, args[i+1])
		positions = append(positions, argPos(call, i+1))
	}
	if len(args)%2 == 0 {
		branches = append(branches, args[len(args)-1])
		positions = append(positions, argPos(call, len(args)-1))
	} else {
		branches = append(branches, &litNode{t: types.NullType})
		positions = append(positions, call.p)
	}
	return c.caseNode(call.p, whens, branches, positions)
}

var charsets = map[string]bool{"US-ASCII": true, "ISO-8859-1": true, "UTF-8": true, "UTF-16BE": true, "UTF-16LE": true, "UTF-16": true}

func (c *checker) checkCharset(call *astCall, a []node) error {
	if v, ok := constArg(a, 1); ok && v != nil && !charsets[strings.ToUpper(v.(string))] {
		return c.errAt(argPos(call, 1), "unsupported charset %q (supported: US-ASCII, ISO-8859-1, UTF-8, UTF-16BE, UTF-16LE, UTF-16)", v)
	}
	return nil
}

func encodeCharset(s, cs string) any {
	switch strings.ToUpper(cs) {
	case "UTF-8":
		return []byte(s)
	case "US-ASCII", "ISO-8859-1":
		limit := rune(0x7F)
		if strings.ToUpper(cs) == "ISO-8859-1" {
			limit = 0xFF
		}
		out := make([]byte, 0, len(s))
		for _, r := range s {
			if r > limit {
				r = '?' // Java's replacement for unmappable characters
			}
			out = append(out, byte(r))
		}
		return out
	case "UTF-16BE", "UTF-16LE", "UTF-16":
		units := utf16.Encode([]rune(s))
		var out []byte
		if strings.ToUpper(cs) == "UTF-16" {
			out = append(out, 0xFE, 0xFF) // Java writes a big-endian byte order mark
		}
		for _, u := range units {
			if strings.ToUpper(cs) == "UTF-16LE" {
				out = append(out, byte(u), byte(u>>8))
			} else {
				out = append(out, byte(u>>8), byte(u))
			}
		}
		if out == nil {
			out = []byte{}
		}
		return out
	}
	return nil
}

func decodeCharset(b []byte, cs string) any {
	switch strings.ToUpper(cs) {
	case "UTF-8":
		return utf8Valid(b)
	case "US-ASCII":
		rs := make([]rune, len(b))
		for i, x := range b {
			if x > 0x7F {
				rs[i] = utf8.RuneError
			} else {
				rs[i] = rune(x)
			}
		}
		return string(rs)
	case "ISO-8859-1":
		rs := make([]rune, len(b))
		for i, x := range b {
			rs[i] = rune(x)
		}
		return string(rs)
	case "UTF-16BE", "UTF-16LE", "UTF-16":
		le := strings.ToUpper(cs) == "UTF-16LE"
		if strings.ToUpper(cs) == "UTF-16" && len(b) >= 2 { // honour a byte order mark
			if b[0] == 0xFF && b[1] == 0xFE {
				le, b = true, b[2:]
			} else if b[0] == 0xFE && b[1] == 0xFF {
				b = b[2:]
			}
		}
		units := make([]uint16, 0, len(b)/2)
		for i := 0; i+1 < len(b); i += 2 {
			if le {
				units = append(units, uint16(b[i])|uint16(b[i+1])<<8)
			} else {
				units = append(units, uint16(b[i])<<8|uint16(b[i+1]))
			}
		}
		s := string(utf16.Decode(units))
		if len(b)%2 == 1 {
			s += "\uFFFD"
		}
		return s
	}
	return nil
}

// lenientBase64 decodes like Java's MIME decoder: characters outside the alphabet are ignored and
// padding may be missing.
func lenientBase64(s string) []byte {
	clean := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		ch := s[i]
		if ch == '=' {
			break
		}
		if ch >= 'A' && ch <= 'Z' || ch >= 'a' && ch <= 'z' || ch >= '0' && ch <= '9' || ch == '+' || ch == '/' {
			clean = append(clean, ch)
		}
	}
	if len(clean)%4 == 1 {
		clean = clean[:len(clean)-1] // a lone trailing character carries no full byte
	}
	out, err := base64.RawStdEncoding.DecodeString(string(clean))
	if err != nil {
		return []byte{}
	}
	return out
}
