package server

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chronon-go/chronon/runtime/online"
)

// `make bench-fetch` runs these (go test -run '^$' -bench . -benchtime 2000x ./runtime/server).

func reportLatencies(b *testing.B, lat []time.Duration) {
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	if len(lat) == 0 {
		return
	}
	b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds())/1e3, "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds())/1e3, "p99-µs")
}

// BenchmarkFetchJoin is an in-process join fetch (2 parts: TEMPORAL with streaming rows, no-agg)
// against the embedded store, one key per call (the port of runtime/online's BenchmarkFetchJoin).
func BenchmarkFetchJoin(b *testing.B) {
	e := newEnv(b, 200, Options{})
	ctx := context.Background()
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		resp, err := e.f.FetchJoins(ctx, []online.Request{{Name: "quickstart/training_set.v2",
			Keys: map[string]any{"user_id": fmt.Sprint(i % 200)}}})
		lat = append(lat, time.Since(start))
		if err != nil || resp[0].Err != nil {
			b.Fatal(err, resp[0].Err)
		}
	}
	b.StopTimer()
	reportLatencies(b, lat)
}

// BenchmarkHTTPJoin is POST /v1/features/join over loopback (127.0.0.1) from 16 concurrent
// clients, one key per request, b.N requests in all (stopped early after 20 s). Reports
// throughput and client-side p50/p99.
func BenchmarkHTTPJoin(b *testing.B) {
	e := newEnv(b, 200, Options{})
	e.h = New(e.f, Options{})
	srv := httptest.NewServer(e.h) // listens on 127.0.0.1
	defer srv.Close()
	const clients = 16
	tr := &http.Transport{MaxIdleConnsPerHost: clients, MaxConnsPerHost: clients}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	url := srv.URL + "/v1/features/join/quickstart/training_set.v2"
	deadline := time.Now().Add(20 * time.Second)
	var next atomic.Int64
	var mu sync.Mutex
	lat := make([]time.Duration, 0, b.N)
	var failed atomic.Value
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			local := make([]time.Duration, 0, b.N/clients+1)
			defer func() {
				mu.Lock()
				lat = append(lat, local...)
				mu.Unlock()
			}()
			for {
				i := next.Add(1) - 1
				if i >= int64(b.N) || time.Now().After(deadline) {
					return
				}
				t0 := time.Now()
				res, err := client.Post(url, "application/json", strings.NewReader(fmt.Sprintf(`[{"user_id": "%d"}]`, i%200)))
				if err != nil {
					failed.Store(err)
					return
				}
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
				local = append(local, time.Since(t0))
				if res.StatusCode != 200 {
					failed.Store(fmt.Errorf("status %d", res.StatusCode))
					return
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	if err, _ := failed.Load().(error); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(len(lat))/elapsed.Seconds(), "req/s")
	reportLatencies(b, lat)
}
