package compiler

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/chronon-go/chronon/thrift/api"
)

func metaName(md *api.MetaData) string {
	if md == nil || md.Name == nil {
		return ""
	}
	return *md.Name
}

// commit writes every file under root, each atomically (a temporary file renamed into place), skipping
// files whose bytes are unchanged. All files are staged before the first rename, so a failure while
// staging leaves root untouched.
func commit(root string, writes map[string][]byte) error {
	paths := make([]string, 0, len(writes))
	for p := range writes {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	type staged struct{ tmp, dst string }
	var done []staged
	cleanup := func() {
		for _, s := range done {
			os.Remove(s.tmp)
		}
	}
	for _, p := range paths {
		dst := filepath.Join(root, p)
		if old, err := os.ReadFile(dst); err == nil && bytes.Equal(old, writes[p]) {
			continue
		}
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			cleanup()
			return fmt.Errorf("writing %s: %w", dst, err)
		}
		f, err := os.CreateTemp(filepath.Dir(dst), "."+filepath.Base(dst)+".tmp*")
		if err != nil {
			cleanup()
			return fmt.Errorf("writing %s: %w", dst, err)
		}
		_, werr := f.Write(writes[p])
		cerr := f.Close()
		done = append(done, staged{f.Name(), dst})
		if werr != nil || cerr != nil {
			cleanup()
			return fmt.Errorf("writing %s: %v", dst, errorsJoin(werr, cerr))
		}
	}
	for _, s := range done {
		if err := os.Rename(s.tmp, s.dst); err != nil {
			cleanup()
			return fmt.Errorf("writing %s: %w", s.dst, err)
		}
	}
	return nil
}

func errorsJoin(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}
