package online

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/chronon-go/chronon/runtime/expr"
	"github.com/chronon-go/chronon/runtime/types"
	"github.com/chronon-go/chronon/thrift/api"
)

// DerivationExceptionKey is the response entry set when derivations fail online; the base
// (underived) values are returned with it.
const DerivationExceptionKey = "derivation_fetch_exception"

var identifierRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// deriver applies derivations to a fetched value map (spec §6.6 online): rename-only derivations
// are applied without SQL; others are compiled once with runtime/expr over the feature columns,
// the request keys, ts and ds.
type deriver struct {
	ds         []*api.Derivation
	renameOnly bool
	usedAsExpr map[string]bool
	exprs      []*expr.Expr // per derivation; nil for "*" and in rename-only mode
	compileErr error
	outFields  types.Schema // the derived columns with types (for a join over derived GroupBys)
	keyKinds   map[string]types.Kind
}

// newDeriver prepares ds over the feature columns and the request keys (keys are inputs of SQL
// derivations but not expanded by "*").
func newDeriver(ds []*api.Derivation, features, keys types.Schema) *deriver {
	schema := append(append(types.Schema{}, features...), keys...)
	d := &deriver{ds: ds, renameOnly: true, usedAsExpr: map[string]bool{}, keyKinds: map[string]types.Kind{}}
	for _, f := range schema {
		d.keyKinds[f.Name] = f.Type.Kind
	}
	for _, x := range ds {
		if x.GetName() == "*" {
			continue
		}
		e := strings.TrimSpace(x.GetExpression())
		d.usedAsExpr[strings.Trim(e, "`")] = true
		if !identifierRe.MatchString(e) {
			d.renameOnly = false
		}
	}
	full := append(append(types.Schema{}, schema...),
		types.Field{Name: "ts", Type: types.LongType}, types.Field{Name: "ds", Type: types.StringType})
	d.exprs = make([]*expr.Expr, len(ds))
	for i, x := range ds {
		if x.GetName() == "*" {
			for _, f := range features {
				if !d.usedAsExpr[f.Name] {
					d.outFields = append(d.outFields, f)
				}
			}
			continue
		}
		if d.renameOnly {
			if j := schema.Index(strings.TrimSpace(x.GetExpression())); j >= 0 {
				d.outFields = append(d.outFields, types.Field{Name: x.GetName(), Type: schema[j].Type})
			}
			continue
		}
		e, err := expr.Compile(x.GetExpression(), full)
		if err != nil {
			if d.compileErr == nil {
				d.compileErr = fmt.Errorf("derivation %s: %w", x.GetName(), err)
			}
			continue
		}
		d.exprs[i] = e
		d.outFields = append(d.outFields, types.Field{Name: x.GetName(), Type: e.Type()})
	}
	return d
}

// apply derives the response map; on failure it returns values plus DerivationExceptionKey.
// Entries ending in "_exception" are preserved, and derived columns of failed parts dropped
// (Chronon's reintroduceExceptions).
func (d *deriver) apply(keys, values map[string]any, q int64) map[string]any {
	out, err := d.derive(keys, values, q)
	if err != nil {
		res := make(map[string]any, len(values)+1)
		for k, v := range values {
			res[k] = v
		}
		res[DerivationExceptionKey] = err.Error()
		return res
	}
	var failed []string
	for k, v := range values {
		if strings.HasSuffix(k, "_exception") {
			failed = append(failed, strings.TrimSuffix(k, "_exception"))
			out[k] = v
		}
	}
	if len(failed) > 0 {
		for k := range out {
			if strings.HasSuffix(k, "_exception") {
				continue
			}
			for _, p := range failed {
				if strings.HasPrefix(k, p) {
					delete(out, k)
					break
				}
			}
		}
	}
	return out
}

func (d *deriver) derive(keys, values map[string]any, q int64) (map[string]any, error) {
	if !d.renameOnly && d.compileErr != nil {
		return nil, d.compileErr
	}
	out := make(map[string]any, len(values))
	var row map[string]any
	if !d.renameOnly {
		row = make(map[string]any, len(keys)+len(values)+2)
		for k, v := range keys {
			if kind, ok := d.keyKinds[k]; ok {
				if c, err := castTo(v, kind); err == nil {
					v = c
				}
			}
			row[k] = v
		}
		for k, v := range values {
			row[k] = v
		}
		row["ts"] = q
		row["ds"] = time.UnixMilli(q).UTC().Format(partitionFormat)
	}
	for i, x := range d.ds {
		if x.GetName() == "*" {
			for k, v := range values {
				if !d.usedAsExpr[k] && !strings.HasSuffix(k, "_exception") {
					out[k] = v
				}
			}
			continue
		}
		if d.renameOnly {
			e := strings.TrimSpace(x.GetExpression())
			v, ok := values[e]
			if !ok {
				v = keys[e]
			}
			out[x.GetName()] = v
			continue
		}
		v, err := d.exprs[i].EvalRow(row)
		if err != nil {
			return nil, fmt.Errorf("derivation %s: %w", x.GetName(), err)
		}
		out[x.GetName()] = v
	}
	return out, nil
}
