package expr

// CASE/IF and COALESCE.

import (
	"github.com/chronon-go/chronon/runtime/types"
)

// ---- CASE / IF ----

// caseNode is the searched CASE (the simple form is rewritten to equality tests); IF is a CASE.
type caseNode struct {
	whens []node
	thens []node
	els   node // never nil (a NULL literal when absent)
	t     *types.Type
}

func (c *caseNode) typ() *types.Type { return c.t }

func (c *caseNode) evalRow(row []any) any {
	for i, w := range c.whens {
		if v := w.evalRow(row); v != nil && v.(bool) {
			return c.thens[i].evalRow(row)
		}
	}
	return c.els.evalRow(row)
}

func (c *caseNode) evalVec(ctx *batchCtx) vec {
	// Functions never fail, so evaluating every branch for every row gives the same values as lazy
	// evaluation, and lets each branch run its columnar fast path.
	whens := make([]vec, len(c.whens))
	thens := make([]vec, len(c.thens))
	for i := range c.whens {
		whens[i] = c.whens[i].evalVec(ctx)
		thens[i] = c.thens[i].evalVec(ctx)
	}
	els := c.els.evalVec(ctx)
	if ctx.n > 0 {
		allConst := els.isConst()
		for j := range whens {
			allConst = allConst && whens[j].isConst() && thens[j].isConst()
		}
		if allConst {
			return constVec(c.evalConst(whens, thens, els), c.t)
		}
	}
	idx := branchIndex(ctx.n, whens)
	return pickBranches(c.t, idx, append(thens, els))
}

func (c *caseNode) evalConst(whens, thens []vec, els vec) any {
	for j, w := range whens {
		if w.k != nil && w.k.(bool) {
			return thens[j].k
		}
	}
	return els.k
}

// ---- COALESCE ----

type coalesceNode struct {
	args []node
	t    *types.Type
}

func (c *coalesceNode) typ() *types.Type { return c.t }

func (c *coalesceNode) evalRow(row []any) any {
	for _, a := range c.args {
		if v := a.evalRow(row); v != nil {
			return v
		}
	}
	return nil
}

func (c *coalesceNode) evalVec(ctx *batchCtx) vec {
	args := make([]vec, len(c.args))
	for i, a := range c.args {
		args[i] = a.evalVec(ctx)
	}
	if first := args[0]; !first.isConst() && first.c.Nulls == nil {
		return vec{c: first.c, t: c.t}
	}
	// Per row, the first argument that is not NULL (the last one when all are), then one typed copy.
	idx := make([]int32, ctx.n)
	last := int32(len(args) - 1)
	for i := range idx {
		idx[i] = last
		for j, a := range args[:last] {
			if !a.isNull(i) {
				idx[i] = int32(j)
				break
			}
		}
	}
	return pickBranches(c.t, idx, args)
}
