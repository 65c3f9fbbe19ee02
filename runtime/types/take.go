package types

// Take returns a column of len(idx) rows where row i is c's row idx[i], or null when idx[i] < 0.
func (c *Column) Take(idx []int32) *Column {
	out := &Column{Type: c.Type}
	n := len(idx)
	needNulls := c.Nulls != nil
	for _, j := range idx {
		if j < 0 {
			needNulls = true
			break
		}
	}
	if needNulls {
		out.Nulls = make([]bool, n)
		for i, j := range idx {
			out.Nulls[i] = j < 0 || (c.Nulls != nil && c.Nulls[j])
		}
	}
	switch storage(c.Type.Kind) {
	case storeBool:
		out.Bools = make([]bool, n)
		for i, j := range idx {
			if j >= 0 {
				out.Bools[i] = c.Bools[j]
			}
		}
	case storeInt:
		out.Ints = make([]int64, n)
		for i, j := range idx {
			if j >= 0 {
				out.Ints[i] = c.Ints[j]
			}
		}
	case storeFloat:
		out.Floats = make([]float64, n)
		for i, j := range idx {
			if j >= 0 {
				out.Floats[i] = c.Floats[j]
			}
		}
	case storeString:
		out.Strs = make([]string, n)
		for i, j := range idx {
			if j >= 0 {
				out.Strs[i] = c.Strs[j]
			}
		}
	case storeBytes:
		out.Bytes = make([][]byte, n)
		for i, j := range idx {
			if j >= 0 {
				out.Bytes[i] = c.Bytes[j]
			}
		}
	default:
		out.Values = make([]any, n)
		for i, j := range idx {
			if j >= 0 {
				out.Values[i] = c.Values[j]
			}
		}
	}
	return out
}

// AppendColumn appends every row of src (same type) to c.
func (c *Column) AppendColumn(src *Column) {
	n := c.Len()
	if src.Nulls != nil || c.Nulls != nil {
		if c.Nulls == nil {
			c.Nulls = make([]bool, n, n+src.Len())
		}
		if src.Nulls != nil {
			c.Nulls = append(c.Nulls, src.Nulls...)
		} else {
			c.Nulls = append(c.Nulls, make([]bool, src.Len())...)
		}
	}
	switch storage(c.Type.Kind) {
	case storeBool:
		c.Bools = append(c.Bools, src.Bools...)
	case storeInt:
		c.Ints = append(c.Ints, src.Ints...)
	case storeFloat:
		c.Floats = append(c.Floats, src.Floats...)
	case storeString:
		c.Strs = append(c.Strs, src.Strs...)
	case storeBytes:
		c.Bytes = append(c.Bytes, src.Bytes...)
	default:
		c.Values = append(c.Values, src.Values...)
	}
}

// Concat appends batches with the same schema into one new batch.
func Concat(schema Schema, batches []*Batch) *Batch {
	total := 0
	for _, b := range batches {
		total += b.Len()
	}
	out := NewBatch(schema, total)
	for _, b := range batches {
		for i, c := range b.Cols {
			out.Cols[i].AppendColumn(c)
		}
	}
	return out
}

// Slice returns rows [lo, hi) of c as a column sharing c's storage (not to be appended to).
func (c *Column) Slice(lo, hi int) *Column {
	out := &Column{Type: c.Type}
	if c.Nulls != nil {
		out.Nulls = c.Nulls[lo:hi:hi]
	}
	switch storage(c.Type.Kind) {
	case storeBool:
		out.Bools = c.Bools[lo:hi:hi]
	case storeInt:
		out.Ints = c.Ints[lo:hi:hi]
	case storeFloat:
		out.Floats = c.Floats[lo:hi:hi]
	case storeString:
		out.Strs = c.Strs[lo:hi:hi]
	case storeBytes:
		out.Bytes = c.Bytes[lo:hi:hi]
	default:
		out.Values = c.Values[lo:hi:hi]
	}
	return out
}
