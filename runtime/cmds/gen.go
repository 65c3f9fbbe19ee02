package cmds

import (
	"fmt"
	"os"
	"runtime/debug"

	"github.com/urfave/cli/v2"

	"github.com/chronon-go/chronon/runtime/gen"
)

// Gen is `chronon gen`: write synthetic quickstart-shaped tables for benchmarks.
func Gen() *cli.Command {
	return &cli.Command{
		Name:      "gen",
		Usage:     "generate deterministic synthetic quickstart tables (data.purchases, returns, checkouts, users)",
		ArgsUsage: " ",
		Description: "--scale N writes N×10M purchases, N×10M returns, N×1M checkouts and N×1M users over --days\n" +
			"partitions ending at --end-date; --purchases/--returns/--checkouts/--users override single counts.\n" +
			"The same flags and --seed always give byte-identical files. The four tables are replaced\n" +
			"(tables not written by chronon gen only with --replace).\n" +
			"See docs/bench.md.",
		Flags: []cli.Flag{
			&cli.Float64Flag{Name: "scale", Value: 1, Usage: "size factor (0.001 = 10k/10k/1k/1k rows)"},
			&cli.Uint64Flag{Name: "seed", Value: 1, Usage: "random seed"},
			&cli.IntFlag{Name: "days", Value: gen.DefaultDays, Usage: "number of daily event partitions"},
			&cli.StringFlag{Name: "end-date", Value: gen.DefaultEndDate, Usage: "last partition (yyyy-MM-dd)"},
			&cli.IntFlag{Name: "checkout-days", Value: gen.DefaultCheckoutDays, Usage: "checkouts cover this many last days"},
			&cli.StringFlag{Name: "namespace", Value: gen.DefaultNamespace, Usage: "namespace of the generated tables"},
			&cli.Int64Flag{Name: "purchases", Usage: "rows of data.purchases (default from --scale)"},
			&cli.Int64Flag{Name: "returns", Usage: "rows of data.returns (default from --scale)"},
			&cli.Int64Flag{Name: "checkouts", Usage: "rows of data.checkouts (default from --scale)"},
			&cli.Int64Flag{Name: "users", Usage: "rows of data.users (default from --scale)"},
			&cli.IntFlag{Name: "workers", Usage: "partitions written in parallel (default 2 × cores)"},
			&cli.BoolFlag{Name: "replace", Usage: "also replace tables that chronon gen did not write"},
		},
		Action: func(c *cli.Context) error {
			if c.Args().Len() > 0 {
				return fmt.Errorf("gen: unexpected arguments %v (sizes are flags, e.g. --scale 0.01)", c.Args().Slice())
			}
			if c.Float64("scale") < 0 {
				return fmt.Errorf("gen: --scale must not be negative")
			}
			counts := gen.ScaledCounts(c.Float64("scale"))
			for name, dst := range map[string]*int64{"purchases": &counts.Purchases, "returns": &counts.Returns, "checkouts": &counts.Checkouts, "users": &counts.Users} {
				if c.IsSet(name) {
					if *dst = c.Int64(name); *dst < 0 {
						return fmt.Errorf("gen: --%s must not be negative", name)
					}
				}
			}
			if c.Int("days") <= 0 {
				return fmt.Errorf("gen: --days must be positive, got %d", c.Int("days"))
			}
			w, err := OpenWarehouse(c)
			if err != nil {
				return err
			}
			if os.Getenv("GOGC") == "" {
				// The heap is small and bounded (reused buffers); collecting less often saves ~10% CPU.
				debug.SetGCPercent(400)
			}
			opts := gen.Options{
				Counts:       &counts,
				Seed:         c.Uint64("seed"),
				Days:         c.Int("days"),
				EndDate:      c.String("end-date"),
				CheckoutDays: c.Int("checkout-days"),
				Namespace:    c.String("namespace"),
				Workers:      c.Int("workers"),
				Replace:      c.Bool("replace"),
			}
			if isTerminal(c.App.ErrWriter) {
				opts.Progress = c.App.ErrWriter
			}
			res, err := gen.Generate(w, opts)
			if err != nil {
				return err
			}
			for _, t := range res.Tables {
				span := ""
				if n := len(t.Partitions); n > 0 {
					span = fmt.Sprintf(", ds %s..%s", t.Partitions[0], t.Partitions[n-1])
				}
				fmt.Fprintf(c.App.Writer, "%-16s %11d rows (%d partition(s)%s)\n", t.Table, t.Rows, len(t.Partitions), span)
			}
			fmt.Fprintf(c.App.Writer, "generated %d rows in %.2fs (%.2fM rows/s) into %s\n",
				res.Rows, res.Elapsed.Seconds(), res.RowsPerSecond()/1e6, w.Root)
			return nil
		},
	}
}

// isTerminal reports whether w is a character device (progress lines only make sense there).
func isTerminal(w any) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
