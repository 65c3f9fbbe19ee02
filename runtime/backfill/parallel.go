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
	if nRows < 1<<15 || runtime.GOMAXPROCS(0) < 2 {
		for i := 0; i < nCols; i++ {
			f(i)
		}
		return
	}
	_ = eachRange(nCols, func(i int) error { f(i); return nil })
}

// eachRange runs f(0) .. f(n-1) on all cores, each worker taking the next index when it is free,
// and returns the first error by index.
func eachRange(n int, f func(i int) error) error {
	errs := make([]error, n)
	var next atomic.Int32
	_ = onWorkers(min(runtime.GOMAXPROCS(0), max(n, 1)), func(int) error {
		for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
			errs[i] = f(i)
		}
		return nil
	})
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
