package online

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/chronon-go/chronon/runtime/types"
	"github.com/chronon-go/chronon/thrift/api"
)

// External join parts (spec §7.6, Chronon's ExternalSourceRegistry): features that come from
// outside the KV store at fetch time. A join's onlineExternalParts name an external source; the
// fetcher asks the handler registered under that name with the request's keys mapped to the
// source's key names, and prefixes the returned values "ext_[<prefix>_]<source>_". The built-in
// "contextual" source returns the keys themselves: values that only the caller knows (a device
// type, a search query) served and logged alongside the stored features.

// ContextualSource is the name of the built-in external source whose values are its keys.
const ContextualSource = "contextual"

// ExternalHandler answers requests for one external source: one Response per Request, in order,
// with Values keyed by the source's value field names. A Response's Err becomes the part's
// "<fullName>_exception" entry; an error for the whole call does so for every request.
type ExternalHandler interface {
	FetchExternal(ctx context.Context, reqs []Request) ([]Response, error)
}

// ExternalHandlerFunc adapts a function to ExternalHandler.
type ExternalHandlerFunc func(ctx context.Context, reqs []Request) ([]Response, error)

// FetchExternal implements ExternalHandler.
func (h ExternalHandlerFunc) FetchExternal(ctx context.Context, reqs []Request) ([]Response, error) {
	return h(ctx, reqs)
}

func contextualHandler(_ context.Context, reqs []Request) ([]Response, error) {
	out := make([]Response, len(reqs))
	for i, r := range reqs {
		vals := make(map[string]any, len(r.Keys))
		for k, v := range r.Keys {
			vals[k] = v
		}
		out[i] = Response{Request: r, Values: vals}
	}
	return out, nil
}

// RegisterExternal makes h serve the external source called name (its metaData.name in the join
// conf). A name can be registered once; "contextual" is built in.
func (f *Fetcher) RegisterExternal(name string, h ExternalHandler) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if name == ContextualSource || f.external[name] != nil {
		return fmt.Errorf("an external source handler named %q is already registered", name)
	}
	if f.external == nil {
		f.external = map[string]ExternalHandler{}
	}
	f.external[name] = h
	return nil
}

func (f *Fetcher) externalHandler(name string) ExternalHandler {
	if name == ContextualSource {
		return ExternalHandlerFunc(contextualHandler)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.external[name]
}

// extPart is one onlineExternalPart of a join, ready to serve.
type extPart struct {
	fullName string // ext_[<prefix>_]<sanitized source name>
	source   string
	keys     [][2]string  // (left key, source key), in the source's key schema order
	keyTypes types.Schema // source key fields, named by their left keys
	values   types.Schema // source value fields (unprefixed)
	err      error        // a conf problem: reported as the part's exception
}

func newExtParts(j *api.Join) []extPart {
	var out []extPart
	for _, ep := range j.OnlineExternalParts {
		src := ep.GetSource()
		name := src.GetMetadata().GetName()
		e := extPart{source: name, fullName: "ext_"}
		if ep.GetPrefix() != "" {
			e.fullName += ep.GetPrefix() + "_"
		}
		e.fullName += SanitizeName(name)
		rightToLeft := map[string]string{}
		for l, r := range ep.KeyMapping {
			rightToLeft[r] = l
		}
		if src.GetKeySchema() != nil {
			for _, fld := range src.GetKeySchema().Params {
				l, ok := rightToLeft[fld.GetName()]
				if !ok {
					l = fld.GetName()
				}
				e.keys = append(e.keys, [2]string{l, fld.GetName()})
				t, err := types.FromThrift(fld.DataType)
				if err != nil && e.err == nil {
					e.err = fmt.Errorf("external source %s key %s: %w", name, fld.GetName(), err)
				}
				e.keyTypes = append(e.keyTypes, types.Field{Name: l, Type: t})
			}
		}
		if src.GetValueSchema() != nil {
			for _, fld := range src.GetValueSchema().Params {
				t, err := types.FromThrift(fld.DataType)
				if err != nil && e.err == nil {
					e.err = fmt.Errorf("external source %s value %s: %w", name, fld.GetName(), err)
				}
				e.values = append(e.values, types.Field{Name: fld.GetName(), Type: t})
			}
		}
		out = append(out, e)
	}
	return out
}

// valueFields are the part's response fields, prefixed.
func (e *extPart) valueFields() types.Schema {
	out := make(types.Schema, 0, len(e.values))
	for _, v := range e.values {
		out = append(out, types.Field{Name: e.fullName + "_" + v.Name, Type: v.Type})
	}
	return out
}

// fetchExternal answers the external parts of every join request: vals[i] receives request i's
// prefixed values and exception entries. Each source's handler is called once for all requests.
func (f *Fetcher) fetchExternal(ctx context.Context, reqs []Request, joinOf func(i int) *joinServing, vals []map[string]any) {
	type pending struct {
		req  int
		part *extPart
	}
	bySource := map[string][]pending{}
	calls := map[string][]Request{}
	for i, r := range reqs {
		js := joinOf(i)
		if js == nil {
			continue
		}
		for pi := range js.externals {
			e := &js.externals[pi]
			if e.err != nil {
				vals[i][e.fullName+"_exception"] = e.err.Error()
				continue
			}
			keys := make(map[string]any, len(e.keys))
			var missing []string
			for _, k := range e.keys {
				v, ok := r.Keys[k[0]]
				if !ok && e.source != ContextualSource {
					missing = append(missing, k[0])
				}
				keys[k[1]] = v // contextual: a missing key is a null value
			}
			if len(missing) > 0 {
				vals[i][e.fullName+"_exception"] = fmt.Sprintf("Failed to fetch %s: Missing keys List(%s) required by %s in query: %s",
					e.source, strings.Join(missing, ", "), e.source, scalaMap(r.Keys))
				continue
			}
			bySource[e.source] = append(bySource[e.source], pending{i, e})
			calls[e.source] = append(calls[e.source], Request{Name: e.source, Keys: keys, AtMillis: r.AtMillis})
		}
	}
	sources := make([]string, 0, len(calls))
	for s := range calls {
		sources = append(sources, s)
	}
	sort.Strings(sources)
	for _, s := range sources {
		ps := bySource[s]
		fail := func(err error) {
			for _, p := range ps {
				vals[p.req][p.part.fullName+"_exception"] = err.Error()
			}
		}
		h := f.externalHandler(s)
		if h == nil {
			fail(fmt.Errorf("no handler is registered for external source %s (Fetcher.RegisterExternal)", s))
			continue
		}
		resp, err := h.FetchExternal(ctx, calls[s])
		if err == nil && len(resp) != len(ps) {
			err = fmt.Errorf("external source %s answered %d requests with %d responses", s, len(ps), len(resp))
		}
		if err != nil {
			fail(err)
			continue
		}
		for j, p := range ps {
			if resp[j].Err != nil {
				vals[p.req][p.part.fullName+"_exception"] = resp[j].Err.Error()
				continue
			}
			for _, v := range p.part.values {
				x, ok := resp[j].Values[v.Name]
				if !ok {
					continue
				}
				// Values take their declared types, as keys do (spec §7.2), so that derivations and
				// the fetch log see them typed.
				if cast, err := castTo(x, v.Type.Kind); err == nil {
					x = cast
				}
				vals[p.req][p.part.fullName+"_"+v.Name] = x
			}
		}
	}
}

// withExternal adds the external parts' value fields to schema and their key fields (by left name)
// to keys, for derivations and the fetch log.
func (js *joinServing) withExternal(schema, keys types.Schema, seenKey map[string]bool) (types.Schema, types.Schema) {
	for i := range js.externals {
		e := &js.externals[i]
		if e.err != nil {
			continue
		}
		schema = append(schema, e.valueFields()...)
		for _, k := range e.keyTypes {
			if !seenKey[k.Name] {
				seenKey[k.Name] = true
				keys = append(keys, k)
			}
		}
	}
	return schema, keys
}
