package sqlshell

// sparkMacros give Spark SQL function names their Spark meaning where DuckDB lacks the name or
// differs (docs/sql.md lists them). Macros are expanded before binding, so aggregates inside work.
// Timestamps are UTC (the session's zone), like Chronon's Spark sessions.
var sparkMacros = []string{
	// Parsing with a Java pattern (unix_timestamp(s, 'dd/MM/yyyy')) is rewritten in the SQL text (see
	// javaCalls): DuckDB's strptime needs a constant format, which a macro cannot pass on. Formatting
	// goes through chronon_java_format, which takes any pattern. Seconds are truncated as in Spark.
	javaFormatMacro(),
	`CREATE OR REPLACE MACRO from_unixtime(s) AS strftime(make_timestamp(CAST(trunc(s) AS BIGINT) * 1000000), '%Y-%m-%d %H:%M:%S'),
		(s, f) AS chronon_java_format(make_timestamp(CAST(trunc(s) AS BIGINT) * 1000000), f)`,
	`CREATE OR REPLACE MACRO date_format(x, f) AS chronon_java_format(CAST(x AS TIMESTAMP), f)`,
	`CREATE OR REPLACE MACRO unix_timestamp() AS CAST(epoch(current_timestamp) AS BIGINT),
		(s) AS CAST(epoch(TRY_CAST(s AS TIMESTAMP)) AS BIGINT)`,
	`CREATE OR REPLACE MACRO to_unix_timestamp(s) AS unix_timestamp(s)`,
	`CREATE OR REPLACE MACRO to_date(x) AS TRY_CAST(x AS DATE)`,
	`CREATE OR REPLACE MACRO date_add(d, n) AS CAST(d AS DATE) + CAST(n AS INTEGER)`,
	`CREATE OR REPLACE MACRO date_sub(d, n) AS CAST(d AS DATE) - CAST(n AS INTEGER)`,
	`CREATE OR REPLACE MACRO datediff(a, b) AS CAST(a AS DATE) - CAST(b AS DATE),
		(p, a, b) AS date_diff(p, a, b)`,
	`CREATE OR REPLACE MACRO nvl(a, b) AS coalesce(a, b)`,
	`CREATE OR REPLACE MACRO nvl2(a, b, c) AS CASE WHEN a IS NOT NULL THEN b ELSE c END`,
	`CREATE OR REPLACE MACRO base64(x) AS to_base64(CAST(x AS BLOB))`,
	`CREATE OR REPLACE MACRO unbase64(x) AS from_base64(x)`,
	`CREATE OR REPLACE MACRO encode(s, charset) AS system.main.encode(s)`,
	`CREATE OR REPLACE MACRO decode(b, charset) AS system.main.decode(b)`,
	`CREATE OR REPLACE MACRO size(x) AS coalesce(len(x), -1)`,
	`CREATE OR REPLACE MACRO collect_list(x) AS list(x) FILTER (WHERE x IS NOT NULL)`,
	`CREATE OR REPLACE MACRO collect_set(x) AS list(DISTINCT x) FILTER (WHERE x IS NOT NULL)`,
	`CREATE OR REPLACE MACRO split(s, pattern) AS regexp_split_to_array(s, pattern)`,
	`CREATE OR REPLACE MACRO regexp_replace(s, p, r) AS system.main.regexp_replace(s, p, r, 'g')`,
	`CREATE OR REPLACE MACRO rand() AS random()`,
	`CREATE OR REPLACE MACRO get_json_object(j, p) AS json_extract_string(j, p)`,
	`CREATE OR REPLACE MACRO explode(x) AS unnest(x)`,
}
