// Package aggregate is the one aggregation library of the runtime (spec §4–§5): the 20 Chronon
// operations as IRs with update/merge/finalize (and delete where Chronon has it), the expansion of
// api.Aggregation into output columns, hop/sawtooth windowing for backfills, and the online batch IR
// that upload writes and fetch merges with streaming rows. Offline backfill, upload and fetch all call
// this package, so online and offline values cannot drift apart.
package aggregate

import (
	"fmt"
	"math"

	"github.com/chronon-go/chronon/runtime/types"
)

// State is the mutable IR of one aggregation over one column. A nil State is a never-initialised IR and
// finalizes to null (spec §5, COUNT included). Values of this interface are created by this package
// only; hold them, merge them with Merge, and serialize them with the Aggregator's IR helpers.
type State interface {
	// typed adds of one non-null input; ts is the event time (used by timed ops only).
	addInt(ts, v int64)
	addFloat(ts int64, v float64)
	addStr(ts int64, v string)
	addBool(ts int64, v bool)
	addAny(ts int64, v any) // binary and container values
	// merge folds o into the receiver; o counts as later in scan order (spec §15.2).
	merge(o State)
	clone() State
	// result is the finalized value boxed (nil = null); NaN/Inf sanitation is applied by the caller.
	result() any
	// value is the IR as a boxed types value of the kernel's IR type.
	value() any
}

// resettable states can be emptied in place and reused as accumulators (avoids a clone per query).
type resettable interface{ reset() }

// deleter is implemented by the states of Chronon's deletable ops (SUM, COUNT, AVERAGE, HISTOGRAM).
type deleter interface {
	delInt(v int64)
	delFloat(v float64)
	delStr(v string)
	delBool(v bool)
	delAny(v any)
}

// kernel builds the states of one operation for one scalar (or, for timed ops, any) input type.
type kernel interface {
	irType() *types.Type
	outType() *types.Type
	newState() State
	fromValue(v any) (State, error)
	deletable() bool
}

// unsupported gives states default methods for input families they never receive; construction checks
// input types first, so reaching one is a programming error.
type unsupported struct{}

func (unsupported) addInt(int64, int64) { panic("aggregate: int input not supported by this state") }
func (unsupported) addFloat(int64, float64) {
	panic("aggregate: float input not supported by this state")
}
func (unsupported) addStr(int64, string) {
	panic("aggregate: string input not supported by this state")
}
func (unsupported) addBool(int64, bool) {
	panic("aggregate: boolean input not supported by this state")
}
func (unsupported) addAny(int64, any) { panic("aggregate: boxed input not supported by this state") }

// addBoxed dispatches a boxed types value (list element, map value) to the typed adds.
func addBoxed(s State, ts int64, v any) {
	switch x := v.(type) {
	case int64:
		s.addInt(ts, x)
	case float64:
		s.addFloat(ts, x)
	case string:
		s.addStr(ts, x)
	case bool:
		s.addBool(ts, x)
	default:
		s.addAny(ts, v)
	}
}

func delBoxed(d deleter, v any) {
	switch x := v.(type) {
	case int64:
		d.delInt(x)
	case float64:
		d.delFloat(x)
	case string:
		d.delStr(x)
	case bool:
		d.delBool(x)
	default:
		d.delAny(v)
	}
}

// Merge folds src into *dst (src counts as later in scan order), cloning src when *dst is empty so
// that src is never aliased.
func Merge(dst *State, src State) {
	if src == nil {
		return
	}
	if *dst == nil {
		*dst = src.clone()
		return
	}
	(*dst).merge(src)
}

// Clone returns an independent copy of s (nil stays nil).
func Clone(s State) State {
	if s == nil {
		return nil
	}
	return s.clone()
}

// sane maps NaN and ±Inf to null (spec §5, DirectColumnAggregator.numberSanityCheck).
func sane(v any) any {
	if f, ok := v.(float64); ok && (math.IsNaN(f) || math.IsInf(f, 0)) {
		return nil
	}
	return v
}

type family int

const (
	famInt family = iota // byte, short, int, long: stored as int64
	famFloat
	famString
	famBinary
	famBool
	famOther // containers
)

func familyOf(t *types.Type) family {
	switch t.Kind {
	case types.Byte, types.Short, types.Int, types.Long:
		return famInt
	case types.Float, types.Double:
		return famFloat
	case types.String:
		return famString
	case types.Binary:
		return famBinary
	case types.Boolean:
		return famBool
	}
	return famOther
}

// irError reports a malformed serialized IR.
func irError(what string, v any) error {
	return fmt.Errorf("aggregate: malformed %s IR value %T", what, v)
}
