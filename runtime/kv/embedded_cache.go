package kv

import (
	"encoding/binary"
	"sync"
)

// readCache keeps the answers of recent embedded-store reads (every version of a key from afterTs
// on) so that a hot key is served without a Pebble iterator. It is exact, not a TTL cache:
//   - entries are per generation, and a bulk load switches the dataset to a new generation (the
//     old generation's entries are dropped with it);
//   - a MultiPut into a generation drops that generation's entries and bumps its epoch; a read
//     that started before the bump does not store what it read (its iterator may predate the put).
//
// Entries hold their own copies of the bytes and readers get fresh copies. When the cached bytes
// pass max, everything is dropped (the working set then refills it).
type readCache struct {
	mu    sync.Mutex
	gens  map[uint64]*genCache
	epoch map[uint64]uint64
	bytes int // of all gens
	max   int
}

type genCache struct {
	m     map[string][]TimedValue
	bytes int
}

// readCacheBytes bounds the bytes held by the read cache (keys and values).
const readCacheBytes = 32 << 20

func newReadCache(max int) *readCache {
	return &readCache{gens: map[uint64]*genCache{}, epoch: map[uint64]uint64{}, max: max}
}

// cacheKey is the request's key and afterTs (flag byte + ts) within a generation.
func cacheKey(dst []byte, r GetRequest) []byte {
	if r.AfterTsMillis != nil {
		dst = append(dst, 1)
		dst = binary.BigEndian.AppendUint64(dst, uint64(*r.AfterTsMillis))
	} else {
		dst = append(dst, 0)
	}
	return append(dst, r.Key...)
}

// get returns a copy of the cached answer, and the generation's epoch (for a later put).
func (c *readCache) get(g uint64, key []byte) (vals []TimedValue, hit bool, epoch uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	epoch = c.epoch[g]
	gc := c.gens[g]
	if gc == nil {
		return nil, false, epoch
	}
	cached, hit := gc.m[string(key)]
	if !hit {
		return nil, false, epoch
	}
	return cloneValues(cached), true, epoch
}

// put stores a copy of vals unless the generation was written since epoch was read.
func (c *readCache) put(g uint64, key []byte, vals []TimedValue, epoch uint64) {
	size := len(key) + 32
	for _, v := range vals {
		size += len(v.Bytes) + 32
	}
	if size > c.max/16 {
		return
	}
	vals = cloneValues(vals)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.epoch[g] != epoch {
		return
	}
	if c.bytes+size > c.max {
		clear(c.gens)
		c.bytes = 0
	}
	gc := c.gens[g]
	if gc == nil {
		gc = &genCache{m: map[string][]TimedValue{}}
		c.gens[g] = gc
	}
	if _, ok := gc.m[string(key)]; !ok {
		c.bytes += size
		gc.bytes += size
	}
	gc.m[string(key)] = vals
}

func (c *readCache) drop(g uint64) {
	if gc := c.gens[g]; gc != nil {
		c.bytes -= gc.bytes
		delete(c.gens, g)
	}
}

// written invalidates a generation after a put into it was committed.
func (c *readCache) written(g uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.epoch[g]++
	c.drop(g)
}

// dropped forgets a generation that no dataset points to any more.
func (c *readCache) dropped(g uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.drop(g)
	delete(c.epoch, g)
}

// cloneValues copies vals and their bytes (one allocation for all the bytes).
func cloneValues(vals []TimedValue) []TimedValue {
	if vals == nil {
		return nil
	}
	n := 0
	for _, v := range vals {
		n += len(v.Bytes)
	}
	buf := make([]byte, 0, n)
	out := make([]TimedValue, len(vals))
	for i, v := range vals {
		start := len(buf)
		buf = append(buf, v.Bytes...)
		out[i] = TimedValue{Bytes: buf[start:len(buf):len(buf)], TsMillis: v.TsMillis}
		if v.Bytes == nil {
			out[i].Bytes = nil
		}
	}
	return out
}
