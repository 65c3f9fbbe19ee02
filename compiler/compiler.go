// Package compiler turns Starlark definitions into Chronon's JSON confs under production/, as Chronon's
// compile.py does (spec §1.2–1.7): discovery and naming, team defaults, which objects get written,
// change safety and validation. A compile either writes every file it should or nothing at all.
package compiler

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"go.starlark.net/syntax"

	sa "github.com/chronon-go/chronon/starlark_api"
	"github.com/chronon-go/chronon/thrift/api"
	"github.com/chronon-go/chronon/thrift/conf"
)

// Options configure one compile run.
type Options struct {
	Root string // the chronon root (holds teams.json)
	// Inputs are files or folders relative to Root, each under group_bys/, joins/ or staging_queries/.
	// Empty means all three folders.
	Inputs         []string
	OutputRoot     string // default "production"
	ForceOverwrite bool
	// Confirm asks a yes/no question and returns the answer; nil answers every question with its default.
	Confirm func(question string, def bool) bool
	Stdout  io.Writer // progress; nil discards
	Stderr  io.Writer // warnings; nil discards
}

// Result lists what a successful run wrote (paths relative to Root) and skipped.
type Result struct {
	Written   []string
	Unchanged []string
	Skipped   []string
}

// Error is a failed compile: every problem found; nothing was written.
type Error struct{ Problems []error }

func (e *Error) Error() string {
	parts := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		parts[i] = p.Error()
	}
	return strings.Join(parts, "\n")
}

type kind int

const (
	kindGroupBy kind = iota
	kindJoin
	kindStagingQuery
)

var folders = []string{"group_bys", "joins", "staging_queries"}

func (k kind) folder() string { return folders[k] }

func (k kind) className() string {
	return [...]string{"GroupBy", "Join", "StagingQuery"}[k]
}

func kindOfFolder(f string) (kind, bool) {
	for i, n := range folders {
		if n == f {
			return kind(i), true
		}
	}
	return 0, false
}

// item is one conf to write: a private copy of the object built by the DSL.
type item struct {
	kind  kind
	name  string // e.g. quickstart.purchases.v1
	obj   any    // *api.GroupBy, *api.Join or *api.StagingQuery
	pos   syntax.Position
	force bool // written even when the skip rule applies (group-bys of a compiled join)
}

func (it *item) meta() *api.MetaData {
	switch o := it.obj.(type) {
	case *api.GroupBy:
		return o.MetaData
	case *api.Join:
		return o.MetaData
	case *api.StagingQuery:
		return o.MetaData
	}
	return nil
}

func (it *item) where() string {
	if it.pos.IsValid() {
		return it.pos.String() + ": "
	}
	return ""
}

// relPath is the conf's path under the output root: <folder>/<team>/<name after the first dot>.
func (it *item) relPath() string {
	team, rest, _ := strings.Cut(it.name, ".")
	return filepath.Join(it.kind.folder(), team, rest)
}

type compiler struct {
	opts    Options
	teams   *sa.Teams
	loader  *sa.Loader
	order   *conf.Order
	outRoot string
	// existing confs under the output root, by name
	oldGroupBys map[string]*api.GroupBy
	oldJoins    map[string]*api.Join
	oldOrder    *conf.Order
	oldFiles    map[string][]byte // relPath → bytes
	problems    []error
	warnings    []string
}

// Compile runs one compile. On any problem it returns *Error and writes nothing.
func Compile(opts Options) (*Result, error) {
	if opts.OutputRoot == "" {
		opts.OutputRoot = "production"
	}
	if opts.Stdout == nil {
		opts.Stdout = io.Discard
	}
	if opts.Stderr == nil {
		opts.Stderr = io.Discard
	}
	teams, err := sa.ReadTeams(opts.Root)
	if err != nil {
		return nil, &Error{Problems: []error{err}}
	}
	c := &compiler{opts: opts, teams: teams, outRoot: filepath.Join(opts.Root, opts.OutputRoot)}
	c.loader = sa.NewLoader(opts.Root, teams)
	c.loader.Print = func(msg string) { fmt.Fprintln(opts.Stderr, msg) }
	c.order = c.loader.Order
	if err := c.readExisting(); err != nil {
		return nil, &Error{Problems: []error{err}}
	}
	files, err := c.inputFiles()
	if err != nil {
		return nil, &Error{Problems: []error{err}}
	}
	writes, res := c.run(files)
	for _, w := range c.warnings {
		fmt.Fprintln(opts.Stderr, "warning:", w)
	}
	if len(c.problems) > 0 {
		return nil, &Error{Problems: c.problems}
	}
	if err := commit(c.outRoot, writes); err != nil {
		return nil, err
	}
	for _, p := range res.Written {
		fmt.Fprintf(opts.Stdout, "wrote %s\n", p)
	}
	for _, p := range res.Unchanged {
		fmt.Fprintf(opts.Stdout, "unchanged %s\n", p)
	}
	return res, nil
}

func (c *compiler) fail(format string, args ...any) {
	c.problems = append(c.problems, fmt.Errorf(format, args...))
}

func (c *compiler) warn(format string, args ...any) {
	c.warnings = append(c.warnings, fmt.Sprintf(format, args...))
}

// inputFiles expands the inputs into definition files (relative to the root), sorted.
func (c *compiler) inputFiles() ([]string, error) {
	inputs := c.opts.Inputs
	if len(inputs) == 0 {
		for _, f := range folders {
			if st, err := os.Stat(filepath.Join(c.opts.Root, f)); err == nil && st.IsDir() {
				inputs = append(inputs, f)
			}
		}
	}
	seen := map[string]bool{}
	var files []string
	for _, in := range inputs {
		rel := filepath.ToSlash(filepath.Clean(in))
		if filepath.IsAbs(in) {
			r, err := filepath.Rel(c.opts.Root, in)
			if err != nil || strings.HasPrefix(r, "..") {
				return nil, fmt.Errorf("%s is outside the chronon root %s", in, c.opts.Root)
			}
			rel = filepath.ToSlash(r)
		}
		if strings.HasPrefix(rel, "../") || rel == ".." {
			return nil, fmt.Errorf("%s is outside the chronon root %s", in, c.opts.Root)
		}
		first := strings.SplitN(rel, "/", 2)[0]
		if _, ok := kindOfFolder(first); !ok {
			return nil, fmt.Errorf("%s: definitions live under group_bys/, joins/ or staging_queries/ (got %s/)", in, first)
		}
		full := filepath.Join(c.opts.Root, rel)
		st, err := os.Stat(full)
		if err != nil {
			return nil, fmt.Errorf("%s: no such file or folder under %s", in, c.opts.Root)
		}
		if !st.IsDir() {
			if !strings.HasSuffix(rel, sa.FileExt) {
				return nil, fmt.Errorf("%s: definition files end in %s", in, sa.FileExt)
			}
			if !seen[rel] {
				seen[rel] = true
				files = append(files, rel)
			}
			continue
		}
		err = filepath.WalkDir(full, func(p string, d os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && strings.HasPrefix(d.Name(), ".") && p != full {
				return filepath.SkipDir
			}
			if !d.IsDir() && strings.HasSuffix(p, sa.FileExt) {
				r, _ := filepath.Rel(c.opts.Root, p)
				r = filepath.ToSlash(r)
				if !seen[r] {
					seen[r] = true
					files = append(files, r)
				}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	sort.Strings(files)
	return files, nil
}

// extract loads a definition file and returns private copies of the objects of its folder's kind,
// named `<module minus first segment>.<variable>` with team = the second segment (spec §1.2).
func (c *compiler) extract(file string) ([]*item, error) {
	m, err := c.loader.LoadFile(file)
	if err != nil {
		return nil, err
	}
	segs := strings.Split(m.Name, ".")
	if len(segs) < 3 {
		return nil, fmt.Errorf("%s: definition files live in a team folder: <%s>/<team>/<file>%s", file, segs[0], sa.FileExt)
	}
	k, _ := kindOfFolder(segs[0])
	team := segs[1]
	// The last variable bound to an object names it, as in Python.
	type bound struct {
		o    *sa.Object
		name string
	}
	var objs []*bound
	byPtr := map[any]*bound{}
	var inlineGroupBys []*api.GroupBy
	for _, n := range m.Names {
		o, ok := m.Globals[n].(*sa.Object)
		if !ok {
			continue
		}
		if gb, ok := o.Go().(*api.GroupBy); ok && k == kindJoin {
			inlineGroupBys = append(inlineGroupBys, gb)
		}
		if !isKind(o.Go(), k) {
			continue
		}
		if b, ok := byPtr[o.Go()]; ok {
			b.name = n
			continue
		}
		b := &bound{o: o, name: n}
		byPtr[o.Go()] = b
		objs = append(objs, b)
	}
	var items []*item
	for _, b := range objs {
		name := strings.Join(segs[1:], ".") + "." + b.name
		obj := conf.Clone(b.o.Go(), c.order)
		it := &item{kind: k, name: name, obj: obj, pos: b.o.Pos()}
		md := it.meta()
		if md == nil {
			md = &api.MetaData{}
			setMeta(obj, md)
		}
		md.Name = strPtr(name)
		md.Team = strPtr(team)
		if j, ok := obj.(*api.Join); ok {
			// GroupBys bound in the join's file (defined or loaded there) take the join's team (spec §14.3).
			orig := b.o.Go().(*api.Join)
			for i, jp := range j.JoinParts {
				for _, gb := range inlineGroupBys {
					if orig.JoinParts[i].GroupBy == gb && jp.GroupBy.MetaData != nil {
						jp.GroupBy.MetaData.Team = strPtr(team)
					}
				}
			}
		}
		items = append(items, it)
	}
	return items, nil
}

func isKind(v any, k kind) bool {
	switch v.(type) {
	case *api.GroupBy:
		return k == kindGroupBy
	case *api.Join:
		return k == kindJoin
	case *api.StagingQuery:
		return k == kindStagingQuery
	}
	return false
}

func setMeta(obj any, md *api.MetaData) {
	switch o := obj.(type) {
	case *api.GroupBy:
		o.MetaData = md
	case *api.Join:
		o.MetaData = md
	case *api.StagingQuery:
		o.MetaData = md
	}
}

func strPtr(s string) *string { return &s }

// readExisting loads every conf already under the output root (the validator's view of the repo).
func (c *compiler) readExisting() error {
	c.oldGroupBys = map[string]*api.GroupBy{}
	c.oldJoins = map[string]*api.Join{}
	c.oldFiles = map[string][]byte{}
	c.oldOrder = conf.NewOrder()
	for _, k := range []kind{kindGroupBy, kindJoin, kindStagingQuery} {
		dir := filepath.Join(c.outRoot, k.folder())
		err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
			if err != nil {
				if errors.Is(err, os.ErrNotExist) {
					return nil
				}
				return err
			}
			if d.IsDir() || strings.HasPrefix(d.Name(), ".") {
				return nil
			}
			rel, _ := filepath.Rel(c.outRoot, p)
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			c.oldFiles[rel] = data
			if k == kindStagingQuery {
				return nil
			}
			display := filepath.Join(c.opts.OutputRoot, rel)
			if k == kindGroupBy {
				gb := &api.GroupBy{}
				o, err := conf.Unmarshal(data, gb)
				if err != nil {
					return fmt.Errorf("%s: %w (fix or delete the file)", display, err)
				}
				c.oldOrder.Merge(o)
				if gb.MetaData != nil && gb.MetaData.Name != nil {
					c.oldGroupBys[*gb.MetaData.Name] = gb
				}
			} else {
				j := &api.Join{}
				o, err := conf.Unmarshal(data, j)
				if err != nil {
					return fmt.Errorf("%s: %w (fix or delete the file)", display, err)
				}
				c.oldOrder.Merge(o)
				if j.MetaData != nil && j.MetaData.Name != nil {
					c.oldJoins[*j.MetaData.Name] = j
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}
