package server

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chronon-go/chronon/runtime/online"
)

// `make bench-fetch` runs these (go test -run '^$' -bench 'FetchJoin|HTTPJoin' -benchtime 40000x ./runtime/server).

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

// BenchmarkHTTPJoin is POST /v1/features/join over loopback (127.0.0.1) to the handler served by
// Serve (as `chronon serve` does), from 16 concurrent keep-alive connections, one key per request,
// b.N requests in all (stopped early after 20 s). It reports throughput and client-side p50/p99.
//
// On the 2-core dev machine the load generator shares the CPU with the server, so what the client
// costs is taken from the server's throughput. Two clients:
//   - raw: a minimal HTTP/1.1 client (one goroutine per connection writing a prepared request and
//     reading the status line, headers and Content-Length body), like wrk: the server's number;
//   - nethttp: net/http's Client (per-connection read and write goroutines, header maps), which
//     costs about as much CPU per request as the server itself.
func BenchmarkHTTPJoin(b *testing.B) {
	e := newEnv(b, 200, Options{})
	e.h = New(e.f, Options{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- Serve(ctx, ln, e.h, time.Second) }()
	defer func() {
		cancel()
		<-served
	}()
	const clients = 16
	const path = "/v1/features/join/quickstart/training_set.v2"
	addr := ln.Addr().String()
	body := func(i int64) string { return fmt.Sprintf(`[{"user_id": "%d"}]`, i%200) }

	b.Run("client=raw", func(b *testing.B) {
		runLoad(b, clients, func() (func(i int64) error, func(), error) {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				return nil, nil, err
			}
			// Prepared requests, one per user.
			reqs := make([][]byte, 200)
			for u := range reqs {
				bd := body(int64(u))
				reqs[u] = fmt.Appendf(nil, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", path, addr, len(bd), bd)
			}
			br := bufio.NewReaderSize(c, 16<<10)
			return func(i int64) error {
				if _, err := c.Write(reqs[i%200]); err != nil {
					return err
				}
				return readResponse(br)
			}, func() { c.Close() }, nil
		})
	})
	b.Run("client=nethttp", func(b *testing.B) {
		tr := &http.Transport{MaxIdleConnsPerHost: clients, MaxConnsPerHost: clients}
		defer tr.CloseIdleConnections()
		client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
		url := "http://" + addr + path
		runLoad(b, clients, func() (func(i int64) error, func(), error) {
			return func(i int64) error {
				res, err := client.Post(url, "application/json", strings.NewReader(body(i)))
				if err != nil {
					return err
				}
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode != 200 {
					return fmt.Errorf("status %d", res.StatusCode)
				}
				return nil
			}, func() {}, nil
		})
	})
}

// runLoad runs b.N requests (stopped early after 20 s) from clients goroutines, each with its own
// connection from dial, and reports req/s and p50/p99 latency.
func runLoad(b *testing.B, clients int, dial func() (do func(i int64) error, close func(), err error)) {
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
			do, closeConn, err := dial()
			if err != nil {
				failed.Store(err)
				return
			}
			defer closeConn()
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
				if err := do(i); err != nil {
					failed.Store(err)
					return
				}
				local = append(local, time.Since(t0))
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

// readResponse reads one HTTP/1.1 response with a Content-Length body and fails unless it is a 200.
func readResponse(br *bufio.Reader) error {
	line, err := br.ReadSlice('\n')
	if err != nil {
		return err
	}
	if !bytes.HasPrefix(line, []byte("HTTP/1.1 200 ")) {
		return fmt.Errorf("response %q", line)
	}
	n := -1
	for {
		line, err = br.ReadSlice('\n')
		if err != nil {
			return err
		}
		if len(line) <= 2 {
			break
		}
		if len(line) > 16 && bytes.EqualFold(line[:15], []byte("Content-Length:")) {
			if n, err = strconv.Atoi(string(bytes.TrimSpace(line[15:]))); err != nil {
				return err
			}
		}
	}
	if n < 0 {
		return errors.New("response without Content-Length")
	}
	_, err = br.Discard(n)
	return err
}
