#!/usr/bin/env bash
# Backfill benchmark (make bench-backfill, docs/bench.md): generate the synthetic quickstart tables,
# then time (a) chronon's join backfill of quickstart.training_set.v1 and (b) the same features as
# hand-written DuckDB SQL (bench/duckdb_training_set.sql) over the same Parquet files.
#
# Environment: BENCH_SCALE (default 1 = 10M purchases + 10M returns + 1M checkouts + 1M users),
# BENCH_SEED (1), BENCH_DAYS (30), BENCH_END_DATE (2023-11-30), BENCH_RUNS (3: runs of each job,
# alternating; medians are reported), BENCH_DIR (default: a new temporary
# directory, removed afterwards unless BENCH_KEEP=1), CHRONON_BIN (default bin/chronon).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin=${CHRONON_BIN:-$root/bin/chronon}
scale=${BENCH_SCALE:-1}
seed=${BENCH_SEED:-1}
days=${BENCH_DAYS:-30}
end=${BENCH_END_DATE:-2023-11-30}
runs=${BENCH_RUNS:-3}
conf=production/joins/quickstart/training_set.v1

if [[ ! -x $bin ]]; then
	echo "backfill.sh: $bin is missing; run make build first" >&2
	exit 1
fi
if [[ -n ${BENCH_DIR:-} ]]; then
	work=$BENCH_DIR
	mkdir -p "$work"
else
	work=$(mktemp -d "${TMPDIR:-/tmp}/chronon-bench.XXXXXX")
	if [[ -z ${BENCH_KEEP:-} ]]; then
		trap 'rm -rf "$work"' EXIT
	fi
fi
wh=$work/warehouse
rm -rf "$wh" "$work/duckdb_out"

# measure OUT CMD... runs CMD and leaves "<wall s> <peak RSS KiB>" in OUT (GNU time if present,
# else a small Go helper reading the child's rusage). Returns the command's status.
if /usr/bin/time -f '%e %M' -o /dev/null true 2>/dev/null; then
	measure() { local out=$1; shift; /usr/bin/time -f '%e %M' -o "$out" "$@"; }
else
	(cd "$root" && go build -o "$work/rusage" ./bench/rusage)
	measure() { local out=$1; shift; "$work/rusage" -o "$out" -- "$@"; }
fi
wall() { tail -n 1 "$1" | cut -d' ' -f1; }
rss_mb() { tail -n 1 "$1" | awk '{printf "%.0f", $2 / 1024}'; }
rate() {
	awk -v n="$1" -v s="$2" 'BEGIN { if (s <= 0) print "-"; else if (n / s >= 1e6) printf "%.2fM", n / s / 1e6; else printf "%.1fk", n / s / 1e3 }'
}

echo "== machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')"
echo "== generating scale $scale (seed $seed, $days days ending $end) into $wh"
measure "$work/gen.time" "$bin" --warehouse "$wh" gen --scale "$scale" --seed "$seed" --days "$days" --end-date "$end" | tee "$work/gen.out"
rows_of() { awk -v t="data.$1" '$1 == t { print $2 }' "$work/gen.out"; }
input_rows=$(( $(rows_of purchases) + $(rows_of returns) + $(rows_of checkouts) + $(rows_of users) ))
left_rows=$(rows_of checkouts)

# Flush the generated files first, so their writeback does not compete with the timed jobs.
sync
sed -e "s#@WAREHOUSE@#$wh#g" -e "s#@END_DS@#$end#g" -e "s#@OUT@#$work/duckdb_out#g" \
	"$root/bench/duckdb_training_set.sql" > "$work/duckdb.sql"
# The two jobs run alternately, runs times each: this machine's speed drifts by tens of percent within
# minutes, so one pair of runs says little; the medians of alternating runs share the drift.
chronon_status=ok
chronon_walls=() duckdb_walls=()
for ((run = 1; run <= runs; run++)); do
	echo "== run $run/$runs: chronon run --mode backfill --conf $conf --ds $end"
	if ! (cd "$root" && measure "$work/chronon.time.$run" "$bin" --chronon-root "$root" --warehouse "$wh" \
		run --mode backfill --conf "$conf" --ds "$end" --force 2>&1 | tee "$work/chronon.err"); then
		if grep -q 'not available yet' "$work/chronon.err"; then
			chronon_status=unavailable
		else
			chronon_status=failed
		fi
		break
	fi
	chronon_walls+=("$(wall "$work/chronon.time.$run")")
	sync
	echo "== run $run/$runs: DuckDB SQL (bench/duckdb_training_set.sql)"
	rm -rf "$work/duckdb_out"
	measure "$work/duckdb.time.$run" "$bin" --warehouse "$wh" sql < "$work/duckdb.sql"
	duckdb_walls+=("$(wall "$work/duckdb.time.$run")")
	sync
done
# median of the arguments; peak of the RSS files given.
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
peak_mb() { cat "$@" | awk '{ if ($2 > m) m = $2 } END { printf "%.0f", m / 1024 }'; }

# Both outputs hold the same 25 columns; compare them by name, as multisets of rows.
diff_rows=
if [[ $chronon_status == ok ]]; then
	cols="user_id, ts, ds"
	for gb in purchases_v1_purchase_price returns_v1_refund_amt; do
		for op in sum count average; do
			for w in 3d 14d 30d; do cols+=", quickstart_${gb}_${op}_${w}"; done
		done
	done
	cols+=", quickstart_purchases_v1_purchase_price_last10, quickstart_returns_v1_refund_amt_last2"
	cols+=", quickstart_users_v1_account_created_ds, quickstart_users_v1_email_verified"
	duck="read_parquet('$work/duckdb_out/**/*.parquet', hive_partitioning = true, hive_types_autocast = false)"
	diff_rows=$("$bin" --warehouse "$wh" sql --format csv "
		SELECT (SELECT count(*) FROM (SELECT $cols FROM default.quickstart_training_set_v1 EXCEPT ALL SELECT $cols FROM $duck))
		     + (SELECT count(*) FROM (SELECT $cols FROM $duck EXCEPT ALL SELECT $cols FROM default.quickstart_training_set_v1)) AS d" | tail -n 1) || diff_rows="comparison failed"
fi

echo
echo "== backfill benchmark: scale $scale, $input_rows input rows, $left_rows left rows, $(nproc) cores"
printf '%-18s %10s %14s %15s %10s\n' step "wall (s)" "left rows/s" "input rows/s" "peak RSS"
printf '%-18s %10s %14s %15s %8s MB\n' "gen (write)" "$(wall "$work/gen.time")" - "$(rate "$input_rows" "$(wall "$work/gen.time")")" "$(rss_mb "$work/gen.time")"
case $chronon_status in
ok)
	c=$(median "${chronon_walls[@]}")
	printf '%-18s %10s %14s %15s %8s MB\n' "chronon backfill" "$c" \
		"$(rate "$left_rows" "$c")" "$(rate "$input_rows" "$c")" "$(peak_mb "$work"/chronon.time.*)"
	;;
unavailable)
	printf '%-18s %s\n' "chronon backfill" "unavailable: join backfill is not implemented yet ($(tail -n 1 "$work/chronon.err"))"
	;;
*)
	printf '%-18s %s\n' "chronon backfill" "FAILED: $(tail -n 1 "$work/chronon.err")"
	;;
esac
if [[ $chronon_status == ok ]]; then
	d=$(median "${duckdb_walls[@]}")
	printf '%-18s %10s %14s %15s %8s MB\n' "duckdb sql" "$d" \
		"$(rate "$left_rows" "$d")" "$(rate "$input_rows" "$d")" "$(peak_mb "$work"/duckdb.time.*)"
	echo "(wall times are medians of $runs alternating runs; chronon: ${chronon_walls[*]} s; duckdb: ${duckdb_walls[*]} s)"
	ratios=""
	for ((i = 0; i < ${#chronon_walls[@]}; i++)); do
		ratios+=" $(awk -v c="${chronon_walls[i]}" -v d="${duckdb_walls[i]}" 'BEGIN { printf "%.3f", c / d }')"
	done
	awk -v c="$c" -v d="$d" -v r="$ratios" \
		'BEGIN { if (d > 0) printf "ratio chronon/duckdb wall time: %.2fx (median of each; per run:%s)\n", c / d, r }'
	echo "rows that differ between the two outputs: $diff_rows"
else
	echo "ratio chronon/duckdb wall time: n/a (chronon $chronon_status)"
fi
if [[ -n ${BENCH_KEEP:-} || -n ${BENCH_DIR:-} ]]; then
	echo "kept $work"
fi
[[ $chronon_status != failed && ( -z $diff_rows || $diff_rows == 0 ) ]]
