package kv

import (
	"context"
	"path/filepath"
)

// OpenLog opens the fetch log that belongs to the online store at target,
// selecting like Open: a mongodb:// or mongodb+srv:// URI logs into the
// collection MongoLogCollection of the store's database; anything else is the
// embedded store's directory, whose log is the segment directory LogDir(target)
// beside it (never inside Pebble's directory).
//
// opts.ReadOnly does not forbid appends: fetching processes open the store
// read-only and still log. Opening never creates anything; the embedded log
// directory appears on the first Append, and Scan of a log that does not exist
// yet returns no records.
func OpenLog(ctx context.Context, target string, opts Options) (Log, error) {
	if IsMongoURI(target) {
		return OpenMongoLog(ctx, target, MongoOptions{Options: opts})
	}
	return OpenEmbeddedLog(LogDir(target), opts)
}

// LogDir is the embedded fetch log directory of the embedded store in kvDir:
// its sibling "<kvDir>_log" (e.g. <root>/.chronon/kv_log).
func LogDir(kvDir string) string {
	return filepath.Clean(kvDir) + "_log"
}
