package conf

import "reflect"

// Clone deep-copies a conf value (a pointer to a generated struct, or any value made of them),
// recording the copy of every map in o with the original's key order.
func Clone[T any](v T, o *Order) T {
	return clone(reflect.ValueOf(v), o).Interface().(T)
}

func clone(v reflect.Value, o *Order) reflect.Value {
	switch v.Kind() {
	case reflect.Ptr:
		if v.IsNil() {
			return v
		}
		n := reflect.New(v.Type().Elem())
		n.Elem().Set(clone(v.Elem(), o))
		return n
	case reflect.Struct:
		n := reflect.New(v.Type()).Elem()
		for i := 0; i < v.NumField(); i++ {
			if n.Field(i).CanSet() {
				n.Field(i).Set(clone(v.Field(i), o))
			}
		}
		return n
	case reflect.Slice:
		if v.IsNil() {
			return v
		}
		n := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
		for i := 0; i < v.Len(); i++ {
			n.Index(i).Set(clone(v.Index(i), o))
		}
		return n
	case reflect.Map:
		if v.IsNil() {
			return v
		}
		n := reflect.MakeMapWithSize(v.Type(), v.Len())
		iter := v.MapRange()
		for iter.Next() {
			n.SetMapIndex(iter.Key(), clone(iter.Value(), o))
		}
		if o != nil && v.Type().Key().Kind() == reflect.String {
			o.Set(n.Interface(), o.keysOf(v))
		}
		return n
	}
	return v
}
