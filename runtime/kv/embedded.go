package kv

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"iter"
	"log"
	"os"
	"slices"
	"sync"

	"github.com/cockroachdb/pebble/v2"
)

// The embedded store is Pebble (see docs/online-store.md for the measurement
// against bbolt). Key layout, one keyspace:
//
//	'n'                         -> next generation number (uint64 BE)
//	'm' dataset                 -> current generation of dataset (uint64 BE)
//	'p' gen                     -> marker: bulk load into gen in progress
//	'd' gen uvarint(len) key ts -> value
//
// ts is big-endian with the sign bit flipped, so the versions of a key sort
// by ts, and the length prefix keeps a key from being a prefix of another.
// A bulk load writes a fresh generation, then one synced batch points the
// dataset at it and range-deletes the old one: readers see old or new.
const (
	pfxNext    = 'n'
	pfxMeta    = 'm'
	pfxPending = 'p'
	pfxData    = 'd'
)

type embedded struct {
	db       *pebble.DB
	opts     *pebble.Options // with defaults: SSTable writer options for bulk loads
	path     string
	readOnly bool

	// mu orders generation switches against reads and puts: holders of the
	// read lock see a fixed dataset -> generation map and no range deletion
	// of a generation they use. Switches are one small batch, so the write
	// lock is held briefly.
	mu sync.RWMutex
	// closeMu keeps Close from closing Pebble under a bulk load's long
	// commits and flushes, without making readers wait on them via mu.
	closeMu sync.RWMutex
	gens    map[string]uint64
	nextGen uint64
	closed  bool
	cache   *readCache // embedded_cache.go
}

// OpenEmbedded opens (creating unless read-only) the embedded store in dir.
// Pebble locks the directory, so one process at a time may open it.
func OpenEmbedded(dir string, opts Options) (Store, error) {
	if dir == "" {
		return nil, fmt.Errorf("kv: empty embedded store path")
	}
	if !opts.ReadOnly {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("kv: %w", err)
		}
	}
	cache := pebble.NewCache(64 << 20)
	defer cache.Unref() // the DB holds its own reference
	popts := &pebble.Options{
		ReadOnly:         opts.ReadOnly,
		ErrorIfNotExists: opts.ReadOnly,
		Logger:           quietLogger{},
		// Bigger memtables mean fewer, larger flushes during bulk loads.
		MemTableSize: 32 << 20,
		// Point reads are block-cache misses beyond the cache size.
		Cache: cache,
	}
	popts.EnsureDefaults()
	db, err := pebble.Open(dir, popts)
	if err != nil {
		return nil, fmt.Errorf("kv: open embedded store %s (is another chronon process using it?): %w", dir, err)
	}
	s := &embedded{db: db, opts: popts, cache: newReadCache(readCacheBytes), path: dir, readOnly: opts.ReadOnly, gens: map[string]uint64{}, nextGen: 1}
	if err := s.load(); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// load reads the generation map and removes generations left by bulk loads
// that never switched (a killed process).
func (s *embedded) load() error {
	if v, c, err := s.db.Get([]byte{pfxNext}); err == nil {
		s.nextGen = binary.BigEndian.Uint64(v)
		c.Close()
	} else if !errors.Is(err, pebble.ErrNotFound) {
		return fmt.Errorf("kv: %w", err)
	}
	live := map[uint64]bool{}
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: []byte{pfxMeta}, UpperBound: []byte{pfxMeta + 1}})
	if err != nil {
		return fmt.Errorf("kv: %w", err)
	}
	for it.First(); it.Valid(); it.Next() {
		g := binary.BigEndian.Uint64(it.Value())
		s.gens[string(it.Key()[1:])] = g
		live[g] = true
	}
	if err := it.Close(); err != nil {
		return fmt.Errorf("kv: %w", err)
	}
	if s.readOnly {
		return nil
	}
	if err := removeBulkTmp(s.path); err != nil {
		return fmt.Errorf("kv: %w", err)
	}
	var stale []uint64
	it, err = s.db.NewIter(&pebble.IterOptions{LowerBound: []byte{pfxPending}, UpperBound: []byte{pfxPending + 1}})
	if err != nil {
		return fmt.Errorf("kv: %w", err)
	}
	for it.First(); it.Valid(); it.Next() {
		stale = append(stale, binary.BigEndian.Uint64(it.Key()[1:]))
	}
	if err := it.Close(); err != nil {
		return fmt.Errorf("kv: %w", err)
	}
	if len(stale) == 0 {
		return nil
	}
	b := s.db.NewBatch()
	defer b.Close()
	for _, g := range stale {
		if !live[g] {
			lo, hi := genBounds(g)
			b.DeleteRange(lo, hi, nil)
		}
		b.Delete(pendingKey(g), nil)
	}
	if err := b.Commit(pebble.Sync); err != nil {
		return fmt.Errorf("kv: cleaning up interrupted bulk loads: %w", err)
	}
	return nil
}

func (s *embedded) Close() error {
	s.closeMu.Lock()
	defer s.closeMu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	return s.db.Close()
}

func (s *embedded) Create(ctx context.Context, dataset string) error {
	if err := s.writable(ctx, &dataset); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	if _, ok := s.gens[dataset]; ok {
		return nil
	}
	g := s.nextGen
	b := s.db.NewBatch()
	defer b.Close()
	b.Set([]byte{pfxNext}, u64(g+1), nil)
	b.Set(metaKey(dataset), u64(g), nil)
	if err := b.Commit(pebble.Sync); err != nil {
		return fmt.Errorf("kv: create %s: %w", dataset, err)
	}
	s.nextGen = g + 1
	s.gens[dataset] = g
	return nil
}

func (s *embedded) MultiGet(ctx context.Context, reqs []GetRequest) ([]GetResponse, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, ErrClosed
	}
	out := make([]GetResponse, len(reqs))
	if len(reqs) == 0 {
		return out, nil
	}
	// First the read cache, whose epochs must be read before the iterator is created.
	type miss struct {
		i     int
		g     uint64
		ck    []byte
		epoch uint64
	}
	var missArr [8]miss
	misses := missArr[:0]
	var ckArr [128]byte
	ck := ckArr[:0]
	for i, r := range reqs {
		g, ok := s.gens[r.Dataset]
		if !ok {
			out[i].Err = fmt.Errorf("%w: %q", ErrUnknownDataset, r.Dataset)
			continue
		}
		ck = cacheKey(ck[:0], r)
		vals, hit, epoch := s.cache.get(g, ck)
		if hit {
			out[i].Values = vals
			continue
		}
		misses = append(misses, miss{i: i, g: g, ck: bytes.Clone(ck), epoch: epoch})
	}
	if len(misses) == 0 {
		return out, nil
	}
	it, err := s.db.NewIter(nil)
	if err != nil {
		return nil, fmt.Errorf("kv: %w", err)
	}
	defer it.Close()
	for _, m := range misses {
		i, r, g := m.i, reqs[m.i], m.g
		// Bounds [key+afterTs, key+maxTs]: tight bounds let the iterator
		// skip files that cannot hold the key. Fresh slices, since the
		// iterator keeps the previous bounds until SetBounds returns.
		lower := dataPrefix(make([]byte, 0, len(r.Key)+27), g, r.Key)
		n := len(lower)
		upper := append(make([]byte, 0, n+9), lower...)
		upper = append(upper, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0)
		if r.AfterTsMillis != nil {
			lower = appendTs(lower, *r.AfterTsMillis)
		}
		it.SetBounds(lower, upper)
		for ok := it.First(); ok; ok = it.Next() {
			k := it.Key()
			v, err := it.ValueAndErr()
			if err != nil {
				out[i] = GetResponse{Err: fmt.Errorf("kv: %w", err)}
				break
			}
			out[i].Values = append(out[i].Values, TimedValue{Bytes: bytes.Clone(v), TsMillis: decodeTs(k[n:])})
		}
		if err := it.Error(); err != nil {
			out[i] = GetResponse{Err: fmt.Errorf("kv: %w", err)}
		}
		if out[i].Err == nil {
			s.cache.put(g, m.ck, out[i].Values, m.epoch)
		}
	}
	return out, nil
}

func (s *embedded) MultiPut(ctx context.Context, reqs []PutRequest) error {
	if err := s.writable(ctx, nil); err != nil {
		return err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return ErrClosed
	}
	b := s.db.NewBatch()
	defer b.Close()
	var k []byte
	var written []uint64
	for _, r := range reqs {
		g, ok := s.gens[r.Dataset]
		if !ok {
			return fmt.Errorf("%w: %q", ErrUnknownDataset, r.Dataset)
		}
		k = appendTs(dataPrefix(k[:0], g, r.Key), r.TsMillis)
		b.Set(k, r.Value, nil)
		if !slices.Contains(written, g) {
			written = append(written, g)
		}
	}
	// Puts are streaming updates: durable against a process crash (the WAL
	// is written) but not fsynced per call, which would cap throughput.
	err := b.Commit(pebble.NoSync)
	// Even a failed commit may have written: invalidate the read cache either way.
	for _, g := range written {
		s.cache.written(g)
	}
	if err != nil {
		return fmt.Errorf("kv: put: %w", err)
	}
	return nil
}

func (s *embedded) BulkLoad(ctx context.Context, dataset string, rows iter.Seq2[Row, error]) (err error) {
	if err := s.writable(ctx, &dataset); err != nil {
		return err
	}
	g, err := s.beginGeneration()
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			s.abandon(g)
		}
	}()
	// Rows go into sorted SSTables that are ingested (embedded_sst.go), one per bulkChunkBytes.
	c := &bulkChunk{sorted: true}
	var k []byte
	tables := 0
	ingest := func() error {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := s.ingestChunk(ctx, c, g, tables); err != nil {
			return fmt.Errorf("kv: bulk load %s: %w", dataset, err)
		}
		tables++
		c.reset()
		return nil
	}
	for r, rerr := range rows {
		if rerr != nil {
			return fmt.Errorf("kv: bulk load %s: reading rows: %w", dataset, rerr)
		}
		k = appendTs(dataPrefix(k[:0], g, r.Key), r.TsMillis)
		c.add(k, r.Value)
		if c.size() >= bulkChunkBytes {
			if err := ingest(); err != nil {
				return err
			}
		}
	}
	if len(c.ents) > 0 {
		if err := ingest(); err != nil {
			return err
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.switchTo(dataset, g)
}

// whileOpen runs f unless the store is closed (Pebble panics on a closed DB);
// a Close waits for it.
func (s *embedded) whileOpen(f func() error) error {
	s.closeMu.RLock()
	defer s.closeMu.RUnlock()
	s.mu.RLock()
	closed := s.closed
	s.mu.RUnlock()
	if closed {
		return ErrClosed
	}
	return f()
}

// beginGeneration allocates a generation and marks it in progress, so a
// crash before the switch leaves garbage that the next Open removes.
func (s *embedded) beginGeneration() (uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return 0, ErrClosed
	}
	g := s.nextGen
	b := s.db.NewBatch()
	defer b.Close()
	b.Set([]byte{pfxNext}, u64(g+1), nil)
	b.Set(pendingKey(g), nil, nil)
	if err := b.Commit(pebble.Sync); err != nil {
		return 0, fmt.Errorf("kv: %w", err)
	}
	s.nextGen = g + 1
	return g, nil
}

func (s *embedded) switchTo(dataset string, g uint64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	b := s.db.NewBatch()
	defer b.Close()
	b.Set(metaKey(dataset), u64(g), nil)
	b.Delete(pendingKey(g), nil)
	old, hadOld := s.gens[dataset]
	if hadOld {
		lo, hi := genBounds(old)
		b.DeleteRange(lo, hi, nil)
	}
	if err := b.Commit(pebble.Sync); err != nil {
		return fmt.Errorf("kv: bulk load %s: switching: %w", dataset, err)
	}
	s.gens[dataset] = g
	if hadOld {
		s.cache.dropped(old)
	}
	return nil
}

// abandon drops a generation whose load failed; Open retries if this fails.
func (s *embedded) abandon(g uint64) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return
	}
	b := s.db.NewBatch()
	defer b.Close()
	lo, hi := genBounds(g)
	b.DeleteRange(lo, hi, nil)
	b.Delete(pendingKey(g), nil)
	_ = b.Commit(pebble.NoSync)
}

func (s *embedded) writable(ctx context.Context, dataset *string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.readOnly {
		return ErrReadOnly
	}
	if dataset != nil {
		return validDataset(*dataset)
	}
	return nil
}

func u64(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }

func metaKey(dataset string) []byte { return append([]byte{pfxMeta}, dataset...) }

func pendingKey(g uint64) []byte { return binary.BigEndian.AppendUint64([]byte{pfxPending}, g) }

func genBounds(g uint64) (lo, hi []byte) {
	lo = binary.BigEndian.AppendUint64([]byte{pfxData}, g)
	hi = binary.BigEndian.AppendUint64([]byte{pfxData}, g+1)
	return lo, hi
}

func dataPrefix(dst []byte, g uint64, key []byte) []byte {
	dst = append(dst, pfxData)
	dst = binary.BigEndian.AppendUint64(dst, g)
	dst = binary.AppendUvarint(dst, uint64(len(key)))
	return append(dst, key...)
}

func appendTs(dst []byte, ts int64) []byte {
	return binary.BigEndian.AppendUint64(dst, uint64(ts)^(1<<63))
}

func decodeTs(b []byte) int64 { return int64(binary.BigEndian.Uint64(b) ^ (1 << 63)) }

// quietLogger keeps Pebble's informational chatter ("Found 0 WALs") out of
// the CLI's output; errors still reach the standard logger.
type quietLogger struct{}

func (quietLogger) Infof(string, ...interface{}) {}
func (quietLogger) Errorf(format string, args ...interface{}) {
	log.Printf("pebble: "+format, args...)
}
func (quietLogger) Fatalf(format string, args ...interface{}) {
	log.Fatalf("pebble: "+format, args...)
}
