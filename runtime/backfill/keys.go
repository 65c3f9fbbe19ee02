package backfill

import (
	"hash/maphash"
	"runtime"
	"slices"
	"sort"
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

// bucketBitsFor is the number of top hash bits that choose a row's bucket: buckets of about 32k
// rows, whose grouping tables stay in a core's cache, and no more than a thousand of them, so the
// scatter writes few enough streams at once for the cache to combine them (measured: 256 buckets
// group ten million rows 15% faster than 4096).
func bucketBitsFor(rows int) uint {
	bits := uint(1)
	for bits < 10 && rows>>(bits+15) > 0 {
		bits++
	}
	return bits
}

type hashedRow struct {
	h1  uint64
	h2  uint32
	row int32
}

// keyHashes are the hashes of rows' keys as keyOf renders them: row i's are h1[i] and h2[i]
// (maphash under seed1, and the low half of maphash under seed2), unless i is in nulls (a null
// key: the row is in no group). Either hashKeyColumns makes them or a scan reads them in place of
// the key column (warehouse.HashRequest).
type keyHashes struct {
	seed1, seed2 maphash.Seed
	h1           []uint64
	h2           []uint32
	nulls        []int32 // ascending
}

func newKeyHashes() *keyHashes {
	return &keyHashes{seed1: maphash.MakeSeed(), seed2: maphash.MakeSeed()}
}

func (k *keyHashes) len() int { return len(k.h1) }

// of hashes a key as keyOf renders it.
func (k *keyHashes) of(key string) (uint64, uint32) {
	return maphash.String(k.seed1, key), uint32(maphash.String(k.seed2, key))
}

// eachRow calls fn for the rows in [lo, hi) with a key.
func (k *keyHashes) eachRow(lo, hi int, fn func(i int)) {
	j := sort.Search(len(k.nulls), func(j int) bool { return int(k.nulls[j]) >= lo })
	for i := lo; i < hi; i++ {
		if j < len(k.nulls) && int(k.nulls[j]) == i {
			j++
			continue
		}
		fn(i)
	}
}

// hashKeyColumns hashes the keys of the n rows of cols under new seeds.
func hashKeyColumns(cols []*types.Column, n int) *keyHashes {
	k := newKeyHashes()
	k.hashColumns(cols, n)
	return k
}

// hashColumns sets k's hashes to those of the keys of the n rows of cols, on all cores.
func (k *keyHashes) hashColumns(cols []*types.Column, n int) {
	k.h1, k.h2, k.nulls = make([]uint64, n), make([]uint32, n), nil
	workers := runtime.GOMAXPROCS(0)
	nulls := make([][]int32, workers)
	_ = onWorkers(workers, func(w int) error {
		var buf []byte
		single := len(cols) == 1 && cols[0].Type.Kind == types.String
		for i := w * n / workers; i < (w+1)*n/workers; i++ {
			if single {
				// The string itself, without copying it into buf.
				if cols[0].IsNull(i) {
					nulls[w] = append(nulls[w], int32(i))
					continue
				}
				k.h1[i], k.h2[i] = k.of(cols[0].Strs[i])
				continue
			}
			b, ok := appendKey(buf[:0], cols, i)
			buf = b
			if !ok {
				nulls[w] = append(nulls[w], int32(i))
				continue
			}
			// maphash.Bytes and maphash.String agree on equal bytes, so probes and find (which
			// hash strings) match these.
			k.h1[i], k.h2[i] = maphash.Bytes(k.seed1, b), uint32(maphash.Bytes(k.seed2, b))
		}
		return nil
	})
	for _, ns := range nulls {
		k.nulls = append(k.nulls, ns...)
	}
}

// prepend puts the hashes of the n rows of cols (under k's seeds) before k's rows.
func (k *keyHashes) prepend(cols []*types.Column, n int) {
	first := &keyHashes{seed1: k.seed1, seed2: k.seed2}
	first.hashColumns(cols, n)
	k.h1, k.h2 = append(first.h1, k.h1...), append(first.h2, k.h2...)
	for _, i := range k.nulls {
		first.nulls = append(first.nulls, int32(n)+i)
	}
	k.nulls = first.nulls
}

// newKeyGroups groups rows by their key hashes. probes, when given, are keys (as keyOf renders
// them) to look up: they travel through the same hash buckets as the rows, so each finds its group
// (probe[i], -1 when absent) in a bucket's small in-cache table instead of by a random lookup in an
// index of every group.
func newKeyGroups(kh *keyHashes, probes []string) *keyGroups {
	g := &keyGroups{seed1: kh.seed1, seed2: kh.seed2}
	workers := runtime.GOMAXPROCS(0)
	n := kh.len()
	// Count bucket sizes per worker, and hash the probes. A probe is a hashed row with row -1-i.
	np := len(probes)
	prows := make([]hashedRow, np)
	bits := bucketBitsFor(n + np)
	nb := 1 << bits
	shift := 64 - bits
	counts := make([][]int32, workers)
	_ = onWorkers(workers, func(w int) error {
		cnt := make([]int32, nb)
		counts[w] = cnt
		kh.eachRow(w*n/workers, (w+1)*n/workers, func(i int) {
			cnt[kh.h1[i]>>shift]++
		})
		for i := w * np / workers; i < (w+1)*np/workers; i++ {
			h1, h2 := kh.of(probes[i])
			prows[i] = hashedRow{h1, h2, int32(-1 - i)}
			cnt[h1>>shift]++
		}
		return nil
	})
	// Stable scatter into buckets, each worker its own row range (then its probes): within a
	// bucket, worker w's rows go after those of the workers before it, so rows keep scan order.
	starts := make([]int32, nb+1)
	next := make([][]int32, workers)
	for w := range next {
		next[w] = make([]int32, nb)
	}
	for b := 0; b < nb; b++ {
		at := starts[b]
		for w := 0; w < workers; w++ {
			next[w][b] = at
			at += counts[w][b]
		}
		starts[b+1] = at
	}
	sorted := make([]hashedRow, starts[nb])
	_ = onWorkers(workers, func(w int) error {
		cur := next[w]
		kh.eachRow(w*n/workers, (w+1)*n/workers, func(i int) {
			b := kh.h1[i] >> shift
			sorted[cur[b]] = hashedRow{kh.h1[i], kh.h2[i], int32(i)}
			cur[b]++
		})
		for i := w * np / workers; i < (w+1)*np/workers; i++ {
			b := prows[i].h1 >> shift
			sorted[cur[b]] = prows[i]
			cur[b]++
		}
		return nil
	})
	prows = nil
	// Group each bucket's rows by (h1, h2), rows of a key in row order, in parallel; count its
	// groups (keys with rows) and rows.
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
		// The top bits of h1 are the bucket; probe with its low bits.
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
				h2, hashed = uint32(maphash.String(g.seed2, k)), true
			}
			if e.h2 == h2 {
				return e.id - 1
			}
		}
	}
}
