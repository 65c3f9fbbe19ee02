package starlark_api

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"go.starlark.net/starlark"
	"go.starlark.net/syntax"

	"github.com/chronon-go/chronon/thrift/api"
	"github.com/chronon-go/chronon/thrift/conf"
)

// FileExt is the extension of definition files.
const FileExt = ".star"

// Module is an executed definition file.
type Module struct {
	Name    string // dotted module name, e.g. "group_bys.quickstart.purchases"
	Path    string // path relative to the root, e.g. "group_bys/quickstart/purchases.star"
	Globals starlark.StringDict
	// Names lists the module's globals in the order they were first bound, as Python's module
	// dict would iterate them.
	Names []string
}

// Loader executes definition files under a repository root. Modules are executed once per Loader and
// shared by everything that loads them, like Python's module cache; Order collects map key order for
// every conf built during the run.
type Loader struct {
	Root  string
	Order *conf.Order
	cache map[string]*cacheEntry
	teams *Teams
	// Print receives print() output; defaults to stderr.
	Print func(msg string)
}

type cacheEntry struct {
	mod     *Module
	err     error
	loading bool
}

// NewLoader returns a Loader for the repository at root. teams may be nil (read on first use).
func NewLoader(root string, teams *Teams) *Loader {
	return &Loader{Root: root, Order: conf.NewOrder(), cache: map[string]*cacheEntry{}, teams: teams}
}

// runState is the per-thread state of one module execution.
type runState struct {
	loader *Loader
	module string // dotted name of the module being executed
	order  *conf.Order
}

const stateKey = "chronon.state"

func state(thread *starlark.Thread) *runState {
	if s, ok := thread.Local(stateKey).(*runState); ok {
		return s
	}
	// A thread not started by a Loader (e.g. a unit test of one builtin): a private state.
	s := &runState{order: conf.NewOrder()}
	thread.SetLocal(stateKey, s)
	return s
}

func (s *runState) currentModule() string { return s.module }

// callerPos is the position of the user's call to the running builtin.
func callerPos(thread *starlark.Thread) syntax.Position {
	if thread.CallStackDepth() > 1 {
		return thread.CallFrame(1).Pos
	}
	return syntax.Position{}
}

// LoadFile executes the definition file at path (relative to the root, or absolute inside it).
func (l *Loader) LoadFile(path string) (*Module, error) {
	rel, err := l.relative(path)
	if err != nil {
		return nil, err
	}
	if !strings.HasSuffix(rel, FileExt) {
		return nil, fmt.Errorf("%s: definition files must end in %s", rel, FileExt)
	}
	return l.load(strings.ReplaceAll(strings.TrimSuffix(rel, FileExt), "/", "."), syntax.Position{})
}

func (l *Loader) relative(path string) (string, error) {
	abs := path
	if !filepath.IsAbs(abs) {
		abs = filepath.Join(l.Root, path)
	}
	rootAbs, err := filepath.Abs(l.Root)
	if err != nil {
		return "", err
	}
	abs, err = filepath.Abs(abs)
	if err != nil {
		return "", err
	}
	rel, err := filepath.Rel(rootAbs, abs)
	if err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
		return "", fmt.Errorf("%s is outside the chronon root %s", path, l.Root)
	}
	return filepath.ToSlash(rel), nil
}

// load executes (or returns the cached) module named by a dotted name. from is the load statement's
// position, for errors.
func (l *Loader) load(name string, from syntax.Position) (*Module, error) {
	if e, ok := l.cache[name]; ok {
		if e.loading {
			return nil, &Error{Pos: from, Msg: fmt.Sprintf("load cycle: %s is loaded while it is still being executed", name)}
		}
		return e.mod, e.err
	}
	e := &cacheEntry{loading: true}
	l.cache[name] = e
	e.mod, e.err = l.exec(name, from)
	e.loading = false
	return e.mod, e.err
}

func (l *Loader) exec(name string, from syntax.Position) (*Module, error) {
	rel := strings.ReplaceAll(name, ".", "/") + FileExt
	src, err := os.ReadFile(filepath.Join(l.Root, rel))
	if err != nil {
		if os.IsNotExist(err) {
			return nil, &Error{Pos: from, Msg: fmt.Sprintf("cannot load %s: no file %s under the chronon root", name, rel)}
		}
		return nil, &Error{Pos: from, Msg: err.Error()}
	}
	opts := &syntax.FileOptions{Set: true, While: true, TopLevelControl: true, GlobalReassign: true}
	f, prog, err := starlark.SourceProgramOptions(opts, rel, src, predeclared.Has)
	if err != nil {
		return nil, positioned(err)
	}
	thread := &starlark.Thread{
		Name: rel,
		Load: func(t *starlark.Thread, module string) (starlark.StringDict, error) {
			return l.loadFrom(t, module)
		},
		Print: func(_ *starlark.Thread, msg string) {
			if l.Print != nil {
				l.Print(msg)
			} else {
				fmt.Fprintln(os.Stderr, msg)
			}
		},
	}
	thread.SetLocal(stateKey, &runState{loader: l, module: name, order: l.Order})
	globals, err := prog.Init(thread, predeclared)
	if err != nil {
		return nil, positioned(err)
	}
	globals.Freeze()
	m := &Module{Name: name, Path: rel, Globals: globals, Names: bindingOrder(f, globals)}
	nameObjects(m)
	return m, nil
}

// loadFrom resolves a load() statement: Chronon's API modules by their Python names, or repository
// files by dotted module name ("group_bys.quickstart.purchases").
func (l *Loader) loadFrom(thread *starlark.Thread, module string) (starlark.StringDict, error) {
	from := callerPos(thread)
	if thread.CallStackDepth() > 0 {
		from = thread.CallFrame(0).Pos
	}
	if m, ok := apiModules[module]; ok {
		return m, nil
	}
	if strings.HasPrefix(module, "ai.chronon") {
		names := make([]string, 0, len(apiModules))
		for k := range apiModules {
			names = append(names, k)
		}
		sort.Strings(names)
		return nil, &Error{Pos: from, Msg: fmt.Sprintf("unknown module %s%s; Chronon's API modules are %s", module, didYouMean(module, names), strings.Join(names, ", "))}
	}
	if strings.Contains(module, "/") || strings.Contains(module, "..") || strings.HasPrefix(module, ".") {
		if strings.Contains(module, "..") || strings.HasPrefix(module, "/") {
			return nil, &Error{Pos: from, Msg: fmt.Sprintf("load path %q escapes the chronon root: load repository files by dotted module name, e.g. \"group_bys.team.file\"", module)}
		}
		return nil, &Error{Pos: from, Msg: fmt.Sprintf("load %q: use a dotted module name, e.g. %q", module, strings.ReplaceAll(strings.TrimSuffix(module, FileExt), "/", "."))}
	}
	for _, seg := range strings.Split(module, ".") {
		if seg == "" || !isIdent(seg) {
			return nil, &Error{Pos: from, Msg: fmt.Sprintf("load %q: not a module name (dotted identifiers such as \"group_bys.team.file\")", module)}
		}
	}
	m, err := l.load(module, from)
	if err != nil {
		return nil, err
	}
	return m.Globals, nil
}

func isIdent(s string) bool {
	for i, c := range s {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return s != ""
}

// bindingOrder lists a file's top-level names in the order of their first binding.
func bindingOrder(f *syntax.File, globals starlark.StringDict) []string {
	var names []string
	seen := map[string]bool{}
	add := func(id *syntax.Ident) {
		if id != nil && !seen[id.Name] {
			if _, ok := globals[id.Name]; ok {
				seen[id.Name] = true
				names = append(names, id.Name)
			}
		}
	}
	var visitLHS func(e syntax.Expr)
	visitLHS = func(e syntax.Expr) {
		switch x := e.(type) {
		case *syntax.Ident:
			add(x)
		case *syntax.TupleExpr:
			for _, y := range x.List {
				visitLHS(y)
			}
		case *syntax.ListExpr:
			for _, y := range x.List {
				visitLHS(y)
			}
		case *syntax.ParenExpr:
			visitLHS(x.X)
		}
	}
	var visit func(stmts []syntax.Stmt)
	visit = func(stmts []syntax.Stmt) {
		for _, s := range stmts {
			switch x := s.(type) {
			case *syntax.AssignStmt:
				visitLHS(x.LHS)
			case *syntax.DefStmt:
				add(x.Name)
			case *syntax.LoadStmt:
				for _, id := range x.To {
					add(id)
				}
			case *syntax.ForStmt:
				visitLHS(x.Vars)
				visit(x.Body)
			case *syntax.IfStmt:
				visit(x.True)
				visit(x.False)
			case *syntax.WhileStmt:
				visit(x.Body)
			}
		}
	}
	visit(f.Stmts)
	// Anything bound some other way keeps a stable order at the end.
	var rest []string
	for k := range globals {
		if !seen[k] {
			rest = append(rest, k)
		}
	}
	sort.Strings(rest)
	return append(names, rest...)
}

// nameObjects gives the objects a module defines their Chronon names, as compile.py and Join's
// group-by auto-naming do: `<module minus first segment>.<variable>` and team = second segment, for
// GroupBys in group_bys/, Joins in joins/, StagingQueries in staging_queries/ (spec §1.2).
func nameObjects(m *Module) {
	segs := strings.Split(m.Name, ".")
	if len(segs) < 3 {
		return
	}
	for _, n := range m.Names {
		o, ok := m.Globals[n].(*Object)
		if !ok || o.module != m.Name {
			continue
		}
		if md := kindMetaData(segs[0], o); md != nil {
			full := strings.Join(segs[1:], ".") + "." + n
			md.Name = &full
			team := segs[1]
			md.Team = &team
		}
	}
}

// kindMetaData returns the MetaData of o when o is the kind of object that folder holds.
func kindMetaData(folder string, o *Object) *api.MetaData {
	switch v := o.Go().(type) {
	case *api.GroupBy:
		if folder == "group_bys" {
			return ensureMeta(&v.MetaData)
		}
	case *api.Join:
		if folder == "joins" {
			return ensureMeta(&v.MetaData)
		}
	case *api.StagingQuery:
		if folder == "staging_queries" {
			return ensureMeta(&v.MetaData)
		}
	}
	return nil
}

func ensureMeta(p **api.MetaData) *api.MetaData {
	if *p == nil {
		*p = &api.MetaData{}
	}
	return *p
}
