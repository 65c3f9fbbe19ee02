package backfill

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// onWorkers runs f(0) .. f(workers-1) concurrently and returns the first error (by worker index).
func onWorkers(workers int, f func(w int) error) error {
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			errs[w] = f(w)
		}(w)
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// parallelCols runs f for every column index, on all cores when there are enough rows to be worth
// it: gathering a million-row chunk column by column is otherwise a serial stretch of a backfill.
func parallelCols(nCols, nRows int, f func(i int)) {
	workers := min(runtime.GOMAXPROCS(0), nCols)
	if nRows < 1<<15 || workers < 2 {
		for i := 0; i < nCols; i++ {
			f(i)
		}
		return
	}
	var next atomic.Int32
	_ = onWorkers(workers, func(int) error {
		for i := int(next.Add(1)) - 1; i < nCols; i = int(next.Add(1)) - 1 {
			f(i)
		}
		return nil
	})
}
