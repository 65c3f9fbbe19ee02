package warehouse

import (
	"fmt"
	"hash/maphash"
	"io"
	"slices"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/encoding"

	"github.com/chronon-go/chronon/runtime/types"
)

// HashRequest asks a Reader for one string column as two hashes of each value instead of the
// value. Grouping rows by key needs only hashes, and a key read as strings costs a string header
// and a copy of its bytes per row, which are then read again to be hashed. H1[i] is
// maphash.String(Seed1, v) and H2[i] the low 32 bits of maphash.String(Seed2, v) for row i's value v.
type HashRequest struct {
	Column       string
	Seed1, Seed2 maphash.Seed
	// Filled by the reader in row order, by appending: with capacity for every row (NumRows),
	// they are filled in place.
	H1 []uint64
	H2 []uint32
	// Nulls lists the rows (of this reader's output, ascending) whose value is null; their hashes
	// are 0.
	Nulls []int32
}

// hashColumn locates a HashRequest's column in an open file.
type hashColumn struct {
	partition bool // constant per file
	missing   bool // not in this file: nulls
	leaf      int
	maxDef    int
}

// resolveHash finds the hashed column in a file; it must be a flat string column.
func (r *Reader) resolveHash(locs map[string]fileLoc, path string) (hashColumn, error) {
	name := r.hash.Column
	for _, c := range r.partCols {
		if c == name {
			return hashColumn{partition: true}, nil
		}
	}
	l, ok := locs[name]
	if !ok {
		return hashColumn{missing: true}, nil
	}
	t, err := chrononType(l.node)
	if err != nil || !l.node.Leaf() || l.node.Repeated() || t.Kind != types.String {
		return hashColumn{}, fmt.Errorf("%s: column %s cannot be read as key hashes: only flat string columns can", path, name)
	}
	hc := hashColumn{leaf: l.leaf}
	if l.node.Optional() {
		hc.maxDef = 1
	}
	return hc, nil
}

// readHashes appends the hashes of the n rows of a row group.
func (r *Reader) readHashes(rg parquet.RowGroup, n int) error {
	h, hc := r.hash, r.cur.hash
	switch {
	case hc.partition:
		v := r.cur.part.Value(h.Column)
		h1, h2 := maphash.String(h.Seed1, v), uint32(maphash.String(h.Seed2, v))
		for range n {
			h.H1, h.H2 = append(h.H1, h1), append(h.H2, h2)
		}
		return nil
	case hc.missing:
		for range n {
			h.Nulls = append(h.Nulls, int32(len(h.H1)))
			h.H1, h.H2 = append(h.H1, 0), append(h.H2, 0)
		}
		return nil
	}
	before := len(h.H1)
	r.dict = nil // dictionaries are per column chunk
	pages := rg.ColumnChunks()[hc.leaf].Pages()
	defer pages.Close()
	var buf []parquet.Value
	for {
		p, err := pages.ReadPage()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		if !r.hashPage(p, hc.maxDef) {
			if buf == nil {
				buf = make([]parquet.Value, 1024)
			}
			err = readPageValues(p, buf, func(vs []parquet.Value) error {
				for _, v := range vs {
					if v.DefinitionLevel() < hc.maxDef {
						h.appendNull()
					} else {
						h.appendBytes(v.ByteArray())
					}
				}
				return nil
			})
		}
		parquet.Release(p)
		if err != nil {
			return err
		}
	}
	if got := len(h.H1) - before; got != n {
		return fmt.Errorf("column %s: read %d values for %d rows", h.Column, got, n)
	}
	return nil
}

func (h *HashRequest) appendNull() {
	h.Nulls = append(h.Nulls, int32(len(h.H1)))
	h.H1, h.H2 = append(h.H1, 0), append(h.H2, 0)
}

func (h *HashRequest) appendBytes(b []byte) {
	h.H1, h.H2 = append(h.H1, maphash.Bytes(h.Seed1, b)), append(h.H2, uint32(maphash.Bytes(h.Seed2, b)))
}

// hashPage hashes the values of a plain or dictionary-encoded byte-array page straight from its
// buffers (a dictionary's entries once each) and reports whether it could.
func (r *Reader) hashPage(p parquet.Page, maxDef int) bool {
	h := r.hash
	data := p.Data()
	levels, n, present, ok := pageLevels(p, maxDef)
	if !ok {
		return false
	}
	var h1s []uint64
	var h2s []uint32
	var idx []int32
	var bytes []byte
	var offsets []uint32
	if d := p.Dictionary(); d != nil {
		if data.Kind() != encoding.Int32 || len(data.Int32()) < present {
			return false
		}
		h1s, h2s = r.dictHashes(d)
		idx = data.Int32()
		for _, i := range idx[:present] {
			if i < 0 || int(i) >= len(h1s) {
				return false
			}
		}
	} else {
		if data.Kind() != encoding.ByteArray {
			return false
		}
		bytes, offsets = data.ByteArray()
		if len(offsets) != present+1 {
			return false
		}
	}
	base := len(h.H1)
	h.H1, h.H2 = slices.Grow(h.H1, n)[:base+n], slices.Grow(h.H2, n)[:base+n]
	out1, out2 := h.H1[base:], h.H2[base:]
	j := 0
	for i := range n {
		switch {
		case maxDef > 0 && int(levels[i]) < maxDef:
			h.Nulls = append(h.Nulls, int32(base+i))
			out1[i], out2[i] = 0, 0
			continue
		case idx != nil:
			out1[i], out2[i] = h1s[idx[j]], h2s[idx[j]]
		default:
			b := bytes[offsets[j]:offsets[j+1]]
			out1[i], out2[i] = maphash.Bytes(h.Seed1, b), uint32(maphash.Bytes(h.Seed2, b))
		}
		j++
	}
	return true
}

// dictHashes returns the hashes of a dictionary's entries, computed once per dictionary.
func (r *Reader) dictHashes(d parquet.Dictionary) ([]uint64, []uint32) {
	if r.dict == d {
		return r.dictH1, r.dictH2
	}
	n := d.Len()
	r.dict, r.dictH1, r.dictH2 = d, make([]uint64, n), make([]uint32, n)
	for i := range n {
		b := d.Index(int32(i)).ByteArray()
		r.dictH1[i], r.dictH2[i] = maphash.Bytes(r.hash.Seed1, b), uint32(maphash.Bytes(r.hash.Seed2, b))
	}
	return r.dictH1, r.dictH2
}
