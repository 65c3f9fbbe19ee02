package backfill

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chronon-go/chronon/runtime/types"
	"github.com/chronon-go/chronon/runtime/warehouse"
	"github.com/chronon-go/chronon/thrift/api"
	"github.com/chronon-go/chronon/thrift/conf"
)

// quickstartWarehouse imports the tutorial's sample data (spec §11.1) into a fresh warehouse.
func quickstartWarehouse(t *testing.T) *warehouse.Warehouse {
	t.Helper()
	w, err := warehouse.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"purchases", "returns", "users", "checkouts"} {
		_, err := w.Import(warehouse.ImportOptions{Table: "data." + name, Files: []string{filepath.Join(repoRoot(), "data", "quickstart", name+".csv")}})
		if err != nil {
			t.Fatal(err)
		}
	}
	return w
}

func readConf[T any](t *testing.T, rel string) (*T, *conf.Order) {
	t.Helper()
	v := new(T)
	o, err := conf.ReadFile(filepath.Join(repoRoot(), rel), v)
	if err != nil {
		t.Fatal(err)
	}
	return v, o
}

func readTable(t *testing.T, w *warehouse.Warehouse, name string) *types.Batch {
	t.Helper()
	tb, err := w.Table(name)
	if err != nil {
		t.Fatal(err)
	}
	r, err := tb.Read(warehouse.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	b, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The quickstart training set v1 has 200 rows and the 25 columns of spec §11.2, and the row of user 24
// at 2023-11-30 05:01:15.364 equals the verified values there.
func TestQuickstartTrainingSet(t *testing.T) {
	w := quickstartWarehouse(t)
	j, o := readConf[api.Join](t, "production/joins/quickstart/training_set.v1")
	var log strings.Builder
	if err := RunJoin(context.Background(), w, j, o, JoinOptions{EndDate: "2023-11-30", Log: &log}); err != nil {
		t.Fatal(err)
	}
	b := readTable(t, w, "default.quickstart_training_set_v1")
	if b.Len() != 200 {
		t.Errorf("%d rows, want 200", b.Len())
	}
	var got []string
	for _, f := range b.Schema {
		got = append(got, f.Name+" "+f.Type.String())
	}
	want := "user_id string, ts bigint, " +
		"quickstart_purchases_v1_purchase_price_sum_3d bigint, quickstart_purchases_v1_purchase_price_sum_14d bigint, quickstart_purchases_v1_purchase_price_sum_30d bigint, " +
		"quickstart_purchases_v1_purchase_price_count_3d bigint, quickstart_purchases_v1_purchase_price_count_14d bigint, quickstart_purchases_v1_purchase_price_count_30d bigint, " +
		"quickstart_purchases_v1_purchase_price_average_3d double, quickstart_purchases_v1_purchase_price_average_14d double, quickstart_purchases_v1_purchase_price_average_30d double, " +
		"quickstart_purchases_v1_purchase_price_last10 array<bigint>, " +
		"quickstart_returns_v1_refund_amt_sum_3d bigint, quickstart_returns_v1_refund_amt_sum_14d bigint, quickstart_returns_v1_refund_amt_sum_30d bigint, " +
		"quickstart_returns_v1_refund_amt_count_3d bigint, quickstart_returns_v1_refund_amt_count_14d bigint, quickstart_returns_v1_refund_amt_count_30d bigint, " +
		"quickstart_returns_v1_refund_amt_average_3d double, quickstart_returns_v1_refund_amt_average_14d double, quickstart_returns_v1_refund_amt_average_30d double, " +
		"quickstart_returns_v1_refund_amt_last2 array<bigint>, " +
		"quickstart_users_v1_account_created_ds string, quickstart_users_v1_email_verified string, ds string"
	if strings.Join(got, ", ") != want {
		t.Errorf("columns:\n%s\nwant:\n%s", strings.Join(got, ", "), want)
	}
	row := -1
	for i := 0; i < b.Len(); i++ {
		if b.Col("user_id").Strs[i] == "24" && b.Col("ts").Ints[i] == 1701320475364 {
			row = i
		}
	}
	if row < 0 {
		t.Fatal("no row for user 24 at 1701320475364")
	}
	var vals []string
	for i := 2; i < len(b.Schema); i++ {
		vals = append(vals, showValue(b.Cols[i].Value(row)))
	}
	wantRow := "331 1574 1934 1 4 5 331 393.5 386.8 [331 474 497 272 360] " +
		"null 76 645 null 1 3 null 76 215 [76 388] 2023-07-01 0 2023-11-30"
	if g := strings.Join(vals, " "); g != wantRow {
		t.Errorf("user 24 row:\n%s\nwant:\n%s", g, wantRow)
	}
	// A second run finds nothing to do; --force recomputes the same rows.
	log.Reset()
	if err := RunJoin(context.Background(), w, j, o, JoinOptions{EndDate: "2023-11-30", Log: &log}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log.String(), "up to date") {
		t.Errorf("second run: %s", log.String())
	}
}

func showValue(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = showValue(e)
		}
		return "[" + strings.Join(parts, " ") + "]"
	case float64:
		return fmt.Sprint(x)
	}
	return fmt.Sprint(v)
}

// The GroupBy backfill writes one snapshot row per key with data (spec §4.3).
func TestQuickstartGroupByBackfill(t *testing.T) {
	w := quickstartWarehouse(t)
	gb, o := readConf[api.GroupBy](t, "production/group_bys/quickstart/purchases.v1")
	if err := RunGroupBy(context.Background(), w, gb, o, JoinOptions{EndDate: "2023-11-30"}); err != nil {
		t.Fatal(err)
	}
	b := readTable(t, w, "default.quickstart_purchases_v1")
	if b.Len() != 101 {
		t.Errorf("%d rows, want one per user (101)", b.Len())
	}
	// User 24 as of the end of 2023-11-30 (the 8 purchases in partition 11-30 now count).
	for i := 0; i < b.Len(); i++ {
		if b.Col("user_id").Strs[i] == "24" {
			if v := showValue(b.Col("purchase_price_count_30d").Value(i)); v == "null" {
				t.Errorf("user 24 has no purchases in 30 days")
			}
		}
	}
	users, uo := readConf[api.GroupBy](t, "production/group_bys/quickstart/users.v1")
	if err := RunGroupBy(context.Background(), w, users, uo, JoinOptions{EndDate: "2023-11-29"}); err != nil {
		t.Fatal(err)
	}
	if b := readTable(t, w, "default.quickstart_users_v1"); b.Len() != 101 || strings.Join(b.Schema.Names(), ",") != "user_id,account_created_ds,email_verified,ds" {
		t.Errorf("users snapshot: %d rows, columns %v", b.Len(), b.Schema.Names())
	}
}
