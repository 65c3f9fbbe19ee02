package kv

import (
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"

	"github.com/cockroachdb/pebble/v2/objstorage/objstorageprovider"
	"github.com/cockroachdb/pebble/v2/sstable"
	"github.com/cockroachdb/pebble/v2/vfs"
)

// Bulk loads do not go through Pebble's write path (WAL, memtable, flush, then compactions that
// rewrite the data again): rows are buffered in chunks, sorted, written as SSTables and ingested.
// A generation is a fresh key range, so an ingested table overlaps nothing and Pebble places it
// in the bottom level: the data is written once. Ingestion is atomic per table; the generation
// only becomes visible with the synced switch batch, as before, and a killed load leaves ingested
// tables of a pending generation that the next Open range-deletes.

// bulkChunkBytes bounds the key and value bytes buffered (and sorted) per SSTable (a variable
// for the crash test).
var bulkChunkBytes = 32 << 20

// bulkTmpDir, inside the store's directory, holds SSTables being written; Open empties it.
const bulkTmpDir = "bulk-tmp"

type bulkEnt struct {
	pfx      uint64 // the key's 8 bytes after the chunk's common prefix, zero padded: a fast compare
	seq      int    // order of arrival
	key, val []byte // in the chunk's slabs
}

// bulkChunk is a buffer of rows (full Pebble keys) to sort and write as one SSTable. Keys and
// values are copied into 1 MiB slabs (reused by the next chunk): a single growing buffer spent
// more time copying itself than the rows were worth.
type bulkChunk struct {
	slabs  [][]byte
	slab   int // slabs[slab] is being filled
	bytes  int
	ents   []bulkEnt
	sorted bool // ents are in strictly increasing key order so far
}

const bulkSlabBytes = 1 << 20

// copyIn copies b into the slabs.
func (c *bulkChunk) copyIn(b []byte) []byte {
	for {
		if c.slab < len(c.slabs) {
			cur := c.slabs[c.slab]
			if len(b) <= cap(cur)-len(cur) {
				start := len(cur)
				cur = append(cur, b...)
				c.slabs[c.slab] = cur
				return cur[start:len(cur):len(cur)]
			}
			if len(cur) == 0 { // a reused slab too small for b: replace it
				c.slabs[c.slab] = make([]byte, 0, max(bulkSlabBytes, len(b)))
				continue
			}
			c.slab++
			continue
		}
		c.slabs = append(c.slabs, make([]byte, 0, max(bulkSlabBytes, len(b))))
	}
}

func (c *bulkChunk) add(key, val []byte) {
	if n := len(c.ents); n > 0 && c.sorted && bytes.Compare(c.ents[n-1].key, key) >= 0 {
		c.sorted = false
	}
	c.ents = append(c.ents, bulkEnt{seq: len(c.ents), key: c.copyIn(key), val: c.copyIn(val)})
	c.bytes += len(key) + len(val)
}

func (c *bulkChunk) size() int { return c.bytes }

func (c *bulkChunk) reset() {
	for i := range c.slabs {
		c.slabs[i] = c.slabs[i][:0]
	}
	c.slab, c.bytes, c.ents, c.sorted = 0, 0, c.ents[:0], true
}

// order sorts the rows by key; of rows with equal keys (same key and ts) the last one added wins,
// as with Sets in one batch.
func (c *bulkChunk) order() {
	if c.sorted {
		return
	}
	// Compare 8 bytes at a time as integers from where the keys start to differ.
	first := c.ents[0].key
	lcp := len(first)
	for _, e := range c.ents[1:] {
		k := e.key
		n := min(lcp, len(k))
		i := 0
		for i < n && k[i] == first[i] {
			i++
		}
		lcp = i
	}
	for i := range c.ents {
		var p [8]byte
		copy(p[:], c.ents[i].key[lcp:])
		c.ents[i].pfx = binary.BigEndian.Uint64(p[:])
	}
	// The tie-break on seq makes the order stable.
	slices.SortFunc(c.ents, func(a, b bulkEnt) int {
		if a.pfx != b.pfx {
			return cmp.Compare(a.pfx, b.pfx)
		}
		if r := bytes.Compare(a.key[lcp:], b.key[lcp:]); r != 0 {
			return r
		}
		return cmp.Compare(a.seq, b.seq)
	})
	out := c.ents[:0]
	for _, e := range c.ents {
		if n := len(out); n > 0 && bytes.Equal(out[n-1].key, e.key) {
			out[n-1] = e
			continue
		}
		out = append(out, e)
	}
	c.ents = out
	c.sorted = true
}

// ingestChunk writes the chunk as SSTables and ingests them. A large chunk is cut into key
// ranges written in parallel (compression and block building are most of the work); the tables
// do not overlap, so one Ingest adds them all at once.
func (s *embedded) ingestChunk(ctx context.Context, c *bulkChunk, g uint64, n int) (err error) {
	c.order()
	dir := filepath.Join(s.path, bulkTmpDir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	parts := min(runtime.GOMAXPROCS(0), max(1, len(c.ents)/(32<<10)))
	paths := make([]string, parts)
	errs := make([]error, parts)
	var wg sync.WaitGroup
	for p := range parts {
		paths[p] = filepath.Join(dir, fmt.Sprintf("%d-%d-%d.sst", g, n, p))
		defer os.Remove(paths[p]) // ingestion links (or copies) the file into the store
		ents := c.ents[p*len(c.ents)/parts : (p+1)*len(c.ents)/parts]
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[p] = s.writeSST(paths[p], ents)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	return s.whileOpen(func() error { return s.db.Ingest(ctx, paths) })
}

// writeSST writes ents (sorted, distinct keys) as an SSTable at path.
func (s *embedded) writeSST(path string, ents []bulkEnt) error {
	f, err := vfs.Default.Create(path, vfs.WriteCategoryUnspecified)
	if err != nil {
		return err
	}
	w := sstable.NewWriter(objstorageprovider.NewFileWritable(f), s.opts.MakeWriterOptions(0, s.db.TableFormat()))
	for _, e := range ents {
		if err := w.Set(e.key, e.val); err != nil {
			w.Close()
			return err
		}
	}
	return w.Close() // closes f
}

// removeBulkTmp deletes SSTables left by a bulk load killed before ingesting them.
func removeBulkTmp(dir string) error {
	return os.RemoveAll(filepath.Join(dir, bulkTmpDir))
}
