package cmds

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/chronon-go/chronon/runtime/aggregate"
	"github.com/chronon-go/chronon/runtime/kv"
	"github.com/chronon-go/chronon/runtime/online"
)

// The tutorial end to end (issue 6): `chronon quickstart`, and the same flow step by step through
// the CLI with one wrong online value planted.
//
// The flow uploads each day's batch before fetching that day, as a daily upload schedule does:
// upload --ds 2023-11-30 (batchEnd 2023-12-01 00:00 UTC), fetches at times on 2023-12-01; upload
// --ds 2023-12-01, fetches on 2023-12-02. Then every fetch in [batchEnd, batchEnd + 2 days) is
// consistent with the offline backfill, including purchases.v1 which is SNAPSHOT (online serves the
// last upload's value, which offline reads for requests of the day after the upload's --ds; see
// TestOnlineOfflineConsistency).

const tutorialBatchEnd = int64(1701388800000) // 2023-12-01 00:00 UTC

// tutorialRoot is a chronon root with the repository's compiled confs and sample CSVs (nothing
// imported yet).
func tutorialRoot(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	for _, dir := range []string{"production", filepath.Join("data", "quickstart")} {
		if err := os.CopyFS(filepath.Join(root, dir), os.DirFS(filepath.Join(repoRoot(), dir))); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(filepath.Join(repoRoot(), "teams.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "teams.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	return root
}

// runQuickstartCmd runs `chronon quickstart` in root with a stand-in compile command (runtime/
// cannot import the compiler; main.go passes the real one).
func runQuickstartCmd(t *testing.T, root string, flags ...string) (string, string) {
	t.Helper()
	compiled := false
	compile := &cli.Command{
		Name:  "compile",
		Flags: []cli.Flag{&cli.StringSliceFlag{Name: "conf"}},
		Action: func(c *cli.Context) error {
			if got := c.StringSlice("conf"); len(got) != 1 || got[0] != "joins/quickstart/training_set.star" || c.String("chronon-root") != root {
				return fmt.Errorf("compile got --conf %v, root %s", got, c.String("chronon-root"))
			}
			compiled = true
			fmt.Fprintln(c.App.Writer, "0 written, 5 unchanged, 0 skipped")
			return nil
		},
	}
	var out, errOut bytes.Buffer
	app := &cli.App{
		Name:           "chronon",
		Flags:          []cli.Flag{&cli.StringFlag{Name: "chronon-root", Value: root}, WarehouseFlag()},
		Commands:       []*cli.Command{Quickstart(compile)},
		Writer:         &out,
		ErrWriter:      &errOut,
		ExitErrHandler: func(*cli.Context, error) {},
	}
	if err := app.Run(append([]string{"chronon", "quickstart"}, flags...)); err != nil {
		t.Fatalf("chronon quickstart: %v\n%s\n%s", err, out.String(), errOut.String())
	}
	if !compiled {
		t.Error("quickstart did not run the compile step")
	}
	return out.String(), errOut.String()
}

// TestTutorialQuickstart runs `chronon quickstart` twice in a fresh root: it prints the training-set
// preview, a fetched vector and a summary with 0 mismatches over 101 users × 8 times in
// [batchEnd, batchEnd + 2d); out_consistency agrees; the second run gives the same results and
// does not log its fetches again.
func TestTutorialQuickstart(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the whole tutorial")
	}
	t.Setenv("CHRONON_KV", "")
	root := tutorialRoot(t)
	out, _ := runQuickstartCmd(t, root)
	const fetches = 101 * 2 * 4

	for _, want := range []string{
		"$ chronon compile --conf joins/quickstart/training_set.star\n0 written, 5 unchanged, 0 skipped\n",
		"imported 500 rows into data.purchases (30 partition(s), ds 2023-11-01..2023-11-30)",
		"$ chronon run --mode upload --conf production/group_bys/quickstart/purchases.v1 --ds 2023-12-01\n",
		"404 logged now, 0 already in the fetch log",
		"default.quickstart_training_set_v2_logged: 808 rows in 2 partition(s) (2023-12-01..2023-12-02), 0 undecodable record(s) dropped",
		"consistency of quickstart/training_set.v2 (default.quickstart_training_set_v2_consistency, ds 2023-12-01..2023-12-02)",
		"808 fetches of quickstart/training_set.v2 compared",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	// The preview: a header and five rows of the training set.
	preview := section(t, out, "preview the training set")
	if !strings.Contains(preview, "user_id  ts_utc") || !strings.Contains(preview, "(5 rows)") ||
		!regexp.MustCompile(`(?m)^1 +2023-11-30 12:09:00`).MatchString(preview) {
		t.Errorf("preview:\n%s", preview)
	}
	// The vector: user 5 at 2023-12-02 01:00, as the fetch CLI prints it.
	vec := section(t, out, "one fetched feature vector")
	_, js, ok := strings.Cut(vec, "--- [FETCHED RESULT] ---\n")
	if !ok {
		t.Fatalf("no fetched vector:\n%s", vec)
	}
	js = js[:strings.Index(js, "\n}\n")+2]
	var values map[string]any
	if err := json.Unmarshal([]byte(js), &values); err != nil {
		t.Fatalf("vector %q: %v", js, err)
	}
	if len(values) != 20 || values["quickstart_purchases_v1_purchase_price_sum_30d"] != 1253.0 || values["quickstart_returns_v1_refund_amt_sum_30d"] != 1269.0 {
		t.Errorf("vector of user 5: %v", values)
	}
	// The summary: every feature compared on every fetch, no mismatches.
	summary := section(t, out, "compare online with offline")
	checkSummary(t, summary, fetches, "")

	// The tables say the same: the logged fetches are the 101 users at times in the two days, and
	// out_consistency has 0 mismatches and 808 rows for every feature.
	sql := func(q string) []map[string]any {
		t.Helper()
		res, log, err := chronon(t, root, "sql", q, "--format", "json")
		if err != nil {
			t.Fatalf("%s: %v\n%s", q, err, log)
		}
		var rows []map[string]any
		for _, line := range strings.Split(strings.TrimSpace(res), "\n") {
			rows = append(rows, normalizeJSON(t, json.RawMessage(line)))
		}
		return rows
	}
	logged := sql("SELECT count(*) AS n, count(DISTINCT user_id) AS users, min(ts) AS lo, max(ts) AS hi FROM default.quickstart_training_set_v2_logged")[0]
	if logged["n"] != float64(fetches) || logged["users"] != 101.0 ||
		logged["lo"].(float64) < float64(tutorialBatchEnd) || logged["hi"].(float64) >= float64(tutorialBatchEnd+2*86_400_000) {
		t.Errorf("logged fetches: %v", logged)
	}
	checkConsistencyTable(t, sql("SELECT * FROM default.quickstart_training_set_v2_consistency"), fetches, nil)

	// Rerun: same preview, vector and summary; nothing logged twice.
	again, _ := runQuickstartCmd(t, root)
	for _, s := range []string{"preview the training set", "one fetched feature vector", "compare online with offline"} {
		if a, b := stripTimings(section(t, out, s)), stripTimings(section(t, again, s)); a != b {
			t.Errorf("second run's %q differs:\n%s\nvs\n%s", s, a, b)
		}
	}
	if strings.Count(again, "0 logged now, 404 already in the fetch log") != 2 {
		t.Errorf("second run logged fetches again:\n%s", again)
	}
}

// section is the output of the quickstart step titled title (its header to the next header).
func section(t *testing.T, out, title string) string {
	t.Helper()
	m := regexp.MustCompile(`(?m)^== \d+/\d+ ` + regexp.QuoteMeta(title) + "\n").FindStringIndex(out)
	if m == nil {
		t.Fatalf("no step %q in:\n%s", title, out)
	}
	rest := out[m[1]:]
	if i := strings.Index(rest, "\n== "); i >= 0 {
		rest = rest[:i+1]
	}
	return rest
}

var timings = regexp.MustCompile(`\(\d+(\.\d+)?(ns|µs|ms|s)\)|in \d+(\.\d+)?(ns|µs|ms|s)\b`)

func stripTimings(s string) string { return timings.ReplaceAllString(s, "(…)") }

// checkConsistencyTable checks out_consistency's rows: every feature has rows comparisons in
// total, no null mismatches, and mismatches as in want (0 for features not in want).
func checkConsistencyTable(t *testing.T, rows []map[string]any, total int, want map[string]int) {
	t.Helper()
	sums := map[string]float64{}
	for _, r := range rows {
		if r["JoinPath"] != "quickstart/training_set.v2" {
			t.Errorf("JoinPath %v", r["JoinPath"])
		}
		for k, v := range r {
			if f, ok := v.(float64); ok {
				sums[k] += f
			}
		}
	}
	features := 0
	for k, n := range sums {
		f, ok := strings.CutSuffix(k, "_total_count")
		if !ok {
			continue
		}
		features++
		if int(n) != total {
			t.Errorf("%s: %v rows compared, want %d", f, n, total)
		}
		if m := sums[f+"_mismatch_sum"]; int(m) != want[f] {
			t.Errorf("%s: %v mismatches, want %d", f, m, want[f])
		}
		if l, r := sums[f+"_left_null_sum"], sums[f+"_right_null_sum"]; l != 0 || r != 0 {
			t.Errorf("%s: %v offline-only and %v online-only nulls", f, l, r)
		}
	}
	if features != 20 {
		t.Errorf("out_consistency has %d features, want 20", features)
	}
}

// TestTutorialPlantedOnlineValue runs the tutorial step by step through the CLI (upload, fetch
// with -k lists at several times, log-flattener, consistency-metrics-compute) after overwriting one
// user's purchases.v1 value in the online store with a wrong purchase_price_sum_30d. The fetches of
// that user on 2023-12-01 serve it; exactly those count as mismatches of exactly that feature. The
// upload for 2023-12-01 replaces the dataset, so the fetches on 2023-12-02 are right again.
func TestTutorialPlantedOnlineValue(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the whole tutorial")
	}
	t.Setenv("CHRONON_KV", "")
	root := quickstartRoot(t)
	run := func(args ...string) string {
		t.Helper()
		out, log, err := chronon(t, root, args...)
		if err != nil {
			t.Fatalf("chronon %s: %v\n%s", strings.Join(args, " "), err, log)
		}
		return out
	}
	const conf = "production/joins/quickstart/training_set.v2"
	const planted, user = "quickstart_purchases_v1_purchase_price_sum_30d", "42"
	var keys []string
	for u := 0; u <= 100; u++ {
		keys = append(keys, fmt.Sprintf(`{"user_id":"%d"}`, u))
	}
	keyList := "[" + strings.Join(keys, ",") + "]"
	times := []time.Duration{0, 7*time.Hour + 30*time.Minute + 1, 24*time.Hour - time.Millisecond}
	fetches, wrong := 0, 0
	for day, ds := range []string{"2023-11-30", "2023-12-01"} {
		for _, gb := range []string{"purchases", "returns"} {
			run("run", "--mode", "upload", "--conf", "production/group_bys/quickstart/"+gb+".v1", "--ds", ds)
		}
		if day == 0 {
			run("run", "--mode", "metadata-upload", "--conf", conf)
			plantOnlineValue(t, filepath.Join(root, ".chronon", "kv"), "QUICKSTART_PURCHASES_V1_BATCH", user, "purchase_price_sum_30d")
		}
		for _, d := range times {
			at := tutorialBatchEnd + int64(day)*86_400_000 + d.Milliseconds()
			out := run("run", "--mode", "fetch", "--type", "join", "--name", "quickstart/training_set.v2", "-k", keyList, "--at-millis", strconv.FormatInt(at, 10))
			if n := strings.Count(out, "--- [FETCHED RESULT] ---"); n != 101 {
				t.Fatalf("%d vectors for 101 users:\n%s", n, out)
			}
			fetches += 101
			if day == 0 {
				wrong++
			}
		}
	}
	out := run("run", "--mode", "log-flattener", "--conf", conf)
	if want := fmt.Sprintf("default.quickstart_training_set_v2_logged: %d rows in 2 partition(s) (2023-12-01..2023-12-02)", fetches); !strings.HasPrefix(out, want) {
		t.Fatalf("log-flattener said %q, want %q", out, want)
	}
	out = run("run", "--mode", "consistency-metrics-compute", "--conf", conf)
	t.Logf("summary:\n%s", out)
	for _, line := range strings.Split(out, "\n") {
		m := summaryLine.FindStringSubmatch(line)
		if m == nil || strings.HasPrefix(line, "total") {
			continue
		}
		want := 0
		if m[1] == planted {
			want = wrong
		}
		if m[2] != strconv.Itoa(fetches) || m[3] != strconv.Itoa(want) || m[4] != "0" {
			t.Errorf("summary line %q: want %d rows, %d mismatches, 0 null mismatches", line, fetches, want)
		}
	}
	if !strings.Contains(out, "total (20 features)") {
		t.Fatalf("no summary:\n%s", out)
	}
	res := run("sql", "SELECT * FROM default.quickstart_training_set_v2_consistency", "--format", "json")
	var rows []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(res), "\n") {
		rows = append(rows, normalizeJSON(t, json.RawMessage(line)))
	}
	checkConsistencyTable(t, rows, fetches, map[string]int{planted: wrong})
}

// plantOnlineValue adds 1 to one output of one user's SNAPSHOT batch value in the online store (a
// bad write), keeping the version, so that fetches serve the wrong value.
func plantOnlineValue(t *testing.T, kvDir, dataset, user, output string) {
	t.Helper()
	ctx := context.Background()
	store, err := kv.Open(ctx, kvDir, kv.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	got, err := store.MultiGet(ctx, []kv.GetRequest{{Dataset: dataset, Key: []byte(online.GroupByServingInfoKey)}})
	if err != nil {
		t.Fatal(err)
	}
	info, ok := got[0].Latest()
	if !ok {
		t.Fatalf("no serving info in %s: %v", dataset, got[0].Err)
	}
	si, _, err := online.UnmarshalServingInfo(info.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	agg, err := aggregate.New(si.Info.GetGroupBy().Aggregations, si.SelectedSchema())
	if err != nil {
		t.Fatal(err)
	}
	value, err := online.NewAvroSchema("Value", agg.OutputSchema())
	if err != nil {
		t.Fatal(err)
	}
	key, err := si.Key.EncodeKeyMap(map[string]any{"user_id": user})
	if err != nil {
		t.Fatal(err)
	}
	got, err = store.MultiGet(ctx, []kv.GetRequest{{Dataset: dataset, Key: key}})
	if err != nil {
		t.Fatal(err)
	}
	v, ok := got[0].Latest()
	if !ok {
		t.Fatalf("user %s has no value in %s", user, dataset)
	}
	row, err := value.Decode(v.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	i := value.Fields().Index(output)
	n, ok := row[i].(int64)
	if i < 0 || !ok {
		t.Fatalf("%s of user %s is %v, want a number", output, user, row)
	}
	row[i] = n + 1
	b, err := value.Encode(row)
	if err != nil {
		t.Fatal(err)
	}
	if err := store.MultiPut(ctx, []kv.PutRequest{{Dataset: dataset, Key: key, Value: b, TsMillis: v.TsMillis}}); err != nil {
		t.Fatal(err)
	}
}
