package cmds

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/chronon-go/chronon/runtime/kv"
	"github.com/chronon-go/chronon/runtime/online"
)

// `chronon quickstart` runs Chronon's tutorial end to end in the chronon root, in-process, with the
// same commands a user types (README, docs/consistency.md):
//
//	compile → import the four CSVs → backfill training_set.v1 (+ a preview of it) → upload both
//	GroupBys for 2023-11-30 → metadata-upload training_set.v2 → fetch on 2023-12-01 → upload for
//	2023-12-01 → fetch on 2023-12-02 → log-flattener → consistency-metrics-compute
//
// Uploading each day's batch before fetching that day is what a daily upload schedule does; it
// keeps online equal to offline for every fetch (purchases.v1 is SNAPSHOT: online serves the value
// as of the last upload's batch end, which offline reads for requests of the following day only).
//
// Rerunning is safe and gives the same output: imports replace their tables, uploads replace their
// KV datasets, the backfill, log-flattener and consistency steps run with --force, and fetches that
// are already in the fetch log (same join, user and time) are not logged again, so the log and the
// summary do not grow with every run. Other fetches of training_set.v2 logged on 2023-12-01..02
// (e.g. typed by hand) are part of the comparison too.

// Quickstart data and times.
const (
	qsJoin       = "quickstart/training_set.v2"
	qsJoinConf   = "production/joins/quickstart/training_set.v2"
	qsBackfillDs = "2023-11-30"
	qsShowUser   = "5"
)

var (
	qsTables = []string{"purchases", "returns", "users", "checkouts"}
	// qsDays are the upload --ds of each round and the day fetched after it (the upload's batch end).
	qsDays = []struct{ upload, fetch string }{{"2023-11-30", "2023-12-01"}, {"2023-12-01", "2023-12-02"}}
	// qsTimes are the fetch times within a day: midnight (= the batch end), 01:00, an odd time and
	// the day's last millisecond.
	qsTimes = []time.Duration{0, time.Hour, 13*time.Hour + 17*time.Minute + 3*time.Second + 123*time.Millisecond, 24*time.Hour - time.Millisecond}
	// qsShowAt is the fetch whose vector is printed: user 5 at 2023-12-02 01:00 UTC.
	qsShowAt = time.Date(2023, 12, 2, 1, 0, 0, 0, time.UTC).UnixMilli()
)

// Quickstart is `chronon quickstart`. compile is the compile command (main.go passes it in, since
// runtime/ never imports the compiler); nil skips that step.
func Quickstart(compile *cli.Command) *cli.Command {
	return &cli.Command{
		Name:  "quickstart",
		Usage: "run the tutorial end to end in the chronon root: compile, import, backfill, upload, fetch, log-flattener, consistency",
		Description: "Uses the root's quickstart definitions and data/quickstart/*.csv, the warehouse of --warehouse and\n" +
			"the online store of --kv (default: embedded under <root>/.chronon; mongodb://... for MongoDB).\n" +
			"Prints a preview of the training set, one fetched feature vector and the consistency summary.\n" +
			"Safe to rerun: it gives the same results (fetches already in the fetch log are not logged again).",
		Flags:  []cli.Flag{KVFlag()},
		Action: func(c *cli.Context) error { return runQuickstart(c, compile) },
	}
}

type quickstart struct {
	c        *cli.Context
	root     string
	out, log io.Writer
	compile  *cli.Command
	step     int
	steps    int
}

func runQuickstart(c *cli.Context, compile *cli.Command) error {
	q := &quickstart{c: c, root: c.String("chronon-root"), out: c.App.Writer, log: c.App.ErrWriter, compile: compile, steps: 11}
	if q.out == nil {
		q.out = os.Stdout
	}
	if q.log == nil {
		q.log = os.Stderr
	}
	for _, t := range qsTables {
		if !fileExists(filepath.Join(q.root, "data", "quickstart", t+".csv")) {
			return fmt.Errorf("quickstart: %s is missing: run it in the repository root (or pass --chronon-root)",
				filepath.Join(q.root, "data", "quickstart", t+".csv"))
		}
	}
	ctx := c.Context
	if ctx == nil {
		ctx = context.Background()
	}
	began := time.Now()
	fmt.Fprintf(q.out, "Chronon quickstart in %s (warehouse %s, online store %s)\n", q.root, q.warehouseName(), kv.RedactURI(KVTarget(c)))

	if compile != nil {
		err := q.section("compile the definitions into production/", func() error {
			return q.chronon("compile", "--conf", "joins/quickstart/training_set.star")
		})
		if err != nil {
			return err
		}
	} else {
		q.steps--
	}
	err := q.section("import the sample data", func() error {
		for _, t := range qsTables {
			if err := q.chronon("import", "--table", "data."+t, filepath.Join("data", "quickstart", t+".csv")); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	err = q.section("backfill the training set (offline)", func() error {
		return q.chronon("run", "--mode", "backfill", "--conf", "production/joins/quickstart/training_set.v1", "--ds", qsBackfillDs, "--force")
	})
	if err != nil {
		return err
	}
	err = q.section("preview the training set", func() error {
		return q.chronon("sql", "SELECT user_id, epoch_ms(ts) AS ts_utc, "+
			"quickstart_purchases_v1_purchase_price_sum_30d AS purchases_sum_30d, "+
			"quickstart_returns_v1_refund_amt_sum_30d AS refunds_sum_30d, "+
			"quickstart_returns_v1_refund_amt_last2 AS refunds_last2, "+
			"quickstart_users_v1_email_verified AS email_verified, ds "+
			"FROM default.quickstart_training_set_v1 ORDER BY user_id, ts LIMIT 5")
	})
	if err != nil {
		return err
	}
	users := make([]string, 0, 101)
	for u := 0; u <= 100; u++ {
		users = append(users, strconv.Itoa(u))
	}
	total := 0
	var shown map[string]any
	for i, d := range qsDays {
		title := fmt.Sprintf("upload the batch of %s (serves %s)", d.upload, d.fetch)
		err = q.section(title, func() error {
			for _, gb := range []string{"purchases", "returns"} {
				if err := q.chronon(q.kvArgs("run", "--mode", "upload", "--conf", "production/group_bys/quickstart/"+gb+".v1", "--ds", d.upload)...); err != nil {
					return err
				}
			}
			if i == 0 {
				return q.chronon(q.kvArgs("run", "--mode", "metadata-upload", "--conf", qsJoinConf)...)
			}
			return nil
		})
		if err != nil {
			return err
		}
		err = q.section(fmt.Sprintf("fetch %s online on %s (logged)", qsJoin, d.fetch), func() error {
			day, err := time.Parse(time.DateOnly, d.fetch)
			if err != nil {
				return err
			}
			var times []int64
			for _, t := range qsTimes {
				times = append(times, day.Add(t).UnixMilli())
			}
			n, v, err := q.fetch(ctx, users, times)
			total += n
			if v != nil {
				shown = v
			}
			return err
		})
		if err != nil {
			return err
		}
	}
	if shown != nil {
		b, err := FormatFetchJSON(shown)
		if err != nil {
			return err
		}
		q.header("one fetched feature vector")
		fmt.Fprintf(q.out, "$ chronon run --mode fetch --type join --name %s -k '{\"user_id\":%q}' --at-millis %d   # %s\n",
			qsJoin, qsShowUser, qsShowAt, time.UnixMilli(qsShowAt).UTC().Format("2006-01-02 15:04 MST"))
		fmt.Fprintf(q.out, "--- [FETCHED RESULT] ---\n%s\n", b)
	}
	last := qsDays[len(qsDays)-1].fetch
	err = q.section("flatten the fetch log", func() error {
		return q.chronon(q.kvArgs("run", "--mode", "log-flattener", "--conf", qsJoinConf, "--end-ds", last, "--force")...)
	})
	if err != nil {
		return err
	}
	err = q.section("compare online with offline", func() error {
		return q.chronon(q.kvArgs("run", "--mode", "consistency-metrics-compute", "--conf", qsJoinConf, "--end-ds", last, "--force")...)
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(q.out, "\nquickstart done in %.1fs: %d fetches of %s compared with the offline backfill (above).\n",
		time.Since(began).Seconds(), total, qsJoin)
	fmt.Fprintf(q.out, "Next: chronon sql \"SELECT * FROM default.quickstart_training_set_v1 LIMIT 10\", chronon serve, docs/consistency.md\n")
	return nil
}

func (q *quickstart) warehouseName() string {
	if w := q.c.String("warehouse"); w != "" {
		return w
	}
	if w, err := OpenWarehouse(q.c); err == nil {
		root, _ := filepath.Abs(q.root)
		abs, _ := filepath.Abs(w.Root)
		if rel, err := filepath.Rel(root, abs); err == nil && !strings.HasPrefix(rel, "..") {
			return rel
		}
		return w.Root
	}
	return "?"
}

// kvArgs adds --kv when the quickstart got one (CHRONON_KV reaches the run flags by itself).
func (q *quickstart) kvArgs(args ...string) []string {
	if t := q.c.String("kv"); t != "" {
		return append(args, "--kv", t)
	}
	return args
}

func (q *quickstart) header(title string) {
	q.step++
	fmt.Fprintf(q.out, "\n== %d/%d %s\n", q.step, q.steps, title)
}

// section prints a step header, runs fn and prints how long it took.
func (q *quickstart) section(title string, fn func() error) error {
	q.header(title)
	start := time.Now()
	if err := fn(); err != nil {
		return fmt.Errorf("quickstart step %d (%s): %w", q.step, title, err)
	}
	fmt.Fprintf(q.out, "   (%s)\n", time.Since(start).Round(time.Millisecond))
	return nil
}

// chronon prints the command and runs it in-process, as `chronon --chronon-root <root> args...`.
func (q *quickstart) chronon(args ...string) error {
	shown := make([]string, len(args))
	for i, a := range args {
		shown[i] = shellQuote(a)
		if i > 0 && args[i-1] == "--kv" {
			shown[i] = shellQuote(kv.RedactURI(a))
		}
	}
	fmt.Fprintf(q.out, "$ chronon %s\n", strings.Join(shown, " "))
	cmds := []*cli.Command{Import(), SQL(), Run()}
	if q.compile != nil {
		cmds = append(cmds, q.compile)
	}
	app := &cli.App{
		Name: "chronon",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "chronon-root", Value: q.root},
			WarehouseFlag(),
		},
		Commands:       cmds,
		Writer:         q.out,
		ErrWriter:      q.log,
		ExitErrHandler: func(*cli.Context, error) {},
	}
	full := []string{"chronon", "--chronon-root", q.root}
	if w := q.c.String("warehouse"); w != "" {
		full = append(full, "--warehouse", w)
	}
	// Data files are given relative to the root.
	if args[0] == "import" {
		args = append([]string(nil), args...)
		for i := 1; i < len(args); i++ {
			if strings.HasSuffix(args[i], ".csv") && !filepath.IsAbs(args[i]) {
				args[i] = filepath.Join(q.root, args[i])
			}
		}
	}
	return app.RunContext(q.c.Context, append(full, args...))
}

func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./=:,@%+", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// fetch fetches the join for every user at every time through the Go fetcher (what `run --mode
// fetch` and `chronon serve` use), logging the fetches that the fetch log does not hold yet. It
// returns the number of fetches and the values of qsShowUser at qsShowAt when fetched.
func (q *quickstart) fetch(ctx context.Context, users []string, times []int64) (int, map[string]any, error) {
	target := KVTarget(q.c)
	logged, err := loggedFetches(ctx, target, qsJoin)
	if err != nil {
		return 0, nil, err
	}
	var fresh, again []online.Request
	for _, at := range times {
		for _, u := range users {
			at := at
			r := online.Request{Name: qsJoin, Keys: map[string]any{"user_id": u}, AtMillis: &at}
			if logged[loggedFetch{u, at}] {
				again = append(again, r)
			} else {
				fresh = append(fresh, r)
			}
		}
	}
	store, err := OpenKV(ctx, q.c, kv.Options{ReadOnly: true})
	if err != nil {
		return 0, nil, err
	}
	defer store.Close()
	withLog := online.NewFetcher(store)
	fl := startFetchLogging(ctx, q.c, withLog, q.log)
	start := time.Now()
	var shown map[string]any
	nonNull := 0
	for _, batch := range []struct {
		f    *online.Fetcher
		reqs []online.Request
	}{{withLog, fresh}, {online.NewFetcher(store), again}} {
		if len(batch.reqs) == 0 {
			continue
		}
		resps, err := batch.f.FetchJoins(ctx, batch.reqs)
		if err != nil {
			fl.Close(q.log)
			return 0, nil, fmt.Errorf("fetch: %w", err)
		}
		for _, r := range resps {
			if r.Err != nil {
				fl.Close(q.log)
				return 0, nil, fmt.Errorf("fetch %s %v at %d: %w", r.Request.Name, r.Request.Keys, *r.Request.AtMillis, r.Err)
			}
			if r.Values != nil {
				nonNull++
			}
			if r.Request.Keys["user_id"] == qsShowUser && *r.Request.AtMillis == qsShowAt {
				shown = r.Values
			}
		}
	}
	took := time.Since(start)
	fl.Close(q.log) // flush the log before log-flattener reads it
	ts := make([]string, len(times))
	for i, t := range times {
		ts[i] = time.UnixMilli(t).UTC().Format("15:04:05.000")
	}
	n := len(fresh) + len(again)
	fmt.Fprintf(q.out, "$ chronon run --mode fetch --type join --name %s -k '[{\"user_id\":\"0\"}, ..., {\"user_id\":\"100\"}]' --at-millis <t>   # %d times\n", qsJoin, len(times))
	fmt.Fprintf(q.out, "fetched %d users at %s UTC: %d fetches (%d with data) in %s; %d logged now, %d already in the fetch log\n",
		len(users), strings.Join(ts, ", "), n, nonNull, took.Round(time.Millisecond), len(fresh), len(again))
	return n, shown, nil
}

type loggedFetch struct {
	user string
	at   int64
}

// loggedFetches reads which (user_id, time) fetches of join the fetch log holds, decoding the keys
// with the published logging schemas.
func loggedFetches(ctx context.Context, target, join string) (map[loggedFetch]bool, error) {
	log, err := kv.OpenLog(ctx, target, kv.Options{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("the fetch log of %s: %w", kv.RedactURI(target), err)
	}
	defer log.Close()
	keySchemas := map[string]*online.AvroSchema{}
	var recs []kv.LogRecord
	err = log.Scan(ctx, []string{join, kv.SchemaPublishEvent}, func(r kv.LogRecord) error {
		if r.Name != kv.SchemaPublishEvent {
			recs = append(recs, r)
			return nil
		}
		var ls struct {
			JoinName  string `json:"join_name"`
			KeySchema string `json:"key_schema"`
		}
		if json.Unmarshal(r.ValueBytes, &ls) != nil {
			return nil // not ours to judge; log-flattener reports bad records
		}
		if s, err := online.ParseAvroSchema(ls.KeySchema); err == nil {
			keySchemas[string(r.KeyBytes)] = s
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("the fetch log of %s: %w", kv.RedactURI(target), err)
	}
	out := map[loggedFetch]bool{}
	for _, r := range recs {
		s := keySchemas[r.SchemaHash]
		if s == nil {
			continue
		}
		i := s.Fields().Index("user_id")
		row, err := s.Decode(r.KeyBytes)
		if i < 0 || err != nil {
			continue
		}
		if u, ok := row[i].(string); ok {
			out[loggedFetch{u, r.TsMillis}] = true
		}
	}
	return out, nil
}
