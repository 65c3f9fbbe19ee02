package consistency

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/chronon-go/chronon/runtime/types"
)

// sideSchema is a comparison (offline) or flattened-log (online) table's columns: the keys ts, ds,
// user_id and one feature per kind of spec §8.5 (numeric long and double, string, list, map, boolean).
var sideSchema = types.Schema{
	{Name: "user_id", Type: types.StringType},
	{Name: "ts", Type: types.LongType},
	{Name: "num", Type: types.LongType},
	{Name: "dbl", Type: types.DoubleType},
	{Name: "str", Type: types.StringType},
	{Name: "lst", Type: types.ListOf(types.LongType)},
	{Name: "mp", Type: types.MapOf(types.StringType, types.LongType)},
	{Name: "flag", Type: types.BooleanType},
	{Name: "ds", Type: types.StringType},
}

var testKeys = []string{"ts", "ds", "user_id"}

func m(kv ...any) *types.MapValue {
	mv := &types.MapValue{}
	for i := 0; i < len(kv); i += 2 {
		mv.Keys = append(mv.Keys, kv[i])
		mv.Values = append(mv.Values, kv[i+1])
	}
	return mv
}

func l(vs ...int64) []any {
	out := []any{}
	for _, v := range vs {
		out = append(out, v)
	}
	return out
}

func batchOf(rows ...[]any) *types.Batch {
	b := types.NewBatch(sideSchema, len(rows))
	for _, r := range rows {
		for i, v := range r {
			b.Cols[i].Append(v)
		}
	}
	return b
}

// rep is n copies of v (percentile lists).
func rep(parts ...any) []any {
	var out []any
	for i := 0; i < len(parts); i += 2 {
		for n := 0; n < parts[i+1].(int); n++ {
			out = append(out, parts[i])
		}
	}
	return out
}

// The metrics of spec §8.5 on a hand-made comparison, every value worked out by hand below. Hour
// 10:00 holds four compared rows (a matched equal row, a matched row differing in every feature,
// an offline-only row and an online-only row); hour 11:00 one equal row of zeros. Percentiles: with
// n ≤ k=128 values the sketch is exact, p=0 → min, p=1 → max, else sorted[floor(p·n)] (spec §5),
// over the 42 percentiles i/41.
func TestMetricsByHand(t *testing.T) {
	h10, h11 := millis("2023-12-01T10:00:00Z"), millis("2023-12-01T11:00:00Z")
	const day = "2023-12-01"
	offline := batchOf(
		[]any{"a", h10 + 300_000, int64(10), 1.5, "x", l(1, 2, 3), m("b", int64(2), "a", int64(1)), true, day},
		[]any{"b", h10 + 600_000, int64(4), nil, "y", l(1, 2), m("a", int64(1)), false, day},
		[]any{"c", h10 + 1_200_000, int64(5), -1.0, nil, l(), nil, true, day},
		[]any{"a", h11, int64(0), 0.0, "", l(7), m("c", int64(3)), false, day},
	)
	online := batchOf(
		[]any{"a", h11, int64(0), 0.0, "", l(7), m("c", int64(3)), false, day},
		[]any{"d", h10 + 1_800_000, nil, 3.0, "w", nil, m(), false, day},
		[]any{"b", h10 + 600_000, int64(2), 2.0, "z", l(2, 3, 4), m("a", int64(2)), nil, day},
		[]any{"a", h10 + 300_000, int64(10), 1.5, "x", l(1, 2, 3), m("a", int64(1), "b", int64(2)), true, day},
	)
	p, err := newMetricsPlan("team/join.v1", testKeys, sideSchema, "offline", sideSchema, "online")
	if err != nil {
		t.Fatal(err)
	}
	out, err := p.compute(offline, online)
	if err != nil {
		t.Fatal(err)
	}
	wantCols := []string{"JoinPath",
		"num_both_null_sum", "num_left_null_sum", "num_right_null_sum", "num_smape_average",
		"num_left_minus_right_approx_percentile", "num_left_approx_percentile", "num_right_approx_percentile",
		"num_mismatch_sum", "num_total_count",
		"dbl_both_null_sum", "dbl_left_null_sum", "dbl_right_null_sum", "dbl_smape_average",
		"dbl_left_minus_right_approx_percentile", "dbl_left_approx_percentile", "dbl_right_approx_percentile",
		"dbl_mismatch_sum", "dbl_total_count",
		"str_both_null_sum", "str_left_null_sum", "str_right_null_sum", "str_mismatch_sum", "str_total_count",
		"lst_both_null_sum", "lst_left_null_sum", "lst_right_null_sum",
		"lst_edit_distance_insert_approx_percentile", "lst_edit_distance_delete_approx_percentile",
		"lst_left_length_approx_percentile", "lst_right_length_approx_percentile", "lst_mismatch_length_sum",
		"lst_mismatch_sum", "lst_total_count",
		"mp_both_null_sum", "mp_left_null_sum", "mp_right_null_sum", "mp_mismatch_sum", "mp_total_count",
		"flag_both_null_sum", "flag_left_null_sum", "flag_right_null_sum", "flag_mismatch_sum", "flag_total_count",
		"ts", "ds"}
	if got := out.Schema.Names(); !reflect.DeepEqual(got, wantCols) {
		t.Fatalf("columns:\n%v\nwant\n%v", got, wantCols)
	}
	// Types: SUM of booleans → bigint, AVERAGE → double, COUNT → bigint, percentiles → array<float>.
	for _, f := range out.Schema {
		want := map[bool]string{true: "bigint"}[strings.HasSuffix(f.Name, "_sum") || strings.HasSuffix(f.Name, "_count")]
		switch {
		case strings.HasSuffix(f.Name, "_average"):
			want = "double"
		case strings.HasSuffix(f.Name, "_approx_percentile"):
			want = "array<float>"
		case f.Name == "ts":
			want = "bigint"
		case f.Name == "JoinPath" || f.Name == "ds":
			want = "string"
		}
		if f.Type.String() != want {
			t.Errorf("column %s is %s, want %s", f.Name, f.Type, want)
		}
	}
	if out.Len() != 2 {
		t.Fatalf("%d buckets, want 2", out.Len())
	}
	zeros := rep(0.0, 42)
	want10 := map[string]any{
		"JoinPath": "team/join.v1", "ts": h10, "ds": day,
		// num (long): a 10/10, b 4/2, c 5/–(offline only), d –/null (online only, so both null).
		"num_both_null_sum": int64(1), "num_left_null_sum": int64(0), "num_right_null_sum": int64(1),
		// smape: b 2·|4−2|/(4+2) = 2/3, the others 0 (equal, or a side null) → (2/3)/4.
		"num_smape_average": (2.0 / 3.0) / 4,
		// l−r over matched non-null rows: {0, 2}; floor(p·2) < 1 for i ≤ 20.
		"num_left_minus_right_approx_percentile": rep(0.0, 21, 2.0, 21),
		// left {10, 4, 5} sorted {4, 5, 10}: i/41 < 1/3 for i ≤ 13, < 2/3 for i ≤ 27.
		"num_left_approx_percentile":  rep(4.0, 14, 5.0, 14, 10.0, 14),
		"num_right_approx_percentile": rep(2.0, 21, 10.0, 21),
		"num_mismatch_sum":            int64(1), "num_total_count": int64(4),
		// dbl: a 1.5/1.5, b null/2.0, c −1.0/–, d –/3.0.
		"dbl_both_null_sum": int64(0), "dbl_left_null_sum": int64(2), "dbl_right_null_sum": int64(1),
		"dbl_smape_average": 0.0, "dbl_left_minus_right_approx_percentile": zeros,
		"dbl_left_approx_percentile":  rep(-1.0, 21, 1.5, 21),
		"dbl_right_approx_percentile": rep(1.5, 14, 2.0, 14, 3.0, 14),
		"dbl_mismatch_sum":            int64(0), "dbl_total_count": int64(4),
		// str: a x/x, b y/z, c null/–, d –/w.
		"str_both_null_sum": int64(1), "str_left_null_sum": int64(1), "str_right_null_sum": int64(0),
		"str_mismatch_sum": int64(1), "str_total_count": int64(4),
		// lst: a [1,2,3]/[1,2,3], b [1,2]/[2,3,4], c []/–, d –/null.
		"lst_both_null_sum": int64(1), "lst_left_null_sum": int64(0), "lst_right_null_sum": int64(1),
		// edit distance right→left: b inserts 1, deletes 3 and 4 → (1, 2); the others (0, 0).
		// {0,1,0,0}: floor(p·4) < 3 for i ≤ 30.
		"lst_edit_distance_insert_approx_percentile": rep(0.0, 31, 1.0, 11),
		"lst_edit_distance_delete_approx_percentile": rep(0.0, 31, 2.0, 11),
		// sizes, a null list counting −1 (Spark's size(null)): left {3, 2, 0, −1}, right {3, 3, −1, −1}.
		"lst_left_length_approx_percentile":  rep(-1.0, 11, 0.0, 10, 2.0, 10, 3.0, 11),
		"lst_right_length_approx_percentile": rep(-1.0, 21, 3.0, 21),
		"lst_mismatch_length_sum":            int64(1), "lst_mismatch_sum": int64(1), "lst_total_count": int64(4),
		// mp: a equal up to entry order (compared as sorted JSON), b {a:1}/{a:2}, c null/–, d –/{}.
		"mp_both_null_sum": int64(1), "mp_left_null_sum": int64(1), "mp_right_null_sum": int64(0),
		"mp_mismatch_sum": int64(1), "mp_total_count": int64(4),
		// flag: a true/true, b false/null, c true/–, d –/false.
		"flag_both_null_sum": int64(0), "flag_left_null_sum": int64(1), "flag_right_null_sum": int64(2),
		"flag_mismatch_sum": int64(0), "flag_total_count": int64(4),
	}
	want11 := map[string]any{"JoinPath": "team/join.v1", "ts": h11, "ds": day}
	for _, f := range []string{"num", "dbl", "str", "lst", "mp", "flag"} {
		for _, s := range []string{"_both_null_sum", "_left_null_sum", "_right_null_sum", "_mismatch_sum"} {
			want11[f+s] = int64(0)
		}
		want11[f+"_total_count"] = int64(1)
	}
	// 0 vs 0: the SMAPE denominator is 0, so 0.0.
	for _, f := range []string{"num", "dbl"} {
		want11[f+"_smape_average"] = 0.0
		for _, s := range []string{"_left_minus_right", "_left", "_right"} {
			want11[f+s+"_approx_percentile"] = zeros
		}
	}
	want11["lst_edit_distance_insert_approx_percentile"] = zeros
	want11["lst_edit_distance_delete_approx_percentile"] = zeros
	want11["lst_left_length_approx_percentile"] = rep(1.0, 42)
	want11["lst_right_length_approx_percentile"] = rep(1.0, 42)
	want11["lst_mismatch_length_sum"] = int64(0)
	for row, want := range []map[string]any{want10, want11} {
		for c, f := range out.Schema {
			w, ok := want[f.Name]
			if !ok {
				t.Errorf("hour %d: no expectation for %s", row, f.Name)
				continue
			}
			if got := out.Cols[c].Value(row); !reflect.DeepEqual(got, w) {
				t.Errorf("hour %d: %s = %v, want %v", row, f.Name, got, w)
			}
		}
	}
}

// Acceptance of spec §8.5: when both sides agree every mismatch and null-mismatch count is 0; a
// single planted wrong online value is counted once, for exactly that feature.
func TestMetricsPlantedMismatch(t *testing.T) {
	base := millis("2023-12-01T00:00:00Z")
	var rows [][]any
	for i := 0; i < 300; i++ {
		ts := base + int64(i)*997_000 // spreads over several hours
		var lst any                   // null for every third row
		if i%3 != 0 {
			lst = l(int64(i), int64(i+1))
		}
		var num any = int64(i * 7)
		if i%5 == 0 {
			num = nil // nulls on both sides agree
		}
		rows = append(rows, []any{fmt.Sprint("u", i%17), ts, num, float64(i) / 3, fmt.Sprint("s", i%4), lst, m("k", int64(i)), i%2 == 0, dayOf(ts)})
	}
	clone := func(rows [][]any) *types.Batch {
		var cp [][]any
		for _, r := range rows {
			cp = append(cp, append([]any(nil), r...))
		}
		return batchOf(cp...)
	}
	p, err := newMetricsPlan("team/join.v1", testKeys, sideSchema, "offline", sideSchema, "online")
	if err != nil {
		t.Fatal(err)
	}
	count := func(online [][]any) map[string]int64 {
		out, err := p.compute(clone(rows), clone(online))
		if err != nil {
			t.Fatal(err)
		}
		totals := map[string]int64{}
		for c, f := range out.Schema {
			if strings.HasSuffix(f.Name, "_sum") || strings.HasSuffix(f.Name, "_count") {
				for i := 0; i < out.Len(); i++ {
					totals[f.Name] += out.Cols[c].Ints[i]
				}
			}
		}
		return totals
	}
	check := func(totals map[string]int64, planted string) {
		t.Helper()
		for name, v := range totals {
			want := int64(0)
			switch {
			case strings.HasSuffix(name, "_total_count"):
				want = 300
			case name == "num_both_null_sum":
				want = 60
			case name == "lst_both_null_sum":
				want = 100
			case name == planted:
				want = 1
			}
			if v != want {
				t.Errorf("%s = %d, want %d", name, v, want)
			}
		}
	}
	check(count(rows), "")
	planted := clone(rows)
	var online [][]any
	for i := 0; i < planted.Len(); i++ {
		r := make([]any, len(sideSchema))
		for c := range r {
			r[c] = planted.Cols[c].Value(i)
		}
		if i == 123 {
			r[3] = r[3].(float64) + 0.5 // dbl
		}
		online = append(online, r)
	}
	check(count(online), "dbl_mismatch_sum")
}

// Spec §8.5: a column the log lacks, or with another type, is an error naming it and both tables.
func TestMetricsSchemaErrors(t *testing.T) {
	right := append(types.Schema{}, sideSchema...)
	right[4] = types.Field{Name: "str", Type: types.LongType}
	_, err := newMetricsPlan("j", testKeys, sideSchema, "default.x_comparison", right, "default.x_logged")
	if err == nil || !strings.Contains(err.Error(), "column str is string in default.x_comparison but bigint in default.x_logged") {
		t.Fatalf("err = %v", err)
	}
	_, err = newMetricsPlan("j", testKeys, sideSchema, "default.x_comparison", sideSchema[:3], "default.x_logged")
	if err == nil || !strings.Contains(err.Error(), "comparison key ds is not a column of default.x_logged") {
		t.Fatalf("err = %v", err)
	}
	_, err = newMetricsPlan("j", testKeys, sideSchema, "default.x_comparison", append(sideSchema[:3:3], sideSchema[8]), "default.x_logged")
	if err == nil || !strings.Contains(err.Error(), "column dbl of default.x_comparison is missing from default.x_logged") {
		t.Fatalf("err = %v", err)
	}
}

// Spec §6.7: online external parts are null columns offline; when the log lacks them they are left
// out of the comparison instead of failing it.
func TestMetricsSkipsUnloggedExternalParts(t *testing.T) {
	left := append(append(types.Schema{}, sideSchema...), types.Field{Name: "ext_weather_temp", Type: types.DoubleType})
	p, err := newMetricsPlan("j", testKeys, left, "default.x_comparison", sideSchema, "default.x_logged")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(p.skipped, []string{"ext_weather_temp"}) || len(p.features) != 6 {
		t.Fatalf("skipped %v, %d features", p.skipped, len(p.features))
	}
}

// Spec §8.5 step 4: rows are bucketed by hour of ts; a row stays in the partition it was compared in
// even when its ts falls on another day (a Chronon-format log table is partitioned by write time),
// so that writing a chunk's metrics never replaces another day's partition.
func TestMetricsBucketsByPartition(t *testing.T) {
	late := millis("2023-12-01T23:30:00Z")
	row := func(ts int64, ds string) []any {
		return []any{"a", ts, int64(1), 1.0, "x", l(1), m("k", int64(1)), true, ds}
	}
	rows := [][]any{row(late, "2023-12-02"), row(late+60_000, "2023-12-01"), row(late+3_600_000, "2023-12-02")}
	p, err := newMetricsPlan("j", testKeys, sideSchema, "offline", sideSchema, "online")
	if err != nil {
		t.Fatal(err)
	}
	out, err := p.compute(batchOf(rows...), batchOf(rows...))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for i := 0; i < out.Len(); i++ {
		got = append(got, fmt.Sprintf("%s %d %d", out.Col("ds").Strs[i], out.Col("ts").Ints[i], out.Col("num_total_count").Ints[i]))
	}
	h23 := millis("2023-12-01T23:00:00Z")
	want := []string{fmt.Sprintf("2023-12-01 %d 1", h23), fmt.Sprintf("2023-12-02 %d 1", h23), fmt.Sprintf("2023-12-02 %d 1", h23+3_600_000)}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("buckets %v, want %v", got, want)
	}
}

// EditDistance.between: inserts make right (online) look like left (offline), deletes remove extras.
func TestEditDistance(t *testing.T) {
	for _, c := range []struct {
		left, right []any
		ins, del    int
	}{
		{nil, nil, 0, 0},
		{l(1, 2), nil, 2, 0},
		{nil, l(1, 2, 3), 0, 3},
		{l(1, 2, 3), l(1, 2, 3), 0, 0},
		{l(1, 2), l(2, 3, 4), 1, 2},
		{l(1, 2, 3, 4), l(1, 3), 2, 0},
		{l(5, 1, 2), l(1, 2, 5), 1, 1},
	} {
		if ins, del := editDistance(c.left, c.right); ins != c.ins || del != c.del {
			t.Errorf("editDistance(%v, %v) = (%d, %d), want (%d, %d)", c.left, c.right, ins, del, c.ins, c.del)
		}
	}
}
