package cmds

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/urfave/cli/v2"

	"github.com/chronon-go/chronon/runtime/backfill"
	"github.com/chronon-go/chronon/runtime/kv"
	"github.com/chronon-go/chronon/runtime/online"
	"github.com/chronon-go/chronon/thrift/api"
)

func init() {
	RunFlags = append(RunFlags,
		KVFlag(),
		&cli.IntFlag{Name: "batch-size", Value: online.DefaultMetadataBatchSize, Usage: "metadata-upload: puts per KV write"},
	)
	RegisterRunMode("group_bys", "upload", runUpload)
	for _, kind := range []string{"joins", "group_bys", "staging_queries"} {
		RegisterRunMode(kind, "metadata-upload", runMetadataUpload)
	}
}

// KVFlag is --kv: the online store of upload, metadata-upload and fetch.
func KVFlag() cli.Flag {
	return &cli.StringFlag{
		Name:    "kv",
		EnvVars: []string{"CHRONON_KV"},
		Usage:   "online KV store: a directory (embedded store) or a mongodb:// URI (default: <chronon-root>/.chronon/kv)",
	}
}

// KVTarget is --kv, else CHRONON_KV, else <chronon-root>/.chronon/kv.
func KVTarget(c *cli.Context) string {
	if t := c.String("kv"); t != "" {
		return t
	}
	return filepath.Join(c.String("chronon-root"), ".chronon", "kv")
}

// OpenKV opens the store selected by KVTarget; errors name the store with credentials redacted.
func OpenKV(ctx context.Context, c *cli.Context, opts kv.Options) (kv.Store, error) {
	target := KVTarget(c)
	s, err := kv.Open(ctx, target, opts)
	if err != nil {
		return nil, fmt.Errorf("online store %s is not reachable: %w", kv.RedactURI(target), err)
	}
	return s, nil
}

// runUpload is `run --mode upload`: the GroupBy's upload table and its <NAME>_BATCH dataset for --ds
// (spec §7.1, docs/upload.md).
func runUpload(ctx context.Context, r *RunContext) error {
	var gb api.GroupBy
	order, w, err := r.Load(&gb)
	if err != nil {
		return err
	}
	// Compute first (the slow part), then open the store and write: a store that is down fails
	// the job before anything is written anywhere.
	up, err := backfill.ComputeUpload(w, &gb, order, r.EndDate)
	if err != nil {
		return err
	}
	store, err := OpenKV(ctx, r.Cli, kv.Options{})
	if err != nil {
		return err
	}
	defer store.Close()
	_, err = up.Store(ctx, w, store, r.Log)
	return err
}

// runMetadataUpload is `run --mode metadata-upload` (spec §7.5).
func runMetadataUpload(ctx context.Context, r *RunContext) error {
	if _, err := os.Stat(r.ConfPath); err != nil {
		return err
	}
	store, err := OpenKV(ctx, r.Cli, kv.Options{})
	if err != nil {
		return err
	}
	defer store.Close()
	_, err = online.UploadMetadata(ctx, store, r.ConfPath, online.MetadataUploadOptions{
		BatchSize: r.Cli.Int("batch-size"), Log: r.Log,
	})
	return err
}
