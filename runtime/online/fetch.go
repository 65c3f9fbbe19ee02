package online

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/chronon-go/chronon/runtime/aggregate"
	"github.com/chronon-go/chronon/runtime/kv"
	"github.com/chronon-go/chronon/runtime/types"
	"github.com/chronon-go/chronon/thrift/api"
	"github.com/chronon-go/chronon/thrift/conf"
)

// MetadataDataset holds the uploaded confs (spec §7.5): key "joins/<team>/<file>.<var>" → compact
// JSON of the conf.
const MetadataDataset = "ZIPLINE_METADATA"

// Request is one fetch (Chronon's Fetcher.Request): a GroupBy ("team.file.var" or "team/file.var")
// or join ("team/file.var") name, its keys (column → value, e.g. from JSON decoded with UseNumber),
// and the query time (nil = now).
type Request struct {
	Name     string
	Keys     map[string]any
	AtMillis *int64
}

// Response answers one Request. Values is nil when the key has no data (Chronon's null map; the CLI
// prints "No data present for the provided key."). Err is a failure of the whole request (unknown
// GroupBy or join, keys that do not encode); join part failures are "<fullPrefix>_exception"
// entries of Values instead. Values are boxed like types.Column.Value (int64, float64, string,
// []any, *types.MapValue, types.StructValue, ...); JSONValue converts them for printing.
type Response struct {
	Request Request
	Values  map[string]any
	Err     error
}

// Fetcher serves GroupBy and join fetches from a KV store (spec §7.6). It caches serving infos and
// join confs; it is safe for concurrent use.
type Fetcher struct {
	store kv.Store
	// Now is the query time of requests without AtMillis (default: the wall clock).
	Now func() int64

	// ConfTTL is how long a join conf read from the store is served before it is read again, so
	// that a metadata-upload reaches running services (default DefaultConfTTL; <= 0: never reread).
	// GroupBy serving infos need no TTL: a batch version newer than the cached one triggers a reload.
	ConfTTL time.Duration

	mu       sync.Mutex
	external map[string]ExternalHandler // by external source name (RegisterExternal)
	gbs      map[string]*gbServing      // by batch dataset
	joins    map[string]*joinServing

	logger *FetchLogger // sampled join fetches are logged here (logging.go); nil: none
}

// DefaultConfTTL is Fetcher.ConfTTL's default.
const DefaultConfTTL = time.Minute

// NewFetcher returns a fetcher reading from store.
func NewFetcher(store kv.Store) *Fetcher {
	return &Fetcher{store: store, Now: func() int64 { return time.Now().UnixMilli() }, ConfTTL: DefaultConfTTL,
		gbs: map[string]*gbServing{}, joins: map[string]*joinServing{}}
}

// BatchDataset is the KV dataset of a GroupBy's upload: UPPER(sanitize(name)) + "_BATCH" (spec §2.3).
func BatchDataset(name string) string {
	if d, ok := batchDatasets.Load(name); ok {
		return d.(string)
	}
	d := strings.ToUpper(SanitizeName(name)) + "_BATCH"
	if batchDatasetsN.Load() < 4096 { // names come from requests: bound the memo
		if _, loaded := batchDatasets.LoadOrStore(name, d); !loaded {
			batchDatasetsN.Add(1)
		}
	}
	return d
}

// batchDatasets memoizes BatchDataset, which every fetch calls for every GroupBy.
var (
	batchDatasets  sync.Map
	batchDatasetsN atomic.Int32
)

// StreamingDataset is the KV dataset of a GroupBy's streaming rows.
func StreamingDataset(name string) string {
	return strings.ToUpper(SanitizeName(name)) + "_STREAMING"
}

// JoinMetadataKey is the ZIPLINE_METADATA key of a join: "joins/<team>/<file>.<var>" ("team.file.var"
// is accepted too).
func JoinMetadataKey(name string) string {
	name = strings.TrimPrefix(name, "joins/")
	if !strings.Contains(name, "/") {
		if i := strings.Index(name, "."); i >= 0 {
			name = name[:i] + "/" + name[i+1:]
		}
	}
	return "joins/" + name
}

type gbKind int

const (
	kindNoAgg gbKind = iota
	kindSnapshot
	kindTemporal
)

// gbServing is everything derived from one serving info.
type gbServing struct {
	si        *ServingInfo
	name      string
	batch     string
	streaming string
	kind      gbKind
	value     *AvroSchema  // decodes batch values
	outSchema types.Schema // output columns (pre-derivation), parallel to decoded values (no-agg, snapshot)
	agg       *aggregate.Aggregator
	online    *aggregate.Online
	// onlineMu serializes use of online: aggregate's Aggregator and Online keep per-instance scratch
	// state (state allocators) and are not safe for concurrent use, while one Fetcher serves many
	// requests at once.
	onlineMu  sync.Mutex
	stream    *AvroSchema // streaming value schema (TEMPORAL)
	streamIdx []int       // stream field → aggregator input column (-1: ts / is_before)
	mutations bool
	derive    *deriver // GroupBy derivations; nil without
}

func inferredAccuracy(gb *api.GroupBy) api.Accuracy {
	if gb.Accuracy != nil {
		return *gb.Accuracy
	}
	for _, s := range gb.Sources {
		if (s.Events != nil && s.Events.Topic != nil) || (s.Entities != nil && s.Entities.MutationTopic != nil) {
			return api.Accuracy_TEMPORAL
		}
		if s.JoinSource != nil && s.JoinSource.Join != nil && s.JoinSource.Join.Left != nil {
			l := s.JoinSource.Join.Left
			if (l.Events != nil && l.Events.Topic != nil) || (l.Entities != nil && l.Entities.MutationTopic != nil) {
				return api.Accuracy_TEMPORAL
			}
		}
	}
	return api.Accuracy_SNAPSHOT
}

func newGBServing(si *ServingInfo, dataset string) (*gbServing, error) {
	gb := si.Info.GetGroupBy()
	if gb == nil {
		return nil, fmt.Errorf("serving info in %s has no groupBy", dataset)
	}
	name := gb.GetMetaData().GetName()
	g := &gbServing{si: si, name: name, batch: dataset, streaming: strings.TrimSuffix(dataset, "_BATCH") + "_STREAMING"}
	if len(gb.Aggregations) == 0 {
		g.kind = kindNoAgg
		if si.Selected == nil {
			return nil, fmt.Errorf("serving info for %s: selectedAvroSchema is missing", name)
		}
		g.value = si.Selected
		g.outSchema = si.SelectedSchema()
	} else {
		sel := si.SelectedSchema()
		agg, err := aggregate.New(gb.Aggregations, sel)
		if err != nil {
			return nil, fmt.Errorf("group by %s: %w", name, err)
		}
		g.agg = agg
		g.outSchema = agg.OutputSchema()
		if inferredAccuracy(gb) == api.Accuracy_TEMPORAL {
			g.kind = kindTemporal
			g.online = aggregate.NewOnline(agg)
			if g.value, err = NewAvroSchema("Value", g.online.BatchIRType().Fields); err != nil {
				return nil, fmt.Errorf("group by %s: batch IR schema: %w", name, err)
			}
			for _, s := range gb.Sources {
				if s.Entities != nil {
					g.mutations = true
				}
			}
			if g.mutations {
				g.stream, err = si.MutationValueSchema()
			} else {
				g.stream, err = si.StreamValueSchema()
			}
			if err != nil {
				return nil, fmt.Errorf("group by %s: streaming schema: %w", name, err)
			}
			for _, f := range g.stream.CleanFields() {
				g.streamIdx = append(g.streamIdx, sel.Index(f.Name))
			}
			if g.mutations { // the trailing ts, is_before are not aggregation inputs
				g.streamIdx[len(g.streamIdx)-2], g.streamIdx[len(g.streamIdx)-1] = -1, -1
			}
		} else {
			g.kind = kindSnapshot
			if g.value, err = NewAvroSchema("Value", g.outSchema); err != nil {
				return nil, fmt.Errorf("group by %s: output schema: %w", name, err)
			}
		}
	}
	if len(gb.Derivations) > 0 {
		g.derive = newDeriver(gb.Derivations, g.outSchema, si.KeySchema())
	}
	return g, nil
}

// gbReq is one GroupBy request being served (also the parts of join requests).
type gbReq struct {
	name  string
	keys  map[string]any
	q     int64
	g     *gbServing
	key   []byte
	bi    int // index of the batch get, -1 none
	si    int // index of the streaming get, -1 none
	vals  map[string]any
	err   error
	isNil bool // a null key: no response (dropped)
}

func hasNullKey(keys map[string]any) bool {
	for _, v := range keys {
		if v == nil {
			return true
		}
	}
	return false
}

// servingInfos returns the cached serving info of each dataset, loading the missing ones with one
// MultiGet. Per-dataset failures are returned in errs.
func (f *Fetcher) servingInfos(ctx context.Context, datasets []string, reload map[string]bool) (map[string]*gbServing, map[string]error, error) {
	out := map[string]*gbServing{}
	errs := map[string]error{}
	var missing []string
	f.mu.Lock()
	for _, d := range datasets {
		if _, done := out[d]; done {
			continue
		}
		if g, ok := f.gbs[d]; ok && !reload[d] {
			out[d] = g
			continue
		}
		if _, seen := errs[d]; !seen {
			errs[d] = nil
			missing = append(missing, d)
		}
	}
	f.mu.Unlock()
	for d, e := range errs {
		if e == nil {
			delete(errs, d)
		}
	}
	if len(missing) == 0 {
		return out, errs, nil
	}
	reqs := make([]kv.GetRequest, len(missing))
	for i, d := range missing {
		reqs[i] = kv.GetRequest{Dataset: d, Key: []byte(GroupByServingInfoKey)}
	}
	resp, err := f.store.MultiGet(ctx, reqs)
	if err != nil {
		return nil, nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, d := range missing {
		r := resp[i]
		latest, ok := r.Latest()
		switch {
		case r.Err != nil:
			errs[d] = fmt.Errorf("serving info from %s: %w", d, r.Err)
		case !ok:
			errs[d] = fmt.Errorf("no serving info in %s (key %s): was the GroupBy uploaded?", d, GroupByServingInfoKey)
		default:
			si, _, err := UnmarshalServingInfo(latest.Bytes)
			if err == nil {
				var g *gbServing
				if g, err = newGBServing(si, d); err == nil {
					f.gbs[d] = g
					out[d] = g
					continue
				}
			}
			errs[d] = fmt.Errorf("serving info from %s: %w", d, err)
		}
	}
	return out, errs, nil
}

// FetchGroupBys serves GroupBy requests (spec §7.6). Requests with a null key value are dropped:
// the result has one Response per remaining request, in order. All keys are read with one
// MultiGet (one store round trip per dataset).
func (f *Fetcher) FetchGroupBys(ctx context.Context, reqs []Request) ([]Response, error) {
	rs := make([]*gbReq, 0, len(reqs))
	var kept []Request
	for _, r := range reqs {
		if hasNullKey(r.Keys) {
			continue
		}
		kept = append(kept, r)
		rs = append(rs, f.newGBReq(r.Name, r.Keys, r.AtMillis))
	}
	if err := f.serveGroupBys(ctx, rs); err != nil {
		return nil, err
	}
	out := make([]Response, len(rs))
	for i, r := range rs {
		out[i] = Response{Request: kept[i], Values: r.vals, Err: r.err}
	}
	return out, nil
}

func (f *Fetcher) newGBReq(name string, keys map[string]any, at *int64) *gbReq {
	q := int64(0)
	if at != nil {
		q = *at
	} else {
		q = f.Now()
	}
	return &gbReq{name: name, keys: keys, q: q, bi: -1, si: -1, isNil: hasNullKey(keys)}
}

func (f *Fetcher) serveGroupBys(ctx context.Context, rs []*gbReq) error {
	var datasets []string
	for _, r := range rs {
		if !r.isNil {
			datasets = append(datasets, BatchDataset(r.name))
		}
	}
	gbs, errs, err := f.servingInfos(ctx, datasets, nil)
	if err != nil {
		return err
	}
	var gets []kv.GetRequest
	for _, r := range rs {
		if r.isNil {
			continue
		}
		d := BatchDataset(r.name)
		if e := errs[d]; e != nil {
			r.err = e
			continue
		}
		r.g = gbs[d]
		if r.key, err = r.g.si.Key.EncodeKeyMap(r.keys); err != nil {
			r.err = fmt.Errorf("Failed to encode key for %s: %w", r.name, err)
			continue
		}
		r.bi = len(gets)
		gets = append(gets, kv.GetRequest{Dataset: r.g.batch, Key: r.key})
		if r.g.kind == kindTemporal {
			after := r.g.si.BatchEndTsMillis
			r.si = len(gets)
			gets = append(gets, kv.GetRequest{Dataset: r.g.streaming, Key: r.key, AfterTsMillis: &after})
		}
	}
	if len(gets) == 0 {
		return nil
	}
	resp, err := f.store.MultiGet(ctx, gets)
	if err != nil {
		return err
	}
	// A batch version newer than the cached serving info: a new upload landed, refresh.
	reload := map[string]bool{}
	for _, r := range rs {
		if r.bi < 0 {
			continue
		}
		if v, ok := resp[r.bi].Latest(); ok && v.TsMillis > r.g.si.BatchEndTsMillis {
			reload[r.g.batch] = true
		}
	}
	if len(reload) > 0 {
		var ds []string
		for d := range reload {
			ds = append(ds, d)
		}
		fresh, errs, err := f.servingInfos(ctx, ds, reload)
		if err != nil {
			return err
		}
		for _, r := range rs {
			if r.bi >= 0 && reload[r.g.batch] && errs[r.g.batch] == nil {
				r.g = fresh[r.g.batch]
			}
		}
	}
	for _, r := range rs {
		if r.bi < 0 {
			continue
		}
		var stream kv.GetResponse
		if r.si >= 0 {
			stream = resp[r.si]
		}
		r.vals, r.err = r.g.respond(resp[r.bi], stream, r.keys, r.q)
	}
	return nil
}

// respond computes one GroupBy response from the batch and streaming reads (spec §7.6 steps 4–6).
func (g *gbServing) respond(batch, stream kv.GetResponse, keys map[string]any, q int64) (map[string]any, error) {
	if batch.Err != nil {
		return nil, fmt.Errorf("batch read of %s: %w", g.batch, batch.Err)
	}
	var batchBytes []byte
	batchTs := int64(0)
	if v, ok := batch.Latest(); ok && v.TsMillis >= g.si.BatchEndTsMillis {
		batchBytes, batchTs = v.Bytes, v.TsMillis
	}
	var vals map[string]any
	switch g.kind {
	case kindNoAgg, kindSnapshot:
		if batchBytes == nil {
			return nil, nil
		}
		row, err := g.value.Decode(batchBytes)
		if err != nil {
			return nil, fmt.Errorf("decoding the batch value of %s: %w", g.name, err)
		}
		vals = make(map[string]any, len(row))
		for i, f := range g.outSchema {
			vals[f.Name] = row[i]
		}
	case kindTemporal:
		batchEnd := g.si.BatchEndTsMillis
		if q < batchEnd {
			return nil, nil
		}
		if stream.Err != nil && !errors.Is(stream.Err, kv.ErrUnknownDataset) {
			return nil, fmt.Errorf("streaming read of %s: %w", g.streaming, stream.Err)
		}
		var streamVals []kv.TimedValue
		if stream.Err == nil {
			streamVals = stream.Values
		}
		if batchBytes == nil && len(streamVals) == 0 {
			return nil, nil
		}
		ev, err := g.streamEvents(streamVals)
		if err != nil {
			return nil, err
		}
		var row []any
		if batchBytes != nil {
			if row, err = g.value.Decode(batchBytes); err != nil {
				return nil, fmt.Errorf("decoding the batch IR of %s: %w", g.name, err)
			}
		}
		out := types.NewBatch(g.outSchema, 1)
		if err := g.queryOnline(row, batchEnd, ev, q, batchTs, out); err != nil {
			return nil, err
		}
		vals = make(map[string]any, len(g.outSchema))
		for i, f := range g.outSchema {
			vals[f.Name] = out.Cols[i].Value(0)
		}
	}
	if g.derive != nil {
		vals = g.derive.apply(keys, vals, q)
	}
	return vals, nil
}

// streamEvents decodes streaming rows into the aggregator's input layout, in ts order.
func (g *gbServing) streamEvents(vs []kv.TimedValue) (aggregate.Events, error) {
	sel := g.agg.InputSchema()
	b := types.NewBatch(sel, len(vs))
	ts := make([]int64, len(vs))
	var mts []int64
	var before []bool
	if g.mutations {
		mts = make([]int64, len(vs))
		before = make([]bool, len(vs))
	}
	present := make([]bool, len(sel))
	for i, v := range vs {
		row, err := g.stream.Decode(v.Bytes)
		if err != nil {
			return aggregate.Events{}, fmt.Errorf("decoding a streaming row of %s: %w", g.name, err)
		}
		for j := range present {
			present[j] = false
		}
		for j, c := range g.streamIdx {
			if c >= 0 {
				present[c] = true
				if row[j] == nil {
					b.Cols[c].AppendNull()
				} else {
					b.Cols[c].Append(row[j])
				}
			}
		}
		for c, p := range present {
			if !p {
				b.Cols[c].AppendNull()
			}
		}
		ts[i] = v.TsMillis
		if g.mutations {
			n := len(row)
			mts[i] = v.TsMillis
			t, _ := row[n-2].(int64)
			ts[i] = t
			before[i], _ = row[n-1].(bool)
		}
	}
	rows, sorted := aggregate.SortEvents(ts)
	ev := aggregate.Events{Batch: b, Rows: rows, Ts: sorted}
	if g.mutations {
		ev.MutationTs = make([]int64, len(rows))
		ev.IsBefore = make([]bool, len(rows))
		for i, r := range rows {
			ev.MutationTs[i] = mts[r]
			ev.IsBefore[i] = before[r]
		}
	}
	return ev, nil
}

// joinServing is a join conf with its parts resolved.
type joinServing struct {
	join      *api.Join
	parts     []joinPart
	externals []extPart
	raw       []byte    // the stored conf
	loaded    time.Time // when the conf was read from the store (ConfTTL)

	mu      sync.Mutex
	derived *deriver
	derivOf []*gbServing // the serving infos derived was compiled against

	logging joinLogState // fetch logging codec (logging.go)
}

type joinPart struct {
	fullPrefix string
	gbName     string
	leftToGB   [][2]string // (left key, GroupBy key), GroupBy key order
}

// FullPrefix is a join part's column prefix: [<prefix>_]<sanitize(groupBy name)> (spec §2.2).
func FullPrefix(jp *api.JoinPart) string {
	p := SanitizeName(jp.GetGroupBy().GetMetaData().GetName())
	if jp.Prefix != nil && *jp.Prefix != "" {
		p = *jp.Prefix + "_" + p
	}
	return p
}

func newJoinServing(j *api.Join) *joinServing {
	js := &joinServing{join: j, externals: newExtParts(j)}
	for _, jp := range j.JoinParts {
		rightToLeft := map[string]string{}
		for l, r := range jp.KeyMapping {
			rightToLeft[r] = l
		}
		p := joinPart{fullPrefix: FullPrefix(jp), gbName: jp.GetGroupBy().GetMetaData().GetName()}
		for _, k := range jp.GetGroupBy().KeyColumns {
			l, ok := rightToLeft[k]
			if !ok {
				l = k
			}
			p.leftToGB = append(p.leftToGB, [2]string{l, k})
		}
		js.parts = append(js.parts, p)
	}
	return js
}

func (f *Fetcher) joinConfs(ctx context.Context, names []string) (map[string]*joinServing, map[string]error, error) {
	out := map[string]*joinServing{}
	errs := map[string]error{}
	var missing []string
	f.mu.Lock()
	for _, n := range names {
		k := JoinMetadataKey(n)
		if _, done := out[k]; done {
			continue
		}
		if js, ok := f.joins[k]; ok && (f.ConfTTL <= 0 || time.Since(js.loaded) < f.ConfTTL) {
			out[k] = js
		} else if _, seen := errs[k]; !seen {
			errs[k] = nil
			missing = append(missing, k)
		}
	}
	f.mu.Unlock()
	for k, e := range errs {
		if e == nil {
			delete(errs, k)
		}
	}
	if len(missing) == 0 {
		return out, errs, nil
	}
	reqs := make([]kv.GetRequest, len(missing))
	for i, k := range missing {
		reqs[i] = kv.GetRequest{Dataset: MetadataDataset, Key: []byte(k)}
	}
	resp, err := f.store.MultiGet(ctx, reqs)
	if err != nil {
		return nil, nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, k := range missing {
		v, ok := resp[i].Latest()
		switch {
		case resp[i].Err != nil:
			errs[k] = fmt.Errorf("join conf %s: %w", k, resp[i].Err)
		case !ok:
			errs[k] = fmt.Errorf("join conf %s not found in %s: was metadata-upload run?", k, MetadataDataset)
		default:
			j := api.NewJoin()
			if _, err := conf.Unmarshal(v.Bytes, j); err != nil {
				errs[k] = fmt.Errorf("join conf %s: %w", k, err)
				continue
			}
			js := newJoinServing(j)
			if prev, ok := f.joins[k]; ok && bytes.Equal(prev.raw, v.Bytes) {
				js = prev // unchanged: keep the compiled derivations and logging codec
			}
			js.raw, js.loaded = v.Bytes, time.Now()
			f.joins[k] = js
			out[k] = js
		}
	}
	return out, errs, nil
}

// FetchJoins serves join requests (spec §7.6): each part's GroupBy is fetched with the left keys
// mapped to its keys, features are prefixed "<fullPrefix>_", failures become
// "<fullPrefix>_exception" entries, then the join's derivations are applied. All GroupBy reads of
// all requests share one MultiGet.
func (f *Fetcher) FetchJoins(ctx context.Context, reqs []Request) ([]Response, error) {
	start := f.logStart()
	names := make([]string, len(reqs))
	for i, r := range reqs {
		names[i] = r.Name
	}
	confs, errs, err := f.joinConfs(ctx, names)
	if err != nil {
		return nil, err
	}
	type partReq struct {
		gb     *gbReq
		errMsg string
	}
	parts := make([][]partReq, len(reqs))
	var all []*gbReq
	out := make([]Response, len(reqs))
	for i, r := range reqs {
		out[i].Request = r
		k := JoinMetadataKey(r.Name)
		if e := errs[k]; e != nil {
			out[i].Err = e
			continue
		}
		js := confs[k]
		for _, p := range js.parts {
			var missingKeys []string
			keys := make(map[string]any, len(p.leftToGB))
			for _, lk := range p.leftToGB {
				v, ok := r.Keys[lk[0]]
				if !ok {
					missingKeys = append(missingKeys, lk[0])
					continue
				}
				keys[lk[1]] = v
			}
			if len(missingKeys) > 0 {
				parts[i] = append(parts[i], partReq{errMsg: fmt.Sprintf("Failed to fetch %s: Missing keys List(%s) required by %s in query: %s",
					p.fullPrefix, strings.Join(missingKeys, ", "), p.fullPrefix, scalaMap(r.Keys))})
				continue
			}
			g := f.newGBReq(p.gbName, keys, r.AtMillis)
			parts[i] = append(parts[i], partReq{gb: g})
			all = append(all, g)
		}
	}
	if err := f.serveGroupBys(ctx, all); err != nil {
		return nil, err
	}
	// External parts (external.go): values from registered handlers, prefixed ext_..._.
	extVals := make([]map[string]any, len(reqs))
	for i := range reqs {
		extVals[i] = map[string]any{}
	}
	f.fetchExternal(ctx, reqs, func(i int) *joinServing {
		if out[i].Err != nil {
			return nil
		}
		return confs[JoinMetadataKey(reqs[i].Name)]
	}, extVals)
	for i, r := range reqs {
		if out[i].Err != nil {
			continue
		}
		js := confs[JoinMetadataKey(r.Name)]
		vals := extVals[i]
		for pi, pr := range parts[i] {
			prefix := js.parts[pi].fullPrefix
			switch {
			case pr.gb == nil:
				vals[prefix+"_exception"] = pr.errMsg
			case pr.gb.err != nil:
				vals[prefix+"_exception"] = pr.gb.err.Error()
			default:
				for k, v := range pr.gb.vals {
					vals[prefix+"_"+k] = v
				}
			}
		}
		base := vals
		if len(js.join.Derivations) > 0 {
			q := f.Now()
			if r.AtMillis != nil {
				q = *r.AtMillis
			}
			d := js.deriverFor(func(pi int) *gbServing {
				if g := parts[i][pi].gb; g != nil {
					return g.g
				}
				return nil
			})
			vals = d.apply(r.Keys, vals, q)
		}
		out[i].Values = vals
		if f.logger != nil {
			f.logJoin(js, &r, base, vals, start)
		}
	}
	return out, nil
}

// deriverFor compiles the join derivations against the features of the parts' current serving
// infos (cached until one of them changes).
func (js *joinServing) deriverFor(gbOf func(int) *gbServing) *deriver {
	cur := make([]*gbServing, len(js.parts))
	for i := range js.parts {
		cur[i] = gbOf(i)
	}
	js.mu.Lock()
	defer js.mu.Unlock()
	if js.derived != nil && samePtrs(js.derivOf, cur) {
		return js.derived
	}
	var schema, keys types.Schema
	seen := map[string]bool{}
	for i, g := range cur {
		if g == nil {
			continue
		}
		p := js.parts[i]
		for _, f := range g.outputFields() {
			schema = append(schema, types.Field{Name: p.fullPrefix + "_" + f.Name, Type: f.Type})
		}
		keySchema := g.si.KeySchema()
		for _, lk := range p.leftToGB {
			if j := keySchema.Index(lk[1]); j >= 0 && !seen[lk[0]] {
				seen[lk[0]] = true
				keys = append(keys, types.Field{Name: lk[0], Type: keySchema[j].Type})
			}
		}
	}
	schema, keys = js.withExternal(schema, keys, seen)
	js.derived = newDeriver(js.join.Derivations, schema, keys)
	js.derivOf = cur
	return js.derived
}

// outputFields are the GroupBy's response fields with types (after its derivations).
func (g *gbServing) outputFields() types.Schema {
	if g.derive == nil {
		return g.outSchema
	}
	return g.derive.outFields
}

func samePtrs(a, b []*gbServing) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// scalaMap renders keys like Scala's Map.toString (sorted for determinism).
func scalaMap(m map[string]any) string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	parts := make([]string, len(ks))
	for i, k := range ks {
		parts[i] = fmt.Sprintf("%s -> %v", k, m[k])
	}
	return "Map(" + strings.Join(parts, ", ") + ")"
}

// JSONValue converts a fetched value to what encoding/json prints like Chronon's CLI: maps become
// JSON objects (keys rendered with fmt), structs lists, bytes base64 (encoding/json's default).
func JSONValue(v any) any {
	switch x := v.(type) {
	case *types.MapValue:
		m := make(map[string]any, len(x.Keys))
		for i, k := range x.Keys {
			m[fmt.Sprint(k)] = JSONValue(x.Values[i])
		}
		return m
	case types.StructValue:
		l := make([]any, len(x))
		for i, e := range x {
			l[i] = JSONValue(e)
		}
		return l
	case []any:
		l := make([]any, len(x))
		for i, e := range x {
			l[i] = JSONValue(e)
		}
		return l
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = JSONValue(e)
		}
		return m
	}
	return v
}

// queryOnline merges the decoded batch IR (nil: none) with streaming rows at q, holding onlineMu.
func (g *gbServing) queryOnline(row []any, batchEnd int64, ev aggregate.Events, q, batchTs int64, out *types.Batch) error {
	g.onlineMu.Lock()
	defer g.onlineMu.Unlock()
	var ir *aggregate.BatchIR
	if row != nil {
		var err error
		if ir, err = g.online.FromValue(types.StructValue(row)); err != nil {
			return fmt.Errorf("decoding the batch IR of %s: %w", g.name, err)
		}
	}
	if err := g.online.Query(ir, batchEnd, ev, q, batchTs, out); err != nil {
		return fmt.Errorf("group by %s: %w", g.name, err)
	}
	return nil
}
