package compiler

import (
	"regexp"
	"strings"

	sa "github.com/chronon-go/chronon/starlark_api"
	"github.com/chronon-go/chronon/thrift/api"
	"github.com/chronon-go/chronon/thrift/conf"
)

// Output column names as the compile-time validator sees them (spec §2.1–2.2, §6.6).

func groupByFeatures(gb *api.GroupBy, o *conf.Order) []string {
	var out []string
	if gb.Aggregations != nil {
		for _, agg := range gb.Aggregations {
			out = append(out, sa.AggregationOutputColumns(agg)...)
		}
		return out
	}
	for _, src := range gb.Sources {
		out = append(out, selectKeys(src, o)...)
	}
	return out
}

func selectKeys(src *api.Source, o *conf.Order) []string {
	var q *api.Query
	switch {
	case src.Events != nil:
		q = src.Events.Query
	case src.Entities != nil:
		q = src.Entities.Query
	case src.JoinSource != nil:
		q = src.JoinSource.Query
	}
	if q == nil {
		return nil
	}
	return o.Keys(q.Selects)
}

// derivedColumns applies derivations to column names: "*" expands to every column not used as the
// expression of another derivation, other derivations contribute their name.
func derivedColumns(cols []string, ds []*api.Derivation) []string {
	if len(ds) == 0 {
		return cols
	}
	exprs := map[string]bool{}
	wildcard := false
	for _, d := range ds {
		e := deref(d.Expression)
		exprs[e] = true
		if e == "*" {
			wildcard = true
		}
	}
	var out []string
	for _, d := range ds {
		if deref(d.Name) == "*" {
			if wildcard {
				for _, c := range cols {
					if !exprs[c] {
						out = append(out, c)
					}
				}
			}
			continue
		}
		out = append(out, deref(d.Name))
	}
	return out
}

func joinInternalFeatures(j *api.Join, o *conf.Order) []string {
	var out []string
	for _, jp := range j.JoinParts {
		prefix := ""
		if jp.Prefix != nil && *jp.Prefix != "" {
			prefix = *jp.Prefix + "_"
		}
		gbPrefix := strings.ReplaceAll(deref(jp.GroupBy.MetaData.Name), ".", "_")
		for _, c := range derivedColumns(groupByFeatures(jp.GroupBy, o), jp.GroupBy.Derivations) {
			out = append(out, prefix+gbPrefix+"_"+c)
		}
	}
	return out
}

func joinExternalFeatures(j *api.Join) []string {
	var out []string
	for _, p := range j.OnlineExternalParts {
		prefix := ""
		if p.Prefix != nil && *p.Prefix != "" {
			prefix = *p.Prefix + "_"
		}
		full := "ext_" + prefix + sa.Sanitize(metaName(p.Source.Metadata)) + "_"
		if p.Source.ValueSchema != nil {
			for _, f := range p.Source.ValueSchema.Params {
				out = append(out, full+deref(f.Name))
			}
		}
	}
	return out
}

var identifier = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)

// derivationErrors reproduces the validator's derivation checks: a rename must name an existing
// column (or ds/ts), and a derived name may not collide with another output column (keys exempt).
func derivationErrors(keys, pre []string, ds []*api.Derivation) []string {
	var errs []string
	derived := map[string]bool{}
	wildcard := false
	for _, d := range ds {
		if deref(d.Expression) == "*" {
			wildcard = true
		}
	}
	if wildcard {
		for _, c := range pre {
			derived[c] = true
		}
	}
	preSet := map[string]bool{}
	for _, c := range pre {
		preSet[c] = true
	}
	keySet := map[string]bool{}
	for _, k := range keys {
		keySet[k] = true
	}
	for _, d := range ds {
		e, n := deref(d.Expression), deref(d.Name)
		if identifier.MatchString(e) {
			if wildcard {
				delete(derived, e)
			}
			if !preSet[e] && e != "ds" && e != "ts" {
				errs = append(errs, "derivation "+quote(n)+": expression "+quote(e)+" is not a column of the pre-derived output"+sa.DidYouMean(e, pre))
			}
		}
		if n != "*" {
			if derived[n] && !keySet[n] {
				errs = append(errs, "derivation name "+quote(n)+" collides with another output column")
			} else {
				derived[n] = true
			}
		}
	}
	return errs
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func quote(s string) string { return `"` + s + `"` }
