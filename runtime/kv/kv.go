// Package kv is Chronon's online key-value contract (spec §7.4) and its
// implementations: an embedded store (the default, at <root>/.chronon/kv) and
// a MongoDB store (selected by a mongodb:// URI).
//
// A dataset (e.g. QUICKSTART_PURCHASES_V1_BATCH, spec §2.3) maps a key to a
// list of versions, each a (value, ts) pair. Reads return every version with
// ts >= AfterTsMillis in ascending ts order; the fetcher picks the latest.
package kv

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"net/url"
	"strings"
	"time"
)

// GetRequest asks for all versions of Key in Dataset, optionally only those
// with ts >= *AfterTsMillis (the fetcher's streaming read after batchEnd).
type GetRequest struct {
	Dataset       string
	Key           []byte
	AfterTsMillis *int64
}

// TimedValue is one version of a key.
type TimedValue struct {
	Bytes    []byte
	TsMillis int64
}

// GetResponse answers the request at the same index. A missing key is not an
// error: Values is empty. Err is per request so one bad dataset does not fail
// the other parts of a join fetch (Chronon's GetResponse carries a Try).
type GetResponse struct {
	Values []TimedValue
	Err    error
}

// Latest returns the version with the largest ts, if any.
func (r GetResponse) Latest() (TimedValue, bool) {
	if len(r.Values) == 0 {
		return TimedValue{}, false
	}
	return r.Values[len(r.Values)-1], true
}

// PutRequest writes one version. A put with the same (Dataset, Key, TsMillis)
// as an existing version replaces it: there is one version per ts.
type PutRequest struct {
	Dataset  string
	Key      []byte
	Value    []byte
	TsMillis int64
}

// Row is one record of a bulk load (an upload table row, spec §7.1, with
// ts = batchEnd).
type Row struct {
	Key      []byte
	Value    []byte
	TsMillis int64
}

// Rows adapts a slice to the iterator BulkLoad takes.
func Rows(rows []Row) iter.Seq2[Row, error] {
	return func(yield func(Row, error) bool) {
		for _, r := range rows {
			if !yield(r, nil) {
				return
			}
		}
	}
}

// Store is the online KV contract. Implementations are safe for concurrent
// use.
type Store interface {
	// Create makes an empty dataset if it does not exist (idempotent).
	Create(ctx context.Context, dataset string) error
	// MultiGet answers many keys, possibly across datasets, with at most one
	// store round trip per dataset. The returned slice parallels reqs. The
	// error is for failures of the whole call (closed store, context).
	MultiGet(ctx context.Context, reqs []GetRequest) ([]GetResponse, error)
	// MultiPut writes versions into existing datasets (ErrUnknownDataset
	// otherwise, so a misspelt dataset name fails loudly).
	MultiPut(ctx context.Context, reqs []PutRequest) error
	// BulkLoad replaces the whole dataset with rows, creating it if needed.
	// Readers see the old contents until the new ones are complete, then
	// switch atomically; a failed or killed load leaves the old contents.
	BulkLoad(ctx context.Context, dataset string, rows iter.Seq2[Row, error]) error
	Close() error
}

var (
	// ErrUnknownDataset is returned (wrapped) for a dataset never created.
	ErrUnknownDataset = errors.New("kv: unknown dataset")
	// ErrReadOnly is returned by writes on a store opened read-only.
	ErrReadOnly = errors.New("kv: store is read-only")
	// ErrClosed is returned after Close.
	ErrClosed = errors.New("kv: store is closed")
)

// Options configure Open.
type Options struct {
	// ReadOnly opens without write access (e.g. for fetch in a second
	// process). Writes return ErrReadOnly.
	ReadOnly bool
	// Timeout bounds every single store operation for remote stores
	// (default 10s); callers' contexts still apply.
	Timeout time.Duration
}

// Open selects the store by target: a mongodb:// or mongodb+srv:// URI opens
// the MongoDB store, anything else is a directory for the embedded store.
func Open(ctx context.Context, target string, opts Options) (Store, error) {
	if IsMongoURI(target) {
		return OpenMongo(ctx, target, opts)
	}
	return OpenEmbedded(target, opts)
}

// IsMongoURI reports whether target selects the MongoDB store.
func IsMongoURI(target string) bool {
	return strings.HasPrefix(target, "mongodb://") || strings.HasPrefix(target, "mongodb+srv://")
}

// RedactURI hides the password (and user) of a URI so that it can appear in
// errors and logs.
func RedactURI(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		// Unparseable: do not risk echoing credentials.
		if i := strings.LastIndex(s, "@"); i >= 0 {
			if j := strings.Index(s, "://"); j >= 0 && j < i {
				return s[:j+3] + "xxxxx@" + s[i+1:]
			}
			return "xxxxx@" + s[i+1:]
		}
		return s
	}
	if u.User != nil {
		u.User = url.User("xxxxx")
	}
	return u.String()
}

func validDataset(ds string) error {
	if ds == "" {
		return fmt.Errorf("kv: empty dataset name")
	}
	return nil
}
