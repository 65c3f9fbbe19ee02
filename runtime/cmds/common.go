// Package cmds holds the `chronon` sub-commands that drive the warehouse: import, sql and run (whose
// dispatch table other jobs extend with RegisterRunMode). main.go only lists them.
package cmds

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
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

// OpenWarehouse opens the warehouse chosen by --warehouse, else CHRONON_WAREHOUSE, else teams.json's
// default.common_env.CHRONON_WAREHOUSE (relative to the root), else <chronon-root>/.chronon/warehouse.
func OpenWarehouse(c *cli.Context) (*warehouse.Warehouse, error) {
	root := c.String("warehouse")
	chrononRoot := c.String("chronon-root")
	if root == "" {
		v, err := teamsCommonEnv(chrononRoot, "CHRONON_WAREHOUSE")
		if err != nil {
			return nil, err
		}
		if v != "" && !filepath.IsAbs(v) {
			v = filepath.Join(chrononRoot, v)
		}
		root = v
	}
	if root == "" {
		root = warehouse.DefaultRoot(chrononRoot)
	}
	return warehouse.Open(root)
}

// teamsCommonEnv reads default.common_env[key] from <root>/teams.json ("" when absent).
func teamsCommonEnv(root, key string) (string, error) {
	path := filepath.Join(root, "teams.json")
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	var teams map[string]struct {
		CommonEnv map[string]string `json:"common_env"`
	}
	if err := json.Unmarshal(data, &teams); err != nil {
		return "", fmt.Errorf("%s: %v", path, err)
	}
	return teams["default"].CommonEnv[key], nil
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
