package cmds

import (
	"context"
	"fmt"
	"io"
	"sync/atomic"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/chronon-go/chronon/runtime/kv"
	"github.com/chronon-go/chronon/runtime/online"
)

// noLogFlag turns fetch logging (spec §8.1, docs/logging.md) off for fetch and serve.
func noLogFlag() cli.Flag {
	return &cli.BoolFlag{Name: "no-log", Usage: "do not log sampled join fetches (joins with samplePercent > 0) to the fetch log"}
}

// fetchLogging is a fetcher's logger and the log it appends to.
type fetchLogging struct {
	logger *online.FetchLogger
	log    kv.Log
}

// startFetchLogging attaches a FetchLogger over the store's fetch log (kv.OpenLog of KVTarget) to
// f, unless --no-log. Logging must never fail a fetch: a log that cannot be opened is reported on
// logw and fetching goes on without it. The result's Close flushes; it is nil-safe.
func startFetchLogging(ctx context.Context, c *cli.Context, f *online.Fetcher, logw io.Writer) *fetchLogging {
	if c.Bool("no-log") {
		return nil
	}
	target := KVTarget(c)
	log, err := kv.OpenLog(ctx, target, kv.Options{ReadOnly: true})
	if err != nil {
		fmt.Fprintf(logw, "warning: fetch logging is off: cannot open the fetch log of %s: %v\n", kv.RedactURI(target), err)
		return nil
	}
	// Errors are printed at most every 10 s so a broken log cannot flood stderr.
	var last atomic.Int64
	l := online.NewFetchLogger(log, online.FetchLoggerOptions{OnError: func(err error) {
		now := time.Now().UnixMilli()
		if prev := last.Load(); now-prev >= 10_000 && last.CompareAndSwap(prev, now) {
			fmt.Fprintf(logw, "warning: fetch log: %v\n", err)
		}
	}})
	f.SetLogger(l)
	return &fetchLogging{logger: l, log: log}
}

// Close flushes the queued records and closes the log; a failure is only reported.
func (fl *fetchLogging) Close(logw io.Writer) {
	if fl == nil {
		return
	}
	fl.logger.Close()
	if d := fl.logger.Dropped(); d > 0 {
		fmt.Fprintf(logw, "warning: fetch log: %d records dropped (log buffer full)\n", d)
	}
	if err := fl.log.Close(); err != nil {
		fmt.Fprintf(logw, "warning: fetch log: %v\n", err)
	}
}
