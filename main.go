// Command chronon is Chronon's feature platform as one binary: compile Starlark feature definitions into
// Chronon confs, run them offline and online, and serve features. This file only wires the commands.
package main

import (
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"runtime/trace"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/chronon-go/chronon/compiler"
	"github.com/chronon-go/chronon/runtime/cmds"
)

func main() {
	app := &cli.App{
		Name:  "chronon",
		Usage: "declarative feature engineering: backfills and online serving from one definition",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "chronon-root", EnvVars: []string{"CHRONON_ROOT"}, Value: ".", Usage: "the feature repository (holds teams.json)"},
			cmds.WarehouseFlag(),
		},
		Commands:       commands(),
		ExitErrHandler: func(*cli.Context, error) {},
	}
	// CHRONON_CPUPROFILE=<file> writes a CPU profile of the command (for `go tool pprof`).
	if path := os.Getenv("CHRONON_CPUPROFILE"); path != "" {
		if f, err := os.Create(path); err == nil {
			if pprof.StartCPUProfile(f) == nil {
				defer pprof.StopCPUProfile()
			}
		}
	}
	// CHRONON_TRACE=<file> writes an execution trace (`go tool trace`), which shows where a job runs
	// on one core only.
	if path := os.Getenv("CHRONON_TRACE"); path != "" {
		if f, err := os.Create(path); err == nil {
			if trace.Start(f) == nil {
				defer trace.Stop()
			}
		}
	}
	// CHRONON_MEMPROFILE=<file> writes an allocation profile when the command ends.
	if path := os.Getenv("CHRONON_MEMPROFILE"); path != "" {
		runtime.MemProfileRate = 64 << 10
		defer func() {
			if f, err := os.Create(path); err == nil {
				pprof.Lookup("allocs").WriteTo(f, 0)
				f.Close()
			}
		}()
	}
	if err := app.Run(os.Args); err != nil {
		pprof.StopCPUProfile()
		fmt.Fprintln(os.Stderr, "chronon:", err)
		os.Exit(1)
	}
}

// commands lists every sub-command; each lives beside its package's entry point.
func commands() []*cli.Command {
	return []*cli.Command{
		compileCommand(),
		cmds.Import(),
		cmds.SQL(),
		cmds.Run(),
		cmds.Gen(),
		cmds.Serve(),
		cmds.Quickstart(compileCommand()),
	}
}

func compileCommand() *cli.Command {
	return &cli.Command{
		Name:      "compile",
		Usage:     "compile Starlark definitions into Chronon confs under production/",
		ArgsUsage: " ",
		Description: "Without --conf, compiles everything under group_bys/, joins/ and staging_queries/.\n" +
			"A compile writes every conf it should, or, on any error, nothing.",
		Flags: []cli.Flag{
			&cli.StringSliceFlag{Name: "conf", Aliases: []string{"input-path"}, Usage: "a definition file or folder relative to the root (repeatable)"},
			&cli.StringFlag{Name: "output-root", Value: "production", Usage: "where confs are written, relative to the root"},
			&cli.BoolFlag{Name: "force-overwrite", Usage: "overwrite online confs that changed, and recompile dependent confs"},
			&cli.BoolFlag{Name: "yes", Aliases: []string{"y"}, Usage: "answer every question with its default without asking"},
			&cli.StringFlag{Name: "chronon-root", EnvVars: []string{"CHRONON_ROOT"}, Value: ".", Usage: "the feature repository (holds teams.json)"},
		},
		Action: func(c *cli.Context) error {
			confirm := confirmOnTerminal
			if c.Bool("yes") {
				confirm = nil
			}
			res, err := compiler.Compile(compiler.Options{
				Root:           chrononRoot(c),
				Inputs:         c.StringSlice("conf"),
				OutputRoot:     c.String("output-root"),
				ForceOverwrite: c.Bool("force-overwrite"),
				Confirm:        confirm,
				Stdout:         os.Stdout,
				Stderr:         os.Stderr,
			})
			if err != nil {
				return err
			}
			fmt.Printf("%d written, %d unchanged, %d skipped\n", len(res.Written), len(res.Unchanged), len(res.Skipped))
			return nil
		},
	}
}

// chrononRoot is --chronon-root given after the command, else before it, else CHRONON_ROOT or ".".
func chrononRoot(c *cli.Context) string {
	for _, ctx := range c.Lineage() {
		if ctx.IsSet("chronon-root") {
			return ctx.String("chronon-root")
		}
	}
	return c.String("chronon-root")
}

// confirmOnTerminal asks a yes/no question when stdin is a terminal; otherwise it takes the default.
func confirmOnTerminal(question string, def bool) bool {
	if st, err := os.Stdin.Stat(); err != nil || st.Mode()&os.ModeCharDevice == 0 {
		return def
	}
	hint := "[y/N]"
	if def {
		hint = "[Y/n]"
	}
	fmt.Fprintf(os.Stderr, "%s %s ", question, hint)
	var answer string
	fmt.Scanln(&answer)
	switch strings.ToLower(strings.TrimSpace(answer)) {
	case "y", "yes":
		return true
	case "n", "no":
		return false
	}
	return def
}
