package cmds

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/chronon-go/chronon/runtime/kv"
	"github.com/chronon-go/chronon/runtime/online"
)

// `chronon run --mode fetch` (Chronon's Driver FetcherCli, spec §7.6): fetch a join or GroupBy
// from the online store and print the values as pretty JSON with sorted keys.
//
// With --conf the mode is dispatched by run's conf kind (joins, group_bys). For --name without
// --conf, runAction in run.go needs, before its "--conf is required" check:
//
//	if path == "" && c.String("mode") == "fetch" {
//		return RunFetch(c)
//	}

func init() {
	RunFlags = append(RunFlags,
		&cli.StringFlag{Name: "name", Usage: "fetch: join or GroupBy name, e.g. quickstart/training_set.v2 (default: from --conf)"},
		&cli.StringFlag{Name: "type", Usage: "fetch: join or group-by (default: from --conf's kind, else join)"},
		&cli.StringFlag{Name: "key-json", Aliases: []string{"k"}, Usage: `fetch: keys as JSON, e.g. '{"user_id":"5"}', or a JSON list of such maps`},
		&cli.StringFlag{Name: "key-json-file", Aliases: []string{"f"}, Usage: "fetch: file with one JSON key map per line (or a JSON list)"},
		&cli.Int64Flag{Name: "at-millis", Usage: "fetch: query time in epoch millis (default: now)"},
		noLogFlag(),
	)
	RegisterRunMode("joins", "fetch", runFetchMode)
	RegisterRunMode("group_bys", "fetch", runFetchMode)
}

// runFetchMode is `chronon run --mode fetch --conf production/<joins|group_bys>/<team>/<file>.<var>`.
func runFetchMode(ctx context.Context, r *RunContext) error {
	typ := "join"
	if r.Kind == "group_bys" {
		typ = "group-by"
	}
	name := confPathToName(r.ConfPath)
	return fetchMain(ctx, r.Cli, typ, name)
}

// RunFetch is `chronon run --mode fetch --name <name> [--type join|group-by]` without --conf. run.go
// dispatches to it when --mode is fetch and --conf is empty.
func RunFetch(c *cli.Context) error {
	return fetchMain(c.Context, c, "", "")
}

// confPathToName is Chronon's confPathToKey without the kind: the last two path segments,
// "<team>/<file>.<var>".
func confPathToName(p string) string {
	segs := strings.Split(filepath.ToSlash(filepath.Clean(p)), "/")
	if len(segs) >= 2 {
		segs = segs[len(segs)-2:]
	}
	return strings.Join(segs, "/")
}

func fetchMain(ctx context.Context, c *cli.Context, typ, name string) error {
	if ctx == nil {
		ctx = context.Background()
	}
	if v := c.String("name"); v != "" {
		name = v
	}
	if v := c.String("type"); v != "" {
		typ = v
	}
	if typ == "" {
		typ = "join"
	}
	if typ != "join" && typ != "group-by" {
		return fmt.Errorf("fetch: --type must be join or group-by, got %q", typ)
	}
	if name == "" {
		return fmt.Errorf("fetch: --name (or --conf) is required, e.g. --name quickstart/training_set.v2")
	}
	keyMaps, err := readFetchKeys(c.String("key-json"), c.String("key-json-file"))
	if err != nil {
		return err
	}
	store, err := OpenKV(ctx, c, kv.Options{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("fetch: %w", err)
	}
	defer store.Close()
	var at *int64
	if c.IsSet("at-millis") {
		v := c.Int64("at-millis")
		at = &v
	}
	out := c.App.Writer
	if out == nil {
		out = os.Stdout
	}
	logw := c.App.ErrWriter
	if logw == nil {
		logw = os.Stderr
	}
	f := online.NewFetcher(store)
	fl := startFetchLogging(ctx, c, f, logw)
	defer fl.Close(logw) // flushes the sampled fetches before the process exits
	for _, keys := range keyMaps {
		req := []online.Request{{Name: name, Keys: keys, AtMillis: at}}
		start := time.Now()
		var resp []online.Response
		if typ == "join" {
			resp, err = f.FetchJoins(ctx, req)
		} else {
			resp, err = f.FetchGroupBys(ctx, req)
		}
		if err != nil {
			return fmt.Errorf("fetch: %w", err)
		}
		if err := printFetch(out, resp); err != nil {
			return err
		}
		fmt.Fprintf(logw, "Fetched in: %.3f ms\n", float64(time.Since(start).Microseconds())/1000)
	}
	return nil
}

// readFetchKeys parses -k (a JSON map or a list of maps) or -f (one map per line, or a list), with
// numbers kept as json.Number so that keys are cast like Chronon's Jackson values.
func readFetchKeys(keyJSON, file string) ([]map[string]any, error) {
	if keyJSON == "" && file == "" {
		return nil, fmt.Errorf("fetch: at least one of --key-json (-k) and --key-json-file (-f) should be specified")
	}
	if keyJSON != "" {
		return parseKeyJSON([]byte(keyJSON))
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("fetch: %w", err)
	}
	if t := bytes.TrimSpace(data); len(t) > 0 && t[0] == '[' {
		return parseKeyJSON(t)
	}
	var out []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		ms, err := parseKeyJSON(line)
		if err != nil {
			return nil, err
		}
		out = append(out, ms...)
	}
	return out, sc.Err()
}

func parseKeyJSON(data []byte) ([]map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("fetch: keys %s: %w", data, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("fetch: keys %s: trailing data", data)
	}
	switch x := v.(type) {
	case map[string]any:
		return []map[string]any{x}, nil
	case []any:
		out := make([]map[string]any, len(x))
		for i, e := range x {
			m, ok := e.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("fetch: keys %s: element %d is not a JSON object", data, i)
			}
			out[i] = m
		}
		return out, nil
	}
	return nil, fmt.Errorf("fetch: keys %s: want a JSON object or a list of objects", data)
}

// printFetch prints each response like FetcherCli: pretty JSON with sorted keys (a TreeMap), "No
// data present for the provided key." for a null map, the error otherwise.
func printFetch(w io.Writer, resp []online.Response) error {
	for _, r := range resp {
		switch {
		case r.Err != nil:
			return fmt.Errorf("fetch %s: %w", r.Request.Name, r.Err)
		case r.Values == nil:
			fmt.Fprintln(w, "No data present for the provided key.")
		default:
			b, err := FormatFetchJSON(r.Values)
			if err != nil {
				return err
			}
			fmt.Fprintln(w, "--- [FETCHED RESULT] ---")
			fmt.Fprintln(w, string(b))
		}
	}
	return nil
}

// FormatFetchJSON renders fetched values as pretty JSON with sorted keys (encoding/json sorts map
// keys; nested maps too).
func FormatFetchJSON(values map[string]any) ([]byte, error) {
	return json.MarshalIndent(online.JSONValue(values), "", "  ")
}
