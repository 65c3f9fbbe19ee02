package cmds

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/chronon-go/chronon/runtime/backfill"
	"github.com/chronon-go/chronon/runtime/warehouse"
	"github.com/chronon-go/chronon/thrift/api"
	"github.com/chronon-go/chronon/thrift/conf"
)

// RunContext is what a run mode gets: the parsed run.py-style flags and access to the stores.
type RunContext struct {
	Cli      *cli.Context // for mode-specific flags
	Kind     string       // group_bys, joins or staging_queries
	Mode     string
	ConfPath string // as given, resolved to an existing file
	// EndDate is --end-ds, else --ds (default today, UTC); StartDate is --start-ds.
	EndDate   string
	StartDate string
	StepDays  int
	Force     bool
	Log       io.Writer // progress; stderr
}

// Warehouse opens the offline store selected by --warehouse.
func (r *RunContext) Warehouse() (*warehouse.Warehouse, error) { return OpenWarehouse(r.Cli) }

// ReadConf decodes the conf file into v (e.g. *api.Join).
func (r *RunContext) ReadConf(v any) error {
	_, err := conf.ReadFile(r.ConfPath, v)
	return err
}

// Load decodes the conf file into v (e.g. *api.Join) and opens the warehouse: the start of every
// mode that computes from tables.
func (r *RunContext) Load(v any) (*conf.Order, *warehouse.Warehouse, error) {
	order, err := conf.ReadFile(r.ConfPath, v)
	if err != nil {
		return nil, nil, err
	}
	w, err := r.Warehouse()
	if err != nil {
		return nil, nil, err
	}
	return order, w, nil
}

// RunFunc executes one mode for one conf kind.
type RunFunc func(ctx context.Context, r *RunContext) error

var (
	runMu    sync.Mutex
	runModes = map[string]map[string]RunFunc{}
)

// RegisterRunMode makes `chronon run --mode <mode>` available for confs under production/<kind>/.
func RegisterRunMode(kind, mode string, fn RunFunc) {
	runMu.Lock()
	defer runMu.Unlock()
	if runModes[kind] == nil {
		runModes[kind] = map[string]RunFunc{}
	}
	runModes[kind][mode] = fn
}

// chrononModes lists the modes Chronon's run.py offers per conf kind (spec §10.1), so that a mode not
// built yet gets "not available yet" and a mode that never applies gets a list of the valid ones.
var chrononModes = map[string][]string{
	"group_bys": {"backfill", "upload", "streaming", "local-streaming", "metadata-upload", "fetch", "analyze",
		"metadata-export", "info"},
	"joins": {"backfill", "backfill-left", "backfill-final", "metadata-upload", "fetch", "analyze",
		"consistency-metrics-compute", "compare", "stats-summary", "log-summary", "log-flattener", "metadata-export",
		"label-join", "model-transform-batch", "info"},
	"staging_queries": {"backfill", "metadata-export", "info"},
}

func init() {
	RegisterRunMode("staging_queries", "backfill", runStagingBackfill)
}

func runStagingBackfill(ctx context.Context, r *RunContext) error {
	var sq api.StagingQuery
	if err := r.ReadConf(&sq); err != nil {
		return err
	}
	w, err := r.Warehouse()
	if err != nil {
		return err
	}
	return backfill.RunStagingQuery(ctx, w, &sq, backfill.StagingOptions{
		ConfPath: r.ConfPath, EndDate: r.EndDate, StartDate: r.StartDate,
		StepDays: r.StepDays, Force: r.Force, Log: r.Log,
	})
}

// RunFlags are the flags of `chronon run`; modes that need more append to this list before main
// builds the command.
var RunFlags = []cli.Flag{
	&cli.StringFlag{Name: "mode", Value: "backfill", Usage: "what to do with the conf (backfill, upload, fetch, ...)"},
	&cli.StringFlag{Name: "conf", Usage: "compiled conf, e.g. production/staging_queries/<team>/<file>.<var>"},
	&cli.StringFlag{Name: "ds", Usage: "the partition to run for (default: today, UTC)"},
	&cli.StringFlag{Name: "start-ds", Usage: "first partition of a backfill (overrides the conf's start)"},
	&cli.StringFlag{Name: "end-ds", Usage: "last partition of a backfill (overrides --ds)"},
	&cli.IntFlag{Name: "step-days", Value: 30, Usage: "backfill chunk size in days"},
	&cli.BoolFlag{Name: "force", Usage: "recompute partitions that already exist"},
}

// Run is `chronon run`, run.py's entry point: it dispatches on the conf's kind and --mode.
func Run() *cli.Command {
	return &cli.Command{
		Name:  "run",
		Usage: "run a compiled conf (flags as in Chronon's run.py)",
		Description: "The conf path's kind (group_bys, joins, staging_queries) and --mode pick the job, e.g.\n" +
			"  chronon run --mode backfill --conf production/staging_queries/quickstart/purchases.v1 --end-ds 2023-11-30",
		Flags:  RunFlags,
		Action: runAction,
	}
}

func runAction(c *cli.Context) error {
	path := c.String("conf")
	if path == "" && c.String("mode") == "fetch" {
		return RunFetch(c) // fetch names its join or GroupBy with --name/--type
	}
	if path == "" {
		return fmt.Errorf("run: --conf is required, e.g. --conf production/staging_queries/<team>/<file>.<var>")
	}
	mode := c.String("mode")
	kind, err := confKind(path)
	if err != nil && mode == "metadata-upload" {
		// metadata-upload also takes a folder of confs (e.g. production/ or production/joins).
		if st, serr := os.Stat(path); serr == nil && st.IsDir() {
			kind, err = "joins", nil
		} else if st, serr := os.Stat(filepath.Join(c.String("chronon-root"), path)); serr == nil && st.IsDir() {
			kind, err = "joins", nil
		}
	}
	if err != nil {
		return err
	}
	runMu.Lock()
	fn := runModes[kind][mode]
	runMu.Unlock()
	if fn == nil {
		valid := chrononModes[kind]
		for _, m := range valid {
			if m == mode {
				return fmt.Errorf("run: mode %s for %s is not available yet", mode, kind)
			}
		}
		return fmt.Errorf("run: mode %q does not apply to %s (Chronon's modes for it: %s)", mode, kind, strings.Join(valid, ", "))
	}
	resolved, err := resolveConf(path, c.String("chronon-root"))
	if err != nil {
		return err
	}
	end := c.String("end-ds")
	if end == "" {
		end = c.String("ds")
	}
	if end == "" {
		end = time.Now().UTC().Format(warehouse.DateFormat)
	}
	for flag, v := range map[string]string{"end-ds/--ds": end, "start-ds": c.String("start-ds")} {
		if _, err := time.Parse(warehouse.DateFormat, v); v != "" && err != nil {
			return fmt.Errorf("run: --%s %q is not a yyyy-MM-dd date", flag, v)
		}
	}
	if c.Int("step-days") <= 0 {
		return fmt.Errorf("run: --step-days must be positive, got %d", c.Int("step-days"))
	}
	return fn(c.Context, &RunContext{
		Cli: c, Kind: kind, Mode: mode, ConfPath: resolved,
		EndDate: end, StartDate: c.String("start-ds"), StepDays: c.Int("step-days"), Force: c.Bool("force"),
		Log: c.App.ErrWriter,
	})
}

// confKind finds group_bys/joins/staging_queries in `<...>/<kind>/<team>/<file>` (run.py's rule).
func confKind(path string) (string, error) {
	segs := strings.Split(filepath.ToSlash(filepath.Clean(path)), "/")
	if len(segs) >= 3 {
		k := segs[len(segs)-3]
		if _, ok := chrononModes[k]; ok {
			return k, nil
		}
	}
	kinds := make([]string, 0, len(chrononModes))
	for k := range chrononModes {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	return "", fmt.Errorf("run: --conf %s should look like production/<%s>/<team>/<file>.<var>", path, strings.Join(kinds, "|"))
}

// resolveConf accepts a path relative to the working directory or to the chronon root.
func resolveConf(path, root string) (string, error) {
	if _, err := os.Stat(path); err == nil {
		return path, nil
	}
	if !filepath.IsAbs(path) && root != "" {
		if p := filepath.Join(root, path); fileExists(p) {
			return p, nil
		} else if st, err := os.Stat(p); err == nil && st.IsDir() {
			return p, nil // a folder of confs (metadata-upload)
		}
	}
	return "", fmt.Errorf("run: conf %s does not exist (compile it first: chronon compile)", path)
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}
