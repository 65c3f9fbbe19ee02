package starlark_api

import (
	"fmt"
	"reflect"
	"sort"
	"strings"

	"go.starlark.net/starlark"
	"go.starlark.net/syntax"

	"github.com/chronon-go/chronon/thrift/api"
	"github.com/chronon-go/chronon/thrift/conf"
)

// Object is a Thrift struct of package api seen from Starlark, like an instance of Chronon's Python
// ttypes: fields read and written by their Thrift names (v1.metaData.name). Nested structs share the
// underlying Go value, so `gb.metaData.online = True` changes gb, as in Python. Extra attributes that
// Chronon's Python attaches dynamically (Aggregation.tags, JoinPart.tags) live in extras.
type Object struct {
	ptr    reflect.Value // pointer to an api struct
	extras map[string]starlark.Value
	pos    syntax.Position // constructor call site
	module string          // module whose execution created it (e.g. "group_bys.quickstart.purchases")
	frozen bool
	order  *conf.Order
}

var (
	_ starlark.HasSetField = (*Object)(nil)
	_ starlark.Comparable  = (*Object)(nil)
)

func newObject(thread *starlark.Thread, ptr any) *Object {
	st := state(thread)
	return &Object{ptr: reflect.ValueOf(ptr), pos: callerPos(thread), module: st.currentModule(), order: st.order}
}

// Go returns the wrapped struct pointer (e.g. *api.GroupBy).
func (o *Object) Go() any { return o.ptr.Interface() }

// Pos is where the object was constructed.
func (o *Object) Pos() syntax.Position { return o.pos }

// Module is the module whose execution constructed the object.
func (o *Object) Module() string { return o.module }

// Extra returns a dynamic attribute (e.g. "tags") or nil.
func (o *Object) Extra(name string) starlark.Value { return o.extras[name] }

func (o *Object) setExtra(name string, v starlark.Value) {
	if o.extras == nil {
		o.extras = map[string]starlark.Value{}
	}
	o.extras[name] = v
}

func (o *Object) typeName() string { return o.ptr.Elem().Type().Name() }

func (o *Object) String() string {
	var b strings.Builder
	b.WriteString(o.typeName())
	b.WriteByte('(')
	n := 0
	for _, f := range structFields(o.ptr.Elem().Type()) {
		fv := o.ptr.Elem().Field(f.index)
		if isNil(fv) {
			continue
		}
		if n > 0 {
			b.WriteString(", ")
		}
		n++
		b.WriteString(f.name)
		b.WriteByte('=')
		b.WriteString(toStarlark(fv, o).String())
	}
	b.WriteByte(')')
	return b.String()
}

func (o *Object) Type() string         { return o.typeName() }
func (o *Object) Freeze()              { o.frozen = true }
func (o *Object) Truth() starlark.Bool { return true }
func (o *Object) Hash() (uint32, error) {
	return 0, fmt.Errorf("unhashable type: %s", o.typeName())
}

// CompareSameType: identity, like Python objects without __eq__ overrides.
func (o *Object) CompareSameType(op syntax.Token, y starlark.Value, depth int) (bool, error) {
	p := y.(*Object)
	switch op {
	case syntax.EQL:
		return o.ptr.Pointer() == p.ptr.Pointer(), nil
	case syntax.NEQ:
		return o.ptr.Pointer() != p.ptr.Pointer(), nil
	}
	return false, fmt.Errorf("%s %s %s not implemented", o.Type(), op, y.Type())
}

func (o *Object) AttrNames() []string {
	var names []string
	for _, f := range structFields(o.ptr.Elem().Type()) {
		names = append(names, f.name)
	}
	for k := range o.extras {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

func (o *Object) Attr(name string) (starlark.Value, error) {
	if f, ok := fieldByName(o.ptr.Elem().Type(), name); ok {
		return toStarlark(o.ptr.Elem().Field(f.index), o), nil
	}
	if v, ok := o.extras[name]; ok {
		return v, nil
	}
	return nil, nil // starlark reports "no .x field or method" with a suggestion
}

func (o *Object) SetField(name string, v starlark.Value) error {
	if o.frozen {
		return fmt.Errorf("cannot set .%s of a frozen %s (objects from a finished module are read-only)", name, o.typeName())
	}
	f, ok := fieldByName(o.ptr.Elem().Type(), name)
	if !ok {
		o.setExtra(name, v)
		return nil
	}
	return fromStarlark(v, o.ptr.Elem().Field(f.index), o.order, o.typeName()+"."+name)
}

type sfield struct {
	index int
	name  string
}

func structFields(t reflect.Type) []sfield {
	var out []sfield
	for i := 0; i < t.NumField(); i++ {
		tag := t.Field(i).Tag.Get("thrift")
		if tag == "" {
			continue
		}
		out = append(out, sfield{index: i, name: strings.Split(tag, ",")[0]})
	}
	return out
}

func fieldByName(t reflect.Type, name string) (sfield, bool) {
	for _, f := range structFields(t) {
		if f.name == name {
			return f, true
		}
	}
	return sfield{}, false
}

func isNil(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Ptr, reflect.Map, reflect.Slice, reflect.Interface:
		return v.IsNil()
	}
	return false
}

// toStarlark converts a struct field to a Starlark value. Structs are shared (wrapped), containers are
// copied: mutating a returned list does not change the conf, as with a fresh Python list.
func toStarlark(v reflect.Value, owner *Object) starlark.Value {
	switch v.Kind() {
	case reflect.Ptr:
		if v.IsNil() {
			return starlark.None
		}
		if v.Elem().Kind() == reflect.Struct {
			return &Object{ptr: v, pos: owner.pos, module: owner.module, frozen: owner.frozen, order: owner.order}
		}
		return toStarlark(v.Elem(), owner)
	case reflect.String:
		return starlark.String(v.String())
	case reflect.Bool:
		return starlark.Bool(v.Bool())
	case reflect.Int, reflect.Int32, reflect.Int64:
		return starlark.MakeInt64(v.Int())
	case reflect.Float64:
		return starlark.Float(v.Float())
	case reflect.Slice:
		if v.IsNil() {
			return starlark.None
		}
		elems := make([]starlark.Value, v.Len())
		for i := range elems {
			elems[i] = toStarlark(v.Index(i), owner)
		}
		return starlark.NewList(elems)
	case reflect.Map:
		if v.IsNil() {
			return starlark.None
		}
		d := starlark.NewDict(v.Len())
		for _, k := range owner.order.Keys(v.Interface()) {
			_ = d.SetKey(starlark.String(k), toStarlark(v.MapIndex(reflect.ValueOf(k)), owner))
		}
		return d
	}
	return starlark.None
}

// fromStarlark stores Starlark value x into Go field dst, converting by dst's type; what names the field
// in error messages. Dict insertion order is recorded in order.
func fromStarlark(x starlark.Value, dst reflect.Value, order *conf.Order, what string) error {
	t := dst.Type()
	if x == starlark.None {
		dst.Set(reflect.Zero(t))
		return nil
	}
	wrong := func(want string) error {
		return fmt.Errorf("%s: got %s, want %s", what, describe(x), want)
	}
	switch t.Kind() {
	case reflect.Ptr:
		if t.Elem().Kind() == reflect.Struct {
			o, ok := x.(*Object)
			if !ok || o.ptr.Type() != t {
				return wrong(t.Elem().Name())
			}
			dst.Set(o.ptr)
			return nil
		}
		nv := reflect.New(t.Elem())
		if err := fromStarlark(x, nv.Elem(), order, what); err != nil {
			return err
		}
		dst.Set(nv)
		return nil
	case reflect.String:
		s, ok := x.(starlark.String)
		if !ok {
			return wrong("string")
		}
		dst.SetString(string(s))
	case reflect.Bool:
		b, ok := x.(starlark.Bool)
		if !ok {
			return wrong("bool (True or False)")
		}
		dst.SetBool(bool(b))
	case reflect.Int32, reflect.Int64:
		i, ok := x.(starlark.Int)
		if !ok {
			if t.Name() != "" && t.PkgPath() != "" {
				return wrong(t.Name() + " (e.g. " + enumExample(t) + ")")
			}
			return wrong("int")
		}
		n, ok := i.Int64()
		if !ok || (t.Kind() == reflect.Int32 && (n > 1<<31-1 || n < -(1<<31))) {
			return fmt.Errorf("%s: %s is out of range", what, i)
		}
		if e, ok := dst.Interface().(fmt.Stringer); ok && t.PkgPath() != "" {
			probe := reflect.New(t).Elem()
			probe.SetInt(n)
			if probe.Interface().(fmt.Stringer).String() == "<UNSET>" {
				_ = e
				return fmt.Errorf("%s: %d is not a valid %s", what, n, t.Name())
			}
		}
		dst.SetInt(n)
	case reflect.Float64:
		switch f := x.(type) {
		case starlark.Float:
			dst.SetFloat(float64(f))
		case starlark.Int:
			n, _ := f.Int64()
			dst.SetFloat(float64(n)) // Chronon's compile.py crashes on ints here; we accept them (spec §15.1)
		default:
			return wrong("float")
		}
	case reflect.Slice:
		it, ok := x.(starlark.Indexable)
		if !ok {
			return wrong("list")
		}
		if _, isStr := x.(starlark.String); isStr {
			return wrong("list")
		}
		s := reflect.MakeSlice(t, it.Len(), it.Len())
		for i := 0; i < it.Len(); i++ {
			if err := fromStarlark(it.Index(i), s.Index(i), order, fmt.Sprintf("%s[%d]", what, i)); err != nil {
				return err
			}
		}
		dst.Set(s)
	case reflect.Map:
		d, ok := x.(*starlark.Dict)
		if !ok {
			return wrong("dict")
		}
		m := reflect.MakeMapWithSize(t, d.Len())
		keys := make([]string, 0, d.Len())
		for _, item := range d.Items() {
			k, ok := item[0].(starlark.String)
			if !ok {
				return fmt.Errorf("%s: got key %s, want string keys", what, describe(item[0]))
			}
			ev := reflect.New(t.Elem()).Elem()
			if err := fromStarlark(item[1], ev, order, fmt.Sprintf("%s[%q]", what, string(k))); err != nil {
				return err
			}
			m.SetMapIndex(reflect.ValueOf(string(k)), ev)
			keys = append(keys, string(k))
		}
		dst.Set(m)
		order.Set(m.Interface(), keys)
	default:
		return fmt.Errorf("%s: unsupported field type %s", what, t)
	}
	return nil
}

func enumExample(t reflect.Type) string {
	switch t {
	case reflect.TypeOf(api.Operation(0)):
		return "Operation.SUM"
	case reflect.TypeOf(api.TimeUnit(0)):
		return "TimeUnit.DAYS"
	case reflect.TypeOf(api.Accuracy(0)):
		return "Accuracy.SNAPSHOT"
	case reflect.TypeOf(api.DataKind(0)):
		return "DataKind.STRING"
	}
	return t.Name() + " value"
}

// describe renders a received value for error messages: its type and a short repr.
func describe(x starlark.Value) string {
	s := x.String()
	if len(s) > 40 {
		s = s[:37] + "..."
	}
	switch x.(type) {
	case *Object:
		return x.Type()
	case starlark.NoneType:
		return "None"
	}
	return fmt.Sprintf("%s %s", x.Type(), s)
}

// thriftConstructor builds a generic ttypes constructor: positional arguments in field-id order and
// keyword arguments by Thrift field name, as Python's generated ttypes classes accept.
func thriftConstructor(name string, newFn func() any) *starlark.Builtin {
	return starlark.NewBuiltin(name, func(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		ptr := newFn()
		o := newObject(thread, ptr)
		fields := structFields(o.ptr.Elem().Type())
		if len(args) > len(fields) {
			return nil, fmt.Errorf("%s: got %d positional arguments, want at most %d", name, len(args), len(fields))
		}
		set := map[string]bool{}
		for i, a := range args {
			f := fields[i]
			set[f.name] = true
			if err := fromStarlark(a, o.ptr.Elem().Field(f.index), o.order, name+": "+f.name); err != nil {
				return nil, err
			}
		}
		for _, kv := range kwargs {
			k := string(kv[0].(starlark.String))
			f, ok := fieldByName(o.ptr.Elem().Type(), k)
			if !ok {
				names := make([]string, len(fields))
				for i, f := range fields {
					names[i] = f.name
				}
				return nil, fmt.Errorf("%s: unexpected keyword argument %s%s", name, k, didYouMean(k, names))
			}
			if set[k] {
				return nil, fmt.Errorf("%s: got multiple values for argument %s", name, k)
			}
			set[k] = true
			if err := fromStarlark(kv[1], o.ptr.Elem().Field(f.index), o.order, name+": "+k); err != nil {
				return nil, err
			}
		}
		return o, nil
	})
}

// asObject checks that v is an Object wrapping T (or None when allowed) for argument arg of fn.
func asObject[T any](v starlark.Value, fn, arg string, noneOK bool) (*T, *Object, error) {
	if v == nil || v == starlark.None {
		if noneOK {
			return nil, nil, nil
		}
		return nil, nil, fmt.Errorf("%s: %s is required", fn, arg)
	}
	o, ok := v.(*Object)
	if ok {
		if p, ok := o.Go().(*T); ok {
			return p, o, nil
		}
	}
	var zero T
	return nil, nil, fmt.Errorf("%s: for parameter %s: got %s, want %s", fn, arg, describe(v), reflect.TypeOf(zero).Name())
}
