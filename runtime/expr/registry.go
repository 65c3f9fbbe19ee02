package expr

import (
	"fmt"
	"sort"
	"strings"

	"github.com/chronon-go/chronon/runtime/types"
)

// fnDef is one catalog entry. build receives the type-checked arguments (count already validated)
// and returns the node, inserting implicit casts and precompiling constant arguments.
type fnDef struct {
	name    string
	minArgs int
	maxArgs int // < 0: variadic
	sig     string
	build   func(c *checker, call *astCall, args []node) (node, error)
}

var catalog = map[string]*fnDef{}

// aggregates are Spark aggregate functions users may try in a select; they get a dedicated message.
var aggregates = map[string]bool{"count": true, "sum": true, "avg": true, "min": true, "max": true, "first": true,
	"last": true, "collect_list": true, "collect_set": true, "approx_count_distinct": true, "variance": true,
	"stddev": true, "percentile_approx": true, "mean": true}

// def registers a function under one or more comma-separated names (aliases share the definition).
func def(names string, minArgs, maxArgs int, sig string, build func(c *checker, call *astCall, args []node) (node, error)) {
	for _, n := range strings.Split(names, ",") {
		n = strings.TrimSpace(n)
		catalog[n] = &fnDef{name: n, minArgs: minArgs, maxArgs: maxArgs, sig: sig, build: build}
	}
}

// Functions lists the catalog's function names, sorted (for docs and tooling).
func Functions() []string {
	out := make([]string, 0, len(catalog))
	for n := range catalog {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

func (c *checker) call(a *astCall) (node, error) {
	name := strings.ToLower(a.name)
	d, ok := catalog[name]
	if !ok && aggregates[name] {
		return nil, c.errAt(a.p, "%s is an aggregate function; expressions are evaluated per row (use a Chronon Aggregation instead)", name)
	}
	if !ok {
		msg := fmt.Sprintf("unknown function %q", a.name)
		if s := suggest(name, Functions()); s != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", s)
		}
		return nil, &Error{Msg: msg, Src: c.src, Pos: a.p}
	}
	if len(a.args) < d.minArgs || d.maxArgs >= 0 && len(a.args) > d.maxArgs {
		var want string
		switch {
		case d.maxArgs < 0:
			want = fmt.Sprintf("at least %d", d.minArgs)
		case d.minArgs == d.maxArgs:
			want = fmt.Sprint(d.minArgs)
		default:
			want = fmt.Sprintf("%d to %d", d.minArgs, d.maxArgs)
		}
		return nil, c.errAt(a.p, "%s takes %s argument%s, got %d: %s", name, want, plural(want), len(a.args), d.sig)
	}
	args := make([]node, len(a.args))
	for i, x := range a.args {
		n, err := c.check(x)
		if err != nil {
			return nil, err
		}
		args[i] = n
	}
	return d.build(c, a, args)
}

func plural(want string) string {
	if want == "1" || strings.HasSuffix(want, " 1") {
		return ""
	}
	return "s"
}

// argPos is the source position of argument i (the call itself when absent).
func argPos(call *astCall, i int) int {
	if i < len(call.args) {
		return call.args[i].position()
	}
	return call.p
}

// arg casts argument i implicitly to t.
func (c *checker) arg(call *astCall, args []node, i int, t *types.Type) (node, error) {
	if !implicitCastable(args[i].typ(), t) {
		return nil, c.errAt(argPos(call, i), "argument %d of %s must be %s, got %s", i+1, strings.ToLower(call.name), t, args[i].typ())
	}
	return c.cast(args[i], t), nil
}

// args casts every argument to the matching type of ts (the last type repeats for variadics).
func (c *checker) argsAs(call *astCall, args []node, ts ...*types.Type) ([]node, error) {
	out := make([]node, len(args))
	for i := range args {
		t := ts[min(i, len(ts)-1)]
		n, err := c.arg(call, args, i, t)
		if err != nil {
			return nil, err
		}
		out[i] = n
	}
	return out, nil
}

// numArg accepts any number as is; strings become double (Spark's NumericType default), NULL double.
func (c *checker) numArg(call *astCall, args []node, i int) (node, error) {
	t := args[i].typ()
	switch {
	case t.IsNumeric():
		return args[i], nil
	case t.Kind == types.String, t.Kind == types.Null:
		return c.cast(args[i], types.DoubleType), nil
	}
	return nil, c.errAt(argPos(call, i), "argument %d of %s must be a number, got %s", i+1, strings.ToLower(call.name), t)
}

// constArg returns the value of argument i when it is a literal.
func constArg(args []node, i int) (any, bool) {
	if i >= len(args) {
		return nil, false
	}
	l, ok := args[i].(*litNode)
	if !ok {
		return nil, false
	}
	return l.v, true
}

// typed builds a function whose arguments are cast to in (the last type repeats for variadics) and
// whose result, of type out, fn computes from non-null argument values (NULL in, NULL out).
func typed(out *types.Type, fn func(v []any) any, in ...*types.Type) func(c *checker, call *astCall, args []node) (node, error) {
	return func(c *checker, call *astCall, args []node) (node, error) {
		a, err := c.argsAs(call, args, in...)
		if err != nil {
			return nil, err
		}
		return c.scalar(call, out, a, fn), nil
	}
}

// scalar builds a null-propagating call of fn and folds it when every argument is constant.
func (c *checker) scalar(call *astCall, t *types.Type, args []node, fn func([]any) any) node {
	return c.fold(&callNode{name: strings.ToLower(call.name), t: t, args: args, fn: fn}, args...)
}

// scalarNullSafe is scalar for functions that handle NULL arguments themselves.
func (c *checker) scalarNullSafe(call *astCall, t *types.Type, args []node, fn func([]any) any) node {
	return c.fold(&callNode{name: strings.ToLower(call.name), t: t, args: args, fn: fn, nullSafe: true}, args...)
}
