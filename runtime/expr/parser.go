package expr

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/chronon-go/chronon/runtime/types"
)

// The AST mirrors the surface syntax; typecheck.go turns it into evaluable nodes.
type ast interface{ position() int }

type (
	astLit struct {
		p int
		v any // boxed value (see values.go)
		t *types.Type
	}
	astIdent struct {
		p    int
		name string
	}
	astField struct {
		p    int // position of the field name
		x    ast
		name string
	}
	astIndex struct {
		p      int // position of '['
		x, idx ast
	}
	astUnary struct {
		p  int
		op string // "-", "+", "~", "not"
		x  ast
	}
	astBinary struct {
		p    int // position of the operator
		op   string
		l, r ast
	}
	astIsNull struct {
		p   int
		x   ast
		not bool
	}
	astIn struct {
		p    int
		x    ast
		list []ast
		not  bool
	}
	astBetween struct {
		p         int
		x, lo, hi ast
		not       bool
	}
	astLike struct {
		p      int
		op     string // like, ilike, rlike
		x, pat ast
		escape rune
		not    bool
	}
	astCase struct {
		p       int
		operand ast // nil for the searched form
		whens   []ast
		thens   []ast
		els     ast
	}
	astCast struct {
		p  int
		x  ast
		to *types.Type
		// dec is set for CAST(x AS DECIMAL(p,s)): the value is a double rounded to s digits.
		dec *decimalSpec
	}
	astCall struct {
		p    int
		name string // as written
		args []ast
	}
)

func (a *astLit) position() int     { return a.p }
func (a *astIdent) position() int   { return a.p }
func (a *astField) position() int   { return a.p }
func (a *astIndex) position() int   { return a.p }
func (a *astUnary) position() int   { return a.p }
func (a *astBinary) position() int  { return a.p }
func (a *astIsNull) position() int  { return a.p }
func (a *astIn) position() int      { return a.p }
func (a *astBetween) position() int { return a.p }
func (a *astLike) position() int    { return a.p }
func (a *astCase) position() int    { return a.p }
func (a *astCast) position() int    { return a.p }
func (a *astCall) position() int    { return a.p }

type parser struct {
	src  string
	toks []token
	i    int
}

// parse reads one complete expression.
func parse(src string) (ast, error) {
	toks, err := lex(src)
	if err != nil {
		return nil, err
	}
	p := &parser{src: src, toks: toks}
	if p.peek().kind == tEOF {
		return nil, errorf(src, 0, "empty expression")
	}
	e, err := p.expr(0)
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tEOF {
		return nil, errorf(src, t.pos, "syntax error: unexpected %s", describe(t))
	}
	return e, nil
}

func describe(t token) string {
	switch t.kind {
	case tEOF:
		return "end of expression"
	case tString:
		return "string literal"
	case tQuoted:
		return "`" + t.text + "`"
	}
	return strconv.Quote(t.text)
}

func (p *parser) peek() token { return p.toks[p.i] }
func (p *parser) peekN(n int) token {
	if p.i+n < len(p.toks) {
		return p.toks[p.i+n]
	}
	return p.toks[len(p.toks)-1]
}
func (p *parser) next() token { t := p.toks[p.i]; p.i++; return t }

// isKw reports whether t is the (case-insensitive) keyword kw.
func isKw(t token, kw string) bool { return t.kind == tIdent && strings.EqualFold(t.text, kw) }
func isOp(t token, op string) bool { return t.kind == tOp && t.text == op }

func (p *parser) acceptKw(kw string) bool {
	if isKw(p.peek(), kw) {
		p.i++
		return true
	}
	return false
}

func (p *parser) expectOp(op string) (token, error) {
	t := p.next()
	if !isOp(t, op) {
		return t, errorf(p.src, t.pos, "syntax error: expected %q, found %s", op, describe(t))
	}
	return t, nil
}

func (p *parser) expectKw(kw string) error {
	t := p.next()
	if !isKw(t, kw) {
		return errorf(p.src, t.pos, "syntax error: expected %s, found %s", strings.ToUpper(kw), describe(t))
	}
	return nil
}

// Binding powers, lowest first, following Spark's grammar: OR < AND < NOT < predicates < | < ^ < & <
// additive < multiplicative < unary < postfix.
const (
	bpOr = iota + 1
	bpAnd
	bpNot
	bpPred
	bpBitOr
	bpBitXor
	bpBitAnd
	bpAdd
	bpMul
	bpUnary
)

func (p *parser) infixPower(t token) int {
	if t.kind == tOp {
		switch t.text {
		case "||":
			return bpAdd
		case "&&":
			return bpAnd
		case "=", "==", "!=", "<>", "<", "<=", ">", ">=", "<=>":
			return bpPred
		case "|":
			return bpBitOr
		case "^":
			return bpBitXor
		case "&":
			return bpBitAnd
		case "+", "-":
			return bpAdd
		case "*", "/", "%":
			return bpMul
		}
		return 0
	}
	if t.kind != tIdent {
		return 0
	}
	switch strings.ToLower(t.text) {
	case "or":
		return bpOr
	case "and":
		return bpAnd
	case "is", "in", "between", "like", "ilike", "rlike", "regexp":
		return bpPred
	case "not":
		// NOT IN / NOT BETWEEN / NOT LIKE ... continue a predicate.
		switch strings.ToLower(p.peekN(1).text) {
		case "in", "between", "like", "ilike", "rlike", "regexp":
			if p.peekN(1).kind == tIdent {
				return bpPred
			}
		}
	case "div":
		return bpMul
	}
	return 0
}

func (p *parser) expr(minBP int) (ast, error) {
	left, err := p.prefix()
	if err != nil {
		return nil, err
	}
	for {
		t := p.peek()
		bp := p.infixPower(t)
		if bp == 0 || bp <= minBP {
			return left, nil
		}
		if left, err = p.infix(left, bp); err != nil {
			return nil, err
		}
	}
}

func (p *parser) infix(left ast, bp int) (ast, error) {
	t := p.next()
	if t.kind == tOp {
		op := t.text
		switch op {
		case "==":
			op = "="
		case "<>":
			op = "!="
		case "&&":
			op = "and"
		}
		right, err := p.expr(bp)
		if err != nil {
			return nil, err
		}
		return &astBinary{p: t.pos, op: op, l: left, r: right}, nil
	}
	kw := strings.ToLower(t.text)
	not := false
	if kw == "not" {
		not = true
		t = p.next()
		kw = strings.ToLower(t.text)
	}
	switch kw {
	case "or", "and", "div":
		right, err := p.expr(bp)
		if err != nil {
			return nil, err
		}
		return &astBinary{p: t.pos, op: kw, l: left, r: right}, nil
	case "is":
		if p.acceptKw("not") {
			not = true
		}
		nt := p.next()
		switch {
		case isKw(nt, "null"):
			return &astIsNull{p: t.pos, x: left, not: not}, nil
		case isKw(nt, "true"), isKw(nt, "false"):
			// x IS TRUE is null-safe: null IS TRUE is false.
			lit := &astLit{p: nt.pos, v: isKw(nt, "true"), t: types.BooleanType}
			var e ast = &astBinary{p: t.pos, op: "<=>", l: left, r: lit}
			if not {
				e = &astUnary{p: t.pos, op: "not", x: e}
			}
			return e, nil
		case isKw(nt, "distinct"):
			if err := p.expectKw("from"); err != nil {
				return nil, err
			}
			right, err := p.expr(bp)
			if err != nil {
				return nil, err
			}
			var e ast = &astBinary{p: t.pos, op: "<=>", l: left, r: right}
			if !not {
				e = &astUnary{p: t.pos, op: "not", x: e}
			}
			return e, nil
		}
		return nil, errorf(p.src, nt.pos, "syntax error: expected NULL, TRUE, FALSE or DISTINCT FROM after IS, found %s", describe(nt))
	case "in":
		if _, err := p.expectOp("("); err != nil {
			return nil, err
		}
		list, err := p.exprList(")")
		if err != nil {
			return nil, err
		}
		if len(list) == 0 {
			return nil, errorf(p.src, t.pos, "syntax error: IN needs at least one value")
		}
		return &astIn{p: t.pos, x: left, list: list, not: not}, nil
	case "between":
		lo, err := p.expr(bpPred)
		if err != nil {
			return nil, err
		}
		if err := p.expectKw("and"); err != nil {
			return nil, err
		}
		hi, err := p.expr(bpPred)
		if err != nil {
			return nil, err
		}
		return &astBetween{p: t.pos, x: left, lo: lo, hi: hi, not: not}, nil
	case "like", "ilike", "rlike", "regexp":
		if kw == "regexp" {
			kw = "rlike"
		}
		pat, err := p.expr(bpPred)
		if err != nil {
			return nil, err
		}
		l := &astLike{p: t.pos, op: kw, x: left, pat: pat, escape: '\\', not: not}
		if kw != "rlike" && p.acceptKw("escape") {
			et := p.next()
			if et.kind != tString || len([]rune(et.text)) != 1 {
				return nil, errorf(p.src, et.pos, "syntax error: ESCAPE needs a one-character string")
			}
			l.escape = []rune(et.text)[0]
		}
		return l, nil
	}
	return nil, errorf(p.src, t.pos, "syntax error: unexpected %s", describe(t))
}

// exprList reads comma-separated expressions up to the closing token (consumed).
func (p *parser) exprList(closing string) ([]ast, error) {
	var list []ast
	if isOp(p.peek(), closing) {
		p.i++
		return list, nil
	}
	for {
		e, err := p.expr(0)
		if err != nil {
			return nil, err
		}
		list = append(list, e)
		t := p.next()
		if isOp(t, closing) {
			return list, nil
		}
		if !isOp(t, ",") {
			return nil, errorf(p.src, t.pos, "syntax error: expected \",\" or %q, found %s", closing, describe(t))
		}
	}
}

func (p *parser) prefix() (ast, error) {
	e, err := p.primary()
	if err != nil {
		return nil, err
	}
	return p.postfix(e)
}

func (p *parser) postfix(e ast) (ast, error) {
	for {
		t := p.peek()
		switch {
		case isOp(t, "["):
			p.i++
			idx, err := p.expr(0)
			if err != nil {
				return nil, err
			}
			if _, err := p.expectOp("]"); err != nil {
				return nil, err
			}
			e = &astIndex{p: t.pos, x: e, idx: idx}
		case isOp(t, "."):
			p.i++
			n := p.next()
			if n.kind != tIdent && n.kind != tQuoted {
				return nil, errorf(p.src, n.pos, "syntax error: expected a field name after \".\", found %s", describe(n))
			}
			e = &astField{p: n.pos, x: e, name: n.text}
		default:
			return e, nil
		}
	}
}

func (p *parser) primary() (ast, error) {
	t := p.next()
	switch t.kind {
	case tEOF:
		return nil, errorf(p.src, t.pos, "syntax error: unexpected end of expression")
	case tNumber:
		return p.number(t, false)
	case tString:
		s := t.text
		for p.peek().kind == tString { // adjacent literals concatenate, as in Spark
			s += p.next().text
		}
		return &astLit{p: t.pos, v: s, t: types.StringType}, nil
	case tBinary:
		return &astLit{p: t.pos, v: []byte(t.text), t: types.BinaryType}, nil
	case tQuoted:
		return &astIdent{p: t.pos, name: t.text}, nil
	case tOp:
		switch t.text {
		case "(":
			e, err := p.expr(0)
			if err != nil {
				return nil, err
			}
			if _, err := p.expectOp(")"); err != nil {
				return nil, err
			}
			return e, nil
		case "-", "+", "~":
			// Spark's grammar reads -<number> as one literal, so -2147483648 is an int.
			if t.text == "-" && p.peek().kind == tNumber {
				n := p.next()
				lit, err := p.number(n, true)
				if err != nil {
					return nil, err
				}
				lit.(*astLit).p = t.pos
				return p.postfix(lit)
			}
			x, err := p.expr(bpUnary)
			if err != nil {
				return nil, err
			}
			return &astUnary{p: t.pos, op: t.text, x: x}, nil
		case "!":
			x, err := p.expr(bpNot)
			if err != nil {
				return nil, err
			}
			return &astUnary{p: t.pos, op: "not", x: x}, nil
		}
		return nil, errorf(p.src, t.pos, "syntax error: unexpected %s", describe(t))
	}
	// Identifiers and keywords.
	switch strings.ToLower(t.text) {
	case "null":
		return &astLit{p: t.pos, t: types.NullType}, nil
	case "true":
		return &astLit{p: t.pos, v: true, t: types.BooleanType}, nil
	case "false":
		return &astLit{p: t.pos, v: false, t: types.BooleanType}, nil
	case "not":
		x, err := p.expr(bpNot)
		if err != nil {
			return nil, err
		}
		return &astUnary{p: t.pos, op: "not", x: x}, nil
	case "case":
		return p.caseExpr(t)
	case "cast", "try_cast":
		if isOp(p.peek(), "(") {
			return p.castExpr(t)
		}
	case "date", "timestamp":
		if p.peek().kind == tString { // typed literal: DATE '2023-01-01'
			s := p.next()
			to := types.DateType
			if strings.EqualFold(t.text, "timestamp") {
				to = types.TimestampType
			}
			v := castValue(s.text, types.StringType, to)
			if v == nil {
				return nil, errorf(p.src, s.pos, "invalid %s literal %q", to, s.text)
			}
			return &astLit{p: t.pos, v: v, t: to}, nil
		}
	}
	if isOp(p.peek(), "(") {
		p.i++
		if isOp(p.peek(), "*") && isOp(p.peekN(1), ")") { // count(*): let the checker explain
			p.i += 2
			return &astCall{p: t.pos, name: t.text}, nil
		}
		args, err := p.exprList(")")
		if err != nil {
			return nil, err
		}
		return &astCall{p: t.pos, name: t.text, args: args}, nil
	}
	if p.infixPower(t) != 0 || isKw(t, "when") || isKw(t, "then") || isKw(t, "else") || isKw(t, "end") {
		return nil, errorf(p.src, t.pos, "syntax error: unexpected %s", strings.ToUpper(t.text))
	}
	return &astIdent{p: t.pos, name: t.text}, nil
}

func (p *parser) number(t token, neg bool) (ast, error) {
	s := t.text
	lower := strings.ToLower(s)
	suffix := ""
	for _, suf := range []string{"bd", "l", "s", "y", "d", "f"} {
		if strings.HasSuffix(lower, suf) && !strings.HasSuffix(lower, "e"+suf) {
			body := s[:len(s)-len(suf)]
			if body != "" && strings.IndexFunc(body, func(r rune) bool {
				return !(r >= '0' && r <= '9' || r == '.' || r == 'e' || r == 'E' || r == '+' || r == '-')
			}) < 0 {
				suffix, s = suf, body
				break
			}
		}
	}
	if strings.IndexFunc(s, func(r rune) bool {
		return !(r >= '0' && r <= '9' || r == '.' || r == 'e' || r == 'E' || r == '+' || r == '-')
	}) >= 0 {
		return nil, errorf(p.src, t.pos, "syntax error: invalid number %q", t.text)
	}
	integral := !strings.ContainsAny(s, ".eE")
	if neg {
		s = "-" + s
	}
	bad := func() error { return errorf(p.src, t.pos, "number %q is out of range for its type", t.text) }
	switch suffix {
	case "l", "s", "y":
		if !integral {
			return nil, errorf(p.src, t.pos, "syntax error: invalid number %q", t.text)
		}
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return nil, bad()
		}
		typ := types.LongType
		if suffix == "s" {
			if v > math.MaxInt16 || v < math.MinInt16 {
				return nil, bad()
			}
			typ = types.ShortType
		} else if suffix == "y" {
			if v > math.MaxInt8 || v < math.MinInt8 {
				return nil, bad()
			}
			typ = types.ByteType
		}
		return &astLit{p: t.pos, v: v, t: typ}, nil
	case "d", "bd", "f":
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil, bad()
		}
		if suffix == "f" {
			return &astLit{p: t.pos, v: float64(float32(v)), t: types.FloatType}, nil
		}
		return &astLit{p: t.pos, v: v, t: types.DoubleType}, nil
	}
	if integral {
		if v, err := strconv.ParseInt(s, 10, 64); err == nil {
			if v <= math.MaxInt32 && v >= math.MinInt32 {
				return &astLit{p: t.pos, v: v, t: types.IntType}, nil
			}
			return &astLit{p: t.pos, v: v, t: types.LongType}, nil
		}
	}
	// Spark reads 1.5 and integers beyond bigint as DECIMAL; we have no decimal type and use double.
	v, err := strconv.ParseFloat(s, 64)
	if err != nil && !strings.Contains(err.Error(), "range") {
		return nil, errorf(p.src, t.pos, "syntax error: invalid number %q", t.text)
	}
	return &astLit{p: t.pos, v: v, t: types.DoubleType}, nil
}

func (p *parser) caseExpr(t token) (ast, error) {
	c := &astCase{p: t.pos}
	if !isKw(p.peek(), "when") {
		op, err := p.expr(0)
		if err != nil {
			return nil, err
		}
		c.operand = op
	}
	for p.acceptKw("when") {
		w, err := p.expr(0)
		if err != nil {
			return nil, err
		}
		if err := p.expectKw("then"); err != nil {
			return nil, err
		}
		th, err := p.expr(0)
		if err != nil {
			return nil, err
		}
		c.whens = append(c.whens, w)
		c.thens = append(c.thens, th)
	}
	if len(c.whens) == 0 {
		nt := p.peek()
		return nil, errorf(p.src, nt.pos, "syntax error: CASE needs at least one WHEN, found %s", describe(nt))
	}
	if p.acceptKw("else") {
		e, err := p.expr(0)
		if err != nil {
			return nil, err
		}
		c.els = e
	}
	if err := p.expectKw("end"); err != nil {
		return nil, err
	}
	return c, nil
}

func (p *parser) castExpr(t token) (ast, error) {
	p.i++ // (
	x, err := p.expr(0)
	if err != nil {
		return nil, err
	}
	if err := p.expectKw("as"); err != nil {
		return nil, err
	}
	// The type runs up to the matching ')'; collect its source text and parse it as a type name.
	start := p.peek().pos
	depth := 0
	for {
		nt := p.peek()
		if nt.kind == tEOF {
			return nil, errorf(p.src, nt.pos, "syntax error: unterminated CAST")
		}
		if isOp(nt, "(") {
			depth++
		} else if isOp(nt, ")") {
			if depth == 0 {
				break
			}
			depth--
		}
		p.i++
	}
	end := p.peek().pos
	p.i++
	text := p.src[start:end]
	to, err := parseTypeName(text)
	if err != nil {
		return nil, errorf(p.src, start, "%v", err)
	}
	dec, err := parseDecimalSpec(text)
	if err != nil {
		return nil, errorf(p.src, start, "%v", err)
	}
	return &astCast{p: t.pos, x: x, to: to, dec: dec}, nil
}

// decimalSpec is DECIMAL(precision, scale); Spark's default is DECIMAL(10, 0).
type decimalSpec struct{ precision, scale int }

func parseDecimalSpec(s string) (*decimalSpec, error) {
	ls := strings.ToLower(strings.TrimSpace(s))
	base, args, hasArgs := strings.Cut(ls, "(")
	switch strings.TrimSpace(base) {
	case "decimal", "dec", "numeric":
	default:
		return nil, nil
	}
	d := &decimalSpec{precision: 10}
	if hasArgs {
		args = strings.TrimSuffix(strings.TrimSpace(args), ")")
		ps, ss, hasScale := strings.Cut(args, ",")
		var err error
		if d.precision, err = strconv.Atoi(strings.TrimSpace(ps)); err != nil {
			return nil, fmt.Errorf("invalid decimal type %q", s)
		}
		if hasScale {
			if d.scale, err = strconv.Atoi(strings.TrimSpace(ss)); err != nil {
				return nil, fmt.Errorf("invalid decimal type %q", s)
			}
		}
	}
	if d.precision < 1 || d.precision > 38 || d.scale < 0 || d.scale > d.precision {
		return nil, fmt.Errorf("invalid decimal type %q (precision 1..38, 0 <= scale <= precision)", s)
	}
	return d, nil
}

// parseTypeName extends types.ParseType with SQL spellings that have no Chronon type of their own:
// decimal(p,s) reads as double, varchar(n)/char(n) as string.
func parseTypeName(s string) (*types.Type, error) {
	ls := strings.ToLower(strings.TrimSpace(s))
	base := ls
	if i := strings.IndexByte(ls, '('); i >= 0 {
		base = strings.TrimSpace(ls[:i])
	}
	switch base {
	case "decimal", "dec", "numeric":
		return types.DoubleType, nil
	case "varchar", "char":
		return types.StringType, nil
	}
	if strings.Contains(ls, "(") {
		return nil, errorf("", 0, "unknown type %q", s)
	}
	return types.ParseType(s)
}
