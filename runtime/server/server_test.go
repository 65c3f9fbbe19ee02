package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chronon-go/chronon/runtime/aggregate"
	"github.com/chronon-go/chronon/runtime/online"
)

type testEnv struct {
	fx    *fixture
	store *flakyStore
	f     *online.Fetcher
	h     *Server
}

func newEnv(t testing.TB, users int, opts Options) *testEnv {
	t.Helper()
	fx := newFixture(t, users)
	fs := &flakyStore{Store: fx.store, release: make(chan struct{})}
	f := online.NewFetcher(fs)
	q := fx.batchEnd + 20*aggregate.HourMillis
	f.Now = func() int64 { return q }
	if opts.Ping == nil {
		opts.Ping = StorePing(fs)
	}
	return &testEnv{fx: fx, store: fs, f: f, h: New(f, opts)}
}

// do sends one request to the handler and returns the status and body.
func (e *testEnv) do(t testing.TB, method, path, body string) (int, string) {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	return rec.Code, rec.Body.String()
}

func decodeResults(t testing.TB, body string) []map[string]any {
	t.Helper()
	var r struct {
		Results []map[string]any `json:"results"`
	}
	if err := json.Unmarshal([]byte(body), &r); err != nil {
		t.Fatalf("response %q: %v", body, err)
	}
	return r.Results
}

func TestJoinRoute(t *testing.T) {
	e := newEnv(t, 6, Options{})
	for _, path := range []string{"/v1/features/join/quickstart/training_set.v2",
		"/v1/features/join/quickstart%2Ftraining_set.v2", "/v1/features/join/quickstart.training_set.v2"} {
		code, body := e.do(t, "POST", path, `[{"user_id": "2"}, {"user_id": 4}, {"user_id": "nobody"}, {"user_id": "1"}, {"other": 1}]`)
		if code != 200 {
			t.Fatalf("%s: %d %s", path, code, body)
		}
		rs := decodeResults(t, body)
		if len(rs) != 5 {
			t.Fatalf("%s: want 5 results: %s", path, body)
		}
		for i, r := range rs {
			if r["status"] != "Success" {
				t.Errorf("%s: result %d: %v", path, i, r)
			}
		}
		f0 := rs[0]["features"].(map[string]any)
		if f0["quickstart_users_v1_city"] != "city2" || f0["quickstart_purchases_v1_price_max"] == nil {
			t.Errorf("%s: user 2: %v", path, f0)
		}
		if k := rs[1]["entityKeys"].(map[string]any); k["user_id"] != float64(4) {
			t.Errorf("%s: entityKeys: %v", path, k)
		}
		// The number 4 is cast to the string key "4" (docs/online-encoding.md).
		if f1 := rs[1]["features"].(map[string]any); f1["quickstart_users_v1_city"] != "city1" {
			t.Errorf("%s: user 4: %v", path, f1)
		}
		if f2, ok := rs[2]["features"].(map[string]any); !ok || len(f2) != 0 {
			t.Errorf("%s: absent key: want empty features, got %v", path, rs[2])
		}
		if ex, _ := rs[3]["features"].(map[string]any)["quickstart_users_v1_exception"].(string); !strings.Contains(ex, "decoding the batch value") {
			t.Errorf("%s: corrupt part: %v", path, rs[3])
		}
		if ex, _ := rs[4]["features"].(map[string]any)["quickstart_purchases_v1_exception"].(string); !strings.Contains(ex, "Missing keys List(user_id)") {
			t.Errorf("%s: missing key: %v", path, rs[4])
		}
	}
	// Same values as the fetcher's.
	want, err := e.f.FetchJoins(context.Background(), []online.Request{{Name: "quickstart/training_set.v2", Keys: map[string]any{"user_id": "2"}}})
	if err != nil {
		t.Fatal(err)
	}
	_, body := e.do(t, "POST", "/v1/features/join/quickstart/training_set.v2", `[{"user_id": "2"}]`)
	wb, _ := json.Marshal(online.JSONValue(want[0].Values))
	gb, _ := json.Marshal(decodeResults(t, body)[0]["features"])
	if string(wb) != string(gb) {
		t.Errorf("features differ from the fetcher's:\n got %s\nwant %s", gb, wb)
	}
	// An empty list is an empty answer.
	if code, body := e.do(t, "POST", "/v1/features/join/quickstart/training_set.v2", `[]`); code != 200 || strings.TrimSpace(body) != `{"results":[]}` {
		t.Errorf("empty list: %d %s", code, body)
	}
}

func TestGroupByRoute(t *testing.T) {
	e := newEnv(t, 6, Options{})
	code, body := e.do(t, "POST", "/v1/features/groupby/quickstart.users.v1", `[{"user_id": "0"}, {"user_id": null}, {"user_id": "nobody"}, {"user_id": "1"}, {"user_id": "5"}]`)
	if code != 200 {
		t.Fatalf("%d %s", code, body)
	}
	rs := decodeResults(t, body)
	if len(rs) != 5 {
		t.Fatalf("want 5 results: %s", body)
	}
	if rs[0]["status"] != "Success" || rs[0]["features"].(map[string]any)["city"] != "city0" {
		t.Errorf("user 0: %v", rs[0])
	}
	// Null key and absent key: success without features (Chronon's null map).
	for _, i := range []int{1, 2} {
		if _, ok := rs[i]["features"]; ok || rs[i]["status"] != "Success" || rs[i]["entityKeys"] == nil {
			t.Errorf("result %d: %v", i, rs[i])
		}
	}
	if rs[3]["status"] != "Failure" || !strings.Contains(rs[3]["error"].(string), "decoding the batch value") {
		t.Errorf("corrupt value: %v", rs[3])
	}
	if rs[4]["features"].(map[string]any)["city"] != "city2" {
		t.Errorf("user 5: %v", rs[4])
	}
	code, body = e.do(t, "POST", "/v1/features/groupby/quickstart/purchases.v1", `[{"user_id": "3"}]`)
	if rs := decodeResults(t, body); code != 200 || rs[0]["features"].(map[string]any)["price_count_7d"] == nil {
		t.Errorf("purchases: %d %s", code, body)
	}
}

func TestErrorStatuses(t *testing.T) {
	e := newEnv(t, 3, Options{MaxBodyBytes: 200})
	cases := []struct {
		method, path, body string
		code               int
		msg                string
	}{
		{"POST", "/v1/features/join/quickstart/nope.v1", `[{"user_id": "1"}]`, 404, "unknown join quickstart/nope.v1"},
		{"POST", "/v1/features/groupby/quickstart.nope.v1", `[{"user_id": "1"}]`, 404, "unknown group-by quickstart.nope.v1"},
		{"POST", "/v1/features/join/", `[{"user_id": "1"}]`, 404, "missing name"},
		{"POST", "/v1/features/join/quickstart/training_set.v2", `[{"user_id": "1"`, 400, "not a JSON list"},
		{"POST", "/v1/features/join/quickstart/training_set.v2", `{"user_id": "1"}`, 400, "not a JSON list"},
		{"POST", "/v1/features/join/quickstart/training_set.v2", `[1]`, 400, "not a JSON list"},
		{"POST", "/v1/features/join/quickstart/training_set.v2", `[null]`, 400, "element 0 is null"},
		{"POST", "/v1/features/join/quickstart/training_set.v2", `[] []`, 400, "trailing data"},
		{"POST", "/v1/features/join/quickstart/training_set.v2", ``, 400, "empty request body"},
		{"POST", "/v1/features/join/quickstart/training_set.v2", `[` + strings.Repeat(`{"user_id": "1"},`, 20) + `{}]`, 413, "larger than 200 bytes"},
		{"GET", "/v1/features/join/quickstart/training_set.v2", ``, 405, ""},
		{"GET", "/nothing", ``, 404, ""},
	}
	for _, c := range cases {
		code, body := e.do(t, c.method, c.path, c.body)
		if code != c.code || !strings.Contains(body, c.msg) {
			t.Errorf("%s %s %.40q: got %d %s, want %d %q", c.method, c.path, c.body, code, body, c.code, c.msg)
		}
		if c.msg != "" {
			var eb struct{ Errors []string }
			if json.Unmarshal([]byte(body), &eb) != nil || len(eb.Errors) != 1 {
				t.Errorf("%s: error body %q is not {\"errors\": [...]}", c.path, body)
			}
		}
	}
}

func TestStoreFailureAndRecovery(t *testing.T) {
	e := newEnv(t, 3, Options{Timeout: 200 * time.Millisecond})
	const path = "/v1/features/join/quickstart/training_set.v2"
	if code, body := e.do(t, "GET", "/health", ""); code != 200 || body != "OK" {
		t.Fatalf("health: %d %s", code, body)
	}
	e.store.down.Store(true)
	if code, body := e.do(t, "POST", path, `[{"user_id": "2"}]`); code != 503 || !strings.Contains(body, "online store unavailable") {
		t.Errorf("store down: %d %s", code, body)
	}
	if code, _ := e.do(t, "GET", "/health", ""); code != 503 {
		t.Errorf("health with the store down: %d", code)
	}
	e.store.down.Store(false)
	if code, body := e.do(t, "POST", path, `[{"user_id": "2"}]`); code != 200 || !strings.Contains(body, "city2") {
		t.Errorf("recovered: %d %s", code, body)
	}
	// Timeout: the store hangs.
	e.store.block.Store(true)
	start := time.Now()
	if code, body := e.do(t, "POST", path, `[{"user_id": "2"}]`); code != 503 || !strings.Contains(body, "timed out after 200ms") {
		t.Errorf("timeout: %d %s", code, body)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("timeout took %s", d)
	}
	e.store.block.Store(false)
	if code, body := e.do(t, "GET", "/health", ""); code != 200 || body != "OK" {
		t.Errorf("health after recovery: %d %s", code, body)
	}
	// A fetcher panic is a 500 and the service stays up.
	p := New(panicFetcher{}, Options{})
	rec := httptest.NewRecorder()
	p.ServeHTTP(rec, httptest.NewRequest("POST", path, strings.NewReader(`[{"user_id": "2"}]`)))
	if rec.Code != 500 || !strings.Contains(rec.Body.String(), "internal error: boom") {
		t.Errorf("panic: %d %s", rec.Code, rec.Body.String())
	}
}

type panicFetcher struct{}

func (panicFetcher) FetchJoins(context.Context, []online.Request) ([]online.Response, error) {
	panic("boom")
}

func (panicFetcher) FetchGroupBys(context.Context, []online.Request) ([]online.Response, error) {
	panic("boom")
}

func TestMetrics(t *testing.T) {
	e := newEnv(t, 3, Options{})
	e.do(t, "POST", "/v1/features/join/quickstart/training_set.v2", `[{"user_id": "2"}]`)
	e.do(t, "POST", "/v1/features/join/quickstart/training_set.v2", `[{"user_id": "2"}]`)
	e.do(t, "POST", "/v1/features/join/quickstart/nope.v1", `[{"user_id": "2"}]`)
	e.do(t, "POST", "/v1/features/groupby/quickstart.users.v1", `nope`)
	e.do(t, "GET", "/health", "")
	code, body := e.do(t, "GET", "/metrics", "")
	if code != 200 {
		t.Fatal(code)
	}
	for _, want := range []string{
		"# TYPE chronon_serve_requests_total counter",
		`chronon_serve_requests_total{route="join",status="200"} 2`,
		`chronon_serve_requests_total{route="join",status="404"} 1`,
		`chronon_serve_requests_total{route="groupby",status="400"} 1`,
		`chronon_serve_requests_total{route="health",status="200"} 1`,
		"# TYPE chronon_serve_request_duration_seconds histogram",
		`chronon_serve_request_duration_seconds_bucket{route="join",le="+Inf"} 3`,
		`chronon_serve_request_duration_seconds_count{route="join"} 3`,
		`chronon_serve_request_duration_seconds_sum{route="join"} `,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics: missing %q in\n%s", want, body)
		}
	}
}

// TestConcurrent sends requests from many goroutines over a real loopback connection (run with -race).
func TestConcurrent(t *testing.T) {
	e := newEnv(t, 8, Options{})
	srv := httptest.NewServer(e.h)
	defer srv.Close()
	want := map[string]string{}
	for u := 0; u < 8; u++ {
		resp, err := e.f.FetchJoins(context.Background(), []online.Request{{Name: "quickstart/training_set.v2", Keys: map[string]any{"user_id": fmt.Sprint(u)}}})
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(online.JSONValue(resp[0].Values))
		want[fmt.Sprint(u)] = string(b)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for g := 0; g < 16; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 25; i++ {
				u, v := fmt.Sprint((g+i)%8), fmt.Sprint((g+i+3)%8)
				res, err := http.Post(srv.URL+"/v1/features/join/quickstart/training_set.v2", "application/json",
					strings.NewReader(fmt.Sprintf(`[{"user_id": %q}, {"user_id": %q}]`, u, v)))
				if err != nil {
					errs <- err
					return
				}
				body, _ := io.ReadAll(res.Body)
				res.Body.Close()
				if res.StatusCode != 200 {
					errs <- fmt.Errorf("%d %s", res.StatusCode, body)
					return
				}
				rs := decodeResults(t, string(body))
				for j, user := range []string{u, v} {
					got, _ := json.Marshal(rs[j]["features"])
					if string(got) != want[user] {
						errs <- fmt.Errorf("user %s: got %s want %s", user, got, want[user])
						return
					}
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestGracefulShutdown: cancelling Serve's context stops accepting connections but lets the
// in-flight request finish.
func TestGracefulShutdown(t *testing.T) {
	e := newEnv(t, 3, Options{Timeout: 10 * time.Second})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- Serve(ctx, ln, e.h, 10*time.Second) }()
	url := "http://" + ln.Addr().String()
	if res, err := http.Get(url + "/health"); err != nil || res.StatusCode != 200 {
		t.Fatalf("health: %v %v", res, err)
	} else {
		res.Body.Close()
	}

	e.store.block.Store(true)
	type result struct {
		code int
		body string
		err  error
	}
	inflight := make(chan result, 1)
	go func() {
		res, err := http.Post(url+"/v1/features/join/quickstart/training_set.v2", "application/json", strings.NewReader(`[{"user_id": "2"}]`))
		if err != nil {
			inflight <- result{err: err}
			return
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		inflight <- result{code: res.StatusCode, body: string(b)}
	}()
	time.Sleep(100 * time.Millisecond) // the request is now waiting in the store
	cancel()
	time.Sleep(100 * time.Millisecond)
	select {
	case err := <-served:
		t.Fatalf("Serve returned with a request in flight: %v", err)
	default:
	}
	// New connections are refused.
	if c, err := net.DialTimeout("tcp", ln.Addr().String(), time.Second); err == nil {
		c.Close()
		t.Errorf("a new connection was accepted during shutdown")
	}
	close(e.store.release)
	r := <-inflight
	if r.err != nil || r.code != 200 || !strings.Contains(r.body, "city2") {
		t.Errorf("in-flight request: %+v", r)
	}
	select {
	case err := <-served:
		if err != nil {
			t.Errorf("Serve: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return after the drain")
	}
	if _, err := http.Get(url + "/health"); err == nil || errors.Is(err, context.Canceled) {
		t.Errorf("server still answering after shutdown")
	}
}
