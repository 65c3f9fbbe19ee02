package backfill

import (
	"hash/maphash"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/chronon-go/chronon/runtime/types"
)

// keyGroups groups the rows of a batch by key without a map insert per row. Each key is identified
// by a 64-bit hash and 32 bits of a second, independent one (a false match needs both to collide:
// below 1e-15 for ten million distinct keys; 16-byte rows instead of 24 save a third of the
// grouping's memory traffic). Rows are scattered into buckets by hash in one pass and grouped
// within each small bucket; runs of equal hashes become groups. Rows keep their scan order within
// a group. Every step runs on all cores.
type keyGroups struct {
	cols    []*types.Column
	seed1   maphash.Seed
	seed2   maphash.Seed
	members []int32 // row indices grouped by key
	off     []int32 // group g is members[off[g]:off[g+1]]
	h1      []uint64
	h2      []uint32
	probe   []int32     // group of each probe key, -1 if none
	index   []indexSlot // open addressing on h1 for find, built on first use (see buildIndex)
	mask    uint64
	once    sync.Once
}

const bucketBits = 12

type hashedRow struct {
	h1  uint64
	h2  uint32
	row int32
}

// hash returns the hashes of row i's key as keyOf renders it (the bytes, not a string, for keys of
// several columns: no allocation per row), or false when a key column is null.
func (g *keyGroups) hash(i int, buf *[]byte) (uint64, uint32, bool) {
	if len(g.cols) == 1 && g.cols[0].Type.Kind == types.String {
		k, ok := keyOf(g.cols, i, nil)
		if !ok {
			return 0, 0, false
		}
		return maphash.String(g.seed1, k), g.hash2(k), true
	}
	b, ok := appendKey((*buf)[:0], g.cols, i)
	*buf = b
	if !ok {
		return 0, 0, false
	}
	// maphash.Bytes and maphash.String agree on equal bytes, so find (which hashes the string)
	// matches these.
	return maphash.Bytes(g.seed1, b), uint32(maphash.Bytes(g.seed2, b)), true
}

func (g *keyGroups) hash2(k string) uint32 { return uint32(maphash.String(g.seed2, k)) }

// newKeyGroups groups the n rows of cols by key. probes, when given, are keys (as keyOf renders
// them) to look up: they travel through the same hash buckets as the rows, so each finds its group
// (probe[i], -1 when absent) in a bucket's small in-cache table instead of by a random lookup in an
// index of every group.
func newKeyGroups(cols []*types.Column, n int, probes []string) *keyGroups {
	g := &keyGroups{cols: cols, seed1: maphash.MakeSeed(), seed2: maphash.MakeSeed()}
	workers := runtime.GOMAXPROCS(0)
	// Hash rows and probes in parallel, counting bucket sizes per worker. A probe is a hashed row
	// with row -1-i.
	np := len(probes)
	rows := make([]hashedRow, n)
	valid := make([]bool, n)
	prows := make([]hashedRow, np)
	counts := make([][1 << bucketBits]int32, workers)
	_ = onWorkers(workers, func(w int) error {
		var buf []byte
		for i := w * n / workers; i < (w+1)*n/workers; i++ {
			h1, h2, ok := g.hash(i, &buf)
			if ok {
				rows[i] = hashedRow{h1, h2, int32(i)}
				valid[i] = true
				counts[w][h1>>(64-bucketBits)]++
			}
		}
		for i := w * np / workers; i < (w+1)*np/workers; i++ {
			h1 := maphash.String(g.seed1, probes[i])
			prows[i] = hashedRow{h1, g.hash2(probes[i]), int32(-1 - i)}
			counts[w][h1>>(64-bucketBits)]++
		}
		return nil
	})
	// Stable scatter into buckets, each worker its own row range (then its probes): within a
	// bucket, worker w's rows go after those of the workers before it, so rows keep scan order.
	starts := make([]int32, 1<<bucketBits+1)
	next := make([][1 << bucketBits]int32, workers)
	for b := 0; b < 1<<bucketBits; b++ {
		at := starts[b]
		for w := 0; w < workers; w++ {
			next[w][b] = at
			at += counts[w][b]
		}
		starts[b+1] = at
	}
	sorted := make([]hashedRow, starts[1<<bucketBits])
	_ = onWorkers(workers, func(w int) error {
		cur := &next[w]
		for i := w * n / workers; i < (w+1)*n/workers; i++ {
			if valid[i] {
				b := rows[i].h1 >> (64 - bucketBits)
				sorted[cur[b]] = rows[i]
				cur[b]++
			}
		}
		for i := w * np / workers; i < (w+1)*np/workers; i++ {
			b := prows[i].h1 >> (64 - bucketBits)
			sorted[cur[b]] = prows[i]
			cur[b]++
		}
		return nil
	})
	rows, prows = nil, nil
	// Group each bucket's rows by (h1, h2), rows of a key in row order, in parallel; count its
	// groups (keys with rows) and rows.
	nb := 1 << bucketBits
	bGroups, bRows := make([]int32, nb+1), make([]int32, nb+1)
	var bi atomic.Int32
	_ = onWorkers(workers, func(int) error {
		var sc bucketScratch
		for b := int(bi.Add(1)) - 1; b < nb; b = int(bi.Add(1)) - 1 {
			bGroups[b+1], bRows[b+1] = sc.orderBucket(sorted[starts[b]:starts[b+1]])
		}
		return nil
	})
	for b := 0; b < nb; b++ {
		bGroups[b+1] += bGroups[b]
		bRows[b+1] += bRows[b]
	}
	// Runs of equal hashes are keys: a run with rows is a group, and its probes find it. Buckets
	// know their first group and row, so they are laid out in parallel.
	nGroups := bGroups[nb]
	g.members = make([]int32, bRows[nb])
	g.off = make([]int32, nGroups+1)
	g.h1 = make([]uint64, nGroups)
	g.h2 = make([]uint32, nGroups)
	g.probe = make([]int32, np)
	bi.Store(0)
	_ = onWorkers(workers, func(int) error {
		for b := int(bi.Add(1)) - 1; b < nb; b = int(bi.Add(1)) - 1 {
			seg := sorted[starts[b]:starts[b+1]]
			gi, mi := bGroups[b], bRows[b]
			for i := 0; i < len(seg); {
				j := i + 1
				for j < len(seg) && seg[j].h1 == seg[i].h1 && seg[j].h2 == seg[i].h2 {
					j++
				}
				id := int32(-1)
				for _, r := range seg[i:j] {
					if r.row < 0 {
						continue
					}
					if id < 0 {
						id, gi = gi, gi+1
						g.off[id], g.h1[id], g.h2[id] = mi, r.h1, r.h2
					}
					g.members[mi] = r.row
					mi++
				}
				for _, r := range seg[i:j] {
					if r.row < 0 {
						g.probe[-1-r.row] = id
					}
				}
				i = j
			}
		}
		return nil
	})
	g.off[nGroups] = bRows[nb]
	return g
}

// buildIndex fills the open-addressing table find probes (lookups of keys that were not probes,
// as the mutation path makes). Slots hold the hashes next to the group id, so a lookup costs one
// cache miss.
func (g *keyGroups) buildIndex() {
	size := 1
	for size < 2*len(g.h1) {
		size <<= 1
	}
	g.mask = uint64(size - 1)
	g.index = make([]indexSlot, size)
	for id, h := range g.h1 {
		// The low bits of h1 place the entry (the top bits chose its bucket).
		slot := h & g.mask
		for g.index[slot].id != 0 {
			slot = (slot + 1) & g.mask
		}
		g.index[slot] = indexSlot{h1: h, h2: g.h2[id], id: int32(id) + 1}
	}
}

// indexSlot is an entry of keyGroups.index: group id + 1 (0 = empty) and the group's hashes.
type indexSlot struct {
	h1 uint64
	h2 uint32
	id int32
}

// bucketScratch holds one worker's buffers for orderBucket.
type bucketScratch struct {
	table []int32 // open addressing: group index + 1, 0 = empty
	gid   []int32 // group of each row
	grps  []bucketGroup
	tmp   []hashedRow
}

type bucketGroup struct {
	h1           uint64
	h2           uint32
	n, off, rows int32 // entries (rows and probes), next place, rows
}

// orderBucket makes the rows of each key (equal (h1, h2)) of seg adjacent, keeping their row order,
// with a small hash table: one pass to count, one to place, no sort.
func (sc *bucketScratch) orderBucket(seg []hashedRow) (groups, rows int32) {
	if len(seg) < 2 {
		if len(seg) == 1 && seg[0].row >= 0 {
			return 1, 1
		}
		return 0, 0
	}
	size := 1
	for size < 2*len(seg) {
		size <<= 1
	}
	mask := uint64(size - 1)
	if cap(sc.table) < size {
		sc.table = make([]int32, size)
	}
	table := sc.table[:size]
	clear(table)
	sc.gid = slices.Grow(sc.gid[:0], len(seg))[:len(seg)]
	sc.grps = sc.grps[:0]
	for i, r := range seg {
		// The top bucketBits of h1 are the bucket; probe with its low bits.
		slot := r.h1 & mask
		for {
			g := table[slot]
			if g == 0 {
				sc.grps = append(sc.grps, bucketGroup{h1: r.h1, h2: r.h2})
				g = int32(len(sc.grps))
				table[slot] = g
			} else if x := &sc.grps[g-1]; x.h1 != r.h1 || x.h2 != r.h2 {
				slot = (slot + 1) & mask
				continue
			}
			sc.gid[i] = g - 1
			x := &sc.grps[g-1]
			x.n++
			if r.row >= 0 {
				if x.rows == 0 {
					groups++
				}
				x.rows++
				rows++
			}
			break
		}
	}
	// Groups in order of first appearance (find uses a hash index, so no order is needed).
	off := int32(0)
	for g := range sc.grps {
		sc.grps[g].off = off
		off += sc.grps[g].n
	}
	sc.tmp = append(sc.tmp[:0], seg...)
	for i, r := range sc.tmp {
		x := &sc.grps[sc.gid[i]]
		seg[x.off] = r
		x.off++
	}
	return groups, rows
}

// count is the number of groups.
func (g *keyGroups) count() int { return len(g.h1) }

// rows returns the rows of group id.
func (g *keyGroups) rows(id int32) []int32 { return g.members[g.off[id]:g.off[id+1]] }

// find returns the group of key k (as keyOf renders it), or -1.
func (g *keyGroups) find(k string) int32 {
	g.once.Do(g.buildIndex)
	h1 := maphash.String(g.seed1, k)
	var h2 uint32
	for slot, hashed := h1&g.mask, false; ; slot = (slot + 1) & g.mask {
		e := &g.index[slot]
		if e.id == 0 {
			return -1
		}
		if e.h1 == h1 {
			if !hashed {
				h2, hashed = g.hash2(k), true
			}
			if e.h2 == h2 {
				return e.id - 1
			}
		}
	}
}
