// Package conf reads and writes Chronon confs: the generated Thrift structs of package api as JSON in
// exactly the format Chronon's compile.py writes (spec §1.5), and compactly as the runtime writes them.
package conf

import (
	"reflect"
	"sort"
	"sync"
	"unsafe"
)

// Order remembers the insertion order of the string-keyed maps inside a conf. Chronon keeps the user's
// order for maps such as Query.selects (it decides output column order and the JSON bytes), but Go maps
// have none, so the order travels beside the structs: the DSL records it when it builds a map, the
// decoder records it when it reads one, and the encoder and the runtime ask for it.
//
// Entries are keyed by the map's identity and hold the map itself, so an address cannot be reused by
// another map while its entry exists. A nil *Order is valid and orders every map by sorted keys.
//
// An Order is safe for concurrent use (jobs clone confs from several goroutines).
type Order struct {
	mu      sync.RWMutex
	entries map[unsafe.Pointer]orderEntry
}

type orderEntry struct {
	m    any // keeps the map alive so its address stays unique
	keys []string
}

// NewOrder returns an empty Order.
func NewOrder() *Order { return &Order{entries: map[unsafe.Pointer]orderEntry{}} }

// Set records keys as the order of map m (a map with string keys). Keys not in m are ignored on use and
// keys of m missing from keys come after them, sorted.
func (o *Order) Set(m any, keys []string) {
	if o == nil {
		return
	}
	v := reflect.ValueOf(m)
	if v.Kind() != reflect.Map || v.IsNil() {
		return
	}
	o.mu.Lock()
	o.entries[v.UnsafePointer()] = orderEntry{m: m, keys: append([]string(nil), keys...)}
	o.mu.Unlock()
}

// Append records key as the last key of map m, if it is not already recorded.
func (o *Order) Append(m any, key string) {
	if o == nil {
		return
	}
	v := reflect.ValueOf(m)
	if v.Kind() != reflect.Map || v.IsNil() {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	e := o.entries[v.UnsafePointer()]
	for _, k := range e.keys {
		if k == key {
			return
		}
	}
	e.m = m
	e.keys = append(e.keys, key)
	o.entries[v.UnsafePointer()] = e
}

// Keys returns the keys of map m in recorded order, then any unrecorded keys sorted.
func (o *Order) Keys(m any) []string {
	v := reflect.ValueOf(m)
	if v.Kind() != reflect.Map {
		return nil
	}
	return o.keysOf(v)
}

func (o *Order) keysOf(v reflect.Value) []string {
	if v.IsNil() || v.Len() == 0 {
		return nil
	}
	out := make([]string, 0, v.Len())
	seen := make(map[string]bool, v.Len())
	if o != nil {
		o.mu.RLock()
		e, ok := o.entries[v.UnsafePointer()]
		o.mu.RUnlock()
		if ok {
			for _, k := range e.keys {
				if !seen[k] && v.MapIndex(reflect.ValueOf(k).Convert(v.Type().Key())).IsValid() {
					seen[k] = true
					out = append(out, k)
				}
			}
		}
	}
	var rest []string
	for _, k := range v.MapKeys() {
		if s := k.String(); !seen[s] {
			rest = append(rest, s)
		}
	}
	sort.Strings(rest)
	return append(out, rest...)
}

// Merge copies every entry of other into o (used when one conf embeds parts decoded separately).
func (o *Order) Merge(other *Order) {
	if other == nil || other == o {
		return
	}
	other.mu.RLock()
	defer other.mu.RUnlock()
	o.mu.Lock()
	defer o.mu.Unlock()
	for k, e := range other.entries {
		o.entries[k] = e
	}
}
