package online

import (
	"context"
	"crypto/md5"
	"encoding/binary"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/chronon-go/chronon/runtime/kv"
	"github.com/chronon-go/chronon/runtime/types"
)

// Fetch logging (spec §8.1): joins with metaData.samplePercent > 0 log a key-sampled share of their
// fetches, Avro-encoded with the join's logging schema, plus a schema publication record whenever
// that schema is (re)built. The fetch path only encodes and enqueues; a FetchLogger appends to the
// durable kv.Log in the background, so logging never slows or fails a fetch.

// DefaultLogBufferSize is the FetchLogger's default queue length in records.
const DefaultLogBufferSize = 10000

// FetchLoggerOptions configure NewFetchLogger.
type FetchLoggerOptions struct {
	// BufferSize is how many records may wait for the log (default DefaultLogBufferSize). When it
	// is full, new records are dropped and counted rather than making a fetch wait.
	BufferSize int
	// BatchSize caps the records of one Append (default BufferSize: one Append, one fsync, takes
	// everything queued, so a slow disk costs fewer drops).
	BatchSize int
	// OnError, if set, is told about records that could not be logged (encoding or Append
	// failures). It runs on the fetch path for encoding failures, so it must not block.
	OnError func(error)
	// Linger is how long the writer waits after the first queued record for more to arrive
	// (default 5ms). While it waits, queuing costs a fetch no goroutine wake-up, and the records
	// share one Append (one fsync).
	Linger time.Duration
	// Now is the clock for WriteMillis (default the wall clock).
	Now func() int64
}

// FetchLogger queues log records and appends them to a kv.Log in batches from one goroutine.
// It is safe for concurrent use.
type FetchLogger struct {
	log     kv.Log
	opts    FetchLoggerOptions
	ch      chan logItem
	stop    chan struct{} // closed by Close: cuts a linger short
	done    chan struct{}
	closeMu sync.RWMutex // write-held by Close so no send races the channel's close
	closed  bool

	logged, dropped, failed atomic.Int64
}

// logItem is a record to append, or (flush != nil) a marker closed once everything before it
// has been appended.
type logItem struct {
	rec   kv.LogRecord
	flush chan struct{}
}

// NewFetchLogger starts a logger appending to log. Close it to flush; it does not close log.
func NewFetchLogger(log kv.Log, opts FetchLoggerOptions) *FetchLogger {
	if opts.BufferSize <= 0 {
		opts.BufferSize = DefaultLogBufferSize
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = opts.BufferSize
	}
	if opts.Linger <= 0 {
		opts.Linger = 5 * time.Millisecond
	}
	if opts.Now == nil {
		opts.Now = func() int64 { return time.Now().UnixMilli() }
	}
	l := &FetchLogger{log: log, opts: opts, ch: make(chan logItem, opts.BufferSize),
		stop: make(chan struct{}), done: make(chan struct{})}
	go l.run()
	return l
}

// Enqueue queues one record without ever blocking: if the buffer is full or the logger closed,
// the record is dropped and counted.
func (l *FetchLogger) Enqueue(rec kv.LogRecord) { l.enqueue(rec) }

// enqueue is Enqueue reporting whether the record was queued.
func (l *FetchLogger) enqueue(rec kv.LogRecord) bool {
	l.closeMu.RLock()
	defer l.closeMu.RUnlock()
	if !l.closed {
		select {
		case l.ch <- logItem{rec: rec}:
			return true
		default:
		}
	}
	l.dropped.Add(1)
	return false
}

// Logged is the number of records appended to the log (fetches and schema publications).
func (l *FetchLogger) Logged() int64 { return l.logged.Load() }

// Dropped is the number of records dropped because the buffer was full (or the logger closed).
func (l *FetchLogger) Dropped() int64 { return l.dropped.Load() }

// Failed is the number of records lost to errors (encoding, or a failed Append).
func (l *FetchLogger) Failed() int64 { return l.failed.Load() }

// Flush waits until every record queued before the call has been appended (or failed), or ctx
// ends. Records queued meanwhile by other fetches may be appended too.
func (l *FetchLogger) Flush(ctx context.Context) error {
	mark := make(chan struct{})
	l.closeMu.RLock()
	if l.closed {
		l.closeMu.RUnlock()
		return nil // Close already flushed
	}
	select {
	case l.ch <- logItem{flush: mark}:
		l.closeMu.RUnlock()
	case <-ctx.Done():
		l.closeMu.RUnlock()
		return ctx.Err()
	}
	select {
	case <-mark:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close appends everything still queued and stops the logger; later records are dropped. It is
// idempotent and does not close the kv.Log.
func (l *FetchLogger) Close() error {
	l.closeMu.Lock()
	if !l.closed {
		l.closed = true
		close(l.ch)
		close(l.stop)
	}
	l.closeMu.Unlock()
	<-l.done
	return nil
}

func (l *FetchLogger) run() {
	defer close(l.done)
	batch := make([]kv.LogRecord, 0, l.opts.BatchSize)
	var marks []chan struct{}
	linger := time.NewTimer(0)
	<-linger.C
	for it := range l.ch {
		l.add(&batch, &marks, it)
		if it.flush == nil && len(l.ch) < l.opts.BatchSize {
			// Not receiving from ch while lingering: senders then only fill the buffer.
			linger.Reset(l.opts.Linger)
			select {
			case <-linger.C:
			case <-l.stop:
				linger.Stop()
			}
		}
	drain:
		for len(batch) < l.opts.BatchSize {
			select {
			case it, ok := <-l.ch:
				if !ok {
					break drain
				}
				l.add(&batch, &marks, it)
			default:
				break drain
			}
		}
		l.write(batch)
		batch = batch[:0]
		for _, m := range marks {
			close(m)
		}
		marks = marks[:0]
	}
}

func (l *FetchLogger) add(batch *[]kv.LogRecord, marks *[]chan struct{}, it logItem) {
	if it.flush != nil {
		*marks = append(*marks, it.flush)
		return
	}
	*batch = append(*batch, it.rec)
}

func (l *FetchLogger) write(batch []kv.LogRecord) {
	if len(batch) == 0 {
		return
	}
	now := l.opts.Now()
	for i := range batch {
		batch[i].WriteMillis = now
	}
	if err := l.log.Append(context.Background(), batch); err != nil {
		l.failed.Add(int64(len(batch)))
		l.report(fmt.Errorf("fetch log: %d records lost: %w", len(batch), err))
		return
	}
	l.logged.Add(int64(len(batch)))
}

func (l *FetchLogger) report(err error) {
	if l.opts.OnError != nil {
		l.opts.OnError(err)
	}
}

// SetLogger makes the fetcher log sampled join fetches to l (nil stops logging). Set it before
// serving requests.
func (f *Fetcher) SetLogger(l *FetchLogger) { f.logger = l }

// Logger is the fetcher's FetchLogger, if any.
func (f *Fetcher) Logger() *FetchLogger { return f.logger }

// logStart is the request start time used as a logged fetch's ts without atMillis (0 when the
// fetcher does not log).
func (f *Fetcher) logStart() int64 {
	if f.logger == nil {
		return 0
	}
	return f.Now()
}

// joinLogState caches a join's logging codec on its joinServing.
type joinLogState struct {
	mu       sync.Mutex
	datasets []string // batch dataset of each part, to find its serving info
	codec    *joinLogCodec
}

// joinLogCodec is a join's logging schema (Chronon's JoinCodec) for one set of part serving infos.
type joinLogCodec struct {
	of       []*gbServing // per part; nil for a part whose serving info is unknown
	schemas  *LoggingSchemas
	keyNames []string // request key of each key field
	valNames []string // response entry of each value field
	// published: the schema publication was queued (guarded by joinLogState.mu).
	published bool
}

// logJoin logs one answered join request if the join is sampled and the key falls in the sample
// (spec §8.1). base are the values before join derivations, final the response values. Failures
// are reported to the logger, never to the fetch.
func (f *Fetcher) logJoin(js *joinServing, r *Request, base, final map[string]any, start int64) {
	l := f.logger
	sp := js.join.GetMetaData().SamplePercent
	if l == nil || sp == nil || *sp <= 0 {
		return
	}
	c, err := f.logCodec(js)
	if err != nil {
		l.failed.Add(1)
		l.report(fmt.Errorf("fetch log of join %s: %w", r.Name, err))
		return
	}
	keyRow := make([]any, len(c.keyNames))
	for i, k := range c.keyNames {
		keyRow[i] = r.Keys[k]
	}
	keyBytes, err := c.schemas.Key.EncodeKey(keyRow)
	if err != nil {
		l.failed.Add(1)
		l.report(fmt.Errorf("fetch log of join %s: encoding the key: %w", r.Name, err))
		return
	}
	if !SampledForLogging(keyBytes, *sp) {
		return
	}
	valRow := make([]any, len(c.valNames))
	for i, n := range c.valNames {
		v, ok := final[n]
		if !ok {
			v = base[n]
		}
		valRow[i] = v
	}
	valBytes, err := c.schemas.Value.Encode(valRow)
	if err != nil {
		l.failed.Add(1)
		l.report(fmt.Errorf("fetch log of join %s: encoding the values: %w", r.Name, err))
		return
	}
	ts := start
	if r.AtMillis != nil {
		ts = *r.AtMillis
	}
	l.Enqueue(kv.LogRecord{Name: LogName(r.Name), KeyBytes: keyBytes, ValueBytes: valBytes, TsMillis: ts, SchemaHash: c.schemas.Hash})
}

// LogName is the log record name of a join request: "team/file.var" (a "team.file.var" or
// "joins/…" request name is normalized like JoinMetadataKey).
func LogName(request string) string {
	return strings.TrimPrefix(JoinMetadataKey(request), "joins/")
}

// SampledForLogging is Chronon's key sampling (spec §8.1): h = |first 8 bytes of MD5(keyBytes) as
// a signed big-endian long|; logged when h > 0 and h % 100000 <= samplePercent * 1000.
func SampledForLogging(keyBytes []byte, samplePercent float64) bool {
	sum := md5.Sum(keyBytes)
	h := int64(binary.BigEndian.Uint64(sum[:8]))
	if h < 0 {
		h = -h // MinInt64 stays negative, as Math.abs(Long.MIN_VALUE) does
	}
	return h > 0 && float64(h%100000) <= samplePercent*1000
}

// logCodec returns the join's logging codec for the parts' current serving infos, building (and
// publishing) a new one when they changed.
func (f *Fetcher) logCodec(js *joinServing) (*joinLogCodec, error) {
	st := &js.logging
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.datasets == nil {
		st.datasets = make([]string, len(js.parts))
		for i, p := range js.parts {
			st.datasets[i] = BatchDataset(p.gbName)
		}
	}
	// The fetch just loaded (or refreshed) the serving info of every part it queried, so the cache
	// is current; a part never loaded contributes no fields (Chronon's partial codec).
	f.mu.Lock()
	same := st.codec != nil
	if same {
		for i, d := range st.datasets {
			if f.gbs[d] != st.codec.of[i] {
				same = false
				break
			}
		}
	}
	var cur []*gbServing
	if !same {
		cur = make([]*gbServing, len(st.datasets))
		for i, d := range st.datasets {
			cur[i] = f.gbs[d]
		}
	}
	f.mu.Unlock()
	if same {
		if !st.codec.published { // dropped by a full buffer: records need their schema, retry
			st.codec.published = f.publish(st.codec)
		}
		return st.codec, nil
	}
	c, err := buildJoinLogCodec(js, cur)
	if err != nil {
		return nil, err
	}
	// Concurrent first fetches can each load a part's serving info, so its pointer changes without
	// the schema changing: an identical schema already published needs no second publication.
	if old := st.codec; old != nil && old.published && old.schemas.LoggingSchema == c.schemas.LoggingSchema {
		c.published = true
	} else {
		c.published = f.publish(c)
	}
	st.codec = c
	return c, nil
}

// publish queues the schema publication record of c (spec §8.1).
func (f *Fetcher) publish(c *joinLogCodec) bool {
	return f.logger.enqueue(kv.LogRecord{Name: kv.SchemaPublishEvent, KeyBytes: []byte(c.schemas.Hash),
		ValueBytes: []byte(c.schemas.LoggingSchema), TsMillis: f.Now()})
}

// buildJoinLogCodec builds the logging schemas: key = the parts' left key fields (types from the
// GroupBy key schemas, first appearance order); value = every part's features, prefixed as in the
// response, then the derived fields not already among them.
func buildJoinLogCodec(js *joinServing, gbs []*gbServing) (*joinLogCodec, error) {
	c := &joinLogCodec{of: gbs}
	var keys, vals types.Schema
	seenKey, seenVal := map[string]bool{}, map[string]bool{}
	for i, g := range gbs {
		if g == nil {
			continue
		}
		p := js.parts[i]
		for _, fl := range g.outputFields() {
			n := p.fullPrefix + "_" + fl.Name
			if !seenVal[n] {
				seenVal[n] = true
				vals = append(vals, types.Field{Name: n, Type: fl.Type})
			}
		}
		ks := g.si.KeySchema()
		for _, lk := range p.leftToGB {
			if j := ks.Index(lk[1]); j >= 0 && !seenKey[lk[0]] {
				seenKey[lk[0]] = true
				keys = append(keys, types.Field{Name: lk[0], Type: ks[j].Type})
			}
		}
	}
	// External parts: their keys (+ external keys, spec §8.1) and values (contextual ones too; the
	// log-flattener drops ext_contextual values, which repeat keys).
	n := len(vals)
	vals, keys = js.withExternal(vals, keys, seenKey)
	for _, v := range vals[n:] {
		seenVal[v.Name] = true
	}
	if ds := js.join.Derivations; len(ds) > 0 && len(vals) > 0 {
		for _, fl := range newDeriver(ds, vals, keys).outFields {
			if !seenVal[fl.Name] {
				seenVal[fl.Name] = true
				vals = append(vals, fl)
			}
		}
	}
	ls, err := NewLoggingSchemas(js.join.GetMetaData().GetName(), keys, vals)
	if err != nil {
		return nil, err
	}
	c.schemas = ls
	for _, k := range keys {
		c.keyNames = append(c.keyNames, k.Name)
	}
	for _, v := range vals {
		c.valNames = append(c.valNames, v.Name)
	}
	return c, nil
}
