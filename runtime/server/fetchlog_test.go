package server

import (
	"strings"
	"testing"
)

type fakeLogCounters struct{}

func (fakeLogCounters) Logged() int64  { return 12 }
func (fakeLogCounters) Dropped() int64 { return 3 }
func (fakeLogCounters) Failed() int64  { return 1 }

func TestMetricsFetchLog(t *testing.T) {
	e := newEnv(t, 2, Options{})
	_, body := e.do(t, "GET", "/metrics", "")
	for _, want := range []string{"chronon_fetch_log_records_total 0\n", "chronon_fetch_log_dropped_total 0\n"} {
		if !strings.Contains(body, want) {
			t.Errorf("without a logger: missing %q in\n%s", want, body)
		}
	}
	e.h.SetFetchLog(fakeLogCounters{})
	_, body = e.do(t, "GET", "/metrics", "")
	for _, want := range []string{
		"# TYPE chronon_fetch_log_records_total counter\nchronon_fetch_log_records_total 12\n",
		"# TYPE chronon_fetch_log_dropped_total counter\nchronon_fetch_log_dropped_total 3\n",
		"chronon_fetch_log_failed_total 1\n",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("missing %q in\n%s", want, body)
		}
	}
}
