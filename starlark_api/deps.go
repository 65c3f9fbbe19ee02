package starlark_api

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"go.starlark.net/starlark"

	"github.com/chronon-go/chronon/thrift/api"
)

// Dependency strings are JSON objects that schedulers turn into partition sensors (spec §1.4):
// {"name": "wait_for_<table>_<partcol>", "spec": "<table>/<partcol>={{ ds }}", "start": ..., "end": ...}.

func waitForSimpleSchema(table string, lag int64, start, end *string, q *api.Query) *jsonObject {
	if table == "" {
		return nil
	}
	tokens := strings.Split(table, "/")
	clean := tokens[0]
	sub := strings.Join(tokens[1:], "/")
	partCol := "ds"
	if q != nil && q.PartitionColumn != nil && *q.PartitionColumn != "" {
		partCol = *q.PartitionColumn
	}
	name := fmt.Sprintf("wait_for_%s_%s", clean, partCol)
	ds := "{{ ds }}"
	if lag != 0 {
		name += fmt.Sprintf("_minus_%d", lag)
		ds = fmt.Sprintf("{{ macros.ds_add(ds, -%d) }}", lag)
	}
	spec := fmt.Sprintf("%s/%s=%s", clean, partCol, ds)
	if sub != "" {
		spec += "/" + sub
	}
	o := newJSONObject()
	o.set("name", name)
	o.set("spec", spec)
	o.set("start", strOrNil(start))
	o.set("end", strOrNil(end))
	return o
}

func strOrNil(s *string) any {
	if s == nil {
		return nil
	}
	return *s
}

var nonAlnum = regexp.MustCompile(`[^a-zA-Z0-9]`)
var underscores = regexp.MustCompile(`_+`)

func waitForName(dep string) string {
	name := "wait_for_" + nonAlnum.ReplaceAllString(dep, "_")
	return strings.TrimRight(underscores.ReplaceAllString(name, "_"), "_")
}

// sourceDependencies returns the dependency strings of one source: explicit ones when given, those of
// meta (a GroupBy's, re-rendered) when given, else one per table the source reads.
func sourceDependencies(thread *starlark.Thread, src *api.Source, explicit []string, meta *api.MetaData, lag int64) ([]string, error) {
	q := sourceQuery(src)
	var start, end *string
	if q != nil {
		start, end = q.StartPartition, q.EndPartition
	}
	var objs []*jsonObject
	switch {
	case meta != nil:
		out := make([]string, 0, len(meta.Dependencies))
		for _, d := range meta.Dependencies {
			s, err := rerenderJSON(d)
			if err != nil {
				return nil, err
			}
			out = append(out, s)
		}
		return out, nil
	case len(explicit) > 0:
		for _, d := range explicit {
			o := newJSONObject()
			o.set("name", waitForName(d))
			o.set("spec", d)
			o.set("start", strOrNil(start))
			o.set("end", strOrNil(end))
			objs = append(objs, o)
		}
	case src.Entities != nil:
		objs = append(objs, waitForSimpleSchema(deref(src.Entities.SnapshotTable), lag, start, end, q))
		if src.Entities.MutationTable != nil {
			objs = append(objs, waitForSimpleSchema(*src.Entities.MutationTable, lag, start, end, q))
		}
	case src.JoinSource != nil:
		table, err := joinOutputTable(thread, src.JoinSource.Join)
		if err != nil {
			return nil, err
		}
		objs = append(objs, waitForSimpleSchema(table, lag, start, end, q))
	case src.Events != nil:
		objs = append(objs, waitForSimpleSchema(deref(src.Events.Table), lag, start, end, q))
	}
	var out []string
	for _, o := range objs {
		if o == nil {
			continue
		}
		s, err := pyJSON(o)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// rerenderJSON parses a dependency string and renders it again as json.dumps would (Chronon does
// json.loads then json.dumps, which normalizes spacing but keeps key order).
func rerenderJSON(s string) (string, error) {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	v, err := decodeOrdered(dec)
	if err != nil {
		return "", fmt.Errorf("dependency %q is not valid JSON: %v", s, err)
	}
	return pyJSON(v)
}

func decodeOrdered(dec *json.Decoder) (any, error) {
	t, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch x := t.(type) {
	case json.Delim:
		if x == '{' {
			o := newJSONObject()
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				v, err := decodeOrdered(dec)
				if err != nil {
					return nil, err
				}
				o.set(kt.(string), v)
			}
			_, err := dec.Token()
			return o, err
		}
		var l []any
		for dec.More() {
			v, err := decodeOrdered(dec)
			if err != nil {
				return nil, err
			}
			l = append(l, v)
		}
		_, err := dec.Token()
		if l == nil {
			l = []any{}
		}
		return l, err
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i, nil
		}
		f, err := x.Float64()
		return f, err
	}
	return t, nil
}

// joinOutputTable is <namespace>.<sanitized join name>; a join without a namespace takes its team's
// from teams.json (and keeps it, as Chronon's helper does).
func joinOutputTable(thread *starlark.Thread, j *api.Join) (string, error) {
	if j == nil || j.MetaData == nil || j.MetaData.Name == nil {
		return "", fmt.Errorf("the JoinSource's join has no name: define it in a joins/ file and load it from there")
	}
	if j.MetaData.OutputNamespace == nil {
		team := strings.SplitN(*j.MetaData.Name, ".", 2)[0]
		st := state(thread)
		if st.loader == nil {
			return "", fmt.Errorf("cannot find the namespace of team %s outside a repository", team)
		}
		ns, err := st.loader.teamNamespace(team)
		if err != nil {
			return "", err
		}
		j.MetaData.OutputNamespace = &ns
	}
	return *j.MetaData.OutputNamespace + "." + Sanitize(*j.MetaData.Name), nil
}

// Sanitize replaces every character outside [a-zA-Z0-9_] with '_' (spec §2).
func Sanitize(s string) string {
	return strings.Map(func(c rune) rune {
		if c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
			return c
		}
		return '_'
	}, s)
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func dedupe(xs []string) []string {
	seen := map[string]bool{}
	out := []string{}
	for _, x := range xs {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

func sortedCopy(xs []string) []string {
	out := append([]string(nil), xs...)
	sort.Strings(out)
	return out
}
