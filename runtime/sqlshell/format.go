package sqlshell

import (
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/big"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	duckdb "github.com/marcboeker/go-duckdb/v2"
)

// Formats accepted by Write.
var Formats = []string{"table", "csv", "json"}

// Write prints a result as an aligned table, CSV (with a header) or JSON lines (one object per row).
// Lists, maps and structs print as JSON in every format.
func Write(w io.Writer, r *Result, format string) error {
	p, err := NewPrinter(w, format)
	if err != nil {
		return err
	}
	if err := p.Header(r.Columns); err != nil {
		return err
	}
	for _, row := range r.Rows {
		if err := p.Row(row); err != nil {
			return err
		}
	}
	return p.Close()
}

// Printer prints rows as they arrive; csv and json stream, table buffers to align columns.
type Printer interface {
	Header(columns []string) error
	Row(values []any) error
	Close() error
}

// NewPrinter returns a printer for format (table, csv or json).
func NewPrinter(w io.Writer, format string) (Printer, error) {
	switch format {
	case "", "table":
		return &tablePrinter{w: w}, nil
	case "csv":
		return &csvPrinter{w: csv.NewWriter(w)}, nil
	case "json":
		return &jsonPrinter{w: w}, nil
	}
	return nil, fmt.Errorf("unknown format %q (use %s)", format, strings.Join(Formats, ", "))
}

type csvPrinter struct {
	w   *csv.Writer
	rec []string
}

func (p *csvPrinter) Header(cols []string) error { return p.w.Write(cols) }

func (p *csvPrinter) Row(row []any) error {
	p.rec = p.rec[:0]
	for _, v := range row {
		s := ""
		if v != nil {
			s = Text(v)
		}
		p.rec = append(p.rec, s)
	}
	return p.w.Write(p.rec)
}

func (p *csvPrinter) Close() error {
	p.w.Flush()
	return p.w.Error()
}

type jsonPrinter struct {
	w    io.Writer
	keys [][]byte
	buf  []byte
}

func (p *jsonPrinter) Header(cols []string) error {
	for _, c := range cols {
		k, _ := json.Marshal(c)
		p.keys = append(p.keys, k)
	}
	return nil
}

func (p *jsonPrinter) Row(row []any) error {
	b := append(p.buf[:0], '{')
	for i, v := range row {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, p.keys[i]...)
		b = append(b, ':')
		val, err := json.Marshal(jsonValue(v))
		if err != nil {
			return err
		}
		b = append(b, val...)
	}
	b = append(b, '}', '\n')
	p.buf = b
	_, err := p.w.Write(b)
	return err
}

func (p *jsonPrinter) Close() error { return nil }

type tablePrinter struct {
	w    io.Writer
	tw   *tabwriter.Writer
	rows int
}

func (p *tablePrinter) Header(cols []string) error {
	p.tw = tabwriter.NewWriter(p.w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(p.tw, strings.Join(cols, "\t"))
	seps := make([]string, len(cols))
	for i, c := range cols {
		seps[i] = strings.Repeat("-", max(len(c), 3))
	}
	_, err := fmt.Fprintln(p.tw, strings.Join(seps, "\t"))
	return err
}

var cellCleaner = strings.NewReplacer("\t", " ", "\n", " ")

func (p *tablePrinter) Row(row []any) error {
	cells := make([]string, len(row))
	for i, v := range row {
		if v == nil {
			cells[i] = "NULL"
		} else {
			cells[i] = cellCleaner.Replace(Text(v))
		}
	}
	p.rows++
	_, err := fmt.Fprintln(p.tw, strings.Join(cells, "\t"))
	return err
}

func (p *tablePrinter) Close() error {
	if err := p.tw.Flush(); err != nil {
		return err
	}
	plural := "s"
	if p.rows == 1 {
		plural = ""
	}
	_, err := fmt.Fprintf(p.w, "(%d row%s)\n", p.rows, plural)
	return err
}

// Text renders a value as one cell: scalars plainly, nested values as JSON.
func Text(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case []byte:
		return base64.StdEncoding.EncodeToString(x)
	case time.Time:
		return timeText(x)
	case Timestamp:
		return timestampText(time.Time(x))
	case float64:
		return floatText(x)
	case float32:
		return floatText(float64(x))
	case []any, map[string]any, duckdb.Map:
		b, _ := json.Marshal(jsonValue(x))
		return string(b)
	}
	b, err := json.Marshal(jsonValue(v))
	if err == nil {
		s := string(b)
		return strings.Trim(s, `"`)
	}
	return fmt.Sprint(v)
}

// Timestamp marks a value of a TIMESTAMP column, which prints with its time even at midnight
// (a DATE prints as yyyy-MM-dd; the driver returns both as time.Time).
type Timestamp time.Time

// markTimestamps wraps the top-level values of TIMESTAMP columns (by DuckDB type name).
func markTimestamps(types []string, vals []any) {
	for i, t := range types {
		if strings.HasPrefix(t, "TIMESTAMP") {
			if x, ok := vals[i].(time.Time); ok {
				vals[i] = Timestamp(x)
			}
		}
	}
}

func timestampText(t time.Time) string {
	t = t.UTC()
	if t.Nanosecond() == 0 {
		return t.Format("2006-01-02 15:04:05")
	}
	return t.Format("2006-01-02 15:04:05.999999")
}

// timeText prints a time.Time whose column type is unknown (inside a list or struct): midnight
// values print as dates.
func timeText(t time.Time) string {
	t = t.UTC()
	if t.Hour() == 0 && t.Minute() == 0 && t.Second() == 0 && t.Nanosecond() == 0 {
		return t.Format("2006-01-02")
	}
	return timestampText(t)
}

// floatText prints like Spark: 386.8, 331.0, NaN, Infinity.
func floatText(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.ContainsAny(s, ".e") {
		s += ".0"
	}
	return s
}

// jsonValue converts driver values to what encoding/json prints faithfully.
func jsonValue(v any) any {
	switch x := v.(type) {
	case nil:
		return nil
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = jsonValue(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = jsonValue(e)
		}
		return out
	case duckdb.Map:
		keys := make([]string, 0, len(x))
		vals := map[string]any{}
		for k, e := range x {
			ks := Text(k)
			keys = append(keys, ks)
			vals[ks] = jsonValue(e)
		}
		sort.Strings(keys)
		out := make(map[string]any, len(keys))
		for _, k := range keys {
			out[k] = vals[k]
		}
		return out
	case time.Time:
		return timeText(x)
	case Timestamp:
		return timestampText(time.Time(x))
	case []byte:
		return base64.StdEncoding.EncodeToString(x)
	case *big.Int:
		return json.Number(x.String())
	case duckdb.Decimal:
		return json.Number(x.String())
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return floatText(x) // JSON has no NaN: a string, as Spark's to_json writes it
		}
		return json.Number(floatText(x)) // 331.0 as Spark prints it, not 331
	case float32:
		return jsonValue(float64(x))
	case duckdb.UUID:
		return x.String()
	case duckdb.Interval:
		return fmt.Sprintf("%d months %d days %d micros", x.Months, x.Days, x.Micros)
	}
	return v
}
