package cmds

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/chronon-go/chronon/runtime/sqlshell"
)

// SQL is `chronon sql`: run SQL (DuckDB with Spark macros) over the warehouse.
func SQL() *cli.Command {
	return &cli.Command{
		Name:      "sql",
		Usage:     "query warehouse tables with SQL (DuckDB; every table is namespace.table)",
		ArgsUsage: `"<query>"  (or the script on stdin)`,
		Description: "Statements separated by ; run in order; the last one's result is printed.\n" +
			"Lists, maps and structs print as JSON. See docs/sql.md for Spark SQL differences.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "format", Value: "table", Usage: "output format: table, csv or json (one object per line)"},
		},
		Action: func(c *cli.Context) error {
			args, vals, err := trailingFlags(c.Args().Slice(), "format")
			if err != nil {
				return err
			}
			format := c.String("format")
			if v, ok := vals["format"]; ok {
				format = v
			}
			if !slices.Contains(sqlshell.Formats, format) {
				return fmt.Errorf("--format %q: use one of %s", format, strings.Join(sqlshell.Formats, ", "))
			}
			q := strings.Join(args, " ")
			if strings.TrimSpace(q) == "" {
				b, err := io.ReadAll(c.App.Reader)
				if err != nil {
					return err
				}
				q = string(b)
			}
			if strings.TrimSpace(q) == "" {
				return fmt.Errorf(`sql: no query; usage: chronon sql "SELECT * FROM data.purchases LIMIT 10"`)
			}
			w, err := OpenWarehouse(c)
			if err != nil {
				return err
			}
			s, err := sqlshell.Open(c.Context, w)
			if err != nil {
				return err
			}
			defer s.Close()
			for _, warn := range s.Warnings {
				fmt.Fprintln(c.App.ErrWriter, "warning:", warn)
			}
			p, err := sqlshell.NewPrinter(c.App.Writer, format)
			if err != nil {
				return err
			}
			return s.Stream(c.Context, q, p)
		},
	}
}
