package server

import (
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"sync"
	"time"
)

// latencyBuckets are the upper bounds (seconds) of chronon_serve_request_duration_seconds.
var latencyBuckets = []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

type routeStatus struct {
	route  string
	status int
}

type histogram struct {
	counts []uint64 // per bucket (not cumulative); last = +Inf
	sum    float64
	n      uint64
}

// metrics are the service's Prometheus metrics, written in the text exposition format by hand
// (no client library dependency).
type metrics struct {
	mu       sync.Mutex
	requests map[routeStatus]uint64
	latency  map[string]*histogram
	fetchLog FetchLogCounters // nil: fetch logging off (counters print 0)
}

// FetchLogCounters are the fetch logger's counters (*online.FetchLogger).
type FetchLogCounters interface {
	Logged() int64
	Dropped() int64
	Failed() int64
}

// SetFetchLog makes /metrics report the fetch logger's counters.
func (s *Server) SetFetchLog(c FetchLogCounters) {
	s.metrics.mu.Lock()
	s.metrics.fetchLog = c
	s.metrics.mu.Unlock()
}

func newMetrics() *metrics {
	return &metrics{requests: map[routeStatus]uint64{}, latency: map[string]*histogram{}}
}

func (m *metrics) observe(route string, status int, d time.Duration) {
	sec := d.Seconds()
	m.mu.Lock()
	defer m.mu.Unlock()
	m.requests[routeStatus{route, status}]++
	h := m.latency[route]
	if h == nil {
		h = &histogram{counts: make([]uint64, len(latencyBuckets)+1)}
		m.latency[route] = h
	}
	i := sort.SearchFloat64s(latencyBuckets, sec) // first bucket with bound >= sec
	h.counts[i]++
	h.sum += sec
	h.n++
}

func (m *metrics) serve(w http.ResponseWriter, _ *http.Request) {
	m.mu.Lock()
	keys := make([]routeStatus, 0, len(m.requests))
	for k := range m.requests {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].route != keys[j].route {
			return keys[i].route < keys[j].route
		}
		return keys[i].status < keys[j].status
	})
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	fmt.Fprintln(w, "# HELP chronon_serve_requests_total Requests by route and HTTP status.")
	fmt.Fprintln(w, "# TYPE chronon_serve_requests_total counter")
	for _, k := range keys {
		fmt.Fprintf(w, "chronon_serve_requests_total{route=%q,status=\"%d\"} %d\n", k.route, k.status, m.requests[k])
	}
	routes := make([]string, 0, len(m.latency))
	for r := range m.latency {
		routes = append(routes, r)
	}
	sort.Strings(routes)
	fmt.Fprintln(w, "# HELP chronon_serve_request_duration_seconds Request latency by route.")
	fmt.Fprintln(w, "# TYPE chronon_serve_request_duration_seconds histogram")
	for _, r := range routes {
		h := m.latency[r]
		var cum uint64
		for i, b := range latencyBuckets {
			cum += h.counts[i]
			fmt.Fprintf(w, "chronon_serve_request_duration_seconds_bucket{route=%q,le=%q} %d\n", r, strconv.FormatFloat(b, 'g', -1, 64), cum)
		}
		cum += h.counts[len(latencyBuckets)]
		fmt.Fprintf(w, "chronon_serve_request_duration_seconds_bucket{route=%q,le=\"+Inf\"} %d\n", r, cum)
		fmt.Fprintf(w, "chronon_serve_request_duration_seconds_sum{route=%q} %s\n", r, strconv.FormatFloat(h.sum, 'g', -1, 64))
		fmt.Fprintf(w, "chronon_serve_request_duration_seconds_count{route=%q} %d\n", r, h.n)
	}
	var logged, dropped, failed int64
	if m.fetchLog != nil {
		logged, dropped, failed = m.fetchLog.Logged(), m.fetchLog.Dropped(), m.fetchLog.Failed()
	}
	fmt.Fprintln(w, "# HELP chronon_fetch_log_records_total Fetch log records appended (sampled fetches and schema publications).")
	fmt.Fprintln(w, "# TYPE chronon_fetch_log_records_total counter")
	fmt.Fprintf(w, "chronon_fetch_log_records_total %d\n", logged)
	fmt.Fprintln(w, "# HELP chronon_fetch_log_dropped_total Fetch log records dropped because the log buffer was full.")
	fmt.Fprintln(w, "# TYPE chronon_fetch_log_dropped_total counter")
	fmt.Fprintf(w, "chronon_fetch_log_dropped_total %d\n", dropped)
	fmt.Fprintln(w, "# HELP chronon_fetch_log_failed_total Fetch log records lost to encoding or append errors.")
	fmt.Fprintln(w, "# TYPE chronon_fetch_log_failed_total counter")
	fmt.Fprintf(w, "chronon_fetch_log_failed_total %d\n", failed)
	m.mu.Unlock()
}
