package consistency

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/chronon-go/chronon/runtime/types"
	"github.com/chronon-go/chronon/runtime/warehouse"
)

// FeatureSummary totals one compared column over the summarized metrics rows.
type FeatureSummary struct {
	Feature    string
	Rows       int64 // rows compared (<f>_total_count)
	Mismatches int64 // both sides non-null and different (<f>_mismatch_sum)
	LeftNull   int64 // offline null, online not (<f>_left_null_sum)
	RightNull  int64 // online null, offline not (<f>_right_null_sum)
	// MeanSMAPE is the row-weighted mean of <f>_smape_average (numeric columns only).
	MeanSMAPE *float64
}

// MismatchPercent is Mismatches / Rows in percent (0 without rows).
func (f FeatureSummary) MismatchPercent() float64 {
	if f.Rows == 0 {
		return 0
	}
	return 100 * float64(f.Mismatches) / float64(f.Rows)
}

// NullMismatches counts rows where exactly one side is null.
func (f FeatureSummary) NullMismatches() int64 { return f.LeftNull + f.RightNull }

// Summary is the readable end of consistency-metrics-compute.
type Summary struct {
	JoinPath, Table string
	First, Last     string // ds range summarized
	Features        []FeatureSummary
}

// Total sums every feature.
func (s *Summary) Total() FeatureSummary {
	t := FeatureSummary{Feature: fmt.Sprintf("total (%d features)", len(s.Features))}
	for _, f := range s.Features {
		t.Rows += f.Rows
		t.Mismatches += f.Mismatches
		t.LeftNull += f.LeftNull
		t.RightNull += f.RightNull
	}
	return t
}

// summarize totals out_consistency's rows of joinPath in [first, last] ("" = open).
func summarize(w *warehouse.Warehouse, table, joinPath, first, last string) (*Summary, error) {
	s := &Summary{JoinPath: joinPath, Table: table, First: first, Last: last}
	if !w.Exists(table) {
		return s, nil
	}
	b, err := readDays(w, table, nil, first, last)
	if err != nil {
		return nil, err
	}
	if s.First == "" || s.Last == "" {
		if ds := b.Col(warehouse.PartitionColumn); ds != nil && ds.Len() > 0 {
			lo, hi := ds.Strs[0], ds.Strs[0]
			for _, d := range ds.Strs {
				lo, hi = min(lo, d), max(hi, d)
			}
			s.First, s.Last = lo, hi
		}
	}
	jp := b.Col("JoinPath")
	sumOf := func(name string, rows []int) (int64, bool) {
		c := b.Col(name)
		if c == nil {
			return 0, false
		}
		var t int64
		for _, i := range rows {
			if !c.IsNull(i) {
				t += c.Ints[i]
			}
		}
		return t, true
	}
	var rows []int
	for i := 0; i < b.Len(); i++ {
		if jp == nil || jp.IsNull(i) || jp.Strs[i] == joinPath {
			rows = append(rows, i)
		}
	}
	for _, f := range b.Schema {
		name, ok := strings.CutSuffix(f.Name, "_total_count")
		if !ok || f.Type.Kind != types.Long {
			continue
		}
		fs := FeatureSummary{Feature: name}
		fs.Rows, _ = sumOf(f.Name, rows)
		fs.Mismatches, _ = sumOf(name+"_mismatch_sum", rows)
		fs.LeftNull, _ = sumOf(name+"_left_null_sum", rows)
		fs.RightNull, _ = sumOf(name+"_right_null_sum", rows)
		if sm := b.Col(name + "_smape_average"); sm != nil {
			total, weighted := int64(0), 0.0
			counts := b.Col(f.Name)
			for _, i := range rows {
				if sm.IsNull(i) || counts.IsNull(i) {
					continue
				}
				weighted += sm.Floats[i] * float64(counts.Ints[i])
				total += counts.Ints[i]
			}
			if total > 0 {
				m := weighted / float64(total)
				fs.MeanSMAPE = &m
			}
		}
		s.Features = append(s.Features, fs)
	}
	return s, nil
}

// Print writes the summary as a table: per feature rows compared, mismatches, mismatch %, null
// mismatches (one side null) and mean SMAPE, then a total line.
func (s *Summary) Print(out io.Writer) {
	if len(s.Features) == 0 {
		fmt.Fprintf(out, "consistency of %s: no metrics in %s\n", s.JoinPath, s.Table)
		return
	}
	fmt.Fprintf(out, "consistency of %s (%s, ds %s..%s): offline backfill vs logged fetches\n", s.JoinPath, s.Table, s.First, s.Last)
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "feature\trows\tmismatches\tmismatch %\tnull mismatches\tmean SMAPE")
	line := func(f FeatureSummary) {
		smape := "-"
		if f.MeanSMAPE != nil {
			smape = strconv.FormatFloat(*f.MeanSMAPE, 'g', 4, 64)
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%.2f%%\t%d\t%s\n", f.Feature, f.Rows, f.Mismatches, f.MismatchPercent(), f.NullMismatches(), smape)
	}
	for _, f := range s.Features {
		line(f)
	}
	line(s.Total())
	tw.Flush()
}
