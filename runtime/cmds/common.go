// Package cmds holds the `chronon` sub-commands that drive the warehouse: import, sql and run (whose
// dispatch table other jobs extend with RegisterRunMode). main.go only lists them.
package cmds

import (
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/chronon-go/chronon/runtime/warehouse"
)

// WarehouseFlag is the global --warehouse flag; main.go adds it to the app.
func WarehouseFlag() cli.Flag {
	return &cli.StringFlag{
		Name:    "warehouse",
		EnvVars: []string{"CHRONON_WAREHOUSE"},
		Usage:   "directory of the offline tables (default: <chronon-root>/.chronon/warehouse)",
	}
}

// OpenWarehouse opens the warehouse chosen by --warehouse / CHRONON_WAREHOUSE, else the default
// under --chronon-root.
func OpenWarehouse(c *cli.Context) (*warehouse.Warehouse, error) {
	root := c.String("warehouse")
	if root == "" {
		root = warehouse.DefaultRoot(c.String("chronon-root"))
	}
	return warehouse.Open(root)
}

// trailingFlags lets flags follow positional arguments (`chronon sql "SELECT 1" --format csv`),
// which urfave/cli otherwise treats as arguments. It returns the remaining arguments and the values.
func trailingFlags(args []string, names ...string) ([]string, map[string]string, error) {
	vals := map[string]string{}
	var rest []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		matched := false
		for _, n := range names {
			switch {
			case a == "--"+n || a == "-"+n:
				if i+1 >= len(args) {
					return nil, nil, fmt.Errorf("flag --%s needs a value", n)
				}
				vals[n] = args[i+1]
				i++
				matched = true
			case strings.HasPrefix(a, "--"+n+"="):
				vals[n] = strings.TrimPrefix(a, "--"+n+"=")
				matched = true
			}
		}
		if !matched {
			rest = append(rest, a)
		}
	}
	return rest, vals, nil
}
