package server

import (
	"context"

	"github.com/chronon-go/chronon/runtime/online"
)

// Pool is a Fetcher that lends each call one of several fetchers exclusively.
//
// online.Fetcher is documented as safe for concurrent use, but concurrent TEMPORAL queries on one
// Fetcher race today: aggregate's chunked state allocator (runtime/aggregate/column.go, `chunked`)
// is shared by every query of a GroupBy's aggregator and is not synchronized, so two requests can
// get the same state and return wrong features (`go test -race -run TestConcurrent
// ./runtime/server` with one shared Fetcher shows it). Until that is fixed, the service gives each
// in-flight fetch its own Fetcher (each has its own caches and aggregators); a call waits for a
// free one (or its context).
type Pool struct {
	free chan *online.Fetcher
}

// NewPool returns a pool of n fetchers made by newFetcher (n < 1 means 1).
func NewPool(n int, newFetcher func() *online.Fetcher) *Pool {
	if n < 1 {
		n = 1
	}
	p := &Pool{free: make(chan *online.Fetcher, n)}
	for i := 0; i < n; i++ {
		p.free <- newFetcher()
	}
	return p
}

func (p *Pool) with(ctx context.Context, fn func(*online.Fetcher) ([]online.Response, error)) ([]online.Response, error) {
	var f *online.Fetcher
	select {
	case f = <-p.free:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { p.free <- f }()
	return fn(f)
}

// FetchJoins is online.Fetcher.FetchJoins on a free fetcher.
func (p *Pool) FetchJoins(ctx context.Context, reqs []online.Request) ([]online.Response, error) {
	return p.with(ctx, func(f *online.Fetcher) ([]online.Response, error) { return f.FetchJoins(ctx, reqs) })
}

// FetchGroupBys is online.Fetcher.FetchGroupBys on a free fetcher.
func (p *Pool) FetchGroupBys(ctx context.Context, reqs []online.Request) ([]online.Response, error) {
	return p.with(ctx, func(f *online.Fetcher) ([]online.Response, error) { return f.FetchGroupBys(ctx, reqs) })
}
