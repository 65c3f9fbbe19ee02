// Package gen writes a deterministic synthetic copy of the quickstart tables (spec §11.1, §11.3) at
// any size, for benchmarks: data.purchases, data.returns, data.checkouts and data.users.
//
// The shapes follow the sample data: user ids are decimal strings, ts is epoch millis, tables are
// partitioned by ds, and event partitions do not always hold their own day's events (half of the
// purchases and returns sit in a neighbouring day's partition), which is what makes partition-aware
// scanning matter. Checkouts, the join's left side, cover only the last few days of the range, and
// users is one snapshot partition dated the day before the last day.
//
// Every (table, partition) pair draws from its own random stream derived from the seed, so the
// output does not depend on how many goroutines write it: the same options give byte-identical
// Parquet files.
package gen

import (
	"errors"
	"fmt"
	"io"
	"math/bits"
	"math/rand/v2"
	"runtime"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/chronon-go/chronon/runtime/types"
	"github.com/chronon-go/chronon/runtime/warehouse"
)

// Rows per scale unit (--scale 1).
const (
	PurchasesPerScale = 10_000_000
	ReturnsPerScale   = 10_000_000
	CheckoutsPerScale = 1_000_000
	UsersPerScale     = 1_000_000
)

// Defaults for the date range.
const (
	DefaultDays         = 30
	DefaultEndDate      = "2023-11-30" // the quickstart's last partition
	DefaultCheckoutDays = 3
	DefaultNamespace    = "data"
)

// Counts are the rows per table.
type Counts struct {
	Purchases, Returns, Checkouts, Users int64
}

// Total is the number of rows over all tables.
func (c Counts) Total() int64 { return c.Purchases + c.Returns + c.Checkouts + c.Users }

// ScaledCounts is the default size for a scale factor: scale × (10M, 10M, 1M, 1M).
func ScaledCounts(scale float64) Counts {
	n := func(per int64) int64 { return int64(float64(per)*scale + 0.5) }
	return Counts{n(PurchasesPerScale), n(ReturnsPerScale), n(CheckoutsPerScale), n(UsersPerScale)}
}

// Options say what to generate. Zero values take the defaults.
type Options struct {
	// Scale sizes the tables when Counts is nil: Scale × (10M purchases, 10M returns, 1M checkouts,
	// 1M users). Zero means 1.
	Scale float64
	// Counts, when set, gives every table's row count (Scale is then ignored).
	Counts *Counts
	// Seed selects the data; the same seed and options give byte-identical files.
	Seed uint64
	// Days is the number of event partitions (default 30).
	Days int
	// StartDate or EndDate (yyyy-MM-dd) fix the range; EndDate wins if both are set. Default: it ends
	// on 2023-11-30 like the quickstart.
	StartDate, EndDate string
	// CheckoutDays is how many of the last days carry checkouts (default 3, at most Days).
	CheckoutDays int
	// Namespace of the four tables (default "data").
	Namespace string
	// Workers writing partitions in parallel (default 2 × GOMAXPROCS: each partition ends with an
	// fsync, and a spare worker keeps the CPU busy meanwhile).
	Workers int
	// Replace allows overwriting tables that chronon gen did not write (e.g. imported quickstart
	// data); without it Generate refuses, so a mistyped --warehouse cannot wipe real tables.
	Replace bool
	// Progress receives a one-line status, rewritten in place with \r, about five times a second;
	// nil is quiet. Give it a terminal only.
	Progress io.Writer
}

// TableResult describes one written table.
type TableResult struct {
	Table      string
	Rows       int64
	Partitions []string // in date order
}

// Result is what Generate wrote.
type Result struct {
	Tables    []TableResult // purchases, returns, checkouts, users
	Rows      int64
	StartDate string
	EndDate   string
	Elapsed   time.Duration
}

// RowsPerSecond is the generation rate, write included.
func (r *Result) RowsPerSecond() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Rows) / r.Elapsed.Seconds()
}

const dayMillis = 86_400_000

// Schemas of the generated tables (data columns; ds is the partition column). Types follow the
// quickstart loader: ts and *_price/*_amt are long, everything else string.
var (
	PurchasesSchema = types.Schema{{Name: "user_id", Type: types.StringType}, {Name: "purchase_price", Type: types.LongType}, {Name: "ts", Type: types.LongType}}
	ReturnsSchema   = types.Schema{{Name: "user_id", Type: types.StringType}, {Name: "refund_amt", Type: types.LongType}, {Name: "ts", Type: types.LongType}}
	CheckoutsSchema = types.Schema{{Name: "user_id", Type: types.StringType}, {Name: "ts", Type: types.LongType}}
	UsersSchema     = types.Schema{{Name: "user_id", Type: types.StringType}, {Name: "account_created_ds", Type: types.StringType}, {Name: "email_verified", Type: types.StringType}}
)

// plan is the resolved form of Options.
type plan struct {
	counts   Counts
	seed     uint64
	start    int64 // first day, days since epoch
	days     int
	coDays   int
	ns       string
	workers  int
	progress io.Writer
	// accountDates are the account_created_ds values users draw from.
	accountDates []string
}

func (o Options) plan() (*plan, error) {
	p := &plan{seed: o.Seed, days: o.Days, coDays: o.CheckoutDays, ns: o.Namespace, workers: o.Workers, progress: o.Progress}
	if p.days == 0 {
		p.days = DefaultDays
	}
	if p.days < 0 {
		return nil, fmt.Errorf("gen: days must be positive, got %d", p.days)
	}
	if p.coDays == 0 {
		p.coDays = DefaultCheckoutDays
	}
	if p.coDays < 0 {
		return nil, fmt.Errorf("gen: checkout days must be positive, got %d", p.coDays)
	}
	p.coDays = min(p.coDays, p.days)
	if p.ns == "" {
		p.ns = DefaultNamespace
	}
	if p.workers <= 0 {
		p.workers = 2 * runtime.GOMAXPROCS(0)
	}
	switch {
	case o.Counts != nil:
		p.counts = *o.Counts
		if c := p.counts; c.Purchases < 0 || c.Returns < 0 || c.Checkouts < 0 || c.Users < 0 {
			return nil, fmt.Errorf("gen: row counts must not be negative: %+v", c)
		}
	case o.Scale < 0:
		return nil, fmt.Errorf("gen: scale must not be negative, got %g", o.Scale)
	case o.Scale == 0:
		p.counts = ScaledCounts(1)
	default:
		p.counts = ScaledCounts(o.Scale)
	}
	if p.counts.Users == 0 && p.counts.Total() > 0 {
		return nil, errors.New("gen: events need users to refer to; ask for at least one user")
	}
	end := o.EndDate
	if end == "" && o.StartDate == "" {
		end = DefaultEndDate
	}
	if end != "" {
		d, err := parseDay(end)
		if err != nil {
			return nil, err
		}
		p.start = d - int64(p.days) + 1
	} else {
		d, err := parseDay(o.StartDate)
		if err != nil {
			return nil, err
		}
		p.start = d
	}
	p.makeAccountDates()
	return p, nil
}

func parseDay(s string) (int64, error) {
	t, err := time.Parse(warehouse.DateFormat, s)
	if err != nil {
		return 0, fmt.Errorf("gen: date %q is not yyyy-MM-dd", s)
	}
	return t.Unix() / 86400, nil
}

func dayString(d int64) string { return time.Unix(d*86400, 0).UTC().Format(warehouse.DateFormat) }

// job writes one partition of one table.
type job struct {
	t    *tableGen
	day  int64 // the partition, days since epoch
	part int   // partition index within the table (random stream id)
	rows int64
}

// tableGen knows how to fill one table's partitions.
type tableGen struct {
	id     uint64 // stream id, fixed per table so adding tables never changes the others
	name   string
	schema types.Schema
	rows   int64
	days   []int64
	fill   func(w *worker, j *job, n int)
	// written lists the partitions that get rows, in date order.
	written []string
}

// Generate writes the four tables into w, replacing them if they exist (other tables are untouched).
// Partitions are written in parallel, each in its own transaction, so a failure can leave a table
// with only some partitions: run it again.
func Generate(w *warehouse.Warehouse, opts Options) (*Result, error) {
	p, err := opts.plan()
	if err != nil {
		return nil, err
	}
	start := time.Now()
	tables := p.tables()
	if !opts.Replace {
		for _, t := range tables {
			if err := checkReplaceable(w, t.name); err != nil {
				return nil, err
			}
		}
	}
	var jobs []*job
	for _, t := range tables {
		if err := w.DropTable(t.name); err != nil {
			return nil, err
		}
		if t.rows == 0 {
			// An empty table still exists, with its schema, so readers see "no rows" not "no table".
			tx, err := w.Begin(t.name, t.spec())
			if err != nil {
				return nil, err
			}
			if err := tx.Commit(); err != nil {
				return nil, err
			}
			continue
		}
		n := int64(len(t.days))
		for i, d := range t.days {
			rows := t.rows / n
			if int64(i) < t.rows%n {
				rows++
			}
			if rows > 0 {
				jobs = append(jobs, &job{t: t, day: d, part: i, rows: rows})
				t.written = append(t.written, dayString(d))
			}
		}
	}
	// Largest first, so the single big users partition does not end up running alone at the end.
	sort.SliceStable(jobs, func(i, j int) bool { return jobs[i].rows > jobs[j].rows })

	var done atomic.Int64
	stopProgress := p.startProgress(&done, start)
	ch := make(chan *job)
	errs := make(chan error, p.workers)
	var wg sync.WaitGroup
	var failed atomic.Bool
	for range p.workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			wk := newWorker(p)
			for j := range ch {
				if failed.Load() {
					continue
				}
				if err := wk.run(w, j, &done); err != nil {
					failed.Store(true)
					errs <- err
				}
			}
		}()
	}
	for _, j := range jobs {
		ch <- j
	}
	close(ch)
	wg.Wait()
	stopProgress()
	close(errs)
	if err := <-errs; err != nil {
		return nil, err
	}
	res := &Result{StartDate: dayString(p.start), EndDate: dayString(p.start + int64(p.days) - 1), Elapsed: time.Since(start)}
	for _, t := range tables {
		res.Tables = append(res.Tables, TableResult{Table: t.name, Rows: t.rows, Partitions: t.written})
		res.Rows += t.rows
	}
	return res, nil
}

// GeneratedBy is the table property (key generatedByKey) that marks tables written by Generate.
const (
	generatedByKey = "generated_by"
	GeneratedBy    = "chronon gen"
)

func (t *tableGen) spec() warehouse.TableSpec {
	return warehouse.TableSpec{
		Schema:           t.schema,
		PartitionColumns: []string{warehouse.PartitionColumn},
		Properties:       map[string]string{generatedByKey: GeneratedBy},
	}
}

// ErrNotGenerated is matched (errors.Is) when a table exists that Generate did not write.
var ErrNotGenerated = errors.New("table was not written by chronon gen")

func checkReplaceable(w *warehouse.Warehouse, name string) error {
	if !w.Exists(name) {
		return nil
	}
	t, err := w.Table(name)
	if err != nil {
		return err
	}
	m, err := t.Meta()
	if err != nil {
		return err
	}
	if m == nil || m.Properties[generatedByKey] != GeneratedBy {
		return fmt.Errorf("gen: %s exists in %s and %w; use another warehouse (--warehouse) or allow replacing it (--replace)", name, w.Root, ErrNotGenerated)
	}
	return nil
}

func (p *plan) tables() []*tableGen {
	span := func(first int64, n int) []int64 {
		out := make([]int64, n)
		for i := range out {
			out[i] = first + int64(i)
		}
		return out
	}
	last := p.start + int64(p.days) - 1
	return []*tableGen{
		{id: 1, name: p.ns + ".purchases", schema: PurchasesSchema, rows: p.counts.Purchases, days: span(p.start, p.days), fill: fillEvents(500, 0)},
		{id: 2, name: p.ns + ".returns", schema: ReturnsSchema, rows: p.counts.Returns, days: span(p.start, p.days), fill: fillEvents(498, 1)},
		{id: 3, name: p.ns + ".checkouts", schema: CheckoutsSchema, rows: p.counts.Checkouts, days: span(last-int64(p.coDays)+1, p.coDays), fill: fillCheckouts},
		{id: 4, name: p.ns + ".users", schema: UsersSchema, rows: p.counts.Users, days: []int64{last - 1}, fill: fillUsers},
	}
}

// batchRows is the size of the reused batch buffer: large enough to amortise per-Write costs, small
// enough that a worker's memory stays a few MB.
const batchRows = 64 * 1024

// worker owns reusable buffers; one per goroutine.
type worker struct {
	p     *plan
	rng   *rand.PCG
	batch map[*tableGen]*types.Batch
	arena []byte // user id digits of the current batch; strings point into it until Write returns
	// userNext is the next id fillUsers writes (users go out in id order across batches).
	userNext uint64
	dates    []string // account_created_ds candidates, shared read-only
}

func newWorker(p *plan) *worker {
	return &worker{p: p, rng: rand.NewPCG(0, 0), batch: map[*tableGen]*types.Batch{}, dates: p.accountDates}
}

// Accounts were created between about six years and one month before the last day (the sample's
// account_created_ds spans 2018-09-14 .. 2023-11-04 for data ending 2023-11-30).
const (
	accountMaxAgeDays = 6 * 365
	accountMinAgeDays = 30
)

func (p *plan) makeAccountDates() {
	last := p.start + int64(p.days) - 1
	for d := last - accountMaxAgeDays; d <= last-accountMinAgeDays; d++ {
		p.accountDates = append(p.accountDates, dayString(d))
	}
}

func (wk *worker) run(w *warehouse.Warehouse, j *job, done *atomic.Int64) error {
	t := j.t
	// The stream depends on (seed, table, partition) only.
	wk.rng.Seed(mix(wk.p.seed^0x9e3779b97f4a7c15), mix(t.id<<32|uint64(j.part)))
	wk.userNext = 0
	b := wk.batch[t]
	if b == nil {
		b = types.NewBatch(t.schema, batchRows)
		wk.batch[t] = b
	}
	tx, err := w.Begin(t.name, t.spec())
	if err != nil {
		return err
	}
	vals := []string{dayString(j.day)}
	for left := j.rows; left > 0; {
		n := int(min(left, batchRows))
		for _, c := range b.Cols {
			c.Strs, c.Ints = c.Strs[:0], c.Ints[:0]
		}
		wk.arena = wk.arena[:0]
		t.fill(wk, j, n)
		if err := tx.Write(vals, b); err != nil {
			tx.Abort()
			return fmt.Errorf("gen: %s partition %s: %w", t.name, vals[0], err)
		}
		left -= int64(n)
		done.Add(int64(n))
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("gen: %s partition %s: %w", t.name, vals[0], err)
	}
	return nil
}

// mix is splitmix64's finaliser: it spreads small ids over all 64 bits before seeding PCG.
func mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// below returns a number in [0, n) from 64 random bits (Lemire's multiply-shift; the bias is below
// 2^-32 for every n used here and, more importantly, it is deterministic).
func below(r uint64, n uint64) uint64 {
	hi, _ := bits.Mul64(r, n)
	return hi
}

// userID appends the decimal id to the arena and returns a string viewing those bytes, so a batch of
// ids costs no allocation. The arena is reset for the next batch only after Write returned, by which
// time the Parquet writer has copied the bytes into its own buffers.
func (wk *worker) userID(u uint64) string {
	if cap(wk.arena)-len(wk.arena) < 20 {
		// First use, or ids wider than planned: growing moves the arena, which is still safe
		// because the strings made so far keep the old array alive.
		wk.arena = append(make([]byte, 0, max(2*cap(wk.arena), batchRows*12)), wk.arena...)
	}
	start := len(wk.arena)
	wk.arena = strconv.AppendUint(wk.arena, u, 10)
	s := wk.arena[start:]
	return unsafe.String(&s[0], len(s))
}

// fillEvents generates purchases or returns: amount uniform in [minAmt, minAmt+span), ts on whole
// seconds, a uniformly chosen user. Half of a partition's events happened on its own day, a quarter
// on the day before and a quarter on the day after (shifted inward at the edges of the range, so
// every ts falls inside it).
func fillEvents(span uint64, minAmt int64) func(wk *worker, j *job, n int) {
	return func(wk *worker, j *job, n int) {
		p, rng, b := wk.p, wk.rng, wk.batch[j.t]
		users := uint64(p.counts.Users)
		first, last := p.start, p.start+int64(p.days)-1
		ids, amts, tss := b.Cols[0].Strs, b.Cols[1].Ints, b.Cols[2].Ints
		for range n {
			r1, r2 := rng.Uint64(), rng.Uint64()
			day := j.day
			switch r1 >> 62 {
			case 2:
				day--
			case 3:
				day++
			}
			if day < first {
				day = j.day + 1
			}
			if day > last {
				day = j.day - 1
			}
			if day < first { // a one-day range
				day = j.day
			}
			sec := int64(below(r1<<2, 86400))
			ids = append(ids, wk.userID(below(r2, users)))
			amts = append(amts, minAmt+int64(below(r2<<32|r1&0xffffffff, span)))
			tss = append(tss, day*dayMillis+sec*1000)
		}
		b.Cols[0].Strs, b.Cols[1].Ints, b.Cols[2].Ints = ids, amts, tss
	}
}

// fillCheckouts generates the left side: ds always equals day(ts), ts has millisecond precision.
func fillCheckouts(wk *worker, j *job, n int) {
	rng, b := wk.rng, wk.batch[j.t]
	users := uint64(wk.p.counts.Users)
	ids, tss := b.Cols[0].Strs, b.Cols[1].Ints
	for range n {
		r := rng.Uint64()
		ids = append(ids, wk.userID(below(r, users)))
		tss = append(tss, j.day*dayMillis+int64(below(rng.Uint64(), dayMillis)))
	}
	b.Cols[0].Strs, b.Cols[1].Ints = ids, tss
}

// fillUsers writes every user once, in id order, continuing where the previous batch stopped.
func fillUsers(wk *worker, j *job, n int) {
	rng, b := wk.rng, wk.batch[j.t]
	ids, created, verified := b.Cols[0].Strs, b.Cols[1].Strs, b.Cols[2].Strs
	for range n {
		r := rng.Uint64()
		ids = append(ids, wk.userID(wk.userNext))
		wk.userNext++
		created = append(created, wk.dates[below(r, uint64(len(wk.dates)))])
		// About 52% verified, as in the sample (52 of 101).
		if r&0xffff < 34079 {
			verified = append(verified, "1")
		} else {
			verified = append(verified, "0")
		}
	}
	b.Cols[0].Strs, b.Cols[1].Strs, b.Cols[2].Strs = ids, created, verified
}

// startProgress prints the status line until the returned function is called.
func (p *plan) startProgress(done *atomic.Int64, start time.Time) func() {
	if p.progress == nil {
		return func() {}
	}
	total := p.counts.Total()
	stop := make(chan struct{})
	finished := make(chan struct{})
	print := func() {
		n := done.Load()
		el := time.Since(start).Seconds()
		rate := 0.0
		if el > 0 {
			rate = float64(n) / el
		}
		pct := 100.0
		if total > 0 {
			pct = 100 * float64(n) / float64(total)
		}
		fmt.Fprintf(p.progress, "\r\033[Kgen: %s / %s rows (%.0f%%), %s rows/s", human(n), human(total), pct, human(int64(rate)))
	}
	go func() {
		defer close(finished)
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				print()
				fmt.Fprintln(p.progress)
				return
			case <-tick.C:
				print()
			}
		}
	}()
	return func() { close(stop); <-finished }
}

// human renders 12345678 as 12.3M.
func human(n int64) string {
	switch {
	case n >= 1e9:
		return fmt.Sprintf("%.2fG", float64(n)/1e9)
	case n >= 1e6:
		return fmt.Sprintf("%.1fM", float64(n)/1e6)
	case n >= 1e4:
		return fmt.Sprintf("%.1fk", float64(n)/1e3)
	}
	return strconv.FormatInt(n, 10)
}
