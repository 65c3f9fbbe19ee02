// Package consistency holds the online/offline consistency jobs of spec §8: log-flattener, which turns
// the raw fetch log into the join's `_logged` table, and consistency-metrics-compute, which backfills
// the same rows offline and compares them with what was served.
package consistency

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/chronon-go/chronon/runtime/backfill"
	"github.com/chronon-go/chronon/runtime/warehouse"
	"github.com/chronon-go/chronon/thrift/api"
)

// Table names of spec §2.3, all derived from the join's output table `out`.
const (
	loggedSuffix            = "_logged"
	comparisonSuffix        = "_comparison"
	consistencySuffix       = "_consistency"
	consistencyUploadSuffix = "_consistency_upload"
)

// Table property keys and table types (Chronon's Constants).
const (
	propLogTable     = "chronon_log_table"
	propOOCTable     = "chronon_ooc_table"
	propSchemaPrefix = "schema_hash_"

	tableTypeLogged            = "logged"
	tableTypeConsistency       = "consistency"
	tableTypeConsistencyUpload = "consistency_upload"
)

// ConsistencyDataset is the KV dataset out_consistency_upload is loaded into (Chronon's
// Constants.ConsistencyMetricsDataset).
const ConsistencyDataset = "CHRONON_CONSISTENCY_METRICS_STATS_BATCH"

// LoggedTable is `out_logged`, e.g. default.quickstart_training_set_v2_logged.
func LoggedTable(md *api.MetaData) (string, error) { return suffixed(md, loggedSuffix) }

// ComparisonTable is `out_comparison`: the comparison join's output.
func ComparisonTable(md *api.MetaData) (string, error) { return suffixed(md, comparisonSuffix) }

// ConsistencyTable is `out_consistency`: the metrics per hour.
func ConsistencyTable(md *api.MetaData) (string, error) { return suffixed(md, consistencySuffix) }

// ConsistencyUploadTable is `out_consistency_upload`: the metrics as KV rows.
func ConsistencyUploadTable(md *api.MetaData) (string, error) {
	return suffixed(md, consistencyUploadSuffix)
}

func suffixed(md *api.MetaData, suffix string) (string, error) {
	out, err := backfill.JoinOutputTable(md)
	if err != nil {
		return "", err
	}
	return out + suffix, nil
}

// JoinPath is Chronon's nameToFilePath: the first "." of metaData.name becomes "/" ("team/file.var"),
// the name fetch requests and log records carry.
func JoinPath(md *api.MetaData) string { return strings.Replace(md.GetName(), ".", "/", 1) }

// dayOf is the UTC day (yyyy-MM-dd) of epoch millis.
func dayOf(ms int64) string { return time.UnixMilli(ms).UTC().Format(warehouse.DateFormat) }

// dayStart is midnight UTC of a yyyy-MM-dd day, in epoch millis.
func dayStart(ds string) (int64, error) {
	t, err := time.Parse(warehouse.DateFormat, ds)
	if err != nil {
		return 0, err
	}
	return t.UnixMilli(), nil
}

// chunks splits sorted days into runs spanning at most step calendar days.
func chunks(days []string, step int) [][]string {
	if step <= 0 {
		step = 30
	}
	var out [][]string
	for i := 0; i < len(days); {
		first, _ := time.Parse(warehouse.DateFormat, days[i])
		last := first.AddDate(0, 0, step-1).Format(warehouse.DateFormat)
		j := i
		for j < len(days) && days[j] <= last {
			j++
		}
		out = append(out, days[i:j])
		i = j
	}
	return out
}

// existingDays lists the ds partitions of table, none when it does not exist.
func existingDays(w *warehouse.Warehouse, table string) (map[string]bool, error) {
	have := map[string]bool{}
	if !w.Exists(table) {
		return have, nil
	}
	t, err := w.Table(table)
	if err != nil {
		return nil, err
	}
	ds, err := t.PartitionDates()
	if err != nil {
		return nil, err
	}
	for _, d := range ds {
		have[d] = true
	}
	return have, nil
}

func logf(w io.Writer, format string, args ...any) {
	if w != nil {
		fmt.Fprintf(w, format+"\n", args...)
	}
}
