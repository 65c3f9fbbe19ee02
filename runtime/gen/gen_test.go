package gen

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chronon-go/chronon/runtime/types"
	"github.com/chronon-go/chronon/runtime/warehouse"
)

// hashTables hashes every table file under the generated namespace: relative partition directory
// plus content. File names are left out because they carry the staging directory's random suffix.
func hashTables(t *testing.T, root string) string {
	t.Helper()
	type entry struct{ key, sum string }
	var entries []entry
	err := filepath.WalkDir(filepath.Join(root, "data"), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		sum := sha256.Sum256(data)
		entries = append(entries, entry{filepath.Dir(rel) + "/" + ext(rel), hex.EncodeToString(sum[:])})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(entries, func(a, b entry) int { return strings.Compare(a.key+a.sum, b.key+b.sum) })
	h := sha256.New()
	for _, e := range entries {
		io.WriteString(h, e.key+" "+e.sum+"\n")
	}
	return hex.EncodeToString(h.Sum(nil))
}

func ext(p string) string {
	if strings.HasSuffix(p, ".parquet") {
		return "*.parquet"
	}
	return filepath.Base(p)
}

func generate(t *testing.T, opts Options) (*warehouse.Warehouse, *Result) {
	t.Helper()
	w, err := warehouse.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	res, err := Generate(w, opts)
	if err != nil {
		t.Fatal(err)
	}
	return w, res
}

func TestSameSeedSameBytes(t *testing.T) {
	counts := &Counts{Purchases: 30_000, Returns: 20_000, Checkouts: 3_000, Users: 2_000}
	w1, _ := generate(t, Options{Counts: counts, Seed: 7, Workers: 1})
	w2, _ := generate(t, Options{Counts: counts, Seed: 7, Workers: 5})
	w3, _ := generate(t, Options{Counts: counts, Seed: 8})
	h1, h2, h3 := hashTables(t, w1.Root), hashTables(t, w2.Root), hashTables(t, w3.Root)
	if h1 != h2 {
		t.Errorf("same seed, different worker counts: %s vs %s", h1, h2)
	}
	if h1 == h3 {
		t.Errorf("seeds 7 and 8 produced identical data")
	}
}

func readAll(t *testing.T, w *warehouse.Warehouse, table string) *types.Batch {
	t.Helper()
	tb, err := w.Table(table)
	if err != nil {
		t.Fatal(err)
	}
	r, err := tb.Read(warehouse.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func day(ms int64) string { return time.UnixMilli(ms).UTC().Format(warehouse.DateFormat) }

func TestScaleCountsSchemasAndShapes(t *testing.T) {
	w, res := generate(t, Options{Scale: 0.001, Seed: 1})
	t.Logf("scale 0.001: %d rows in %v", res.Rows, res.Elapsed)
	want := map[string]int64{"data.purchases": 10_000, "data.returns": 10_000, "data.checkouts": 1_000, "data.users": 1_000}
	schemas := map[string]types.Schema{"data.purchases": PurchasesSchema, "data.returns": ReturnsSchema, "data.checkouts": CheckoutsSchema, "data.users": UsersSchema}
	if res.Rows != 22_000 || res.StartDate != "2023-11-01" || res.EndDate != "2023-11-30" {
		t.Errorf("result %d rows, %s..%s", res.Rows, res.StartDate, res.EndDate)
	}
	users := map[string]bool{}
	for _, tr := range res.Tables {
		b := readAll(t, w, tr.Table)
		if int64(b.Len()) != want[tr.Table] || tr.Rows != want[tr.Table] {
			t.Errorf("%s: read %d rows, result says %d, want %d", tr.Table, b.Len(), tr.Rows, want[tr.Table])
		}
		wantSchema := append(slices.Clone(schemas[tr.Table]), types.Field{Name: "ds", Type: types.StringType})
		if got := b.Schema; len(got) != len(wantSchema) {
			t.Errorf("%s schema %v, want %v", tr.Table, got.Names(), wantSchema.Names())
		} else {
			for i := range got {
				if got[i].Name != wantSchema[i].Name || !got[i].Type.Equal(wantSchema[i].Type) {
					t.Errorf("%s column %d: %s %s, want %s %s", tr.Table, i, got[i].Name, got[i].Type, wantSchema[i].Name, wantSchema[i].Type)
				}
			}
		}
		ds := b.Col("ds").Strs
		switch tr.Table {
		case "data.users":
			if len(tr.Partitions) != 1 || tr.Partitions[0] != "2023-11-29" {
				t.Errorf("users partitions %v, want [2023-11-29]", tr.Partitions)
			}
			verified := 0
			for i, id := range b.Col("user_id").Strs {
				if users[id] {
					t.Fatalf("user %s twice", id)
				}
				users[id] = true
				if b.Col("email_verified").Strs[i] == "1" {
					verified++
				} else if b.Col("email_verified").Strs[i] != "0" {
					t.Fatalf("email_verified %q", b.Col("email_verified").Strs[i])
				}
				if c := b.Col("account_created_ds").Strs[i]; c < "2017-12-01" || c > "2023-10-31" {
					t.Fatalf("account_created_ds %s", c)
				}
			}
			if verified < 400 || verified > 640 {
				t.Errorf("%d of 1000 users verified, want about 52%%", verified)
			}
		case "data.checkouts":
			if !slices.Equal(tr.Partitions, []string{"2023-11-28", "2023-11-29", "2023-11-30"}) {
				t.Errorf("checkout partitions %v", tr.Partitions)
			}
			for i, ts := range b.Col("ts").Ints {
				if day(ts) != ds[i] {
					t.Fatalf("checkout ts %d in partition %s", ts, ds[i])
				}
			}
		default:
			if len(tr.Partitions) != 30 || tr.Partitions[0] != "2023-11-01" || tr.Partitions[29] != "2023-11-30" {
				t.Errorf("%s partitions %v", tr.Table, tr.Partitions)
			}
			amt := b.Cols[1].Ints
			other := 0
			for i, ts := range b.Col("ts").Ints {
				d := day(ts)
				if d < "2023-11-01" || d > "2023-11-30" {
					t.Fatalf("%s ts %d (%s) outside the range", tr.Table, ts, d)
				}
				if d != ds[i] {
					other++
					dd, _ := time.Parse(warehouse.DateFormat, d)
					pd, _ := time.Parse(warehouse.DateFormat, ds[i])
					if diff := dd.Sub(pd); diff != 24*time.Hour && diff != -24*time.Hour {
						t.Fatalf("%s: ts on %s in partition %s, not a neighbouring day", tr.Table, d, ds[i])
					}
				}
				if amt[i] < 0 || amt[i] > 499 {
					t.Fatalf("%s amount %d", tr.Table, amt[i])
				}
				if ts%1000 != 0 {
					t.Fatalf("%s ts %d is not on a whole second", tr.Table, ts)
				}
			}
			// About half of the events sit in a neighbouring day's partition.
			if other < 4000 || other > 6000 {
				t.Errorf("%s: %d of 10000 rows have ds != day(ts), want about half", tr.Table, other)
			}
		}
	}
	for _, table := range []string{"data.purchases", "data.returns", "data.checkouts"} {
		for _, id := range readAll(t, w, table).Col("user_id").Strs {
			if !users[id] {
				t.Fatalf("%s refers to unknown user %q", table, id)
			}
		}
	}
}

func TestExplicitCountsRangeAndReplace(t *testing.T) {
	w, _ := generate(t, Options{Counts: &Counts{Purchases: 100, Returns: 100, Checkouts: 10, Users: 10}, Seed: 3})
	// A second, smaller run replaces the tables entirely: no stale partitions survive.
	res, err := Generate(w, Options{Counts: &Counts{Purchases: 7, Returns: 0, Checkouts: 5, Users: 3}, Seed: 3, Days: 5, StartDate: "2024-02-27", CheckoutDays: 10})
	if err != nil {
		t.Fatal(err)
	}
	if res.StartDate != "2024-02-27" || res.EndDate != "2024-03-02" {
		t.Errorf("range %s..%s", res.StartDate, res.EndDate)
	}
	p := readAll(t, w, "data.purchases")
	if p.Len() != 7 {
		t.Errorf("purchases: %d rows", p.Len())
	}
	tb, _ := w.Table("data.purchases")
	dates, _ := tb.PartitionDates()
	if !slices.Equal(dates, []string{"2024-02-27", "2024-02-28", "2024-02-29", "2024-03-01", "2024-03-02"}) {
		t.Errorf("purchase partitions %v", dates)
	}
	if !w.Exists("data.returns") || readAll(t, w, "data.returns").Len() != 0 {
		t.Errorf("returns should exist and be empty")
	}
	// CheckoutDays is capped at Days.
	if c := readAll(t, w, "data.checkouts"); c.Len() != 5 || res.Tables[2].Partitions[0] != "2024-02-27" {
		t.Errorf("checkouts: %d rows, partitions %v", c.Len(), res.Tables[2].Partitions)
	}
	u := readAll(t, w, "data.users")
	if u.Len() != 3 || u.Col("ds").Strs[0] != "2024-03-01" || !slices.Equal(u.Col("user_id").Strs, []string{"0", "1", "2"}) {
		t.Errorf("users: %v in %v", u.Col("user_id").Strs, u.Col("ds").Strs)
	}
}

func TestManyBatchesPerPartition(t *testing.T) {
	w, _ := generate(t, Options{Counts: &Counts{Purchases: 2*batchRows + 17, Users: 1000}, Seed: 1, Days: 1})
	b := readAll(t, w, "data.purchases")
	if b.Len() != 2*batchRows+17 {
		t.Fatalf("%d rows", b.Len())
	}
	for _, id := range b.Col("user_id").Strs {
		if n, err := strconv.ParseInt(id, 10, 64); err != nil || n < 0 || n >= 1000 {
			t.Fatalf("user id %q", id)
		}
	}
}

func TestOptionErrors(t *testing.T) {
	w, _ := warehouse.Open(t.TempDir())
	for _, o := range []Options{
		{Scale: -1},
		{Days: -2},
		{Counts: &Counts{Purchases: 1}},
		{Counts: &Counts{Users: -1}},
		{EndDate: "2023-13-01"},
		{StartDate: "yesterday"},
	} {
		if _, err := Generate(w, o); err == nil {
			t.Errorf("%+v: no error", o)
		}
	}
}

func TestRefusesToReplaceOtherTables(t *testing.T) {
	w, err := warehouse.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	spec := warehouse.TableSpec{Schema: CheckoutsSchema, PartitionColumns: []string{"ds"}}
	b := types.NewBatch(CheckoutsSchema, 1)
	b.Cols[0].Append("1")
	b.Cols[1].Append(int64(1))
	if err := w.WritePartition("data.checkouts", spec, []string{"2023-11-30"}, b); err != nil {
		t.Fatal(err)
	}
	small := &Counts{Purchases: 10, Returns: 10, Checkouts: 10, Users: 10}
	if _, err := Generate(w, Options{Counts: small}); !errors.Is(err, ErrNotGenerated) {
		t.Fatalf("err = %v, want ErrNotGenerated", err)
	}
	if w.Exists("data.purchases") {
		t.Errorf("nothing should be written when a table is protected")
	}
	if _, err := Generate(w, Options{Counts: small, Replace: true}); err != nil {
		t.Fatal(err)
	}
	// Generated tables may be regenerated freely.
	if _, err := Generate(w, Options{Counts: small, Seed: 2}); err != nil {
		t.Fatal(err)
	}
}
