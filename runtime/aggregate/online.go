package aggregate

import (
	"errors"
	"fmt"

	"github.com/chronon-go/chronon/runtime/types"
)

// BatchIR is the uploaded TEMPORAL value of one key (spec §4.5, SawtoothOnlineAggregator):
// Collapsed holds one IR per output part with rows ts < BatchEnd that stay inside the part's window
// for the next TailBufferMillis (ts >= BatchEnd-W+2d; every row for unwindowed parts). TailHops has
// one list per FiveMinute hop size (1d, 1h, 5min), ascending by start; each hop holds base IRs of rows
// with BatchEnd-W < ts < BatchEnd-W+2d for the parts whose tail hop has that size.
type BatchIR struct {
	Collapsed []State
	TailHops  [3][]Hop
}

// Hop is the base IRs of one hop.
type Hop struct {
	Start int64
	IRs   []State
}

// ErrBeforeBatchEnd is returned for a query earlier than the batch end: Chronon's fetcher yields no
// values then (spec §4.5, §12).
var ErrBeforeBatchEnd = errors.New("aggregate: query time is before the batch end")

// Online builds and queries batch IRs for one GroupBy; it always uses FiveMinute resolution.
type Online struct {
	agg     *Aggregator
	win     []int64
	tailIdx []int
	sizes   []int64
}

// NewOnline prepares the online (lambda) aggregation for agg.
func NewOnline(agg *Aggregator) *Online {
	o := &Online{agg: agg, sizes: FiveMinute.HopSizes()}
	for _, p := range agg.parts {
		w := p.Millis()
		o.win = append(o.win, w)
		j := -1
		if w > 0 {
			switch FiveMinute.TailHop(w) {
			case DayMillis:
				j = 0
			case HourMillis:
				j = 1
			default:
				j = 2
			}
		}
		o.tailIdx = append(o.tailIdx, j)
	}
	return o
}

// Aggregator returns the underlying aggregator.
func (o *Online) Aggregator() *Aggregator { return o.agg }

// BuildBatchIR folds the key's events (rows with ts >= batchEnd are ignored) into a batch IR.
func (o *Online) BuildBatchIR(ev Events, batchEnd int64) *BatchIR {
	b := &BatchIR{Collapsed: make([]State, len(o.agg.parts))}
	nb := len(o.agg.bases)
	done := make([]bool, 3*nb) // (hop size, base) already updated for this row
	for i, ts := range ev.Ts {
		if ts >= batchEnd {
			continue
		}
		r := ev.row(i)
		clear(done)
		for p, w := range o.win {
			base := o.agg.partBase[p]
			if w == 0 {
				o.agg.bases[base].update(&b.Collapsed[p], ev.Batch, r, ts)
				continue
			}
			tail := batchEnd - w
			if ts <= tail {
				continue
			}
			if ts >= tail+TailBufferMillis {
				o.agg.bases[base].update(&b.Collapsed[p], ev.Batch, r, ts)
				continue
			}
			j := o.tailIdx[p]
			if done[j*nb+base] {
				continue
			}
			done[j*nb+base] = true
			start := Floor(ts, o.sizes[j])
			hs := b.TailHops[j]
			if len(hs) == 0 || hs[len(hs)-1].Start != start {
				hs = append(hs, Hop{Start: start, IRs: make([]State, nb)})
				b.TailHops[j] = hs
			}
			o.agg.bases[base].update(&hs[len(hs)-1].IRs[base], ev.Batch, r, ts)
		}
	}
	return b
}

// Query appends to out (a batch of OutputSchema) the values at q from the batch IR (may be nil) plus
// streaming rows (events with ts >= batchEnd; others are ignored). When stream carries MutationTs
// (entity mutations), rows are selected by mutation time instead (batchEnd <= mutation_ts < q, and
// ts < q), windowed by ts, and IsBefore rows are retracted — Chronon's lambda aggregation with
// reversals, which also serves TEMPORAL entity backfills (batch IR of the day-before snapshot plus
// that day's mutations). Streaming rows with ts < minStreamTs
// are skipped too: pass the version ts of the batch value read from the KV store (Chronon's
// batchResponseMaxTs), or 0. For batchEnd <= q < batchEnd+2d this equals Sawtooth at FiveMinute
// resolution (except an event exactly at batchEnd-W); later queries are "degraded" as in Chronon.
func (o *Online) Query(b *BatchIR, batchEnd int64, stream Events, q, minStreamTs int64, out *types.Batch) error {
	if q < batchEnd {
		return ErrBeforeBatchEnd
	}
	if len(out.Cols) != len(o.agg.parts) {
		return fmt.Errorf("aggregate: output batch has %d columns, want %d", len(out.Cols), len(o.agg.parts))
	}
	for p, w := range o.win {
		base := o.agg.partBase[p]
		c := o.agg.bases[base]
		var acc State
		if b != nil {
			acc = Clone(b.Collapsed[p])
		}
		start := int64(0)
		if w > 0 {
			j := o.tailIdx[p]
			start = Floor(q-w, o.sizes[j])
			if b != nil {
				limit := batchEnd - w + TailBufferMillis
				for _, h := range b.TailHops[j] {
					if h.Start >= start && h.Start < limit {
						Merge(&acc, h.IRs[base])
					}
				}
			}
		}
		for i, ts := range stream.Ts {
			if w > 0 && ts < start || ts >= q {
				continue
			}
			if stream.MutationTs == nil {
				if ts < batchEnd || ts < minStreamTs {
					continue
				}
				c.update(&acc, stream.Batch, stream.row(i), ts)
				continue
			}
			// mutations (spec §4.4 TEMPORAL entities): selected by mutation time, windowed by ts;
			// is_before rows retract their old value.
			mts := stream.MutationTs[i]
			if mts >= q || mts < batchEnd || mts < minStreamTs {
				continue
			}
			if stream.IsBefore != nil && stream.IsBefore[i] {
				if c.k.deletable() { // others ignore retractions, as Chronon does
					c.remove(&acc, stream.Batch, stream.row(i))
				}
				continue
			}
			c.update(&acc, stream.Batch, stream.row(i), ts)
		}
		o.agg.appendFinal(out.Cols[p], p, acc, nil)
	}
	return o.agg.Err()
}

// BatchIRType is the schema of BatchIR.Value: struct{collapsedIr: struct<part IRs>, tailHopIrs:
// list<list<struct<base IRs..., ts: long>>>} (Chronon's batchIrSchema).
func (o *Online) BatchIRType() *types.Type {
	hopFields := append(types.Schema{}, o.agg.BaseIRSchema()...)
	hopFields = append(hopFields, types.Field{Name: "ts", Type: types.LongType})
	return types.StructOf("BatchIr",
		types.Field{Name: "collapsedIr", Type: types.StructOf("WindowedIr", o.agg.PartIRSchema()...)},
		types.Field{Name: "tailHopIrs", Type: types.ListOf(types.ListOf(types.StructOf("HopIr", hopFields...)))})
}

// Value serializes b as a value of BatchIRType.
func (o *Online) Value(b *BatchIR) types.StructValue {
	coll := make(types.StructValue, len(b.Collapsed))
	for p, s := range b.Collapsed {
		coll[p] = o.agg.bases[o.agg.partBase[p]].irValue(s)
	}
	hops := make([]any, len(b.TailHops))
	for j, hs := range b.TailHops {
		l := make([]any, len(hs))
		for i, h := range hs {
			sv := make(types.StructValue, len(h.IRs)+1)
			for base, s := range h.IRs {
				sv[base] = o.agg.bases[base].irValue(s)
			}
			sv[len(h.IRs)] = h.Start
			l[i] = sv
		}
		hops[j] = l
	}
	return types.StructValue{coll, hops}
}

// FromValue is the inverse of Value.
func (o *Online) FromValue(v any) (*BatchIR, error) {
	sv, ok := v.(types.StructValue)
	if !ok || len(sv) != 2 {
		return nil, irError("batch", v)
	}
	coll, ok := sv[0].(types.StructValue)
	if !ok || len(coll) != len(o.agg.parts) {
		return nil, irError("batch collapsed", sv[0])
	}
	b := &BatchIR{Collapsed: make([]State, len(coll))}
	for p, x := range coll {
		s, err := o.agg.bases[o.agg.partBase[p]].irFromValue(x)
		if err != nil {
			return nil, err
		}
		b.Collapsed[p] = s
	}
	lists, ok := sv[1].([]any)
	if !ok || len(lists) > 3 {
		return nil, irError("batch tail hops", sv[1])
	}
	nb := len(o.agg.bases)
	for j, l := range lists {
		hs, ok := l.([]any)
		if !ok {
			return nil, irError("batch tail hops", l)
		}
		for _, hv := range hs {
			h, ok := hv.(types.StructValue)
			if !ok || len(h) != nb+1 {
				return nil, irError("hop", hv)
			}
			start, ok := h[nb].(int64)
			if !ok {
				return nil, irError("hop ts", h[nb])
			}
			hop := Hop{Start: start, IRs: make([]State, nb)}
			for base := range nb {
				s, err := o.agg.bases[base].irFromValue(h[base])
				if err != nil {
					return nil, err
				}
				hop.IRs[base] = s
			}
			b.TailHops[j] = append(b.TailHops[j], hop)
		}
	}
	return b, nil
}
