// Command chronon is Chronon's feature platform as one binary: compile Starlark feature definitions into
// Chronon confs, run them offline and online, and serve features. This file only wires the commands.
package main

import (
	"fmt"
	"os"

	"github.com/urfave/cli/v2"
)

func main() {
	app := &cli.App{
		Name:  "chronon",
		Usage: "declarative feature engineering: backfills and online serving from one definition",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "chronon-root", EnvVars: []string{"CHRONON_ROOT"}, Value: ".", Usage: "the feature repository (holds teams.json)"},
		},
		Commands:       commands(),
		ExitErrHandler: func(*cli.Context, error) {},
	}
	if err := app.Run(os.Args); err != nil {
		fmt.Fprintln(os.Stderr, "chronon:", err)
		os.Exit(1)
	}
}

// commands lists every sub-command; each lives beside its package's entry point.
func commands() []*cli.Command {
	return []*cli.Command{}
}
