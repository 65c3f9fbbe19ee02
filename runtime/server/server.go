// Package server is `chronon serve`: an HTTP JSON feature service over online.Fetcher shaped like
// Chronon's Vert.x feature service (service/ in the Chronon repo). See docs/serve.md.
//
//	POST /v1/features/join/{name}     body: [{"user_id": "5"}, ...]
//	POST /v1/features/groupby/{name}  body: [{"user_id": "5"}, ...]
//	GET  /health                      200 "OK" when the store answers
//	GET  /metrics                     Prometheus text format
package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/chronon-go/chronon/runtime/kv"
	"github.com/chronon-go/chronon/runtime/online"
)

// Fetcher is what the service needs of *online.Fetcher.
type Fetcher interface {
	FetchJoins(ctx context.Context, reqs []online.Request) ([]online.Response, error)
	FetchGroupBys(ctx context.Context, reqs []online.Request) ([]online.Response, error)
}

// Options configure New. Zero values take the defaults.
type Options struct {
	// MaxBodyBytes limits request bodies (default 1 MiB); larger bodies get 413.
	MaxBodyBytes int64
	// Timeout bounds each request's fetch (default 5 s); a fetch that takes longer gets 503.
	Timeout time.Duration
	// Ping checks the store for GET /health (nil: /health always answers 200).
	Ping func(ctx context.Context) error
}

const (
	// DefaultMaxBodyBytes is Options.MaxBodyBytes's default.
	DefaultMaxBodyBytes = 1 << 20
	// DefaultTimeout is Options.Timeout's default.
	DefaultTimeout = 5 * time.Second
)

// Server is the feature service's http.Handler.
type Server struct {
	f       Fetcher
	opts    Options
	mux     *http.ServeMux
	metrics *metrics
	workers *workers
}

// New returns the service's handler over f (e.g. online.NewFetcher(store)).
func New(f Fetcher, opts Options) *Server {
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	s := &Server{f: f, opts: opts, mux: http.NewServeMux(), metrics: newMetrics(), workers: newWorkers()}
	s.mux.HandleFunc("POST /v1/features/join/{name...}", s.instrument("join", func(w http.ResponseWriter, r *http.Request) int {
		return s.features(w, r, true)
	}))
	s.mux.HandleFunc("POST /v1/features/groupby/{name...}", s.instrument("groupby", func(w http.ResponseWriter, r *http.Request) int {
		return s.features(w, r, false)
	}))
	s.mux.HandleFunc("GET /health", s.instrument("health", s.health))
	s.mux.HandleFunc("GET /metrics", s.metrics.serve)
	return s
}

// StorePing is an Options.Ping that reads one metadata key: it fails only when the store as a
// whole does not answer (a missing dataset or key is fine).
func StorePing(store kv.Store) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		_, err := store.MultiGet(ctx, []kv.GetRequest{{Dataset: online.MetadataDataset, Key: []byte("__health__")}})
		return err
	}
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// statusWriter records the status for metrics.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// instrument counts requests by route and status, observes latency and turns panics into 500.
func (s *Server) instrument(route string, h func(http.ResponseWriter, *http.Request) int) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			if p := recover(); p != nil {
				if sw.status == 0 {
					writeErrors(sw, http.StatusInternalServerError, fmt.Sprintf("internal error: %v", p))
				}
			}
			if sw.status == 0 {
				sw.status = http.StatusOK
			}
			s.metrics.observe(route, sw.status, time.Since(start))
		}()
		if code := h(sw, r); sw.status == 0 {
			sw.status = code
		}
	}
}

func (s *Server) health(w http.ResponseWriter, r *http.Request) int {
	if s.opts.Ping != nil {
		ctx, cancel := context.WithTimeout(r.Context(), s.opts.Timeout)
		defer cancel()
		if err := s.opts.Ping(ctx); err != nil {
			http.Error(w, "online store unavailable: "+err.Error(), http.StatusServiceUnavailable)
			return http.StatusServiceUnavailable
		}
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	io.WriteString(w, "OK")
	return http.StatusOK
}

// Result is one lookup's answer, as in Chronon's GetFeaturesResponse.Result (null fields omitted:
// no features for a key without data, no error on success).
type Result struct {
	Status     string         `json:"status"` // "Success" or "Failure"
	EntityKeys map[string]any `json:"entityKeys"`
	Features   map[string]any `json:"features,omitzero"`
	Error      string         `json:"error,omitempty"`
}

// FeaturesResponse is the 200 body of the features routes.
type FeaturesResponse struct {
	Results []Result `json:"results"`
}

// writeErrors writes Chronon's error body {"errors": [msg]}.
func writeErrors(w http.ResponseWriter, status int, msg string) int {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string][]string{"errors": {msg}})
	return status
}

// RequestName is the join or GroupBy name of a features path: "team/file.var" (the path's rest,
// slash included, or %2F-escaped as Chronon's README does) or "team.file.var".
func requestName(r *http.Request) (string, error) {
	name := strings.Trim(r.PathValue("name"), "/") // unescaped: %2F is a slash
	if name == "" {
		return "", errors.New("missing name in the path, e.g. /v1/features/join/quickstart/training_set.v2")
	}
	return name, nil
}

// parseKeys decodes the body: a JSON list of key maps, numbers kept as json.Number.
func parseKeys(body []byte) ([]map[string]any, error) {
	if v, ok := parseKeysFast(body); ok {
		return v, nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v []map[string]any
	if err := dec.Decode(&v); err != nil {
		if err == io.EOF {
			return nil, errors.New("empty request body: want a JSON list of key maps, e.g. [{\"user_id\": \"5\"}]")
		}
		return nil, fmt.Errorf("request body is not a JSON list of key maps: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("request body: trailing data after the JSON list")
	}
	for i, m := range v {
		if m == nil {
			return nil, fmt.Errorf("request body: element %d is null, want a key map", i)
		}
	}
	return v, nil
}

// notFound reports whether a response error means the join or GroupBy does not exist in the store.
func notFound(err error) bool {
	if errors.Is(err, kv.ErrUnknownDataset) {
		return true
	}
	msg := err.Error()
	return strings.Contains(msg, "not found in "+online.MetadataDataset) || strings.Contains(msg, "no serving info in ")
}

func hasNullKey(keys map[string]any) bool {
	for _, v := range keys {
		if v == nil {
			return true
		}
	}
	return false
}

// panicError is a fetcher panic, answered with 500.
type panicError struct{ v any }

func (p panicError) Error() string { return fmt.Sprintf("internal error: %v", p.v) }

type fetchResult struct {
	resp []online.Response
	err  error
}

func (s *Server) features(w http.ResponseWriter, r *http.Request, join bool) int {
	kind := "groupby"
	if join {
		kind = "join"
	}
	name, err := requestName(r)
	if err != nil {
		return writeErrors(w, http.StatusNotFound, err.Error())
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.opts.MaxBodyBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return writeErrors(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body is larger than %d bytes", mbe.Limit))
		}
		return writeErrors(w, http.StatusBadRequest, "reading the request body: "+err.Error())
	}
	keyMaps, err := parseKeys(body)
	if err != nil {
		return writeErrors(w, http.StatusBadRequest, err.Error())
	}

	// GroupBy requests with a null key are dropped by the fetcher (spec §7.6); answer them here
	// as "no data" so that results stay one per request, in order.
	reqs := make([]online.Request, 0, len(keyMaps))
	idx := make([]int, 0, len(keyMaps))
	for i, k := range keyMaps {
		if !join && hasNullKey(k) {
			continue
		}
		reqs = append(reqs, online.Request{Name: name, Keys: k})
		idx = append(idx, i)
	}
	results := make([]Result, len(keyMaps))
	for i, k := range keyMaps {
		results[i] = Result{Status: "Success", EntityKeys: k}
	}
	if len(reqs) > 0 {
		ctx, cancel := context.WithTimeout(r.Context(), s.opts.Timeout)
		defer cancel()
		// The fetch runs in its own goroutine so that a store that ignores the context cannot hold
		// the request past the timeout.
		done := make(chan fetchResult, 1)
		s.workers.run(func() {
			defer func() {
				if p := recover(); p != nil {
					done <- fetchResult{err: panicError{p}}
				}
			}()
			var fr fetchResult
			if join {
				fr.resp, fr.err = s.f.FetchJoins(ctx, reqs)
			} else {
				fr.resp, fr.err = s.f.FetchGroupBys(ctx, reqs)
			}
			done <- fr
		})
		var fr fetchResult
		select {
		case fr = <-done:
		case <-ctx.Done():
			fr.err = ctx.Err()
		}
		switch {
		case fr.err != nil && errors.Is(fr.err, context.DeadlineExceeded):
			return writeErrors(w, http.StatusServiceUnavailable, fmt.Sprintf("fetching %s %s timed out after %s", kind, name, s.opts.Timeout))
		case fr.err != nil && r.Context().Err() != nil:
			return 499 // the client went away; nothing to write
		case fr.err != nil && errors.As(fr.err, new(panicError)):
			return writeErrors(w, http.StatusInternalServerError, fr.err.Error())
		case fr.err != nil:
			return writeErrors(w, http.StatusServiceUnavailable, fmt.Sprintf("fetching %s %s: online store unavailable: %v", kind, name, fr.err))
		case len(fr.resp) != len(reqs):
			return writeErrors(w, http.StatusInternalServerError, fmt.Sprintf("fetcher answered %d of %d requests", len(fr.resp), len(reqs)))
		}
		for j, resp := range fr.resp {
			res := &results[idx[j]]
			switch {
			case resp.Err != nil && notFound(resp.Err):
				what := "join"
				if !join {
					what = "group-by"
				}
				return writeErrors(w, http.StatusNotFound, fmt.Sprintf("unknown %s %s: %v", what, name, resp.Err))
			case resp.Err != nil:
				res.Status, res.Error = "Failure", resp.Err.Error()
			case resp.Values != nil:
				res.Features = online.JSONValue(resp.Values).(map[string]any)
			}
		}
	}
	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)
	out, ok := appendResponse((*bp)[:0], results)
	if !ok { // values the fast encoder leaves to encoding/json (e.g. NaN: an error)
		var buf bytes.Buffer
		if err := json.NewEncoder(&buf).Encode(FeaturesResponse{Results: results}); err != nil {
			return writeErrors(w, http.StatusInternalServerError, "encoding the response: "+err.Error())
		}
		out = buf.Bytes()
	} else if cap(out) <= 1<<20 {
		*bp = out
	}
	h := w.Header()
	h["Content-Type"] = []string{"application/json"}
	h["Content-Length"] = []string{strconv.Itoa(len(out))}
	w.WriteHeader(http.StatusOK)
	w.Write(out)
	return http.StatusOK
}

// bufPool holds response buffers.
var bufPool = sync.Pool{New: func() any { return new([]byte) }}

// workers runs the per-request fetches on goroutines kept for reuse: a fetch is deep (the store,
// Avro decoding, aggregation), and a fresh goroutine per request grew its stack by copying every
// time. A fetch that never returns (a store ignoring its context) holds its worker only.
type workers struct {
	jobs chan func()
	idle atomic.Int32
}

// maxIdleWorkers bounds the goroutines kept waiting for work after a burst.
const maxIdleWorkers = 256

func newWorkers() *workers { return &workers{jobs: make(chan func())} }

// run hands f to an idle worker, or starts one.
func (w *workers) run(f func()) {
	select {
	case w.jobs <- f:
	default:
		go w.loop(f)
	}
}

func (w *workers) loop(f func()) {
	for {
		f()
		if w.idle.Add(1) > maxIdleWorkers {
			w.idle.Add(-1)
			return
		}
		f = <-w.jobs
		w.idle.Add(-1)
	}
}

// Serve answers h on ln until ctx is done, then shuts down gracefully: it stops accepting, waits
// up to drain for in-flight requests to finish and returns (nil after a clean shutdown).
func Serve(ctx context.Context, ln net.Listener, h http.Handler, drain time.Duration) error {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), drain)
	defer cancel()
	err := srv.Shutdown(sctx)
	if e := <-errc; e != nil && !errors.Is(e, http.ErrServerClosed) && err == nil {
		err = e
	}
	return err
}
