package starlark_api

import (
	"fmt"

	"go.starlark.net/starlark"
)

// param is one parameter of a DSL function: its Python name and whether it may be omitted.
type param struct {
	name     string
	optional bool
}

// args are a builtin's arguments bound to its parameters by position and keyword, like a Python call.
type args struct {
	fn     string
	values map[string]starlark.Value
	extra  []starlark.Tuple // unknown keyword arguments, in call order (only when the function takes **kwargs)
}

// bind matches a call's arguments to params. With kwargsOK, unknown keywords are collected into extra
// (GroupBy and Join keep them in customJson); otherwise they are an error with a "did you mean".
func bind(fn string, params []param, a starlark.Tuple, kwargs []starlark.Tuple, kwargsOK bool) (*args, error) {
	out := &args{fn: fn, values: map[string]starlark.Value{}}
	if len(a) > len(params) {
		return nil, fmt.Errorf("%s: got %d positional arguments, want at most %d", fn, len(a), len(params))
	}
	for i, v := range a {
		out.values[params[i].name] = v
	}
	names := make([]string, len(params))
	for i, p := range params {
		names[i] = p.name
	}
	for _, kv := range kwargs {
		k := string(kv[0].(starlark.String))
		known := false
		for _, p := range params {
			if p.name == k {
				known = true
				break
			}
		}
		if !known {
			if kwargsOK {
				out.extra = append(out.extra, kv)
				continue
			}
			return nil, fmt.Errorf("%s: unexpected keyword argument %s%s", fn, k, didYouMean(k, names))
		}
		if _, dup := out.values[k]; dup {
			return nil, fmt.Errorf("%s: got multiple values for argument %s", fn, k)
		}
		out.values[k] = kv[1]
	}
	for _, p := range params {
		if _, ok := out.values[p.name]; !ok && !p.optional {
			hint := ""
			if p.name == "aggregations" {
				hint = " (pass aggregations=None for an entity GroupBy without aggregations)"
			}
			return nil, fmt.Errorf("%s: missing argument for %s%s", fn, p.name, hint)
		}
	}
	return out, nil
}

// get returns the argument (None when omitted).
func (a *args) get(name string) starlark.Value {
	if v, ok := a.values[name]; ok {
		return v
	}
	return starlark.None
}

func (a *args) isNone(name string) bool { return a.get(name) == starlark.None }

func (a *args) wrong(name string, v starlark.Value, want string) error {
	return fmt.Errorf("%s: for parameter %s: got %s, want %s", a.fn, name, describe(v), want)
}

// str returns a string argument or nil when None.
func (a *args) str(name string) (*string, error) {
	v := a.get(name)
	if v == starlark.None {
		return nil, nil
	}
	s, ok := v.(starlark.String)
	if !ok {
		return nil, a.wrong(name, v, "string")
	}
	r := string(s)
	return &r, nil
}

// boolean returns a bool argument or nil when None.
func (a *args) boolean(name string) (*bool, error) {
	v := a.get(name)
	if v == starlark.None {
		return nil, nil
	}
	b, ok := v.(starlark.Bool)
	if !ok {
		return nil, a.wrong(name, v, "bool (True or False)")
	}
	r := bool(b)
	return &r, nil
}

// integer returns an int argument, or def when omitted/None.
func (a *args) integer(name string, def int64) (int64, error) {
	v := a.get(name)
	if v == starlark.None {
		return def, nil
	}
	i, ok := v.(starlark.Int)
	if !ok {
		return 0, a.wrong(name, v, "int")
	}
	n, ok := i.Int64()
	if !ok {
		return 0, fmt.Errorf("%s: %s is out of range", a.fn, name)
	}
	return n, nil
}

// number returns a float (ints accepted) or nil when None.
func (a *args) number(name string) (*float64, error) {
	v := a.get(name)
	switch x := v.(type) {
	case starlark.NoneType:
		return nil, nil
	case starlark.Float:
		f := float64(x)
		return &f, nil
	case starlark.Int:
		n, _ := x.Int64()
		f := float64(n)
		return &f, nil
	}
	return nil, a.wrong(name, v, "float")
}

// strings returns a list-of-strings argument or nil when None. A bare string is rejected: it is the
// classic mistake keys="user_id" for keys=["user_id"].
func (a *args) strings(name string) ([]string, error) {
	v := a.get(name)
	if v == starlark.None {
		return nil, nil
	}
	if s, ok := v.(starlark.String); ok {
		return nil, fmt.Errorf("%s: for parameter %s: got string %s, want a list of strings such as [%s]", a.fn, name, s, s)
	}
	it, ok := v.(starlark.Indexable)
	if !ok {
		return nil, a.wrong(name, v, "list of strings")
	}
	out := make([]string, it.Len())
	for i := range out {
		s, ok := it.Index(i).(starlark.String)
		if !ok {
			return nil, fmt.Errorf("%s: for parameter %s: element %d is %s, want string", a.fn, name, i, describe(it.Index(i)))
		}
		out[i] = string(s)
	}
	return out, nil
}

// list returns a list argument's elements (a single non-list value becomes a one-element list when
// single is true, as GroupBy accepts one source), or nil when None.
func (a *args) list(name string, single bool) ([]starlark.Value, error) {
	v := a.get(name)
	if v == starlark.None {
		return nil, nil
	}
	it, ok := v.(starlark.Indexable)
	if !ok || isString(v) {
		if single {
			return []starlark.Value{v}, nil
		}
		return nil, a.wrong(name, v, "list")
	}
	out := make([]starlark.Value, it.Len())
	for i := range out {
		out[i] = it.Index(i)
	}
	return out, nil
}

func isString(v starlark.Value) bool {
	_, ok := v.(starlark.String)
	return ok
}
