package cmds

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/chronon-go/chronon/runtime/warehouse"
)

// Import is `chronon import`: load CSV or Parquet files into warehouse tables.
func Import() *cli.Command {
	return &cli.Command{
		Name:      "import",
		Usage:     "load CSV or Parquet files into a warehouse table (like Chronon's quickstart loader)",
		ArgsUsage: "FILE...",
		Description: "CSV files need a header line. Columns ts and *_price/*_amt become long, everything else\n" +
			"string, unless --schema says otherwise. Rows are partitioned by ds (not stored in the files).\n" +
			"The import replaces the whole table at once; on any error nothing is written.\n" +
			"Without --table each file becomes its own table data.<file name>.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "table", Usage: "namespace.table to (re)create from all FILEs"},
			&cli.StringFlag{Name: "schema", Usage: "column types, e.g. user_id:long,score:double,tags:string"},
			&cli.StringFlag{Name: "partition-column", Value: warehouse.PartitionColumn, Usage: "the column whose values become partitions"},
		},
		Action: func(c *cli.Context) error {
			files := c.Args().Slice()
			if len(files) == 0 {
				return fmt.Errorf("import: no input files; usage: chronon import --table data.purchases data/quickstart/purchases.csv")
			}
			w, err := OpenWarehouse(c)
			if err != nil {
				return err
			}
			opts := warehouse.ImportOptions{PartitionColumn: c.String("partition-column")}
			if s := c.String("schema"); s != "" {
				if opts.Types, err = warehouse.ParseTypeList(s); err != nil {
					return err
				}
			}
			jobs := map[string][]string{}
			var order []string
			for _, f := range files {
				table := c.String("table")
				if table == "" {
					stem := strings.SplitN(filepath.Base(f), ".", 2)[0]
					table = "data." + stem
				}
				if _, ok := jobs[table]; !ok {
					order = append(order, table)
				}
				jobs[table] = append(jobs[table], f)
			}
			for _, table := range order {
				opts.Table, opts.Files = table, jobs[table]
				res, err := w.Import(opts)
				if err != nil {
					return err
				}
				span := ""
				if n := len(res.Partitions); n > 0 {
					span = fmt.Sprintf(", %s %s..%s", opts.PartitionColumn, res.Partitions[0], res.Partitions[n-1])
				}
				fmt.Fprintf(c.App.Writer, "imported %d rows into %s (%d partition(s)%s)\n", res.Rows, table, len(res.Partitions), span)
			}
			return nil
		},
	}
}
