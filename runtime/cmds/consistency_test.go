package cmds

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chronon-go/chronon/runtime/kv"
	"github.com/chronon-go/chronon/runtime/online"
)

// TestLogFlattenerAndConsistencyCLI is the tutorial's consistency loop on the quickstart (spec §8):
// fetches of training_set.v2 at times on 2023-12-01 are logged, flattened and compared with the
// offline backfill of the same requests. Online and offline agree, so every mismatch count is 0.
// Then one logged response is repeated with one wrong value: exactly that feature gets one
// mismatch, every other feature none. (Fetches on later days are left out: purchases.v1 is SNAPSHOT
// and online serves the upload's value until the next upload, by design — docs/consistency.md.)
func TestLogFlattenerAndConsistencyCLI(t *testing.T) {
	if testing.Short() {
		t.Skip("uploads and fetches the quickstart")
	}
	t.Setenv("CHRONON_KV", "")
	root := quickstartRoot(t)
	run := func(args ...string) (string, string) {
		t.Helper()
		out, log, err := chronon(t, root, args...)
		if err != nil {
			t.Fatalf("chronon %s: %v\n%s", strings.Join(args, " "), err, log)
		}
		return out, log
	}
	const conf = "production/joins/quickstart/training_set.v2"
	for _, gb := range []string{"purchases", "returns"} {
		run("run", "--mode", "upload", "--conf", "production/group_bys/quickstart/"+gb+".v1", "--ds", "2023-11-30")
	}
	run("run", "--mode", "metadata-upload", "--conf", conf)
	day := time.Date(2023, 12, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	fetches := 0
	for _, u := range []string{"1", "5", "18", "42", "77", "no-such-user"} {
		for _, h := range []int64{0, 9, 23} {
			at := day + h*3_600_000 + int64(len(u))*61_000
			run("run", "--mode", "fetch", "--type", "join", "--name", "quickstart/training_set.v2", "-k", fmt.Sprintf(`{"user_id":%q}`, u), "--at-millis", fmt.Sprint(at))
			fetches++
		}
	}
	out, _ := run("run", "--mode", "log-flattener", "--conf", conf)
	if want := fmt.Sprintf("default.quickstart_training_set_v2_logged: %d rows in 1 partition(s) (2023-12-01..2023-12-01), 0 undecodable record(s) dropped\n", fetches); out != want {
		t.Fatalf("log-flattener said %q, want %q", out, want)
	}
	out, _ = run("run", "--mode", "consistency-metrics-compute", "--conf", conf)
	checkSummary(t, out, fetches, "")

	// Plant: repeat one logged fetch with a wrong value of one feature.
	const feature = "quickstart_returns_v1_refund_amt_sum_30d"
	plantWrongValue(t, filepath.Join(root, ".chronon", "kv"), feature)
	run("run", "--mode", "log-flattener", "--conf", conf, "--force")
	out, _ = run("run", "--mode", "consistency-metrics-compute", "--conf", conf, "--force")
	t.Logf("after planting:\n%s", out)
	checkSummary(t, out, fetches+1, feature)
}

var summaryLine = regexp.MustCompile(`^(\S+)\s+(\d+)\s+(\d+)\s+\S+%\s+(\d+)\s+\S+$`)

// checkSummary reads the printed summary: every feature compared on rows rows, no null mismatches,
// and no mismatches except one for planted.
func checkSummary(t *testing.T, out string, rows int, planted string) {
	t.Helper()
	features := 0
	for _, line := range strings.Split(out, "\n") {
		m := summaryLine.FindStringSubmatch(line)
		if m == nil || strings.HasPrefix(line, "total") {
			continue
		}
		features++
		want := "0"
		if m[1] == planted {
			want = "1"
		}
		if m[2] != fmt.Sprint(rows) || m[3] != want || m[4] != "0" {
			t.Errorf("summary line %q: want %d rows, %s mismatches, 0 null mismatches", line, rows, want)
		}
	}
	if features != 20 || !strings.Contains(out, "total (20 features)") {
		t.Fatalf("summary has %d feature lines:\n%s", features, out)
	}
}

// plantWrongValue appends a copy of one logged fetch whose feature has a non-null numeric value,
// with that value changed (a log written by a buggy server).
func plantWrongValue(t *testing.T, kvDir, feature string) {
	t.Helper()
	ctx := context.Background()
	log, err := kv.OpenLog(ctx, kvDir, kv.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	schemas := map[string]*online.AvroSchema{}
	var recs []kv.LogRecord
	err = log.Scan(ctx, nil, func(r kv.LogRecord) error {
		if r.Name == kv.SchemaPublishEvent {
			var ls struct {
				ValueSchema string `json:"value_schema"`
			}
			if err := json.Unmarshal(r.ValueBytes, &ls); err != nil {
				return err
			}
			s, err := online.ParseAvroSchema(ls.ValueSchema)
			if err != nil {
				return err
			}
			schemas[string(r.KeyBytes)] = s
			return nil
		}
		recs = append(recs, r)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		s := schemas[r.SchemaHash]
		if s == nil {
			t.Fatalf("schema %s of a logged fetch was not published", r.SchemaHash)
		}
		row, err := s.Decode(r.ValueBytes)
		if err != nil {
			t.Fatal(err)
		}
		i := s.Fields().Index(feature)
		if i < 0 {
			t.Fatalf("logged value schema has no %s: %v", feature, s.Fields().Names())
		}
		switch v := row[i].(type) {
		case int64:
			row[i] = v + 1
		case float64:
			row[i] = v + 1
		default:
			continue
		}
		b, err := s.Encode(row)
		if err != nil {
			t.Fatal(err)
		}
		r.ValueBytes = b
		if err := log.Append(ctx, []kv.LogRecord{r}); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Fatalf("no logged fetch has a non-null %s", feature)
}
